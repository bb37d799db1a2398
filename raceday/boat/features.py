"""Point-in-time features of a boat on the program: what is known at the morning decision.

From the program itself (published the day before): lane (艇番), class, national and local win
rates, motor and boat 2連率. From earlier days only (the K files before the race day): the
venue's win share by lane (the lane prior) and, from the start-and-course stage
(``raceday.boat.course``), the racer's start-timing (ST) and exhibition-time indexes and what
the expected course (進入) adds to the lane prior. A day's own results never reach its
features: every history aggregate is taken over days strictly before the row's race day
(:func:`earlier_days_totals`), so the same function builds the training rows of past days and
the prediction rows of today.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.simulate.config import NATIONAL_COURSE_WIN_SHARES
from raceday.ratings.as_of import key_codes

LANE_NUMBERS: Final = (1, 2, 3, 4, 5, 6)
# The official yearly win shares by course (issue 18): where a venue's own history is short,
# its lane prior leans on these.
NATIONAL_LANE_WIN_SHARES: Final = dict(zip(LANE_NUMBERS, NATIONAL_COURSE_WIN_SHARES, strict=True))
PRIOR_STRENGTH_RACES: Final = 200.0  # the national shares count as this many races of a venue
CLASS_LEVELS: Final = ("A1", "A2", "B2")  # indicators; B1, the most common class, is the base
DESIGN_COLUMNS: Final = (
    "log_prior", "national_win_rate", "local_win_rate", "class_A1", "class_A2", "class_B2",
    "motor_top2_pct", "boat_top2_pct", "st_index", "exhibition_index", "lane_x_win_rate",
    "course_gain",
)  # fmt: skip
COURSE_FEATURES: Final = ("p_course", "st_index", "exhibition_index")  # from raceday.boat.course
HISTORY_COLUMNS: Final = ("race_id", "race_date", "venue_code", "racer_id", "boat", "won")
NO_DAY: Final = np.iinfo("int64").min  # NaT as whole days


def _race_day(frame: pd.DataFrame) -> pd.Series:
    day = pd.to_datetime(frame["race_date"], errors="coerce", format="ISO8601").dt.normalize()
    return day.astype("datetime64[ns]")  # one resolution both sides of an as-of merge


def day_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Each row's race day as whole days since 1970 (NaT: ``NO_DAY``)."""
    return _race_day(frame).to_numpy(dtype="datetime64[D]").astype("int64")


