"""The boat backfill holds the boat run locks of the days it writes, a chunk at a time, as the
horse backfill does (``tasks.locks.HeldDays``): a `raceday run --sport boat` of a day it is
writing is refused in one line (exit 7) naming it, and a boat backfill that meets a boat day a
live run holds stops there in one line with nothing of that chunk written (the same command
resumes). It holds the store's boat backfill lock for its whole life, as the horse backfill
holds the horse one: a second boat backfill is refused in one line (exit 7) doing nothing, a
killed one's lock is taken over, and the lock is let go however the backfill ends."""

from __future__ import annotations

import os
import socket
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import flows.boat
from cli import app
from config import use_store
from flows.backfill_plan import chunk_grid
from flows.boat import boat_backfill_run
from raceday.errors import RunLocked
from raceday.store.boat_models import BOAT_TABLES
from raceday.store.catalogs.boat import days_recorded
from raceday.store.catalogs.runs import (
    BACKFILL_LOCKS,
    BOAT_LOCK,
    HORSE_LOCK,
    day_lock_holder,
    lock_day,
    run_locks_held,
    unlock_day,
)
from raceday.store.engine import make_engine, upgrade_schema
from tests.e2e.boat_cli_support import simulated_boat_files
from tests.kill_support import dead_pid
from tests.store_support import checksums_and_run_locks, hold_backfill_lock

START, END = date(2026, 4, 3), date(2026, 4, 6)
CHUNK_DAYS = 2
FIRST, SECOND = chunk_grid(START, END, CHUNK_DAYS)


@pytest.fixture(scope="module")
def boat_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two days of history, then the four days backfilled (3 venues x 12 races)."""
    folder = simulated_boat_files(tmp_path_factory.mktemp("boat"), "2026-04-01", str(END))
    return f"files:{folder}"


def _backfill(source: str, db: str) -> dict[str, Any]:
    with use_store(db):
        result: dict[str, Any] = boat_backfill_run(
            start=START, end=END, source=source, chunk_days=CHUNK_DAYS
        )
    return result


def _stored_race_days(db: str) -> set[date]:
    races = BOAT_TABLES["boat_races"]
    with make_engine(db).connect() as connection:
        found = connection.execute(select(races.c.race_date).distinct()).scalars()
        return {value if isinstance(value, date) else value.date() for value in found}


def _must_not_run(**_parameters: Any) -> dict[str, Any]:
    raise AssertionError("a boat day run of a day the backfill holds was started")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_boat_day_run_of_a_day_the_backfill_is_writing_is_refused_in_one_line_naming_it(
    boat_source: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the first chunk has started (after its retraining, before its first day),
    `raceday run --sport boat` of its last day exits 7 in one line naming the boat backfill
    (before, only the day being run was held: the run started); the next chunk's days are not
    held yet, and once the backfill ends it holds nothing."""
    original = flows.boat.retrain_before
    refusals: list[tuple[int, str]] = []
    holders: list[dict[str, Any] | None] = []

    def retrain_before_observed(*args: Any) -> str | None:
        version: str | None = original(*args)  # the store warmed up, no day of it written yet
        if args[3] == FIRST.start:
            day_run = ["run", "--sport", "boat", "--date", str(FIRST.end)]
            ran = CliRunner().invoke(app, [*day_run, "--source", boat_source, "--db", sqlite_url])
            refusals.append((ran.exit_code, ran.stderr))
            with make_engine(sqlite_url).connect() as connection:
                holders.append(day_lock_holder(connection, SECOND.start, BOAT_LOCK))
        return version

    monkeypatch.setattr(flows.boat, "retrain_before", retrain_before_observed)
    monkeypatch.setattr(flows.boat, "boat_day_run", _must_not_run)  # a day run: exit 5
    summary = _backfill(boat_source, sqlite_url)
    ((code, stderr),) = refusals
    assert code == 7, stderr
    (line,) = stderr.strip().splitlines()
    assert f"boat day {FIRST.end} is already being run by boat-backfill " in line, line
    assert "nothing done" in line
    assert holders == [None]  # the next chunk's days are not held before it starts
    assert summary["days_run"] == 4
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_boat_backfill_meeting_a_day_a_live_run_holds_stops_there_and_the_same_command_resumes(
    boat_source: str, sqlite_url: str
) -> None:
    """A live boat day run (this process) holds the second chunk's last day: the backfill
    stores the first chunk, then stops in one line (exit 7) naming the day and the run, with
    nothing of the second chunk written (before, its first day was written, then the backfill
    stopped saying "nothing done"); once that run has ended, the same backfill runs the
    rest. A horse lock of the same date does not hold the boat day."""
    upgrade_schema(make_engine(sqlite_url))
    holder = f"boat-day {socket.gethostname()} pid {os.getpid()}"
    with make_engine(sqlite_url).begin() as connection:
        lock_day(connection, SECOND.end, holder, "boat-day-1", BOAT_LOCK)
        lock_day(connection, FIRST.end, holder, "daily-run-1")  # a horse day: not in the way
    with pytest.raises(RunLocked) as refused:
        _backfill(boat_source, sqlite_url)
    (line,) = str(refused.value).splitlines()
    assert f"boat day {SECOND.end} is already being run by {holder} (run boat-day-1" in line, line
    assert f"the backfill stopped before {SECOND.start}..{SECOND.end}" in line
    assert refused.value.exit_code == 7
    with make_engine(sqlite_url).connect() as connection:
        assert days_recorded(connection, START, END) == set(FIRST.days)
        locks = run_locks_held(connection)
    assert sorted((lock["race_date"], lock["sport"]) for lock in locks) == [
        (FIRST.end, "horse"), (SECOND.end, BOAT_LOCK),
    ]  # fmt: skip
    assert _stored_race_days(sqlite_url).isdisjoint(SECOND.days)

    with make_engine(sqlite_url).begin() as connection:
        unlock_day(connection, SECOND.end, "boat-day-1", BOAT_LOCK)
    resumed = _backfill(boat_source, sqlite_url)
    assert (resumed["days_run"], resumed["days_skipped"]) == (2, 2)
    assert set(SECOND.days) <= _stored_race_days(sqlite_url)


