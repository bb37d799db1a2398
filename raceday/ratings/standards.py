"""Reference (standard and base) times learned from history, never typed into code.

For each venue x surface x distance x class cell, the median over the top-3 finishers of each
race (the usual basis of Japanese speed figures), shrunk toward the venue x surface x distance
median when the cell is thin. Rows with ``class_code == ""`` are the venue x surface x distance
cells themselves. The surface (``turf``, ``dirt``, ``jump``, ``other``: the track code read by
:func:`raceday.ratings.reference_times.runner_surface`) is in every cell: JRA runs turf and dirt
at one venue and distance in different times, and a jump race must not move a flat par.

Kinds:
- ``total``: finish time; ``last3f``: last 600 m; ``first_segment``: finish - last 3F (the
  time to the start of the last 600 m);
- ``leader_first3f``: the race leader's measured first 600 m (``nvd_ra.zenhan_3f``), one per race.

Class-neutral pars (``par_total``, ``par_last3f``, ``par_ten``; venue x surface x distance cells
only): the class cells above are what a class is expected to run (the track variant compares a
day with them); an index must instead compare classes on one scale. A par is the time a top-3
finisher of the venue's typical class on that surface runs at that distance, from a two-way fit
of pace (s per 1000 m) = distance effect + class effect per venue x surface (median polish), so a
cell that only hosts high classes does not get a fast par. The class effect is per surface too:
a class's field is not equally strong on turf and dirt (and jump classes are a ladder of their
own). ``par_ten`` is the par of the top-3 finishers' first-3F estimates (seed 003's layers and the
leader's share, no fitted layer) over the segment they measure: up to 1200 m that is
``T_total - T_last`` itself, above it each runner's first 600 m, so the ten index means the same
on both sides of 1200 m.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from raceday.first3f.layers import LAST_SEGMENT_M, SHORT_RACE_MAX_M, estimate_first3f
from raceday.ratings.reference_times import ALL_CLASSES, CELL, runner_surface

REFERENCE_COLUMNS: Final = [
    "kind", "keibajo_code", "surface", "distance_m", "class_code", "value_s", "n_samples",
]  # fmt: skip
REFERENCE_KEY: Final = ["kind", *CELL, "class_code"]
SHRINK_SAMPLES: Final = 30  # a class cell with 30 samples is weighted equally with its parent
PAR_KIND: Final = {"total": "par_total", "last3f": "par_last3f", "ten": "par_ten"}
# First-3F methods that are fixed fractions of the finish time, or no time at all: they say
# nothing about early pace, so neither the ten par nor the ten index uses them.
NO_TEN_METHODS: Final = frozenset({"ratio", "distance_ratio", "base", "unavailable", "not_started"})
POLISH_ROUNDS: Final = 4  # median polish converges to ~0.01 s/km within a few rounds


def reference_version(history_end: date) -> str:
    """The version id of reference times learned from history up to ``history_end``."""
    return f"ref-{history_end:%Y%m%d}"


def _samples(history: pd.DataFrame) -> pd.DataFrame:
    """One row per (kind, cell, sample) from top-3 finishers and race leaders."""
    history = history.reset_index(drop=True)
    classes = history["class_code"].astype("string").fillna(ALL_CLASSES)
    surfaces = runner_surface(history)
    top3 = history[(history["finish_pos"] <= 3) & history["finish_time_s"].notna()]
    top3_classes = classes.loc[top3.index]
    frames = []
    for kind, values in (
        ("total", top3["finish_time_s"]),
        ("last3f", top3["last3f_s"]),
        ("first_segment", top3["finish_time_s"] - top3["last3f_s"]),
    ):
        frames.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "keibajo_code": top3["keibajo_code"],
                    "surface": surfaces.loc[top3.index],
                    "distance_m": top3["distance_m"],
                    "class_code": top3_classes,
                    "value_s": values,
                }
            )
        )
    leaders = history.drop_duplicates("race_id")
    frames.append(
        pd.DataFrame(
            {
                "kind": "leader_first3f",
                "keibajo_code": leaders["keibajo_code"],
                "surface": surfaces.loc[leaders.index],
                "distance_m": leaders["distance_m"],
                "class_code": classes.loc[leaders.index],
                "value_s": leaders["leader_first3f_s"],
            }
        )
    )
    samples = pd.concat(frames, ignore_index=True)
    return samples[samples["value_s"].notna()]


def segment_length_m(kind: pd.Series, distance_m: pd.Series) -> pd.Series:
    """Metres a reference kind measures: the distance, 600 m, or distance - 600 m."""
    distance = distance_m.astype("float64")
    first_part = kind.eq("first_segment") | (kind.eq("ten") & (distance <= SHORT_RACE_MAX_M))
    return pd.Series(
        np.select(
            [kind.eq("total").to_numpy(), first_part.to_numpy()],
            [distance.to_numpy(), (distance - LAST_SEGMENT_M).to_numpy()],
            default=float(LAST_SEGMENT_M),
        ),
        index=kind.index,
    )


def ten_samples(history: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """``ten`` samples: the top-3 finishers' first-3F estimates (no fitted layers)."""
    history = history.reset_index(drop=True)
    # umaban / race_date only label the estimates: frames of bare times need not carry them.
    labels = {name: pd.NA for name in ("umaban", "race_date") if name not in history.columns}
    estimates = estimate_first3f(history.assign(**labels), references)
    top3 = (
        (history["finish_pos"] <= 3).fillna(False).to_numpy()
        & estimates["first3f_s"].notna().to_numpy()
        & ~estimates["method"].isin(NO_TEN_METHODS).to_numpy()
    )
    return pd.DataFrame(
        {
            "kind": "ten",
            "keibajo_code": history.loc[top3, "keibajo_code"],
            "surface": runner_surface(history).loc[top3],
            "distance_m": history.loc[top3, "distance_m"],
            "class_code": history.loc[top3, "class_code"].astype("string").fillna(ALL_CLASSES),
            "value_s": estimates.loc[top3, "first3f_s"].to_numpy(),
        }
    )