def _key_codes(history: pd.DataFrame, rows: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per row of ``history`` then of ``rows``, equal where all ``keys`` are equal
    as text (the two sides matched as strings, whatever their dtypes)."""
    return key_codes(
        [pd.concat([history[key], rows[key]], ignore_index=True).astype("string") for key in keys]
    )


def key_codes_of(
    history: pd.DataFrame, rows: pd.DataFrame, keys: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The ``keys`` of ``history``'s rows and of ``rows`` as integers, equal where all keys are
    equal as text; -1 where a key is missing (such a row is left out of the aggregates)."""
    codes = _key_codes(history, rows, keys)
    missing = np.concatenate(
        [history[keys].isna().any(axis=1).to_numpy(), rows[keys].isna().any(axis=1).to_numpy()]
    )
    codes = np.where(missing, -1, codes)
    return codes[: len(history)], codes[len(history) :]


def totals_before_days(
    history: tuple[np.ndarray, np.ndarray], value: np.ndarray, rows: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`earlier_days_totals` on prepared arrays: ``history`` and ``rows`` as (race days
    from :func:`day_numbers`, key codes from :func:`key_codes_of`), ``value`` per history row
    (NaN: left out). The sum and count of ``value`` over the history rows of each row's key
    dated strictly before its day (0, 0: none)."""
    (history_day, history_key), (rows_day, rows_key) = history, rows
    total, n = np.zeros(len(rows_day)), np.zeros(len(rows_day))
    used = ~np.isnan(value) & (history_day != NO_DAY) & (history_key >= 0)
    wanted = (rows_day != NO_DAY) & (rows_key >= 0)
    if not used.any() or not wanted.any():
        return total, n
    days, keys, want_day = history_day[used], history_key[used], rows_day[wanted]
    first_day = int(min(days.min(), want_day.min()))
    span = int(max(days.max(), want_day.max())) - first_day + 2
    per_day = (
        pd.DataFrame({"key": keys, "day": days - first_day, "v": value[used]})
        .groupby(["key", "day"], sort=True)["v"].agg(["sum", "count"])
    )  # fmt: skip
    cumulated = per_day.groupby(level="key", sort=False).cumsum()
    key_of = per_day.index.get_level_values("key").to_numpy(dtype="int64")
    # What was known by the end of each day is usable from the next day on: a row of day d
    # takes its key's last entry of a day before d.
    position = key_of * span + per_day.index.get_level_values("day").to_numpy(dtype="int64")
    want_key = rows_key[wanted]
    target = want_key * span + (want_day - first_day - 1)
    found = np.searchsorted(position, target, side="right") - 1
    hit = found >= 0
    hit[hit] = key_of[found[hit]] == want_key[hit]
    total[wanted] = np.where(hit, cumulated["sum"].to_numpy(dtype="float64")[found], 0.0)
    n[wanted] = np.where(hit, cumulated["count"].to_numpy(dtype="float64")[found], 0.0)
    return total, n


def earlier_days_totals(
    history: pd.DataFrame, keys: list[str], value: str, rows: pd.DataFrame
) -> pd.DataFrame:
    """For each row of ``rows`` (``keys`` + ``race_date``): the sum and count (``total``, ``n``)
    of ``value`` over the ``history`` rows with the same keys dated strictly before the row's
    day. One pass: per-day sums, cumulated per key, each row matched to its key's last day
    before its own (a binary search on key and day)."""
    v = pd.to_numeric(history[value], "coerce").to_numpy(dtype="float64", na_value=np.nan)
    history_key, rows_key = key_codes_of(history, rows, keys)
    total, n = totals_before_days(
        (day_numbers(history), history_key), v, (day_numbers(rows), rows_key)
    )
    return pd.DataFrame({"total": total, "n": n}, index=rows.index)


def lane_prior(history: pd.DataFrame, card: pd.DataFrame) -> pd.Series:
    """Each boat's prior win probability from its venue's win share by lane on earlier days,
    shrunk toward the national shares, normalised over the boats of its race (sums to 1)."""
    won = history.assign(won=pd.to_numeric(history["won"], errors="coerce"))
    totals = earlier_days_totals(won, ["venue_code", "boat"], "won", card)
    lanes = pd.to_numeric(card["boat"], errors="coerce").astype("Int64")
    national = lanes.map(NATIONAL_LANE_WIN_SHARES).astype("float64")
    national = national.fillna(min(NATIONAL_LANE_WIN_SHARES.values()))
    shrunk = (totals["total"] + national * PRIOR_STRENGTH_RACES) / (
        totals["n"] + PRIOR_STRENGTH_RACES
    )
    total = shrunk.groupby(card["race_id"].astype("string").to_numpy()).transform("sum")
    return (shrunk / total).astype("float64").rename("p_prior")


def _filled_by_race(race_id: pd.Series, values: pd.Series, default: float) -> pd.Series:
    """Missing values as their race's mean (so they tell the race nothing), else ``default``."""
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    race_mean = numeric.groupby(race_id.to_numpy()).transform("mean")
    return numeric.fillna(race_mean).fillna(default)


def _course_of(card: pd.DataFrame, course: pd.DataFrame) -> pd.DataFrame:
    """``COURSE_FEATURES`` of the start-and-course stage, row for row with ``card``."""
    keys = ["race_id", "boat"]
    stage = course[[*keys, *COURSE_FEATURES]].astype({"race_id": "string", "boat": "Int64"})
    wanted = card[keys].astype({"race_id": "string"})
    wanted = wanted.assign(boat=pd.to_numeric(wanted["boat"], errors="coerce").astype("Int64"))
    aligned = wanted.merge(stage.drop_duplicates(keys), on=keys, how="left")
    return aligned.set_axis(card.index)[list(COURSE_FEATURES)].astype("float64")


def card_features(card: pd.DataFrame, history: pd.DataFrame, course: pd.DataFrame) -> pd.DataFrame:
    """The design columns (``DESIGN_COLUMNS``) and ``p_prior`` of each boat of ``card``
    (program entries with ``race_id, race_date, venue_code, boat, racer_id`` and the rates),
    from ``history``: earlier results (``HISTORY_COLUMNS`` + ``start_timing_s``,
    ``exhibition_s``) and ``course``: the start-and-course stage's rows of the same boats
    (:func:`raceday.boat.course.course_features`). Rows of any day; each sees only days before
    its own."""
    race_id = card["race_id"].astype("string")
    prior = lane_prior(history, card)
    start = _course_of(card, course)
    national = _filled_by_race(race_id, card["national_win_rate"], 5.0)
    local_raw = pd.to_numeric(card["local_win_rate"], errors="coerce").astype("float64")
    local = local_raw.where(local_raw > 0, national)  # 0.00: never raced here; national stands
    racer_class = card["racer_class"].astype("string")
    lane = pd.to_numeric(card["boat"], errors="coerce").astype("float64").fillna(3.5)
    features = pd.DataFrame(
        {
            "log_prior": np.log(prior.clip(lower=1e-6)),
            "national_win_rate": national,
            "local_win_rate": _filled_by_race(race_id, local, 5.0),
            **{
                f"class_{level}": racer_class.eq(level).fillna(False).astype("float64")
                for level in CLASS_LEVELS
            },
            "motor_top2_pct": _filled_by_race(race_id, card["motor_top2_pct"], 33.0),
            "boat_top2_pct": _filled_by_race(race_id, card["boat_top2_pct"], 33.0),
            # Quicker than the venue's standard: negative (a flying start counts as it is).
            "st_index": start["st_index"].fillna(0.0),
            "exhibition_index": start["exhibition_index"].fillna(0.0),
            # The inner lanes turn a racer's skill into wins more readily than the outer ones.
            "lane_x_win_rate": (3.5 - lane) * national,
            # What the expected course (進入) adds to the lane's prior: 0 where nobody moves.
            "course_gain": np.log(_filled_by_race(race_id, start["p_course"], 1 / 6).clip(1e-6))
            - np.log(prior.clip(lower=1e-6)),
        },
        index=card.index,
    )
    return features.assign(p_prior=prior)