def _hold_backfill_lock(db: str, sport: str, pid: int, run_id: str) -> str:
    """The store's backfill lock of ``sport`` held by process ``pid`` (this one: live; an ended
    one: a killed backfill); its holder line."""
    return hold_backfill_lock(db, sport, f"{sport}-backfill of 2026-03-01..2026-03-31", pid, run_id)


@pytest.mark.usefixtures("prefect_harness")
def test_a_boat_backfill_while_another_lives_is_refused_in_one_line_doing_nothing(
    boat_source: str, sqlite_url: str
) -> None:
    """A live boat backfill (this process) holds the store's boat backfill lock: `raceday
    backfill --sport boat` exits 7 in one line naming it before Prefect starts, the flow refuses
    in the same line, and not a row of the store changes."""
    holder = _hold_backfill_lock(sqlite_url, BOAT_LOCK, os.getpid(), "boat-backfill-1")
    before = checksums_and_run_locks(sqlite_url)
    command = ["backfill", "--sport", "boat", "--start", str(START), "--end", str(END)]
    ran = CliRunner().invoke(app, [*command, "--source", boat_source, "--db", sqlite_url])
    assert ran.exit_code == 7, ran.output
    (line,) = ran.stderr.strip().splitlines()
    owner = f"the store's boat backfill is already being run by {holder} (run boat-backfill-1"
    assert line.startswith(f"error: {owner}"), line
    assert ": nothing done (one backfill of a store and sport at a time" in line, line
    with pytest.raises(RunLocked) as refused:
        _backfill(boat_source, sqlite_url)
    assert f"error: {refused.value}" == line  # the same lock row: the same line
    assert checksums_and_run_locks(sqlite_url) == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_killed_boat_backfills_lock_is_taken_over_and_a_horse_backfill_is_not_in_the_way(
    boat_source: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed boat backfill's lock (its process gone) is taken over; a live horse backfill of
    the store does not hold the boat backfill (one backfill per sport); the boat backfill holds
    its lock while it runs and lets go of it when it ends."""
    horse = _hold_backfill_lock(sqlite_url, HORSE_LOCK, os.getpid(), "horse-backfill-1")
    _hold_backfill_lock(sqlite_url, BOAT_LOCK, dead_pid(), "killed-boat-backfill")
    original = flows.boat.retrain_before
    seen: list[list[dict[str, Any]]] = []

    def retrain_before_observed(*args: Any) -> str | None:
        with make_engine(sqlite_url).connect() as connection:
            seen.append(run_locks_held(connection))
        version: str | None = original(*args)
        return version

    monkeypatch.setattr(flows.boat, "retrain_before", retrain_before_observed)
    summary = _backfill(boat_source, sqlite_url)
    assert summary["days_run"] == 4
    mine = f"boat-backfill of {START}..{END} {socket.gethostname()} pid {os.getpid()}"
    assert seen and all(
        [lock["holder"] for lock in locks if lock["sport"] == BACKFILL_LOCKS[BOAT_LOCK]] == [mine]
        for locks in seen
    ), seen
    with make_engine(sqlite_url).connect() as connection:
        assert [lock["holder"] for lock in run_locks_held(connection)] == [horse]


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_boat_backfill_lets_go_of_the_stores_boat_backfill_lock(
    boat_source: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A boat backfill whose chunk fails ends holding nothing."""

    def chunk_failing(*_args: Any) -> None:
        raise RuntimeError("a chunk failed")

    monkeypatch.setattr(flows.boat, "run_boat_chunk", chunk_failing)
    with pytest.raises(Exception, match="a chunk failed"):
        _backfill(boat_source, sqlite_url)
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []
