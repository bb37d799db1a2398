"""The frames the suites check: decoded columns plus derived ones, computed over whole frames.

A consistency rule that spans rows or tables (a race's runners, finishing order, repeated rows)
becomes a plain column here, so that every rule is one Great Expectations expectation over a
column and its failures name their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import String, Table

from raceday.arrow_text import text_isin
from raceday.codec import (
    CANCELLED_RACE_RECORD,
    ODDS_FIELDS,
    RACE_ID_PATTERN,
    SCRATCHED,
    WITHDRAWN_RECORD,
    digits_are_malformed,
    odds_field_text,
    record_kind,
    soha_time_text,
    venue_code_is_malformed,
)
from raceday.schema import NVD_RA_REQUIRED, NVD_SE_REQUIRED, RACE_KEY_COLUMNS
from raceday.store.catalogs.races import RACES, RUNNERS

# Raw numeric fields and their widths: text there ("1O5", "12.5", "-38") is a corrupt record.
# Category codes (weather, going, sex) are not among them: a code outside the set, letters
# included (an overseas export's going "GF", sex "G"), decodes to unknown and the race is kept.
# The venue code is two digits or, for a race abroad, JV-Data's letter code (``G0``, Hong Kong):
# judged as such (:func:`raceday.codec.venue_code_is_malformed`), not as digits. A gate is one
# digit in JV-Data (枠番 1-8) and two where a barrier draw is written there (Hong Kong's 1-14).
RACE_DIGIT_FIELDS: Final = {
    "kaisai_nen": 4, "kaisai_tsukihi": 4, "keibajo_code": 2, "race_bango": 2, "kyori": 4,
    "toroku_tosu": 2, "shusso_tosu": 2, "hasso_jikoku": 4, "zenhan_3f": 3, "kohan_3f": 3,
}  # fmt: skip
RUNNER_DIGIT_FIELDS: Final = {
    "kaisai_nen": 4, "kaisai_tsukihi": 4, "keibajo_code": 2, "race_bango": 2, "wakuban": 2,
    "umaban": 2, "barei": 2, "futan_juryo": 3, "bataiju": 3, "zogen_sa": 3,
    "ijo_kubun_code": 1, "kakutei_chakujun": 2, "corner_1": 2, "corner_2": 2, "corner_3": 2,
    "corner_4": 2, "tansho_odds": 4, "tansho_ninkijun": 2, "kohan_3f": 3,
}  # fmt: skip
RUNNER_KEY_COLUMNS: Final = (*RACE_KEY_COLUMNS, "umaban")
VENUE_CODE: Final = RACE_KEY_COLUMNS[2]  # keibajo_code
CORNERS: Final = ["corner_1", "corner_2", "corner_3", "corner_4"]
# 出走取消, 発走除外, 競走除外 did not start; whether a source counts 除外 horses in shusso_tosu
# varies, so the field size is only bounded: at least the certain starters, at most the unscratched.
NOT_STARTERS: Final = (1, 2, 3)
# The race leader's first 600 m: no faster than 50 s/km, no slower than a pace that eases with
# distance (72 s/km at 800 m, +5 s/km per further 1000 m): 30.0 s, and 43.2 s at 800 m up to
# 49.2 s at 2800 m.
LEADER_PACE_MIN_S_PER_KM: Final = 50.0
LEADER_PACE_MAX_S_PER_KM: Final = (72.0, 5.0)
FIRST_600M_KM: Final = 0.6


def names_where(masks: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per row, the comma-joined names whose mask is True ('' when none): one column for many."""
    names = pd.Series("", index=index, dtype="string")
    if not masks:
        return names
    flags = pd.DataFrame(
        {name: mask.fillna(False).astype(bool).to_numpy() for name, mask in masks.items()},
        index=index,
    )
    flagged = flags[flags.any(axis=1)]
    if not flagged.empty:  # rare: join names only where something is wrong
        joined = flagged.dot(pd.Index(flags.columns) + ",").str.rstrip(",")
        names.loc[flagged.index] = joined.astype("string")
    return names


