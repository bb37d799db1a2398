"""Catalog of boat racing: every read and write the boat stages make (``boat_*`` tables).

Writes replace by natural key (a race's results and payouts: the race's as a set) inside the
caller's transaction, so re-running a day changes nothing; a day's unsettled bets are
replaced, settled ones are kept as placed.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select

from raceday.boat.settle import SET_ASIDE
from raceday.store.boat_models import (
    BoatBet,
    BoatCourse,
    BoatEntry,
    BoatExotic,
    BoatOdds,
    BoatPayout,
    BoatPerformance,
    BoatPrediction,
    BoatRace,
    BoatResult,
)
from raceday.store.catalogs.bets import ledger_days_of
from raceday.store.models import table_of
from raceday.store.repository import (
    dates_between,
    delete_in,
    insert_rows,
    read_rows,
    replace_rows,
)

# A bet refunded because the night's validation set its race aside: provisional, settled again
# from a good K file (the settlement's own outcome, not a second spelling of it).
PROVISIONAL_OUTCOME: Final = SET_ASIDE

RACES = table_of(BoatRace)
ENTRIES = table_of(BoatEntry)
RESULTS = table_of(BoatResult)
PAYOUTS = table_of(BoatPayout)
ODDS = table_of(BoatOdds)
PREDICTIONS = table_of(BoatPrediction)
BETS = table_of(BoatBet)
PERFORMANCE = table_of(BoatPerformance)
COURSE = table_of(BoatCourse)
EXOTICS = table_of(BoatExotic)
BOAT_KEY = ["race_id", "boat"]
RESULT_RACE_COLUMNS = ["status", "weather", "wind_direction", "wind_speed_m", "wave_cm", "kimarite"]


def write_card(
    connection: Connection, races: pd.DataFrame, entries: pd.DataFrame, odds: pd.DataFrame
) -> int:
    """Store the program's races and boats and the odds timeline (the results' columns of a
    race already settled are kept)."""
    known = _stored_result_columns(connection, races["race_id"].astype(str).tolist())
    merged = races.drop(columns=[c for c in RESULT_RACE_COLUMNS if c in races]).merge(
        known, on="race_id", how="left"
    )
    written = replace_rows(connection, RACES, merged, ["race_id"])
    written += replace_rows(connection, ENTRIES, entries, BOAT_KEY)
    return written + replace_rows(connection, ODDS, odds, [*BOAT_KEY, "snapshot"])


def _stored_result_columns(connection: Connection, race_ids: list[str]) -> pd.DataFrame:
    columns = [RACES.c.race_id, *(RACES.c[name] for name in RESULT_RACE_COLUMNS)]
    rows = connection.execute(select(*columns).where(RACES.c.race_id.in_(race_ids))).all()
    frame = pd.DataFrame(rows, columns=["race_id", *RESULT_RACE_COLUMNS])
    return frame.astype({"race_id": "string"})


def write_results(
    connection: Connection, races: pd.DataFrame, results: pd.DataFrame, payouts: pd.DataFrame
) -> int:
    """Store the results: each race's status and conditions (onto its program row), each
    boat's result and the payout lines (combination '' for 特払い and 不成立). A race's
    results and payouts replace its stored ones as a set: a win line of boat 6 read from a
    wrong file, then boat 2's from the right one, must not both stay (a dead heat to settle)."""
    ids = races["race_id"].astype(str).tolist()
    days = pd.to_datetime(races["race_date"]).dropna()
    if days.empty:
        return 0
    stored = read_rows(connection, RACES, start=days.min().date(), end=days.max().date())
    stored = stored.astype({"race_id": "string"})
    stored = stored[stored["race_id"].isin(ids)].drop(columns=RESULT_RACE_COLUMNS)
    updated = stored.merge(
        races[["race_id", *RESULT_RACE_COLUMNS]].astype({"race_id": "string"}), on="race_id"
    )
    written = replace_rows(connection, RACES, updated, ["race_id"])
    of_races = [*ids, *results["race_id"].astype(str), *payouts["race_id"].astype(str)]
    delete_in(connection, RESULTS, "race_id", of_races)
    delete_in(connection, PAYOUTS, "race_id", of_races)
    written += insert_rows(connection, RESULTS, results)
    lines = payouts.assign(combination=payouts["combination"].astype("string").fillna(""))
    lines = lines.drop_duplicates(["race_id", "bet_type", "combination"])
    return written + insert_rows(connection, PAYOUTS, lines)


def days_with_results(connection: Connection, start: date, end: date) -> set[date]:
    """The days ``start``..``end`` whose results are stored."""
    return dates_between(connection, RESULTS.c.race_date, start, end)


def settled_race_count(connection: Connection, start: date, end: date) -> int:
    """Races dated ``start``..``end`` with stored results (what a training window holds)."""
    query = select(func.count(func.distinct(RESULTS.c.race_id))).where(
        and_(RESULTS.c.race_date >= start, RESULTS.c.race_date <= end)
    )
    return int(connection.execute(query).scalar() or 0)


