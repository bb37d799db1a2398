"""Catalog of races, runners, bet-time odds and results (what the sources deliver, validated)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, case, func, inspect, select, update

from raceday.arrow_text import text_isin
from raceday.codec import SCRATCHED, race_venues
from raceday.pipeline import runner_view
from raceday.store.models import OddsSnapshot, Race, Runner, table_of
from raceday.store.repository import (
    dates_between,
    delete_in,
    distinct_between,
    fetch_frame,
    insert_rows,
    read_rows,
    replace_rows,
)

RACES = table_of(Race)
RUNNERS = table_of(Runner)
ODDS = table_of(OddsSnapshot)

RACE_KEY = ["race_id"]
RUNNER_KEY = ["race_id", "umaban"]


def races_with_results(connection: Connection, race_ids: Iterable[str]) -> set[str]:
    """Which of ``race_ids`` are stored with their results."""
    ids = list(race_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(RACES.c.race_id).where(
            and_(RACES.c.race_id.in_(chunk), RACES.c.has_results.is_(True))
        )
        found |= set(connection.execute(query).scalars())
    return found


def write_races_and_runners(
    connection: Connection,
    races: pd.DataFrame,
    runners: pd.DataFrame,
    *,
    has_results: bool,
    source: str,
) -> int:
    """Store decoded races and runners; a card never overwrites a race already settled.

    A race's runner set is replaced whole: a runner gone from the source leaves with it. Runners
    of the races written are inserted without a delete of their own keys (deleted with their
    races just before: a search per runner that finds nothing); any other runner replaces the
    row of its key as before."""
    if not has_results:
        settled = races_with_results(connection, races["race_id"])
        races = races[~races["race_id"].isin(settled)]
        runners = runners[~runners["race_id"].isin(settled)]
    replace_rows(connection, RACES, races.assign(has_results=has_results, source=source), RACE_KEY)
    delete_in(connection, RUNNERS, "race_id", races["race_id"].tolist())
    if _all_of_races(runners, races):
        return insert_rows(connection, RUNNERS, runners)
    return replace_rows(connection, RUNNERS, runners, RUNNER_KEY)


# What a race's results add to its card (the rest of a runner is known in the morning).
_RACE_RESULT_COLUMNS = ("leader_first3f_s", "race_last3f_s")
_RUNNER_RESULT_COLUMNS = (
    "finish_pos", "finish_time_s", "last3f_s", "corner_1", "corner_2", "corner_3", "corner_4",
    "win_odds", "popularity", "time_behind_s",
)  # fmt: skip


def withdraw_results(connection: Connection, race_ids: Iterable[str]) -> int:
    """The stored results of ``race_ids`` taken back (the provider now says the race was
    cancelled or withdrew its record): each race is left as its card — no finishing order,
    times, corners or final odds, only a scratch kept — so nothing settles or learns from it.
    Returns how many races had results."""
    ids = list(dict.fromkeys(race_ids))
    withdrawn = races_with_results(connection, ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(
            update(RACES)
            .where(RACES.c.race_id.in_(chunk))
            .values(has_results=False, **dict.fromkeys(_RACE_RESULT_COLUMNS))
        )
        abnormal = case((RUNNERS.c.abnormal_code == SCRATCHED, SCRATCHED), else_=0)
        connection.execute(
            update(RUNNERS)
            .where(RUNNERS.c.race_id.in_(chunk))
            .values(abnormal_code=abnormal, **dict.fromkeys(_RUNNER_RESULT_COLUMNS))
        )
    return len(withdrawn)


def _all_of_races(runners: pd.DataFrame, races: pd.DataFrame) -> bool:
    """Whether every runner names one of ``races`` (so its key left with its race)."""
    race_ids = runners["race_id"]
    return bool(race_ids.notna().all() and text_isin(race_ids, races["race_id"]).all())


def write_odds(connection: Connection, odds: pd.DataFrame, runners: pd.DataFrame) -> int:
    """Store the bet-time odds snapshot (race_date taken from the runners)."""
    dated = odds.merge(runners[["race_id", "umaban", "race_date"]], on=RUNNER_KEY, how="inner")
    return replace_rows(connection, ODDS, dated, RUNNER_KEY)


def read_odds(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored bet-time odds dated ``start``..``end``."""
    return read_rows(connection, ODDS, start=start, end=end)


