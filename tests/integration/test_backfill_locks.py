"""A backfill holds the run locks of the days it writes, a chunk at a time: a daily run of a
day the backfill is writing is refused in one line (exit 7) naming the backfill, a backfill
that meets a day a live run holds stops there in one line with nothing of that chunk written
(the same command resumes), and the locks a killed backfill left are taken over. And it holds
the store's backfill lock for its whole life: a second backfill of the store, whatever its
range, is refused in one line (exit 7) with nothing read or written; a killed backfill's lock
is taken over; the lock is let go however the backfill ends."""

from __future__ import annotations

import os
import socket
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import flows.backfill
from cli import app
from config import load_settings, use_store
from flows.backfill import backfill
from flows.backfill_plan import chunk_grid
from raceday.errors import RunLocked
from raceday.store.catalogs.races import RACES as RACES_TABLE
from raceday.store.catalogs.runs import (
    BACKFILL_LOCK_DAY,
    BACKFILL_LOCKS,
    HORSE_LOCK,
    RUN_LOCKS,
    completed_backfill_days,
    day_lock_holder,
    lock_day,
    renew_lock,
    run_locks_held,
    unlock_day,
)
from raceday.store.engine import make_engine, upgrade_schema
from tasks.locks import HeldDays, backfill_lock, refuse_restoring_under_a_run
from tests.kill_support import dead_pid
from tests.store_support import checksums_and_run_locks, hold_backfill_lock

START, END = date(2025, 3, 1), date(2025, 3, 4)
OTHER_RANGE = "2025-02-01..2025-02-28"  # another backfill's: not overlapping, refused all the same
CHUNK_DAYS = 2
RACES = 6
FIRST, SECOND = chunk_grid(START, END, CHUNK_DAYS)


@pytest.fixture
def small_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short warm-up and small simulated days keep the runs to seconds."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "7")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))


def _backfill(db: str) -> dict[str, Any]:
    with use_store(db):
        result: dict[str, Any] = backfill(start=START, end=END, races=RACES, chunk_days=CHUNK_DAYS)
    return result


