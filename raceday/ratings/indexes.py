"""Track variants (馬場指数) and the speed, ten (early), agari (late) and composite indexes.

Everything is on one points scale: 10 points per second per 1000 m, 80 at the par.
``docs/INDEXES.md`` has the definitions with worked numbers; in short:

- **track variant** ``v`` (s per 1000 m, + = slow day) per race day x venue x surface: each
  race's deviation is the median over its top-3 finishers of ``(time - class standard) * 1000 /
  distance`` (the class standard is the venue x surface x distance x class ``total`` reference);
  the day's variant is a trimmed mean of its races' deviations (the most extreme race on each
  side is dropped from 5 races up), so one freak race barely moves it; nothing else about the
  day is used, so it only exists once the day's results are in.
- **speed** = ``(par_total - time) * 10 * 1000 / distance + 10 * v + weight_points + 80`` with
  ``weight_points = (weight_carried - 55) * 0.002 * par pace (s/km) * 10`` (Nishida's 2 points
  per kg on his 10-points-per-1%-of-time scale: 0.2% of the time per kg).
- **ten** = ``(par_ten - first3f) * 10 * 1000 / segment + 10 * v + 80`` with the first-3F
  estimate and its segment (600 m, or distance - 600 m up to 1200 m); ``par_ten`` is the par of
  top-3 finishers' estimates over the same segment, so 80 means the same either side of 1200 m.
  No ten index from first-3F methods that are fixed fractions of the finish time (``ratio``,
  ``distance_ratio``): they say nothing about early pace.
- **agari** = ``(par_last3f - last3f) * 10 * 1000 / 600 + 10 * v + 80``.
- **composite** = ``0.6 * speed + 0.2 * ten + 0.2 * agari`` (weights renormalised over the
  components a run has; NaN without any).
Pars are class-neutral (:func:`raceday.ratings.standards.class_neutral_pars`), so classes, distances
and days are on one scale within a venue and surface; every reference is per surface (turf, dirt,
jump), so a turf run is scored against turf times.
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
import pandas as pd

from raceday.codec import surface_of as surface_of  # the variant is kept per surface
from raceday.first3f.layers import LAST_SEGMENT_M
from raceday.ratings.reference_times import lookup_reference, lookup_references, runner_surface
from raceday.ratings.standards import NO_TEN_METHODS, PAR_KIND

logger = logging.getLogger(__name__)

INDEX_VERSION: Final = "idx-v2"
INDEX_BASE: Final = 80.0
POINTS_PER_SECOND_PER_KM: Final = 10.0
WEIGHT_BASE_KG: Final = 55.0
WEIGHT_TIME_SHARE_PER_KG: Final = 0.002  # Nishida: 2 points per kg, 10 points = 1% of the time
# The speed index is the whole run; the sectional indexes are noisier and partly inside it.
COMPOSITE_WEIGHTS: Final = {"speed_index": 0.6, "ten_index": 0.2, "agari_index": 0.2}

VARIANT_TRIM_FROM: Final = 5  # races in a day from which the extreme race each side is dropped
VARIANT_KEY: Final = ["race_date", "keibajo_code", "surface"]
VARIANT_COLUMNS: Final = [
    *VARIANT_KEY, "variant_s_per_km", "n_races", "n_runners",
]  # fmt: skip
INDEX_COLUMNS: Final = [
    "race_id", "umaban", "race_date", "speed_index", "ten_index", "agari_index",
    "composite_index", "first3f_method", "track_variant_s_per_km", "index_version",
]  # fmt: skip


def index_points(
    standard_s: pd.Series, time_s: pd.Series, segment_m: pd.Series | float
) -> pd.Series:
    """``(standard - time) * 10 * 1000 / segment_m + 80``."""
    return (standard_s - time_s) * POINTS_PER_SECOND_PER_KM * 1000 / segment_m + INDEX_BASE


def race_deviations(runners: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """Per race: median over its top-3 of (time - class standard) in s per 1000 m."""
    top3 = runners[(runners["finish_pos"] <= 3) & runners["finish_time_s"].notna()]
    standard = lookup_reference(top3, references, "total")
    deviation = (top3["finish_time_s"] - standard) * 1000 / top3["distance_m"].astype("float64")
    frame = pd.DataFrame(
        {
            "race_id": top3["race_id"],
            "race_date": top3["race_date"],
            "keibajo_code": top3["keibajo_code"],
            "surface": surface_of(top3["track_code"]),
            "deviation_s_per_km": deviation,
        }
    ).dropna(subset=["deviation_s_per_km"])
    return (
        frame.groupby(["race_id", *VARIANT_KEY], observed=True)["deviation_s_per_km"]
        .agg(["median", "size"])
        .rename(columns={"median": "deviation_s_per_km", "size": "n_runners"})
        .reset_index()
    )


def trimmed_mean(groups: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Mean of ``value`` per group without its lowest and highest row when it has >= 5 rows."""
    ordered = groups.sort_values([*keys, value], kind="mergesort")
    grouped = ordered.groupby(keys, observed=True)[value]
    rank = grouped.cumcount()
    size = grouped.transform("size")
    keep = (size < VARIANT_TRIM_FROM) | ((rank > 0) & (rank < size - 1))
    return ordered[keep].groupby(keys, observed=True)[value].mean().rename(value).reset_index()


def track_variants(runners: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """Track variant per race day x venue x surface from that day's results (s per 1000 m)."""
    races = race_deviations(runners, references)
    if races.empty:
        return pd.DataFrame(columns=VARIANT_COLUMNS)
    variant = trimmed_mean(races, VARIANT_KEY, "deviation_s_per_km").rename(
        columns={"deviation_s_per_km": "variant_s_per_km"}
    )
    counts = (
        races.groupby(VARIANT_KEY, observed=True)
        .agg(n_races=("race_id", "size"), n_runners=("n_runners", "sum"))
        .reset_index()
    )
    out = variant.merge(counts, on=VARIANT_KEY)
    return out[VARIANT_COLUMNS].sort_values(VARIANT_KEY).reset_index(drop=True)


def variant_of_runs(frame: pd.DataFrame, variants: pd.DataFrame) -> pd.Series:
    """Each run's track variant (NaN where none was measured for its day, venue and surface)."""
    keyed = pd.DataFrame(
        {
            "race_date": pd.to_datetime(frame["race_date"]).astype("datetime64[ns]"),
            "keibajo_code": frame["keibajo_code"].astype("string"),
            "surface": surface_of(frame["track_code"]),
        }
    )
    table = variants.assign(
        race_date=pd.to_datetime(variants["race_date"]).astype("datetime64[ns]"),
        keibajo_code=variants["keibajo_code"].astype("string"),
        surface=variants["surface"].astype("string"),
    ).set_index(VARIANT_KEY)["variant_s_per_km"]
    index = pd.MultiIndex.from_frame(keyed)
    return pd.Series(table.reindex(index).to_numpy(), index=frame.index, dtype="float64")


def weight_points(weight_carried_kg: pd.Series, par_pace_s_per_km: pd.Series) -> pd.Series:
    """Nishida's weight allowance: 0.2% of the par time per kg over 55 kg, in points."""
    over = weight_carried_kg.astype("float64") - WEIGHT_BASE_KG
    points = over * WEIGHT_TIME_SHARE_PER_KG * par_pace_s_per_km * POINTS_PER_SECOND_PER_KM
    return points.fillna(0.0)


def composite(components: pd.DataFrame) -> pd.Series:
    """Weighted mean of the available speed / ten / agari indexes (NaN when none)."""
    weights = pd.Series(COMPOSITE_WEIGHTS)
    values = components[weights.index]
    present = values.notna()
    total_weight = present.mul(weights, axis=1).sum(axis=1)
    weighted = values.fillna(0.0).mul(weights, axis=1).sum(axis=1)
    return (weighted / total_weight).where(total_weight > 0)


def compute_indexes(
    runners: pd.DataFrame,
    first3f: pd.DataFrame,
    references: pd.DataFrame,
    variants: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indexes for every runner with a finish time (runner rows joined with race columns).

    ``variants`` defaults to the track variants of ``runners``' own days. A run whose day has
    no measured variant is scored with a variant of 0 and says so with
    ``track_variant_s_per_km`` = NaN.
    """
    if variants is None:
        variants = track_variants(runners, references)
    frame = runners.merge(
        first3f[["race_id", "umaban", "first3f_s", "first_segment_m", "method"]],
        on=["race_id", "umaban"],
        how="left",
    )
    distance = frame["distance_m"].astype("float64")
    variant = variant_of_runs(frame, variants)
    variant_points = variant.fillna(0.0) * POINTS_PER_SECOND_PER_KM
    pars = lookup_references(frame, references, list(PAR_KIND.values()))
    par_total = pars[PAR_KIND["total"]]
    no_par = par_total.isna() & frame["finish_time_s"].notna()
    if no_par.any():
        cells = (
            frame.assign(surface=runner_surface(frame))
            .loc[no_par, ["keibajo_code", "surface", "distance_m"]]
            .drop_duplicates()
        )
        logger.warning(
            "no index for %d runs: no par for %d venue x surface x distance cell(s) in the "
            "history yet (e.g. %s %s %s m)",
            int(no_par.sum()),
            len(cells),
            cells.iloc[0]["keibajo_code"],
            cells.iloc[0]["surface"],
            cells.iloc[0]["distance_m"],
        )
    speed = (
        index_points(par_total, frame["finish_time_s"], distance)
        + variant_points
        + weight_points(frame["weight_carried_kg"], par_total * 1000 / distance)
    )
    ten = (
        index_points(
            pars[PAR_KIND["ten"]], frame["first3f_s"], frame["first_segment_m"].astype("float64")
        )
        + variant_points
    ).where(~frame["method"].isin(NO_TEN_METHODS))
    agari = (
        index_points(pars[PAR_KIND["last3f"]], frame["last3f_s"], float(LAST_SEGMENT_M))
        + variant_points
    )
    out = pd.DataFrame(
        {
            "race_id": frame["race_id"],
            "umaban": frame["umaban"],
            "race_date": frame["race_date"],
            "speed_index": speed,
            "ten_index": ten,
            "agari_index": agari,
        }
    ).replace([np.inf, -np.inf], np.nan)
    out["composite_index"] = composite(out)
    out["first3f_method"] = frame["method"]
    out["track_variant_s_per_km"] = variant
    out["index_version"] = INDEX_VERSION
    has_time = frame["finish_time_s"].notna().to_numpy()
    return out[has_time][INDEX_COLUMNS].reset_index(drop=True)
