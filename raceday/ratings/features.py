"""Point-in-time past-performance features: what a model may know about a runner before the race.

For each runner of a race on day D, features come from the race card of D (distance, draw,
weight carried, jockey, field, going, body weight) and from runs strictly before D (their indexes,
positions, margins, corners, jockeys and trainers). One function, :func:`build_features`, serves
the morning run (one day's card, history read from the store) and backfills (every card of a date
range at once): it is a grouped as-of computation over the whole history, never a loop over days,
so a day's features are the same whichever way they are built.

Missing history is explicit: counts are 0 and ``no_history`` is true; a statistic of nothing
(a mean of no runs, a win rate of no rides) is NaN, never a zero that looks like data.
:data:`FEATURES` lists every column with its dtype and meaning (``docs/INDEXES.md`` too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd

from raceday.arrow_text import text_isin
from raceday.codec import GOING_CODES, SEX_CODES, UNKNOWN_CODE, known_or_unknown
from raceday.ratings.as_of import as_of, key_codes, latest_before, running_sums
from raceday.ratings.career_sums import (
    GOING_GROUPS,
    GROUP_SUM_COLUMNS,
    SUM_COLUMNS,
    FoldedRuns,
    going_group_codes,
    run_sums,
    speed_mean,
)
from raceday.sport import class_ranks

FEATURE_SET_VERSION: Final = "pp-v1"
PEOPLE_WINDOW_DAYS: Final = 180  # jockey / trainer form: recent enough to move, ~100+ rides
KEY_COLUMNS: Final = ["race_id", "umaban", "race_date", "keibajo_code", "horse_id"]
INDEX_FAMILIES: Final = ("speed", "ten", "agari", "composite")
LAST_K: Final = 5
RUN_WITHOUT_FINISH_CODES: Final = (4, 5)  # 競走中止, 失格: they ran, without a position
# Each circuit's class ladder on one "lower is better" scale (raceday.sport; a horse rarely
# changes circuit, and the model knows the venue, so two ladders are never compared in a venue).
CLASS_RANKS: Final = class_ranks()
PEOPLE_ROLES: Final = ("jockey_id", "trainer_id")
PEOPLE_COUNT_COLUMNS: Final = ["role", "person_id", "race_date", "runs", "wins"]

# What build_features reads: past runs (runner view + indexes) and the cards to build for.
HISTORY_COLUMNS: Final = [
    "race_id", "umaban", "race_date", "horse_id", "keibajo_code", "distance_m", "class_code",
    "going_code", "field_size", "jockey_id", "trainer_id", "weight_carried_kg", "abnormal_code",
    "finish_pos", "time_behind_s", "corner_1", "corner_2", "corner_3", "corner_4",
    "speed_index", "ten_index", "agari_index", "composite_index",
]  # fmt: skip
# What a horse's statistics read of its runs (run_statistics, _group_speed_statistics), and
# race_id, the order's last key: not the people, whose counts come from every runner's runs.
STATISTICS_COLUMNS: Final = [
    name for name in HISTORY_COLUMNS
    if name not in ("umaban", "jockey_id", "trainer_id", "abnormal_code")
]  # fmt: skip
CARD_COLUMNS: Final = [
    "race_id", "umaban", "race_date", "horse_id", "keibajo_code", "distance_m", "class_code",
    "going_code", "field_size", "entries", "wakuban", "jockey_id", "trainer_id",
    "weight_carried_kg", "body_weight_kg", "body_weight_diff_kg", "age", "sex_code",
]  # fmt: skip

Dtype = Literal["float64", "int64", "bool"]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its name, dtype and what it means."""

    name: str
    dtype: Dtype
    description: str


def _index_family_specs() -> tuple[FeatureSpec, ...]:
    specs: list[FeatureSpec] = []
    for family in INDEX_FAMILIES:
        specs += [
            FeatureSpec(f"{family}_last1", "float64", f"{family} index of the last run"),
            FeatureSpec(f"{family}_mean3", "float64", f"mean {family} index of the last 3 runs"),
            FeatureSpec(f"{family}_mean5", "float64", f"mean {family} index of the last 5 runs"),
            FeatureSpec(f"{family}_best5", "float64", f"best {family} index of the last 5 runs"),
            FeatureSpec(f"{family}_n5", "int64", f"last 5 runs with a {family} index"),
        ]
    return tuple(specs)