def missing_fields(raw: pd.DataFrame, required: tuple[str, ...]) -> pd.Series:
    """Required raw fields that are absent (a short, truncated line; a null in Parquet)."""
    present = [column for column in required if column in raw.columns]
    return names_where({column: raw[column].isna() for column in present}, raw.index)


def unparsable_fields(raw: pd.DataFrame, widths: dict[str, int]) -> pd.Series:
    """Numeric raw fields that hold something other than their digits (the venue code: other
    than a venue code; the odds fields: other than a scratched horse's mark,
    :func:`raceday.codec.odds_field_text`)."""
    masks = {
        column: (
            venue_code_is_malformed(raw[column])
            if column == VENUE_CODE
            else digits_are_malformed(
                odds_field_text(raw[column]) if column in ODDS_FIELDS else raw[column], width
            )
        )
        for column, width in widths.items()
        if column in raw.columns
    }
    return names_where(masks, raw.index)


def overlong_fields(decoded: pd.DataFrame, table: Table) -> pd.Series:
    """Decoded text longer than its store column (a shifted record): PostgreSQL would refuse it."""
    masks = {
        column.name: decoded[column.name].astype("string").str.len().gt(column.type.length)
        for column in table.columns
        if isinstance(column.type, String)
        and column.type.length is not None
        and column.name in decoded.columns
    }
    return names_where(masks, decoded.index)