def read_races(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored races dated ``start``..``end``."""
    return read_rows(connection, RACES, start=start, end=end)


def read_runners(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored runners dated ``start``..``end``."""
    return read_rows(connection, RUNNERS, start=start, end=end)


RESULT_COLUMNS = ["race_id", "umaban", "race_date", "finish_pos"]


def read_runner_results(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """The columns of the runners dated ``start``..``end`` that judge a prediction (race,
    horse number, date, finishing position), as :func:`read_runners` gives them."""
    return read_rows(connection, RUNNERS, start=start, end=end, only=RESULT_COLUMNS)


def read_win_results(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """What settling win bets needs of the runners dated ``start``..``end`` (five columns)."""
    query = select(
        RUNNERS.c.race_id,
        RUNNERS.c.umaban,
        RUNNERS.c.finish_pos,
        RUNNERS.c.abnormal_code,
        RUNNERS.c.win_odds,
    ).where(and_(RUNNERS.c.race_date >= start, RUNNERS.c.race_date <= end))
    frame = fetch_frame(connection, query)  # from the driver's cursor: no Row objects
    return frame.astype(
        {
            "race_id": "string",
            "umaban": "Int64",
            "finish_pos": "Int64",
            "abnormal_code": "Int64",
            "win_odds": "float64",
        }
    )


def read_runner_view(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Runners dated ``start``..``end`` joined with their race's columns."""
    return runner_view(read_races(connection, start, end), read_runners(connection, start, end))


def in_key_order(view: pd.DataFrame) -> pd.DataFrame:
    """Runner rows sorted by their key (stable): an order that does not depend on how the
    store wrote them (chunk by chunk, or several workers at once) — fits that depend on the
    rows' order (the first-3F model's, the win model's) read them in it."""
    return view.sort_values(RUNNER_KEY, kind="mergesort", ignore_index=True)


def runner_history(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """:func:`read_runner_view` of ``start``..``end`` in key order (:func:`in_key_order`):
    what reference times and the first-3F model learn from."""
    return in_key_order(read_runner_view(connection, start, end))


def _appended_in_key_order(held: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``held`` and ``new`` (each in key order) as one frame in key order: appended when every
    new key follows the held ones (race ids that begin with the date), else sorted again."""
    joined = pd.concat([held, new], ignore_index=True)
    if held.empty:
        return joined
    last = tuple(held[RUNNER_KEY].iloc[-1])
    first = tuple(new[RUNNER_KEY].iloc[0])
    return joined if last < first else in_key_order(joined)


@dataclass
class RunnerWindow:
    """The runner view rows of a window of days that moves forward, for a process that learns
    from such a window again and again (a backfill: each chunk's reference times and first-3F
    model learn from the days before the chunk). Moving it reads only the days it did not hold,
    and holds the rows in key order, as :func:`runner_history` returns the whole window; so,
    like ``SettledRuns``, it is valid only while no day it holds is rewritten — one backfill
    run, which writes each chunk's days before the window reaches them and never an earlier
    day."""

    frame: pd.DataFrame | None = None
    start: date | None = None
    end: date | None = None

    def between(self, connection: Connection, start: date, end: date) -> pd.DataFrame:
        """:func:`runner_history` of ``start``..``end``: only the days after those held are
        read (everything when the window moved back). The frame is the one held: not to be
        changed in place."""
        moved_back = (
            self.start is not None
            and self.end is not None
            and (start < self.start or end < self.end)
        )
        if self.frame is None or self.start is None or self.end is None or moved_back:
            self.frame = runner_history(connection, start, end)
        else:
            if end > self.end:
                new = runner_history(connection, max(start, self.end + timedelta(days=1)), end)
                if not new.empty:
                    self.frame = _appended_in_key_order(self.frame, new)
            if start > self.start:
                kept = self.frame["race_date"] >= pd.Timestamp(start)
                self.frame = self.frame[kept.to_numpy()].reset_index(drop=True)
        self.start, self.end = start, end
        return self.frame


def history_bounds(connection: Connection, before: date) -> tuple[date | None, date | None]:
    """First and last stored race dates strictly before ``before`` (None when none)."""
    query = select(func.min(RACES.c.race_date), func.max(RACES.c.race_date)).where(
        and_(RACES.c.race_date < before, RACES.c.has_results.is_(True))
    )
    first, last = connection.execute(query).one()
    return first, last


def race_days(connection: Connection, start: date, end: date) -> set[date]:
    """The dates ``start``..``end`` with stored races."""
    return dates_between(connection, RACES.c.race_date, start, end)


def race_sources(connection: Connection, start: date, end: date) -> set[str]:
    """The sources the races dated ``start``..``end`` were stored from (``sim``, ``files:…``)."""
    sources = distinct_between(connection, RACES.c.source, RACES.c.race_date, start, end)
    return {str(source) for source in sources}


def a_source_other_than(connection: Connection, source: str) -> str | None:
    """The source of a stored race not read from ``source`` (as stored on the race); None when
    every race was, or the store has no races table yet."""
    return _a_stored_source(connection, RACES.c.source != source)


def holds_source(connection: Connection, source: str) -> bool:
    """Whether a stored race was read from ``source`` (False before the races table exists)."""
    return _a_stored_source(connection, RACES.c.source == source) is not None


def _a_stored_source(connection: Connection, where: ColumnElement[bool]) -> str | None:
    """The source of one stored race matching ``where``; None when none does, or the store has
    no races table yet."""
    if not inspect(connection).has_table(RACES.name):
        return None
    found = connection.execute(select(RACES.c.source).where(where).limit(1)).scalar()
    return None if found is None else str(found)


def settled_race_count(connection: Connection, start: date, end: date) -> int:
    """Settled races stored dated ``start``..``end``."""
    query = select(func.count()).where(
        and_(RACES.c.race_date >= start, RACES.c.race_date <= end, RACES.c.has_results.is_(True))
    )
    return int(connection.execute(query).scalar_one())


def races_by_venue(connection: Connection, race_date: date) -> dict[str, int]:
    """Stored races of a day per keibajo_code."""
    races = read_races(connection, race_date, race_date)
    return {str(k): int(v) for k, v in races.groupby("keibajo_code").size().items()}


def rows_at_venues(
    frame: pd.DataFrame, venues: frozenset[str], known: frozenset[str]
) -> tuple[pd.DataFrame, int] | None:
    """The rows of ``frame`` at ``venues`` (one circuit's keibajo codes) and how many of those
    left out are at none of ``known`` (every circuit's: a race abroad, a row without a race);
    a row's venue is its ``keibajo_code``, else the one inside its ``race_id``. None for rows
    without either (performance, alerts, runs, ...): they are of no one venue."""
    if "keibajo_code" not in frame and "race_id" not in frame:
        return None
    at = pd.Series(pd.NA, index=frame.index, dtype="string")
    if "keibajo_code" in frame:
        at = frame["keibajo_code"].astype("string")
    if "race_id" in frame:
        at = at.fillna(race_venues(frame["race_id"]))
    kept = at.isin(list(venues)).fillna(False).to_numpy(bool)
    elsewhere = ~at.isin(list(known)).fillna(False).to_numpy(bool)
    return frame[kept].reset_index(drop=True), int(elsewhere.sum())