FEATURES: Final[tuple[FeatureSpec, ...]] = (
    # The race card of the day.
    FeatureSpec("distance_m", "float64", "race distance"),
    FeatureSpec("field_size", "float64", "starters on the card"),
    FeatureSpec("umaban_draw", "float64", "horse number (the draw)"),
    FeatureSpec("wakuban", "float64", "gate (bracket) number"),
    FeatureSpec("draw_ratio", "float64", "(umaban - 1) / (entries - 1): 0 inside, 1 outside"),
    FeatureSpec("weight_carried_kg", "float64", "weight carried"),
    FeatureSpec("age", "float64", "age in years"),
    FeatureSpec("sex_code", "float64", "sex (1 colt, 2 filly, 3 gelding; NaN unknown)"),
    FeatureSpec("body_weight_kg", "float64", "body weight on the card"),
    FeatureSpec("body_weight_diff_kg", "float64", "body-weight change on the card"),
    FeatureSpec("going_code", "float64", "going (1 良, 2 稍重, 3 重, 4 不良; NaN unknown)"),
    FeatureSpec("class_rank", "float64", "class ladder A1 = 1 .. C4 = 12, JRA OP = 1 .. NEW = 6"),
    # History counts and changes since the last run.
    FeatureSpec("n_past_runs", "int64", "runs before the day"),
    FeatureSpec("no_history", "bool", "no run before the day (every history feature NaN)"),
    FeatureSpec("days_since_last_run", "float64", "days since the last run"),
    FeatureSpec("distance_change_m", "float64", "distance minus the last run's distance"),
    FeatureSpec("class_change", "float64", "class rank minus the last run's (+ = dropping)"),
    FeatureSpec("weight_carried_change_kg", "float64", "weight carried minus the last run's"),
    # Indexes of past runs.
    *_index_family_specs(),
    # Finishing positions and margins.
    FeatureSpec("finish_pos_last1", "float64", "finishing position of the last run"),
    FeatureSpec("finish_pos_mean5", "float64", "mean finishing position, last 5 runs"),
    FeatureSpec("finish_ratio_mean5", "float64", "mean (pos - 1) / (field - 1), last 5 runs"),
    FeatureSpec("margin_last1_s", "float64", "seconds behind the winner, last run (- = won by)"),
    FeatureSpec("margin_mean5_s", "float64", "mean seconds behind the winner, last 5 runs"),
    FeatureSpec("early_pos_ratio_mean5", "float64", "mean first-corner (pos-1)/(field-1), last 5"),
    FeatureSpec("win_rate_career", "float64", "wins / runs before the day"),
    FeatureSpec("top3_rate_career", "float64", "top-3 finishes / runs before the day"),
    # Jockey and trainer over the trailing window.
    FeatureSpec("jockey_rides_window", "int64", "the jockey's rides in the trailing window"),
    FeatureSpec("jockey_win_rate_window", "float64", "the jockey's win rate, trailing window"),
    FeatureSpec("trainer_runs_window", "int64", "the trainer's runners in the trailing window"),
    FeatureSpec("trainer_win_rate_window", "float64", "the trainer's win rate, trailing window"),
    # Venue and going preference.
    FeatureSpec("n_runs_at_venue", "int64", "runs at today's venue"),
    FeatureSpec("speed_vs_career_at_venue", "float64", "mean speed at this venue - career mean"),
    FeatureSpec("n_runs_on_going", "int64", "runs on today's going group (dry / wet)"),
    FeatureSpec("speed_vs_career_on_going", "float64", "mean speed on this going - career mean"),
)
FEATURE_COLUMNS: Final = [spec.name for spec in FEATURES]
FEATURE_DTYPES: Final = {spec.name: spec.dtype for spec in FEATURES}


def feature_set_name(people_window_days: int = PEOPLE_WINDOW_DAYS) -> str:
    """The stored feature-set id: the version, plus the people window when not the default."""
    if people_window_days == PEOPLE_WINDOW_DAYS:
        return FEATURE_SET_VERSION
    return f"{FEATURE_SET_VERSION}-w{people_window_days}"


