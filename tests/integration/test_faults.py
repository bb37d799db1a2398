"""Injected faults through the daily flow: a flaky source is retried, a source that is down
fails the run cleanly (alert, nothing partial stored), two runs of one day at once give one
run and one clear refusal."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from config import use_store
from flows.daily import daily_run
from raceday.errors import RunLocked, SourceUnavailable
from raceday.sources.base import RawDay
from raceday.sources.simulator import SimulatorSource
from raceday.store.catalogs.alerts import ALERTS
from raceday.store.catalogs.runs import RUNS, day_lock_holder, lock_day
from raceday.store.engine import make_engine, upgrade_schema
from tests.kill_support import dead_pid
from tests.retry_support import use_quick_retries
from tests.store_support import data_checksums

DAY = date(2025, 7, 1)
RACES = 8


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small simulated days, no warm-up, retries 0.1 s apart (the policy, not its delays)."""
    use_quick_retries(monkeypatch, RACES)


def failing_reads(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    """Make the simulator fail its first ``failures`` reads; returns the call counter."""
    calls: list[int] = []
    original = SimulatorSource.read_days

    def read_days(
        self: SimulatorSource, start: date, end: date, venues: Collection[str] | None = None
    ) -> RawDay:
        calls.append(1)
        if len(calls) <= failures:
            raise SourceUnavailable(f"source down (injected failure {len(calls)})")
        return original(self, start, end, venues)

    monkeypatch.setattr(SimulatorSource, "read_days", read_days)
    return calls


def ingest_record(db: str) -> tuple[str, int]:
    with make_engine(db).connect() as connection:
        row = connection.execute(
            select(RUNS.c.status, RUNS.c.attempts).where(
                RUNS.c.flow_name == "daily-run", RUNS.c.stage == "ingest"
            )
        ).one()
    return str(row[0]), int(row[1])


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_source_failing_twice_then_answering_completes_with_the_retries_visible(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_reads(monkeypatch, failures=2)
    with use_store(sqlite_url):
        summary = daily_run(race_date=DAY)
    assert summary["status"] == "completed" and summary["races"] == RACES
    assert len(calls) == 3
    assert ingest_record(sqlite_url) == ("completed", 3)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries", "sqlite_schema")
def test_a_source_that_stays_down_fails_cleanly_alerts_and_stores_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = data_checksums(sqlite_url)
    calls = failing_reads(monkeypatch, failures=100)
    with pytest.raises(SourceUnavailable, match="source down"), use_store(sqlite_url):
        daily_run(race_date=DAY)
    assert len(calls) == 4  # the first try and three retries
    assert data_checksums(sqlite_url) == before
    assert ingest_record(sqlite_url) == ("failed", 4)
    with make_engine(sqlite_url).connect() as connection:
        alerts = connection.execute(select(ALERTS.c.rule, ALERTS.c.message)).all()
    assert len(alerts) == 1 and "source down" in alerts[0][1]
    with make_engine(sqlite_url).connect() as connection:
        assert day_lock_holder(connection, DAY) is None  # released on failure


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries", "sqlite_schema")
def test_two_runs_of_the_same_day_at_once_give_one_run_and_one_refusal(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SimulatorSource.read_days

    def slow_read(
        self: SimulatorSource, start: date, end: date, venues: Collection[str] | None = None
    ) -> RawDay:
        # The run holding the lock keeps reading until the other run has ended (refused), however
        # slowly the machine starts it; a second run that took the lock too would wait here
        # (bounded: minutes, far beyond a loaded machine's start) and complete, and the
        # assertion below would fail.
        one_ended.wait(600)
        return original(self, start, end, venues)

    monkeypatch.setattr(SimulatorSource, "read_days", slow_read)
    outcomes: list[Any] = []
    start = threading.Barrier(2)
    one_ended = threading.Event()

    def run() -> None:
        start.wait()
        try:
            outcomes.append(daily_run(race_date=DAY))
        except Exception as error:  # noqa: BLE001 - every outcome is asserted on below
            outcomes.append(error)
        one_ended.set()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with use_store(sqlite_url):  # once for the process: both threads' runs read it
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    completed = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, RunLocked)]
    assert len(completed) == 1 and len(refused) == 1, outcomes
    assert "already being run" in str(refused[0])
    # the refusal raised no alert, so the run holding the day counts none of it (it was exit 6)
    assert completed[0]["status"] == "completed" and completed[0]["alerts"] == [], completed[0]
    once = data_checksums(sqlite_url)
    with use_store(sqlite_url):
        assert daily_run(race_date=DAY)["status"] == "completed"  # lock released
    assert data_checksums(sqlite_url) == once


@pytest.mark.usefixtures("sqlite_schema")
@pytest.mark.parametrize(
    ("error", "alerts_seen"),
    [
        (RunLocked("2025-07-01 is already being run by daily-run h pid 1: nothing done"), []),
        (SourceUnavailable("source down"), ["flow_failed"]),
    ],
)
def test_a_run_refused_its_day_alerts_nothing_that_the_holder_would_count_a_failure_still_does(
    sqlite_url: str, error: Exception, alerts_seen: list[str]
) -> None:
    """The refused run's failure hook stores no alert, so the run holding the day (which counts
    the day's alerts raised since it began) does not end ``completed-with-alerts``; a run that
    really failed alerts as before."""
    from uuid import uuid4

    from prefect.client.schemas.objects import FlowRun
    from prefect.states import Failed

    from config import load_settings
    from tasks.alerts import alert_on_flow_failure, alerts_raised_since

    holder_started = datetime.now() - timedelta(seconds=1)
    refused_run = FlowRun(
        flow_id=uuid4(), name=f"daily-run-{DAY}", parameters={"race_date": DAY.isoformat()}
    )
    with use_store(sqlite_url):
        alert_on_flow_failure(SimpleNamespace(name="daily-run"), refused_run, Failed(data=error))
    seen = alerts_raised_since(load_settings(db_url=sqlite_url), DAY, holder_started)
    assert [alert["rule"] for alert in seen] == alerts_seen


def test_a_lock_left_by_a_killed_run_is_taken_over_a_live_one_is_not(sqlite_url: str) -> None:
    """``kill -9`` leaves the lock row behind: a dead holder on this machine is taken over."""
    import socket

    from config import load_settings
    from tasks.locks import day_lock

    settings = load_settings(db_url=sqlite_url)
    upgrade_schema(make_engine(sqlite_url))
    host = socket.gethostname()
    with make_engine(sqlite_url).begin() as connection:
        lock_day(connection, DAY, f"daily-run {host} pid {dead_pid()}", "killed-run")
    with day_lock(settings, DAY):
        with make_engine(sqlite_url).connect() as connection:
            holder = day_lock_holder(connection, DAY)
        assert holder is not None and holder["run_id"] != "killed-run"
        # this process is alive: its lock holds
        with pytest.raises(RunLocked, match="already being run"), day_lock(settings, DAY):
            pass
    with make_engine(sqlite_url).connect() as connection:
        assert day_lock_holder(connection, DAY) is None


def test_a_lock_whose_pid_now_belongs_to_a_later_process_is_taken_over(sqlite_url: str) -> None:
    """After a reboot (or the pids coming round) the dead holder's pid may be another live
    process: one started after the lock was taken is not its holder, so the lock is stale. A
    lock taken after its holder started holds."""
    import os
    import socket

    from config import load_settings
    from raceday.store.catalogs.runs import RUN_LOCKS
    from tasks.locks import day_lock, process_started_at

    settings = load_settings(db_url=sqlite_url)
    upgrade_schema(make_engine(sqlite_url))
    started = process_started_at(os.getpid())
    assert started is not None and started <= datetime.now()
    holder = f"daily-run {socket.gethostname()} pid {os.getpid()}"  # alive: this process
    with make_engine(sqlite_url).begin() as connection:
        lock_day(connection, DAY, holder, "before-the-reboot")
    with pytest.raises(RunLocked, match="already being run"), day_lock(settings, DAY):
        pass  # taken after this process started: its holder may be alive
    with make_engine(sqlite_url).begin() as connection:
        taken = started - timedelta(hours=1)  # before this process existed
        connection.execute(update(RUN_LOCKS).values(since=taken))
    with day_lock(settings, DAY):
        with make_engine(sqlite_url).connect() as connection:
            found = day_lock_holder(connection, DAY)
        assert found is not None and found["run_id"] != "before-the-reboot"