def read_history(
    connection: Connection, start: date, before: date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Entries, results and odds snapshots of the days ``start`` .. the day before ``before``
    (never the day itself: what a decision on ``before`` may learn from)."""
    entries, results = read_results_history(connection, start, before)
    end = pd.Timestamp(before) - pd.Timedelta(days=1)
    odds = read_rows(connection, ODDS, start=start, end=end.date())
    return entries, results, odds


def read_results_history(
    connection: Connection, start: date, before: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_history` without the odds snapshots (the most rows of the three), for what
    learns from earlier results alone (the start-and-course stage)."""
    end = pd.Timestamp(before) - pd.Timedelta(days=1)
    entries = read_rows(connection, ENTRIES, start=start, end=end.date())
    results = read_rows(connection, RESULTS, start=start, end=end.date())
    return entries, results


def write_predictions(connection: Connection, predictions: pd.DataFrame, day: date) -> int:
    """Replace the day's predictions (of every version: a day is predicted by one)."""
    connection.execute(delete(PREDICTIONS).where(PREDICTIONS.c.race_date == day))
    return insert_rows(connection, PREDICTIONS, predictions)


def read_predictions(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored predictions dated ``start``..``end``."""
    return read_rows(connection, PREDICTIONS, start=start, end=end)


def read_results(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored boat results dated ``start``..``end``."""
    return read_rows(connection, RESULTS, start=start, end=end)


def write_bets(connection: Connection, bets: pd.DataFrame, policy: str, day: date) -> int:
    """Replace the day's unsettled bets of ``policy``; settled bets are never rewritten here."""
    of_day = and_(BETS.c.policy == policy, BETS.c.race_date == day)
    if connection.execute(select(func.count()).where(of_day, BETS.c.settled.is_(True))).scalar():
        return 0
    connection.execute(delete(BETS).where(of_day))
    return insert_rows(connection, BETS, bets.assign(policy=policy, settled=False))


def read_bets(connection: Connection, day: date, policy: str) -> pd.DataFrame:
    """The day's bets of ``policy``."""
    return read_rows(connection, BETS, start=day, end=day, where={"policy": policy})


def write_settlement(connection: Connection, settled: pd.DataFrame) -> int:
    """Store settled bets (replacing them by natural key)."""
    return replace_rows(connection, BETS, settled, ["policy", *BOAT_KEY])


def ledger_days(connection: Connection, policy: str, *, before: date) -> pd.DataFrame:
    """The boat ledger summed per race date before ``before``: what the bankroll and its
    drawdown derive from (``raceday.staking.ledger.daily_pnl_from_ledger_days``)."""
    return ledger_days_of(BETS, connection, policy, before=before)


def days_recorded(connection: Connection, start: date, end: date) -> set[date]:
    """The days ``start``..``end`` with a performance row (a resumed backfill skips them)."""
    return dates_between(connection, PERFORMANCE.c.perf_date, start, end)


def provisional_bets_per_day(connection: Connection, start: date, end: date) -> dict[date, int]:
    """The bets refunded provisionally (outcome ``set aside``: their race's results could not
    be read or contradicted themselves) of each day ``start``..``end`` that has any: such a day
    is settled for the ledger, but not done (a good K file settles it again)."""
    query = (
        select(BETS.c.race_date, func.count())
        .where(
            BETS.c.outcome == PROVISIONAL_OUTCOME,
            BETS.c.race_date >= start,
            BETS.c.race_date <= end,
        )
        .group_by(BETS.c.race_date)
    )
    return {pd.Timestamp(day).date(): int(n) for day, n in connection.execute(query)}


def open_bets_per_day(connection: Connection, start: date, end: date) -> dict[date, int]:
    """The bets still open (their race's result not in: no K file, or none readable for it) of
    each day ``start``..``end`` that has any: such a day is recorded, but not done."""
    query = (
        select(BETS.c.race_date, func.count())
        .where(BETS.c.settled.is_(False), BETS.c.race_date >= start, BETS.c.race_date <= end)
        .group_by(BETS.c.race_date)
    )
    return {pd.Timestamp(day).date(): int(n) for day, n in connection.execute(query)}


def first_recorded_day(connection: Connection, until: date) -> date | None:
    """The first boat day recorded on or before ``until``, or None."""
    query = select(func.min(PERFORMANCE.c.perf_date)).where(PERFORMANCE.c.perf_date <= until)
    first = connection.execute(query).scalar()
    return None if first is None else pd.Timestamp(first).date()


def write_performance(connection: Connection, record: pd.DataFrame) -> int:
    """Store the day's performance row."""
    return replace_rows(connection, PERFORMANCE, record, ["perf_date"])


def read_performance(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """The recorded boat days ``start``..``end`` (``boat_performance``), in date order."""
    rows = read_rows(connection, PERFORMANCE, start=start, end=end, date_column="perf_date")
    return rows.sort_values("perf_date", ignore_index=True)


def write_course(connection: Connection, course: pd.DataFrame, day: date) -> int:
    """Replace the day's start-and-course rows."""
    connection.execute(delete(COURSE).where(COURSE.c.race_date == day))
    return insert_rows(connection, COURSE, course)


def read_course(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored start-and-course rows dated ``start``..``end``."""
    return read_rows(connection, COURSE, start=start, end=end)


def write_exotics(connection: Connection, exotics: pd.DataFrame, day: date) -> int:
    """Replace the day's most likely exacta and trifecta combinations."""
    connection.execute(delete(EXOTICS).where(EXOTICS.c.race_date == day))
    return insert_rows(connection, EXOTICS, exotics)


def read_exotics(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored exacta and trifecta combinations dated ``start``..``end``."""
    return read_rows(connection, EXOTICS, start=start, end=end)