def class_rank(class_code: pd.Series) -> pd.Series:
    """A class as its rank on its circuit's ladder (:mod:`raceday.sport`: NAR ``A1``..``C4``
    to 1..12, JRA ``OP``..``NEW`` to 1..6; lower is better); anything else (``unknown``) NaN."""
    codes, classes = pd.factorize(class_code.astype("string"))  # a dozen distinct values
    text = pd.Series(classes, dtype="string")
    ranks = np.append(text.map(CLASS_RANKS).to_numpy(dtype="float64", na_value=np.nan), np.nan)
    return pd.Series(ranks[codes], index=class_code.index, name="class_rank")


def going_group(going_code: pd.Series) -> pd.Series:
    """``dry`` (良), ``wet`` (稍重, 重, 不良) or ``unknown`` (not recorded, NA, another code)."""
    group = np.asarray(GOING_GROUPS, dtype=object)[going_group_codes(going_code)]
    return pd.Series(group, index=going_code.index, dtype="string")


def known_code_or_nan(code: pd.Series, known: tuple[int, ...]) -> pd.Series:
    """A code of the ``known`` set as a number; unknown (0, NA, another code) NaN, so no model
    reads "not recorded" as a value below the first code."""
    values = known_or_unknown(code, known).astype("float64")
    return values.where(values != UNKNOWN_CODE)


def run_rows(history: pd.DataFrame) -> pd.Series:
    """Which history rows are runs (a position, or a start without one): what every statistic
    and the people's counts count."""
    finished = history["finish_pos"].notna()
    return finished | pd.to_numeric(history["abnormal_code"]).isin(RUN_WITHOUT_FINISH_CODES)


def run_rows_between(
    history: pd.DataFrame, since: pd.Timestamp | None = None, before: pd.Timestamp | None = None
) -> np.ndarray:
    """Which ``history`` rows are runs (:func:`run_rows`) dated ``since`` or later and before
    ``before`` (either bound only when given), as a boolean array."""
    chosen = np.array(run_rows(history), dtype=bool)  # a copy of its own: changed below
    if since is None and before is None:
        return chosen
    dates = pd.to_datetime(history["race_date"])
    if since is not None:
        chosen &= (dates >= since).to_numpy()
    if before is not None:
        chosen &= (dates < before).to_numpy()
    return chosen


def past_runs(
    history: pd.DataFrame,
    before: pd.Timestamp | None = None,
    horses: pd.Series | None = None,
    columns: list[str] = HISTORY_COLUMNS,
) -> pd.DataFrame:
    """History rows that are runs (a position, or a start without one), in horse-date order,
    with ``columns`` (race_id, race_date, horse_id and keibajo_code among them); only those
    dated before ``before``, and only those of ``horses`` (horse ids, blank for a missing one),
    when given. The rows and columns are chosen before they are ordered: only what is read is
    reordered (a history holds the people window's runners too; the people's ids are not read
    by a horse's statistics), and taken once, in order (the order found on their keys)."""
    positions = np.flatnonzero(run_rows_between(history, before=before))
    ids = history["horse_id"].iloc[positions].astype("string").fillna("")
    if horses is not None:
        of_horses = text_isin(ids, horses).to_numpy()
        positions, ids = positions[of_horses], ids[of_horses]
    keys = pd.DataFrame(
        {
            "horse_id": ids.to_numpy(),
            "race_date": pd.to_datetime(history["race_date"].iloc[positions])
            .astype("datetime64[ns]")
            .to_numpy(),
            "race_id": history["race_id"].iloc[positions].to_numpy(),
        }
    ).astype({"horse_id": ids.dtype, "race_id": history["race_id"].dtype})
    order = horse_date_order(keys)
    runs = history[columns].take(positions[order]).reset_index(drop=True)
    runs["race_date"] = keys["race_date"].to_numpy()[order]
    runs["horse_id"] = keys["horse_id"].take(order).reset_index(drop=True)
    runs["keibajo_code"] = runs["keibajo_code"].astype("string")
    return runs


RUN_ORDER: Final = ["horse_id", "race_date", "race_id"]


def horse_date_order(runs: pd.DataFrame) -> np.ndarray:
    """Positions of ``runs`` (a default index) in :data:`RUN_ORDER`, ties in their order: what
    a stable sort by the three columns gives, found on integers — the horse ids numbered in
    their sorted order and the dates — with the race ids' text read only when a horse has two
    runs on one day (or a date is missing). Sorting a million careers by text keys costs ≈ 1 s."""
    dates = runs["race_date"]
    if dates.isna().any():
        return _text_order(runs)
    horse = pd.factorize(runs["horse_id"], sort=True)[0]
    day = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((day, horse))  # stable, the last key first
    horse, day = horse[order], day[order]
    if ((horse[1:] == horse[:-1]) & (day[1:] == day[:-1])).any():
        return _text_order(runs)
    return order