def _stored_race_days(db: str) -> set[date]:
    with make_engine(db).connect() as connection:
        found = connection.execute(select(RACES_TABLE.c.race_date).distinct()).scalars()
        return {value if isinstance(value, date) else value.date() for value in found}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_daily_run_of_a_day_the_backfill_is_writing_is_refused_in_one_line_naming_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a chunk runs, ``raceday run --date`` of one of its days exits 7 in one line naming
    the backfill (its days were written by both at once before); a day of a chunk not started
    is not held, and once the backfill ends it holds nothing."""
    original = flows.backfill.chunk_chain
    refusals: list[tuple[int, str]] = []
    holders: list[dict[str, Any] | None] = []

    def chunk_chain_observed(*args: Any, **kwargs: Any) -> dict[str, int]:
        if args[2] == FIRST.start:  # inside the first chunk, before it writes
            ran = CliRunner().invoke(app, ["run", "--date", str(FIRST.end), "--db", sqlite_url])
            refusals.append((ran.exit_code, ran.stderr))
            with make_engine(sqlite_url).connect() as connection:
                holders.append(day_lock_holder(connection, SECOND.start))
        counts: dict[str, int] = original(*args, **kwargs)
        return counts

    monkeypatch.setattr(flows.backfill, "chunk_chain", chunk_chain_observed)
    monkeypatch.setattr("flows.daily.daily_run", _must_not_run)  # a day run would fail (exit 5)
    summary = _backfill(sqlite_url)
    ((code, stderr),) = refusals
    assert code == 7, stderr
    (line,) = stderr.strip().splitlines()
    assert f"{FIRST.end} is already being run by backfill " in line, line
    assert "nothing done" in line
    assert holders == [None]  # the next chunk's days are not held before it starts
    assert summary["chunks_run"] == 2 and summary["status"] == "completed"
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []


def _must_not_run(**_parameters: Any) -> dict[str, Any]:
    raise AssertionError("a daily run of a day the backfill holds was started")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_backfill_meeting_a_day_a_live_run_holds_stops_there_and_the_same_command_resumes(
    sqlite_url: str,
) -> None:
    """A live daily run (this process) holds the second chunk's last day: the backfill stores
    the first chunk, then stops in one line (exit 7) naming the day and the run, with nothing
    of the second chunk written; once that run has ended, the same backfill runs the rest."""
    upgrade_schema(make_engine(sqlite_url))
    holder = f"daily-run {socket.gethostname()} pid {os.getpid()}"
    with make_engine(sqlite_url).begin() as connection:
        lock_day(connection, SECOND.end, holder, "daily-run-1")
    with pytest.raises(RunLocked) as refused:
        _backfill(sqlite_url)
    (line,) = str(refused.value).splitlines()
    assert f"{SECOND.end} is already being run by {holder} (run daily-run-1" in line, line
    assert f"the backfill stopped before {SECOND.start}..{SECOND.end}" in line
    assert refused.value.exit_code == 7
    with make_engine(sqlite_url).connect() as connection:
        assert completed_backfill_days(connection, START, END) == set(FIRST.days)
        locks = run_locks_held(connection)
    assert [(lock["race_date"], lock["run_id"]) for lock in locks] == [(SECOND.end, "daily-run-1")]
    assert _stored_race_days(sqlite_url).isdisjoint(SECOND.days)

    with make_engine(sqlite_url).begin() as connection:
        unlock_day(connection, SECOND.end, "daily-run-1")
    resumed = _backfill(sqlite_url)
    assert (resumed["chunks_run"], resumed["chunks_skipped"]) == (1, 1)
    assert set(SECOND.days) <= _stored_race_days(sqlite_url)


def test_a_chunk_is_held_whole_or_not_at_all_and_a_killed_backfills_locks_are_taken_over(
    store_url: str,
) -> None:
    """The locks a ``kill -9``'d backfill left (its process gone) do not hold its days; a day a
    live run holds refuses the whole chunk (none of its days taken); a held chunk is let go."""
    settings = load_settings(db_url=store_url)
    upgrade_schema(make_engine(store_url))
    host = socket.gethostname()
    killed = f"backfill {host} pid {dead_pid()}"
    live = f"daily-run {host} pid {os.getpid()}"
    with make_engine(store_url).begin() as connection:
        for day in FIRST.days:
            lock_day(connection, day, killed, "killed-backfill")
        lock_day(connection, SECOND.end, live, "daily-run-1")
    held = HeldDays(settings)
    held.hold(FIRST.days, "not refused")
    with make_engine(store_url).connect() as connection:
        taken = [day_lock_holder(connection, day) for day in FIRST.days]
    assert all(lock is not None and lock["run_id"] == held.taker.run_id for lock in taken)

    with pytest.raises(RunLocked, match=f"{SECOND.end} is already being run by daily-run"):
        held.hold(SECOND.days, "refused")
    with make_engine(store_url).connect() as connection:
        assert day_lock_holder(connection, SECOND.start) is None  # all or nothing
    held.close()
    with make_engine(store_url).connect() as connection:
        left = connection.execute(select(RUN_LOCKS.c.run_id)).scalars().all()
    assert left == ["daily-run-1"]


def _hold_backfill_lock(db: str, pid: int, run_id: str = "backfill-1") -> str:
    """A backfill lock of the store's horse backfills held by process ``pid`` (this one: a live
    backfill; an ended one: a killed backfill); its holder line."""
    return hold_backfill_lock(db, HORSE_LOCK, f"backfill of {OTHER_RANGE}", pid, run_id)


@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_backfill_while_another_backfill_of_the_store_lives_is_refused_in_one_line_doing_nothing(
    sqlite_url: str,
) -> None:
    """A live backfill (this process) of another range holds the store's backfill lock: the
    command exits 7 in one line naming it (holder, range, run) before Prefect starts, and the
    flow itself (a second command past its preflight at the same moment) refuses in the same
    line; not a row of the store changes (before, both ran, their chunks interleaved)."""
    holder = _hold_backfill_lock(sqlite_url, os.getpid())
    before = checksums_and_run_locks(sqlite_url)
    command = ["backfill", "--start", str(START), "--end", str(END), "--db", sqlite_url]
    ran = CliRunner().invoke(app, [*command, "--chunk-days", str(CHUNK_DAYS)])
    assert ran.exit_code == 7, ran.output
    (line,) = ran.stderr.strip().splitlines()
    owner = f"the store's horse backfill is already being run by {holder} (run backfill-1, since "
    assert line.startswith(f"error: {owner}"), line
    assert line.endswith("nothing done (one backfill of a store and sport at a time, whatever "
                         "their ranges: run again once it has ended)"), line  # fmt: skip
    with pytest.raises(RunLocked) as refused:
        _backfill(sqlite_url)
    assert f"error: {refused.value}" == line  # the same lock row: the same line
    assert checksums_and_run_locks(sqlite_url) == before


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_killed_backfills_lock_is_taken_over_held_while_the_backfill_runs_and_let_go(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's backfill lock a ``kill -9``'d backfill left (its process gone; its holder
    line names its range) does not hold the store: the backfill (the same command re-run after
    the kill) takes it over and runs; it holds the lock, naming its own range and process,
    while its chunks run, and lets go of it when it ends."""
    _hold_backfill_lock(sqlite_url, dead_pid(), "killed-backfill")
    original = flows.backfill.chunk_chain
    seen: list[list[dict[str, Any]]] = []

    def chunk_chain_observed(*args: Any, **kwargs: Any) -> dict[str, int]:
        with make_engine(sqlite_url).connect() as connection:
            seen.append(run_locks_held(connection))
        counts: dict[str, int] = original(*args, **kwargs)
        return counts

    monkeypatch.setattr(flows.backfill, "chunk_chain", chunk_chain_observed)
    summary = _backfill(sqlite_url)
    assert summary["chunks_run"] == 2 and summary["status"] == "completed"
    for locks in seen:
        (whole,) = [lock for lock in locks if lock["sport"] == BACKFILL_LOCKS[HORSE_LOCK]]
        mine = f"backfill of {START}..{END} {socket.gethostname()} pid {os.getpid()}"
        assert whole["holder"] == mine and whole["run_id"] != "killed-backfill", whole
    assert len(seen) == 2
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []


@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_failed_backfill_lets_go_of_the_stores_backfill_lock(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill whose chunk fails ends holding nothing: the next backfill is not refused."""
    upgrade_schema(make_engine(sqlite_url))  # as a warm-up would (skipped here)

    def chunk_chain_failing(*_args: Any, **_kwargs: Any) -> dict[str, int]:
        raise RuntimeError("a chunk failed")

    monkeypatch.setattr(flows.backfill, "prepare_history", lambda *_args: None)  # no warm-up
    monkeypatch.setattr(flows.backfill, "chunk_chain", chunk_chain_failing)
    with pytest.raises(Exception, match="a chunk failed"):
        _backfill(sqlite_url)
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []


@pytest.mark.parametrize("ending", [KeyboardInterrupt, SystemExit])
def test_the_stores_backfill_lock_is_let_go_on_an_interrupt(
    sqlite_url: str, ending: type[BaseException]
) -> None:
    """Ctrl-C and SIGTERM (a KeyboardInterrupt: ``cli.shared.interrupts_kept``) and an exit end
    the backfill holding nothing; while it runs, a second one is refused."""
    settings = load_settings(db_url=sqlite_url)
    with pytest.raises(ending), backfill_lock(settings, HORSE_LOCK, f"{START}..{END}"):
        second = backfill_lock(settings, HORSE_LOCK, OTHER_RANGE)
        with pytest.raises(RunLocked, match="the store's horse backfill is already being run"):
            second.__enter__()
        raise ending
    with make_engine(sqlite_url).connect() as connection:
        assert run_locks_held(connection) == []


def test_a_restore_is_refused_while_a_backfill_lives(sqlite_url: str) -> None:
    """Between two chunks a backfill holds no day, but its backfill lock refuses a restore
    (which would replace the history its next chunk reads) in one line naming it."""
    settings = load_settings(db_url=sqlite_url)
    with (
        backfill_lock(settings, HORSE_LOCK, f"{START}..{END}"),
        pytest.raises(RunLocked) as refused,
    ):
        refuse_restoring_under_a_run(settings)
    (line,) = str(refused.value).splitlines()
    assert line.startswith(f"the store's horse backfill is being run by local of {START}..{END} ")
    assert line.endswith("on this store: nothing restored (restore when it has ended)"), line
    refuse_restoring_under_a_run(settings)  # let go: a restore may run


def test_renewing_a_lock_says_its_holder_is_alive_and_leaves_another_runs_alone(
    sqlite_url: str,
) -> None:
    """A long backfill renews its lock (``since`` becomes now), so a live backfill's lock is
    never older than the stale limit (taken over, on another machine); a lock another run took
    over meanwhile is not renewed by the old holder."""
    holder = _hold_backfill_lock(sqlite_url, os.getpid())
    lock = BACKFILL_LOCKS[HORSE_LOCK]
    with make_engine(sqlite_url).begin() as connection:
        connection.execute(RUN_LOCKS.update().values(since=datetime(2000, 1, 1)))
        renew_lock(connection, BACKFILL_LOCK_DAY, lock, "another-run")
        assert day_lock_holder(connection, BACKFILL_LOCK_DAY, lock) == {
            "run_id": "backfill-1", "holder": holder, "since": datetime(2000, 1, 1)
        }  # fmt: skip
        renew_lock(connection, BACKFILL_LOCK_DAY, lock, "backfill-1")
        renewed = day_lock_holder(connection, BACKFILL_LOCK_DAY, lock)
    assert renewed is not None and renewed["since"] > datetime(2000, 1, 1)
