"""The reference-times table as the stages read it: its cells and the lookups into it.

:mod:`raceday.ratings.standards` learns the table (from first-3F estimates among others); the
first-3F layers, the indexes and the evaluations look a runner's reference times up here, so
reading the table does not depend on how it is learned.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

ALL_CLASSES: Final = ""  # the class_code of a venue x distance cell (no class)
CELL: Final = ["keibajo_code", "distance_m"]


def lookup_reference(frame: pd.DataFrame, references: pd.DataFrame, kind: str) -> pd.Series:
    """Each row's reference time of ``kind``: its class cell, else its venue x distance cell."""
    table = references[references["kind"] == kind]
    keys = frame[CELL].astype({"keibajo_code": "string", "distance_m": "int64"})
    classes = frame["class_code"].astype("string").fillna(ALL_CLASSES)
    by_class = table.set_index([*CELL, "class_code"])["value_s"]
    by_cell = table[table["class_code"] == ALL_CLASSES].set_index(CELL)["value_s"]
    class_index = pd.MultiIndex.from_arrays([keys["keibajo_code"], keys["distance_m"], classes])
    cell_index = pd.MultiIndex.from_arrays([keys["keibajo_code"], keys["distance_m"]])
    exact = by_class.reindex(class_index).to_numpy()
    fallback = by_cell.reindex(cell_index).to_numpy()
    values = pd.Series(exact, index=frame.index, dtype="float64")
    return values.fillna(pd.Series(fallback, index=frame.index, dtype="float64")).rename(kind)


def lookup_references(
    frame: pd.DataFrame, references: pd.DataFrame, kinds: list[str]
) -> pd.DataFrame:
    """Several kinds of :func:`lookup_reference` at once, looked up once per distinct cell.

    Same values as calling :func:`lookup_reference` per kind; on a million rows with a few
    hundred distinct venue x distance x class cells it is an order of magnitude faster.
    """
    codes, cells = _cell_codes(frame)
    table = references[references["kind"].isin(kinds)]
    wide = table.pivot_table(
        index=[*CELL, "class_code"], columns="kind", values="value_s", aggfunc="first"
    ).reindex(columns=kinds)
    by_cell = wide.xs(ALL_CLASSES, level="class_code") if len(wide) else wide.droplevel(-1)
    class_index = pd.MultiIndex.from_frame(cells)
    exact = wide.reindex(class_index).to_numpy(dtype="float64")
    fallback = by_cell.reindex(class_index.droplevel(-1)).to_numpy(dtype="float64")
    per_cell = np.where(np.isnan(exact), fallback, exact)
    return pd.DataFrame(per_cell[codes], index=frame.index, columns=kinds)


def _cell_codes(frame: pd.DataFrame) -> tuple[NDArray[np.int64], pd.DataFrame]:
    """Row -> cell codes over the grid of distinct venues x distances x classes, and that grid.

    The grid is small (tens of venues and distances, a dozen classes), so every row's cell is
    plain arithmetic on three factorisations. A missing class is the venue x distance cell
    (``""``); rows without venue or distance point at an extra cell that has no reference.
    """
    venue_codes, venues = pd.factorize(frame["keibajo_code"])
    distance_codes, distances = pd.factorize(frame["distance_m"])
    class_codes, classes = pd.factorize(frame["class_code"])
    class_names = [str(name) for name in classes]
    if ALL_CLASSES not in class_names:
        class_names.append(ALL_CLASSES)
    class_codes = np.where(class_codes < 0, class_names.index(ALL_CLASSES), class_codes)
    n_distances, n_classes = len(distances), len(class_names)
    grid = np.arange(len(venues) * n_distances * n_classes)
    cells = pd.DataFrame(
        {
            "keibajo_code": pd.array([str(venue) for venue in venues], dtype="string")[
                grid // (n_distances * n_classes)
            ],
            "distance_m": np.asarray(distances, dtype="int64")[(grid // n_classes) % n_distances],
            "class_code": pd.array(class_names, dtype="string")[grid % n_classes],
        }
    )
    missing_cell = len(cells)
    cells.loc[missing_cell] = ["", -1, ALL_CLASSES]
    codes = (venue_codes.astype(np.int64) * n_distances + distance_codes) * n_classes + class_codes
    complete = (venue_codes >= 0) & (distance_codes >= 0)
    return np.where(complete, codes, missing_cell).astype(np.int64), cells