def _text_order(runs: pd.DataFrame) -> np.ndarray:
    return np.asarray(runs.sort_values(RUN_ORDER, kind="mergesort").index, dtype=np.int64)


def _ratio(position: pd.Series, field_size: pd.Series) -> pd.Series:
    """(position - 1) / (field - 1): 0 in front, 1 last; NaN for fields of one."""
    field = field_size.astype("float64")
    return ((position.astype("float64") - 1) / (field - 1)).where(field > 1)


def _lags(values: pd.Series, position_in_horse: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(rows, LAST_K) matrix: column j is the value j runs back (j = 0 the run itself) of each
    of ``rows`` (positions in ``values``, which holds every run of their horses in order)."""
    array = values.astype("float64").to_numpy()
    out = np.full((rows.size, LAST_K), np.nan)
    for lag in range(LAST_K):
        same_horse = position_in_horse[rows] >= lag  # else the row ``lag`` back is another's
        out[same_horse, lag] = array[rows[same_horse] - lag]
    return out


def _mean_of(lags: np.ndarray, columns: int) -> np.ndarray:
    window = lags[:, :columns]
    count = np.sum(~np.isnan(window), axis=1)
    total = np.nansum(window, axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _best_of(lags: np.ndarray) -> np.ndarray:
    return np.asarray(np.fmax.reduce(lags, axis=1), dtype=np.float64)


def joinable_rows(
    runs: pd.DataFrame, by: list[str], since: pd.Timestamp | None = None
) -> np.ndarray:
    """Positions of the ``runs`` rows an as-of join of cards dated ``since`` or later can pick:
    every row from ``since`` on and, per ``by`` group, the last one before (every row when
    ``since`` is None). The rows of a group are in date order (:func:`past_runs`)."""
    if since is None:
        return np.arange(len(runs))
    before = (runs["race_date"] < since).to_numpy()
    superseded = np.zeros(len(runs), dtype=bool)
    superseded[before] = runs.loc[before, by].duplicated(keep="last").to_numpy()
    return np.flatnonzero(~superseded)


def run_statistics(
    runs: pd.DataFrame, since: pd.Timestamp | None = None, folded: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per run: the horse's statistics over that run and every earlier one (as-of rows); only
    of the runs a card dated ``since`` or later can be joined with, when given. ``folded``:
    the sums (:data:`SUM_COLUMNS`) of each horse's runs before those in ``runs``, by
    ``horse_id`` (:class:`FoldedRuns`' ``horse``), added to its cumulative sums."""
    horse = runs["horse_id"]
    position = runs.groupby(horse, sort=False).cumcount().to_numpy()
    rows = joinable_rows(runs, ["horse_id"], since)
    last_run = ["horse_id", "race_date", "distance_m", "class_code", "weight_carried_kg"]
    chosen = runs[last_run].iloc[rows]  # only what is read of them: not every column taken
    # the columns gathered, then one frame: a column set at a time re-builds the column index
    stats: dict[str, object] = {"horse_id": chosen["horse_id"], "race_date": chosen["race_date"]}
    for family in INDEX_FAMILIES:
        lags = _lags(runs[f"{family}_index"], position, rows)
        stats[f"{family}_last1"] = lags[:, 0]
        stats[f"{family}_mean3"] = _mean_of(lags, 3)
        stats[f"{family}_mean5"] = _mean_of(lags, LAST_K)
        stats[f"{family}_best5"] = _best_of(lags)
        stats[f"{family}_n5"] = np.sum(~np.isnan(lags), axis=1)
    finish = runs["finish_pos"].astype("float64")
    position_lags = _lags(finish, position, rows)
    stats["finish_pos_last1"] = position_lags[:, 0]
    stats["finish_pos_mean5"] = _mean_of(position_lags, LAST_K)
    stats["finish_ratio_mean5"] = _mean_of(
        _lags(_ratio(finish, runs["field_size"]), position, rows), LAST_K
    )
    margin_lags = _lags(runs["time_behind_s"], position, rows)
    stats["margin_last1_s"] = margin_lags[:, 0]
    stats["margin_mean5_s"] = _mean_of(margin_lags, LAST_K)
    corners = runs[["corner_1", "corner_2", "corner_3", "corner_4"]].astype("float64")
    first_corner = corners.bfill(axis=1).iloc[:, 0]
    stats["early_pos_ratio_mean5"] = _mean_of(
        _lags(_ratio(first_corner, runs["field_size"]), position, rows), LAST_K
    )
    cumulative = run_sums(runs).groupby(horse.to_numpy(), sort=False).cumsum().iloc[rows]
    sums = cumulative.to_numpy(dtype=np.int64)
    if folded is not None and len(folded):
        earlier = folded.set_index("horse_id")[SUM_COLUMNS].reindex(chosen["horse_id"])
        sums = sums + earlier.fillna(0).to_numpy(dtype=np.int64)
    total = dict(zip(SUM_COLUMNS, sums.T, strict=True))
    stats["n_past_runs"] = total["runs"]
    stats["win_rate_career"] = total["wins"] / total["runs"]
    stats["top3_rate_career"] = total["top3"] / total["runs"]
    stats["speed_career_mean"] = speed_mean(total["speed_sum"], total["speed_n"])
    stats["last_distance_m"] = chosen["distance_m"].astype("float64").to_numpy()
    stats["last_class_rank"] = class_rank(chosen["class_code"]).to_numpy()
    stats["last_weight_kg"] = chosen["weight_carried_kg"].astype("float64").to_numpy()
    stats["last_race_date"] = chosen["race_date"].to_numpy()
    return pd.DataFrame(stats, index=chosen.index)


def _group_speed_statistics(
    runs: pd.DataFrame,
    key: str,
    values: pd.Series,
    since: pd.Timestamp | None = None,
    folded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per run: the horse's run count and mean speed so far within ``key`` (venue, going);
    only of the runs a card dated ``since`` or later can be joined with, when given.
    ``folded``: the sums of each horse's runs before those in ``runs`` within ``key``
    (``horse_id``, ``key``, the last one's ``race_date``, :data:`GROUP_SUM_COLUMNS`), the
    first row of their group: a group of folded runs only is joined as its sums."""
    sums = run_sums(runs)
    frame = pd.DataFrame(
        {
            "horse_id": runs["horse_id"],
            key: values,
            "race_date": runs["race_date"],
            **{name: sums[name] for name in GROUP_SUM_COLUMNS},
        }
    )
    if folded is not None and len(folded):
        earlier = folded[["horse_id", key, "race_date", *GROUP_SUM_COLUMNS]]
        frame = pd.concat([earlier.astype(frame.dtypes.to_dict()), frame], ignore_index=True)
    group = key_codes([frame["horse_id"], frame[key]])
    rows = joinable_rows(frame, ["horse_id", key], since)
    sums_so_far = np.column_stack([frame[name].to_numpy(np.int64) for name in GROUP_SUM_COLUMNS])
    totals = running_sums(sums_so_far, group, np.argsort(group, kind="stable"))[rows]
    runs_so_far: np.ndarray = totals[:, 0]
    no_key = frame[key].isna().to_numpy()[rows]
    if no_key.any():  # a run without a venue (going) is in no group: no sums, as group-by's
        totals = np.where(no_key[:, None], np.nan, totals)
        runs_so_far = totals[:, 0]
    frame = frame.iloc[rows]
    return pd.DataFrame(
        {
            "horse_id": frame["horse_id"],
            key: frame[key],
            "race_date": frame["race_date"],
            f"n_runs_{key}": runs_so_far,
            f"speed_mean_{key}": speed_mean(totals[:, 1], totals[:, 2]),
        },
        index=frame.index,
    )


def people_daily_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs and wins per jockey and per trainer and day (:data:`PEOPLE_COUNT_COLUMNS`)."""
    frames = []
    for role in PEOPLE_ROLES:
        ids = runs[role].astype("string").str.strip()
        valid = runs[ids.notna() & (ids != "")]  # blank ids are unknown people, not one person
        frames.append(
            pd.DataFrame(
                {
                    "role": role,
                    "person_id": valid[role].astype("string"),
                    "race_date": pd.to_datetime(valid["race_date"]).astype("datetime64[ns]"),
                    "runs": 1,
                    "wins": (valid["finish_pos"].astype("float64") == 1).astype("int64"),
                }
            )
            .groupby(["role", "person_id", "race_date"], sort=True)[["runs", "wins"]]
            .sum()
            .reset_index()
        )
    return pd.concat(frames, ignore_index=True)[PEOPLE_COUNT_COLUMNS]


def trailing_counts(
    daily: pd.DataFrame, person_id: pd.Series, race_date: pd.Series, window_days: int
) -> pd.DataFrame:
    """Runs and wins of each (person, day D) over the days [D - window, D) of ``daily``."""
    people = daily["person_id"].astype("string")
    days = daily["race_date"]
    # each daily row's runs and wins summed with every earlier day's of its person
    person = pd.factorize(people, use_na_sentinel=False)[0]
    order = np.lexsort((days.to_numpy("datetime64[ns]"), person))
    counts = np.column_stack([daily[name].to_numpy(np.int64) for name in ("runs", "wins")])
    cumulative = np.vstack(  # the last row: no row (-1)
        [running_sums(counts, person, order), np.zeros((1, 2), dtype=np.int64)]
    )
    people_asked = [person_id.astype("string").fillna("")]
    day_before = latest_before(people_asked, race_date, [people], days)
    window_start = race_date - pd.Timedelta(days=window_days)
    window_before = latest_before(people_asked, window_start, [people], days)
    trailing = cumulative[day_before] - cumulative[window_before]
    return pd.DataFrame({"runs": trailing[:, 0], "wins": trailing[:, 1]}, index=person_id.index)


def horse_codes(run_horses: pd.Series, *others: pd.Series) -> tuple[np.ndarray, ...]:
    """Each run's horse, and each horse of ``others`` (a card's, a folded sum's), as an
    integer, the same for the same id (a horse without a run: -1, no run's code). Grouping and
    as-of joining by these gives the groups and joins the ids give; Arrow text is hashed again
    by every group-by."""
    codes, horses = pd.factorize(run_horses, use_na_sentinel=False)
    index = pd.Index(horses)
    coded = (index.get_indexer(other).astype(np.int64) for other in others)
    return (codes.astype(np.int64), *coded)


def _cards(cards: pd.DataFrame) -> pd.DataFrame:
    """Only the card columns (results on the target rows can never leak), sorted by date."""
    frame = cards[CARD_COLUMNS].copy()
    frame["race_id"] = frame["race_id"].astype("string")
    frame["umaban"] = frame["umaban"].astype("int64")
    frame["race_date"] = pd.to_datetime(frame["race_date"]).astype("datetime64[ns]")
    frame["horse_id"] = frame["horse_id"].astype("string").fillna("")
    frame["keibajo_code"] = frame["keibajo_code"].astype("string")
    frame["going_group"] = going_group_codes(frame["going_code"])
    return frame.reset_index(drop=True).sort_values("race_date", kind="mergesort")


def _people(daily: pd.DataFrame, targets: pd.DataFrame, window_days: int) -> dict[str, pd.Series]:
    counts = {
        role: trailing_counts(
            daily[daily["role"] == role], targets[role], targets["race_date"], window_days
        )
        for role in PEOPLE_ROLES
    }
    jockey, trainer = counts["jockey_id"], counts["trainer_id"]
    return {
        "jockey_rides_window": jockey["runs"],
        "jockey_win_rate_window": (jockey["wins"] / jockey["runs"].where(jockey["runs"] > 0)),
        "trainer_runs_window": trainer["runs"],
        "trainer_win_rate_window": (trainer["wins"] / trainer["runs"].where(trainer["runs"] > 0)),
    }


HORSE_STATISTICS: Final = [
    *(spec.name for spec in _index_family_specs()),
    "finish_pos_last1", "finish_pos_mean5", "finish_ratio_mean5", "margin_last1_s",
    "margin_mean5_s", "early_pos_ratio_mean5", "win_rate_career", "top3_rate_career",
]  # fmt: skip


def build_features(
    history: pd.DataFrame,
    cards: pd.DataFrame,
    people_window_days: int = PEOPLE_WINDOW_DAYS,
    people: pd.DataFrame | None = None,
    folded: FoldedRuns | None = None,
) -> pd.DataFrame:
    """Features of every card row from runs strictly before its day (keys + FEATURE_COLUMNS).

    ``history`` holds past runs with their indexes (:data:`HISTORY_COLUMNS`; rows on or after a
    card's day are ignored for it) and must hold every earlier run of the card's horses.
    ``people`` holds the jockeys' and trainers' daily runs and wins
    (:func:`people_daily_counts`; by default counted from ``history``, which must then hold
    every run of the window before each card's day). ``folded``: the sums of runs of the
    cards' horses that ``history`` no longer holds (:class:`FoldedRuns`), each before every
    run of its horse that it holds and before the first card's day, with at least the
    :data:`LAST_K` runs before that day held. ``cards`` holds :data:`CARD_COLUMNS`; any
    result columns it has are never read.
    """
    targets = _cards(cards)
    # no run on or after the last card's day can reach a card (a training's window built
    # before its chunks' days reads no later run)
    last_day = targets["race_date"].max() if len(targets) else None
    first_day = targets["race_date"].min() if len(targets) else None
    if people is not None:
        daily = people
    else:  # only the window before the first card counts (a count of days [D - window, D))
        window_start = None
        if first_day is not None:
            window_start = first_day - pd.Timedelta(days=people_window_days)
        daily = people_daily_counts(history[run_rows_between(history, window_start, last_day)])
    # A horse's statistics depend on its own runs only: only the cards' horses' runs are read.
    # A blank id is an unknown horse, not one horse (as the people's): no runs are read for it,
    # so it is coded as a horse without runs (-1) and joins no statistics.
    known = targets["horse_id"].str.strip() != ""
    own = past_runs(history, last_day, targets.loc[known, "horse_id"], STATISTICS_COLUMNS)
    # The statistics group and join by horse codes, not by the ids' text (the same groups).
    # (the folded sums' horses coded with them: one numbering of the ids)
    folded_sums = (
        [] if folded is None or not len(folded) else [folded.horse, folded.venue, folded.going]
    )
    own["horse_id"], card_horses, *sum_horses = horse_codes(
        own["horse_id"], targets["horse_id"], *(frame["horse_id"] for frame in folded_sums)
    )
    earlier = folded.keyed_by(*sum_horses) if folded is not None and folded_sums else None
    joins = targets[["race_date", "keibajo_code", "going_group"]].assign(horse_id=card_horses)
    # Statistics only of the runs a card can be joined with: the newest before the first card
    # and every later one, per horse (per horse and venue, per horse and going).
    horse = as_of(
        joins,
        run_statistics(own, first_day, earlier.horse if earlier is not None else None),
        ["horse_id"],
    )
    venue = as_of(
        joins,
        _group_speed_statistics(
            own, "keibajo_code", own["keibajo_code"], first_day,
            earlier.venue if earlier is not None else None,
        ),
        ["horse_id", "keibajo_code"],
    )  # fmt: skip
    going_groups = pd.Series(going_group_codes(own["going_code"]), index=own.index)
    going = as_of(
        joins,
        _group_speed_statistics(
            own, "going_group", going_groups, first_day,
            earlier.going if earlier is not None else None,
        ),
        ["horse_id", "going_group"],
    )  # fmt: skip
    n_runs = horse["n_past_runs"].fillna(0).astype("int64")
    rank = class_rank(targets["class_code"])
    entries = targets["entries"].astype("float64").fillna(targets["field_size"].astype("float64"))
    days_since = (targets["race_date"] - horse["last_race_date"]).dt.days.astype("float64")
    columns: dict[str, pd.Series] = {
        "distance_m": targets["distance_m"],
        "field_size": targets["field_size"],
        "umaban_draw": targets["umaban"],
        "wakuban": targets["wakuban"],
        "draw_ratio": _ratio(targets["umaban"], entries),
        "weight_carried_kg": targets["weight_carried_kg"],
        "age": targets["age"],
        "sex_code": known_code_or_nan(targets["sex_code"], SEX_CODES),
        "body_weight_kg": targets["body_weight_kg"],
        "body_weight_diff_kg": targets["body_weight_diff_kg"],
        "going_code": known_code_or_nan(targets["going_code"], GOING_CODES),
        "class_rank": rank,
        "n_past_runs": n_runs,
        "no_history": n_runs == 0,
        "days_since_last_run": days_since,
        "distance_change_m": targets["distance_m"].astype("float64") - horse["last_distance_m"],
        "class_change": rank - horse["last_class_rank"],
        "weight_carried_change_kg": targets["weight_carried_kg"].astype("float64")
        - horse["last_weight_kg"],
        **{name: horse[name] for name in HORSE_STATISTICS},
        **_people(daily, targets, people_window_days),
        "n_runs_at_venue": venue["n_runs_keibajo_code"],
        "speed_vs_career_at_venue": venue["speed_mean_keibajo_code"] - horse["speed_career_mean"],
        "n_runs_on_going": going["n_runs_going_group"],
        "speed_vs_career_on_going": going["speed_mean_going_group"] - horse["speed_career_mean"],
    }
    typed: dict[str, pd.Series] = {name: targets[name] for name in KEY_COLUMNS}
    for name, spec in FEATURE_DTYPES.items():
        values = columns[name]
        if spec == "int64":
            typed[name] = pd.to_numeric(values).fillna(0).astype("int64")
        elif spec == "bool":
            typed[name] = values.astype("bool")
        else:
            typed[name] = pd.to_numeric(values).astype("float64")
    # one frame of every column: a column set at a time re-builds the column index each time
    out = pd.DataFrame(typed, index=targets.index)
    return out.sort_index().reset_index(drop=True)


# What :func:`build_features` of some cards reads: the history (every earlier run of the cards'
# horses, and every run of the people window unless the counts come with it) and the jockeys'
# and trainers' daily runs and wins over the window (:func:`people_daily_counts`; None: counted
# from the history), and the sums of the horses' runs the history no longer holds
# (:class:`FoldedRuns`; None: it holds every run).
CardHistory = tuple[pd.DataFrame, pd.DataFrame | None, FoldedRuns | None]


@dataclass
class BuiltFeatures:
    """The features a process has built, kept by day for the last ``keep_days`` days, for a
    process that builds days in date order against one growing history (a backfill: each
    chunk's cards, then each training's window). A day's features come from runs strictly
    before it, so once every card of the day is built they are what any later build of that
    day gives, bit for bit: a training reuses the chunks' instead of building them again.
    Valid while no day of the history is rewritten (one backfill run, as ``SettledRuns``)."""

    keep_days: int = 0  # 0: nothing kept, every build is a build
    people_window_days: int = PEOPLE_WINDOW_DAYS
    frames: list[pd.DataFrame] = field(default_factory=list)  # as built (a chunk's, ...)
    days: set[pd.Timestamp] = field(default_factory=set)  # the days kept

    def remember(self, features: pd.DataFrame, people_window_days: int) -> None:
        """Keep ``features`` (:func:`build_features` of every card of their days); the days
        ``keep_days`` or more before the newest are dropped (a build's frame once all its
        days are: no copy of what is kept)."""
        if self.keep_days == 0 or features.empty:
            return
        if people_window_days != self.people_window_days:
            self.frames, self.days = [], set()
            self.people_window_days = people_window_days
        self.frames.append(features)
        self.days |= set(features["race_date"].unique())
        cutoff = max(self.days) - pd.Timedelta(days=self.keep_days)
        self.frames = [frame for frame in self.frames if frame["race_date"].max() > cutoff]
        self.days = {day for day in self.days if day > cutoff}

    def build(
        self,
        history_for: Callable[[pd.DataFrame], CardHistory],
        cards: pd.DataFrame,
        people_window_days: int,
    ) -> pd.DataFrame:
        """:func:`build_features` of ``cards``, in no particular order: the days built before
        (with the same people window) are taken as built, the others built and kept.
        ``history_for(cards)``: the history build_features of those cards needs (asked only
        for what is built), with the people's daily counts and the folded sums when the holder
        keeps them."""

        def build(some: pd.DataFrame) -> pd.DataFrame:
            history, people, folded = history_for(some)
            return build_features(history, some, people_window_days, people, folded)

        day = pd.to_datetime(cards["race_date"]).astype("datetime64[ns]")
        built_before = day.isin(self.days) & (people_window_days == self.people_window_days)
        if not built_before.any():
            features = build(cards)
            self.remember(features, people_window_days)
            return features
        wanted = day[built_before].unique()
        known = pd.concat(
            [frame[frame["race_date"].isin(wanted)] for frame in self.frames], ignore_index=True
        )
        if len(known) != int(built_before.sum()):  # not every card of those days: build all
            return build(cards)
        if built_before.all():
            return known
        rest = cards[~built_before]
        new = build(rest)
        self.remember(new, people_window_days)
        return pd.concat([known, new], ignore_index=True)