def class_neutral_pars(samples: pd.DataFrame, shrink_samples: int = SHRINK_SAMPLES) -> pd.DataFrame:
    """``par_*`` rows per venue x surface x distance: pace = distance effect + class effect,
    class-free.

    Median polish on pace (s per 1000 m): alternately the median residual per venue x surface x
    distance and per venue x surface x class; class effects are shrunk by n / (n + 30) like class
    cells, then centred on the venue x surface's median sample so the par is that of the typical
    class of the venue's races on that surface.
    """
    frame = samples[samples["kind"].isin(PAR_KIND)].reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    segment = segment_length_m(frame["kind"], frame["distance_m"])
    pace = (frame["value_s"] * 1000 / segment).to_numpy()
    cell_keys = ["kind", *CELL]
    class_keys = ["kind", "keibajo_code", "surface", "class_code"]
    # The groups, numbered once (NaN where a key is missing: such rows join no group, as
    # before): every round regroups the same rows.
    cells = frame.groupby(cell_keys, observed=True).ngroup().to_numpy()
    classes = frame.groupby(class_keys, observed=True).ngroup().to_numpy()
    class_effect = np.zeros(len(frame))
    for _ in range(POLISH_ROUNDS):
        cell_effect = pd.Series(pace - class_effect).groupby(cells).transform("median")
        residual = pd.Series(pace - cell_effect.to_numpy())
        grouped = residual.groupby(classes)
        n = grouped.transform("size").to_numpy()
        class_effect = grouped.transform("median").to_numpy() * n / (n + shrink_samples)
    venue_centre = (
        pd.Series(class_effect)
        .groupby([frame["kind"], frame["keibajo_code"], frame["surface"]], observed=True)
        .transform("median")
        .to_numpy()
    )
    neutral_pace = pd.Series(pace - class_effect + venue_centre)
    pars = (
        neutral_pace.groupby([frame[key] for key in cell_keys], observed=True)
        .agg(["median", "size"])
        .reset_index()
    )
    par_segment = segment_length_m(pars["kind"], pars["distance_m"])
    return pd.DataFrame(
        {
            "kind": pars["kind"].map(PAR_KIND),
            "keibajo_code": pars["keibajo_code"],
            "surface": pars["surface"],
            "distance_m": pars["distance_m"],
            "class_code": ALL_CLASSES,
            "value_s": pars["median"] * par_segment / 1000,
            "n_samples": pars["size"],
        }
    )


def learn_reference_times(history: pd.DataFrame) -> pd.DataFrame:
    """Reference times per kind x venue x surface x distance (x class) from runner rows with
    race columns.

    ``history`` needs race_id, keibajo_code, distance_m, class_code, finish_pos, finish_time_s,
    last3f_s and leader_first3f_s, and track_code for the surface (without it every cell is
    surface ``other``: :func:`raceday.ratings.reference_times.runner_surface`).
    """
    samples = _samples(history)
    if samples.empty:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    parent = (
        samples.groupby(["kind", *CELL], observed=True)["value_s"]
        .agg(value_s="median", n_samples="size")
        .reset_index()
        .assign(class_code=ALL_CLASSES)
    )
    classed = samples[samples["class_code"] != ALL_CLASSES]
    cells = (
        classed.groupby(["kind", *CELL, "class_code"], observed=True)["value_s"]
        .agg(cell_median="median", n_samples="size")
        .reset_index()
        .merge(parent[["kind", *CELL, "value_s"]], on=["kind", *CELL])
    )
    weight = cells["n_samples"] / (cells["n_samples"] + SHRINK_SAMPLES)
    cells["value_s"] = weight * cells["cell_median"] + (1 - weight) * cells["value_s"]
    measured = pd.concat([parent, cells.drop(columns="cell_median")], ignore_index=True)
    measured = measured.astype({"distance_m": "int64"})
    pars = class_neutral_pars(pd.concat([samples, ten_samples(history, measured)]))
    out = pd.concat([measured, pars], ignore_index=True)
    out["distance_m"] = out["distance_m"].astype("int64")
    out["n_samples"] = out["n_samples"].astype("int64")
    return out[REFERENCE_COLUMNS].sort_values(REFERENCE_KEY).reset_index(drop=True)