def repeated_rows(raw: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    """True for every exact copy of an earlier row (a re-import): the first stays.

    A copy shares its ``key`` columns with the row it copies, so only rows whose key is not
    unique are compared whole (all of a raw table's columns: the slow part, now rarely run)."""
    shares_key = raw.duplicated(subset=list(key), keep=False).to_numpy(dtype=bool)
    repeated = np.zeros(len(raw), dtype=bool)
    if shares_key.any():
        repeated[shares_key] = raw[shares_key].duplicated(keep="first").to_numpy(dtype=bool)
    return pd.Series(repeated, index=raw.index)


def _known_horse_rows(runners: pd.DataFrame, copies: pd.Series) -> npt.NDArray[np.bool_]:
    """The runners whose horse is known (a blank id is nobody) and that are not an exact copy
    of an earlier row (``copies``, set aside on their own)."""
    known = (runners["horse_id"].astype("string").str.strip().fillna("") != "").to_numpy(bool)
    rows: npt.NDArray[np.bool_] = known & ~copies.to_numpy(bool)
    return rows


def horse_repeated_in_race(runners: pd.DataFrame, copies: pd.Series) -> npt.NDArray[np.bool_]:
    """True for each runner whose horse (a known id: a blank one is nobody) has another row in
    its race that is not an exact copy (``copies``, set aside on their own)."""
    rows = _known_horse_rows(runners, copies)
    keys = runners.loc[rows, ["race_id", "horse_id"]]
    repeated = np.zeros(len(runners), dtype=bool)
    repeated[rows] = keys.duplicated(keep=False).to_numpy(bool)
    return repeated


def horse_in_another_race_that_day(
    runners: pd.DataFrame, copies: pd.Series
) -> npt.NDArray[np.bool_]:
    """True for each runner whose horse (a known id) also runs in another race of the same day:
    a horse runs once a day, so one of the two races is a copy under another key (another
    venue code or race number) or a key shifted onto another race. Exact copies of a row are
    set aside on their own."""
    rows = _known_horse_rows(runners, copies)
    keys = runners.loc[rows, ["race_date", "horse_id", "race_id"]]
    races = keys.groupby(["race_date", "horse_id"], dropna=False)["race_id"].transform("nunique")
    elsewhere = np.zeros(len(runners), dtype=bool)
    elsewhere[rows] = (races > 1).to_numpy(bool)
    return elsewhere


def with_record_kinds(frame: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``race_cancelled`` and ``record_withdrawn``: whether each raw record's
    データ区分 says its race was cancelled (9) or the record was withdrawn (0)."""
    kind = record_kind(raw).to_numpy()
    return frame.assign(
        race_cancelled=kind == CANCELLED_RACE_RECORD, record_withdrawn=kind == WITHDRAWN_RECORD
    )


def leader_first3f_upper_s(distance_m: pd.Series) -> pd.Series:
    """The slowest plausible leader's first 3F for the distance (see the module's constants)."""
    start, per_km = LEADER_PACE_MAX_S_PER_KM
    pace = start + per_km * (distance_m.astype("float64") - 800.0) / 1000.0
    return (pace * FIRST_600M_KM).astype("float64")


def finish_order(races: pd.DataFrame, runners: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per race: do its finishers' positions run 1..n (dead heats share: 1, 1, 3)? And, where
    not, the positions as recorded. ``runners`` holds one row per horse."""
    finishers = runners[runners["finish_pos"].notna()]
    position = finishers["finish_pos"].astype("float64")
    by_race = position.groupby(finishers["race_id"])
    broken = (position != by_race.rank(method="min")).groupby(finishers["race_id"]).any()
    broken_races = broken[broken].index
    recorded = (
        position[finishers["race_id"].isin(broken_races)]
        .astype("int64")
        .astype(str)
        .groupby(finishers["race_id"])
        .agg(lambda values: ",".join(sorted(values, key=int)))
    )
    # by membership, not ``map(broken).fillna(False)``: with no race of the table among the
    # runners' (every runner's race unknown) that map is all-null Arrow, which no fill accepts
    in_order = ~text_isin(races["race_id"], broken_races).astype(bool)
    positions = races["race_id"].map(recorded) if len(recorded) else pd.NA
    return in_order, pd.Series(positions, index=races.index, dtype="string")


def race_check_frame(
    races: pd.DataFrame,
    raw_ra: pd.DataFrame,
    runners: pd.DataFrame,
    *,
    as_of: date | None,
) -> pd.DataFrame:
    """Decoded races plus what their checks need (runner counts, copies, malformed fields)."""
    frame = races.copy()
    frame["row_id"] = np.arange(len(frame))
    repeated = repeated_rows(raw_ra, RACE_KEY_COLUMNS)
    frame["repeated_row"] = repeated
    frame["race_id_if_first_copy"] = frame["race_id"].where(~repeated)
    frame["race_key_valid"] = (
        frame["race_id"].str.fullmatch(RACE_ID_PATTERN).fillna(False).astype(bool)
        & frame["race_bango"].notna()
    )
    frame["missing_fields"] = missing_fields(raw_ra, NVD_RA_REQUIRED)
    frame["unparsable_fields"] = unparsable_fields(raw_ra, RACE_DIGIT_FIELDS)
    frame["overlong_fields"] = overlong_fields(races, RACES)
    frame = with_record_kinds(frame, raw_ra)
    distinct_runners = runners.drop_duplicates(["race_id", "umaban"])
    counts = distinct_runners.groupby("race_id").size()
    starters = (
        distinct_runners[~distinct_runners["abnormal_code"].isin(NOT_STARTERS)]
        .groupby("race_id")
        .size()
    )
    runner_count = frame["race_id"].map(counts).fillna(0).astype("int64")
    frame["runner_count"] = runner_count
    frame["listed_runners"] = runner_count.astype("Int64").where(runner_count > 0)
    frame["starters"] = (
        frame["race_id"].map(starters).fillna(0).astype("Int64").where(runner_count > 0)
    )
    unscratched = (
        distinct_runners[distinct_runners["abnormal_code"] != SCRATCHED].groupby("race_id").size()
    )
    frame["unscratched"] = (
        frame["race_id"].map(unscratched).fillna(0).astype("Int64").where(runner_count > 0)
    )
    frame["finish_order_ok"], frame["finish_positions"] = finish_order(frame, distinct_runners)
    frame["leader_first3f_upper_s"] = leader_first3f_upper_s(frame["distance_m"])
    frame["race_year"] = frame["race_date"].dt.year.astype("Int64")
    if as_of is not None:
        days_after = (frame["race_date"] - pd.Timestamp(as_of)).dt.days
        frame["days_after_today"] = days_after.astype("Int64")
    return frame


def runner_check_frame(
    runners: pd.DataFrame,
    raw_se: pd.DataFrame,
    races: pd.DataFrame,
    snapshot_odds: pd.DataFrame,
    unsold: pd.DataFrame | None = None,
    cancelled_races: pd.Series | None = None,
) -> pd.DataFrame:
    """Decoded runners plus what their checks need (their race's sizes, order, odds coverage:
    ``snapshot_odds`` priced, ``unsold`` said not sold by the same snapshot). A runner of a
    race cancelled (``cancelled_races``, its race's record says 9, or a runner's record of its
    race does) is no non-finisher: the race was not run (its race is set aside as cancelled)."""
    first_copy = races.drop_duplicates("race_id").set_index("race_id")
    frame = runners.copy()
    frame["row_id"] = np.arange(len(frame))
    repeated = repeated_rows(raw_se, RUNNER_KEY_COLUMNS)
    frame["repeated_row"] = repeated
    frame["race_id_if_first_copy"] = frame["race_id"].where(~repeated)
    frame["umaban_if_first_copy"] = frame["umaban"].where(~repeated)
    frame["horse_repeated_in_race"] = horse_repeated_in_race(frame, repeated)
    frame["horse_in_another_race"] = horse_in_another_race_that_day(frame, repeated)
    frame["race_known"] = text_isin(frame["race_id"], first_copy.index)
    frame["missing_fields"] = missing_fields(raw_se, NVD_SE_REQUIRED)
    frame["unparsable_fields"] = unparsable_fields(raw_se, RUNNER_DIGIT_FIELDS)
    frame["overlong_fields"] = overlong_fields(runners, RUNNERS)
    frame = with_record_kinds(frame, raw_se)
    frame["soha_time_raw"] = soha_time_text(raw_se["soha_time"]).fillna("")

    entries = frame["race_id"].map(first_copy["entries"].fillna(first_copy["field_size"]))
    frame["entries"] = pd.to_numeric(entries, errors="coerce").astype("Float64")
    frame["field_size"] = pd.to_numeric(
        frame["race_id"].map(first_copy["field_size"]), errors="coerce"
    ).astype("Float64")
    distance = pd.to_numeric(frame["race_id"].map(first_copy["distance_m"]), errors="coerce")
    frame["distance_m"] = distance.astype("Float64")
    frame["corner_max"] = frame[CORNERS].astype("Float64").max(axis=1)
    frame["pace_s_per_km"] = frame["finish_time_s"] / distance.astype("float64") * 1000.0

    finished = frame["finish_pos"].notna()
    frame["finisher"] = finished
    frame["finisher_without_time"] = finished & frame["finish_time_s"].isna()
    frame["finisher_without_odds"] = finished & frame["win_odds"].isna()
    said_cancelled = frame.loc[frame["race_cancelled"].to_numpy(bool), "race_id"]
    if cancelled_races is not None:
        said_cancelled = pd.concat([said_cancelled, cancelled_races.astype("string")])
    not_run = text_isin(frame["race_id"], said_cancelled.dropna()).to_numpy(bool)
    frame["non_finisher_unflagged"] = ~finished & frame["abnormal_code"].eq(0) & ~not_run
    first_copy_rows = frame[~repeated.to_numpy(dtype=bool)]
    frame["odds_above_a_less_popular"] = (
        odds_above_a_less_popular(first_copy_rows).reindex(frame.index, fill_value=False)
    ).astype(bool)
    frame["race_overround"] = race_overround(first_copy_rows).reindex(frame.index)

    frame["missing_snapshot_odds"] = missing_snapshot_odds(frame, snapshot_odds, unsold)
    return frame


def missing_snapshot_odds(
    runners: pd.DataFrame, priced: pd.DataFrame, unsold: pd.DataFrame | None = None
) -> pd.Series:
    """True for a runner whose race's snapshot prices others but not it, though it runs: not
    scratched on the card (取消), nor said not sold by that snapshot (``unsold``, ``race_id,
    umaban``: ``0000`` / ``----`` / ``****``, a horse withdrawn since the card). A runner the
    snapshot leaves out would inflate the others' shares. One rule, morning and race time."""
    keys = ["race_id", "umaban"]
    has_snapshot = text_isin(runners["race_id"], priced["race_id"])
    runner_keys = pd.MultiIndex.from_frame(runners[keys].astype(object))

    def listed(frame: pd.DataFrame | None) -> npt.NDArray[np.bool_]:
        if frame is None or frame.empty:
            return np.zeros(len(runners), dtype=bool)
        found: npt.NDArray[np.bool_] = runner_keys.isin(
            pd.MultiIndex.from_frame(frame[keys].astype(object))
        )
        return found

    withdrawn = runners["abnormal_code"].eq(SCRATCHED).fillna(False).to_numpy(bool) | listed(unsold)
    return pd.Series(
        has_snapshot.to_numpy(bool) & ~listed(priced) & ~withdrawn, index=runners.index
    )


def priced_by_rank(odds: pd.DataFrame) -> pd.Series:
    """Rows that take part in a race's market checks: priced and ranked (a race without any
    rank: every priced row). Unranked rows of a ranked race (a horse excluded after betting
    opened, whose money is refunded) are outside the pool."""
    priced = odds["win_odds"].notna()
    ranked = odds["popularity"].notna()
    race_ranked = ranked.groupby(odds["race_id"]).transform("any").astype(bool)
    return (priced & (ranked | ~race_ranked)).astype(bool)


def odds_above_a_less_popular(odds: pd.DataFrame) -> pd.Series:
    """True where a horse's odds exceed those of a horse ranked less popular in its race.

    Popularity ranks the horses by the money on them and win odds are the pool over that
    money, so a more popular horse never pays more: a favourite at 999.9 is a corrupt field.
    Equal odds with different ranks are fine (odds are rounded down to tenths)."""
    ranked = odds[odds["win_odds"].notna() & odds["popularity"].notna()]
    if ranked.empty:
        return pd.Series(False, index=odds.index)
    # One row per (race, rank): a tie in rank shares a place, so compare with later ranks only.
    ranks = (
        ranked.groupby(["race_id", "popularity"])["win_odds"]
        .min()
        .reset_index()
        .sort_values(["race_id", "popularity"], ascending=[True, False])
    )
    # Least popular first: the running minimum before a rank is the cheapest horse below it.
    ranks["cheapest_below"] = (
        ranks.groupby("race_id")["win_odds"].cummin().groupby(ranks["race_id"]).shift(1)
    )
    below = ranked[["race_id", "popularity"]].merge(
        ranks[["race_id", "popularity", "cheapest_below"]], on=["race_id", "popularity"], how="left"
    )["cheapest_below"]
    flagged = pd.Series(
        (ranked["win_odds"].to_numpy() > below.to_numpy(dtype="float64", na_value=np.inf)),
        index=ranked.index,
    )
    return flagged.reindex(odds.index, fill_value=False).astype(bool)


def race_overround(odds: pd.DataFrame) -> pd.Series:
    """Σ 1/odds of each race's priced field, on the race's most popular row (NaN elsewhere):
    one value a race, so a failure quarantines one row and sets the race aside."""
    counted = odds[priced_by_rank(odds)]
    total = (1.0 / counted["win_odds"].astype("float64")).groupby(counted["race_id"]).sum()
    first = counted.sort_values(["race_id", "popularity", "win_odds"]).drop_duplicates("race_id")
    out = pd.Series(np.nan, index=odds.index, dtype="float64")
    out.loc[first.index] = first["race_id"].map(total).to_numpy(dtype="float64")
    return out
