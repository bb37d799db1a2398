"""The reference-times table as the stages read it: its cells and the lookups into it.

:mod:`raceday.ratings.standards` learns the table (from first-3F estimates among others); the
first-3F layers, the indexes and the evaluations look a runner's reference times up here, so
reading the table does not depend on how it is learned.

A cell is venue x surface x distance (x class): turf and dirt at one venue and distance run
different times, and a jump race is no flat race. The surface is the runner's track code read by
:func:`raceday.codec.surface_of` (:func:`runner_surface`). Versions learned before surfaces had
cells of their own are stored with surface ``""`` (:data:`ALL_SURFACES`): a lookup falls back
from the runner's surface cells to those, so an old version reads as it always did.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from raceday.codec import surface_of

ALL_CLASSES: Final = ""  # the class_code of a venue x surface x distance cell (no class)
ALL_SURFACES: Final = ""  # the surface of a version learned before surfaces: every surface
UNKNOWN_SURFACE: Final = "other"  # what surface_of makes of a blank or unknown track code
CELL: Final = ["keibajo_code", "surface", "distance_m"]


def runner_surface(frame: pd.DataFrame) -> pd.Series:
    """Each row's surface as its reference cell reads it (``turf``/``dirt``/``jump``/``other``).

    From ``track_code`` (:func:`raceday.codec.surface_of`); a blank or unknown code is
    ``other``, a cell of its own. A frame of bare times without a ``track_code`` column (a
    hand-made history) is all ``other``: it learns and looks up the same cells.
    """
    if "track_code" not in frame.columns:
        return pd.Series(UNKNOWN_SURFACE, index=frame.index, dtype="string", name="surface")
    return surface_of(frame["track_code"]).rename("surface")


def lookup_reference(frame: pd.DataFrame, references: pd.DataFrame, kind: str) -> pd.Series:
    """Each row's reference time of ``kind`` (:func:`lookup_references` of one kind)."""
    return lookup_references(frame, references, [kind])[kind].rename(kind)


def lookup_references(
    frame: pd.DataFrame, references: pd.DataFrame, kinds: list[str]
) -> pd.DataFrame:
    """Each row's reference times of ``kinds``, looked up once per distinct cell.

    Per kind, the first cell that has a value of: the row's venue x surface x distance x class,
    its venue x surface x distance (class ``""``), then the same two with surface ``""`` (a
    version learned before surfaces). On a million rows with a few hundred distinct cells,
    looking cells up instead of rows is an order of magnitude faster.
    """
    codes, cells = _cell_codes(frame)
    table = references[references["kind"].isin(kinds)]
    wide = table.pivot_table(
        index=[*CELL, "class_code"], columns="kind", values="value_s", aggfunc="first"
    ).reindex(columns=kinds)
    per_cell = _first_found(wide, cells)
    return pd.DataFrame(per_cell[codes], index=frame.index, columns=kinds)


def _first_found(wide: pd.DataFrame, cells: pd.DataFrame) -> NDArray[np.float64]:
    """Per cell of ``cells`` and column of ``wide`` (kind), the value of the first cell of the
    fallback chain (class cell, surface cell, then both for every surface) that has one."""
    is_cell = wide.index.get_level_values("class_code") == ALL_CLASSES
    by_cell = wide[is_cell].droplevel("class_code")
    every_surface = cells.assign(surface=ALL_SURFACES)
    values = np.full((len(cells), len(wide.columns)), np.nan)
    for keys, values_by_key in (
        (cells, wide),
        (cells[CELL], by_cell),
        (every_surface, wide),
        (every_surface[CELL], by_cell),
    ):
        found = values_by_key.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(dtype="float64")
        values = np.where(np.isnan(values), found, values)
    return values


def _cell_codes(frame: pd.DataFrame) -> tuple[NDArray[np.int64], pd.DataFrame]:
    """Row -> cell codes over the grid of distinct venues x surfaces x distances x classes, and
    that grid.

    The grid is small (tens of venues and distances, four surfaces, a dozen classes), so every
    row's cell is plain arithmetic on four factorisations. A missing class is the venue x
    surface x distance cell (``""``); rows without venue or distance point at an extra cell
    that has no reference.
    """
    venue_codes, venues = pd.factorize(frame["keibajo_code"])
    surface_codes, surfaces = pd.factorize(runner_surface(frame))
    distance_codes, distances = pd.factorize(frame["distance_m"])
    class_codes, classes = pd.factorize(frame["class_code"])
    class_names = [str(name) for name in classes]
    if ALL_CLASSES not in class_names:
        class_names.append(ALL_CLASSES)
    class_codes = np.where(class_codes < 0, class_names.index(ALL_CLASSES), class_codes)
    n_surfaces, n_distances, n_classes = len(surfaces), len(distances), len(class_names)
    grid = np.arange(len(venues) * n_surfaces * n_distances * n_classes)
    cells = pd.DataFrame(
        {
            "keibajo_code": pd.array([str(venue) for venue in venues], dtype="string")[
                grid // (n_surfaces * n_distances * n_classes)
            ],
            "surface": pd.array([str(name) for name in surfaces], dtype="string")[
                (grid // (n_distances * n_classes)) % max(n_surfaces, 1)
            ],
            "distance_m": np.asarray(distances, dtype="int64")[
                (grid // n_classes) % max(n_distances, 1)
            ],
            "class_code": pd.array(class_names, dtype="string")[grid % n_classes],
        }
    )
    missing_cell = len(cells)
    cells.loc[missing_cell] = ["", UNKNOWN_SURFACE, -1, ALL_CLASSES]
    codes = (
        (venue_codes.astype(np.int64) * n_surfaces + surface_codes) * n_distances + distance_codes
    ) * n_classes + class_codes
    complete = (venue_codes >= 0) & (distance_codes >= 0)
    return np.where(complete, codes, missing_cell).astype(np.int64), cells
