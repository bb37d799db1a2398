"""Venue lanes through the daily flow: a venue failing twice is retried on its own and the day
completes whole; a venue that stays down is quarantined and alerted while the other venues are
predicted, settled and stored, and the run ends ``completed-with-alerts``; re-running the day
once the venue answers gives the store an uninterrupted run gives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from config import Settings, load_settings, use_store
from config.reference import venue_names, venue_romanised_names
from flows.daily import daily_run
from raceday.errors import SourceUnavailable
from raceday.sources.base import RawDay
from raceday.sources.simulator import SimulatorSource
from raceday.store.catalogs.alerts import ALERTS
from raceday.store.catalogs.predictions import PREDICTIONS
from raceday.store.catalogs.quality import read_quarantine
from raceday.store.catalogs.races import read_races
from raceday.store.catalogs.runs import RUNS
from raceday.store.engine import make_engine
from tasks.common import io_task_options
from tasks.ingest import simulator_config
from tasks.labels import lane_task_run_name
from tests.retry_support import use_quick_retries
from tests.store_support import data_checksums

DAY = date(2025, 7, 1)
RACES = 24  # two venues race on DAY
EVENTS_LIMIT_S = 600.0  # how long the server may take to show the task runs' final states
LANE_TIMEOUT_S = 5.0  # the lanes' timeout in the hanging-venue test (only a hung read reaches it)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small simulated days, no warm-up, retries 0.1 s apart (the policy, not its delays)."""
    use_quick_retries(monkeypatch, RACES)


def day_venues() -> list[str]:
    return SimulatorSource(simulator_config(load_settings())).venues(DAY, DAY)


def failing_venue(monkeypatch: pytest.MonkeyPatch, venue: str, failures: int) -> list[str]:
    """Make the simulator fail its first ``failures`` reads of ``venue``; returns every read."""
    reads: list[str] = []
    original = SimulatorSource.read_days

    def read_days(
        self: SimulatorSource, start: date, end: date, venues: Collection[str] | None = None
    ) -> RawDay:
        reads.append(",".join(venues or ["all"]))
        if venues is not None and list(venues) == [venue] and reads.count(venue) <= failures:
            raise SourceUnavailable(f"venue {venue} down (injected failure {reads.count(venue)})")
        return original(self, start, end, venues)

    monkeypatch.setattr(SimulatorSource, "read_days", read_days)
    return reads


def run_day(db: str) -> tuple[dict[str, Any], UUID]:
    with use_store(db):
        state = daily_run(race_date=DAY, return_state=True)
    summary: dict[str, Any] = state.result()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return summary, flow_run_id


def ingest_record(db: str) -> tuple[str, int, str]:
    with make_engine(db).connect() as connection:
        row = connection.execute(
            select(RUNS.c.status, RUNS.c.attempts, RUNS.c.message).where(
                RUNS.c.flow_name == "daily-run",
                RUNS.c.stage == "ingest",
                RUNS.c.race_date == DAY,
            )
        ).one()
    return str(row[0]), int(row[1]), str(row[2])


def lane_name(venue: str) -> str:
    """A venue lane's task run name (``ingest-Oi``)."""
    return lane_task_run_name(venue, venue_romanised_names(), venue_names())


def lane_task_runs(flow_run_id: UUID, lanes: int) -> dict[str, tuple[str, int]]:
    """The flow run's venue lanes' task runs (``ingest-<venue>``): name -> (final state, run
    count)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    found: dict[str, tuple[str, int]] = {}
    # Task run states reach the server as events, shortly after the run; a loaded machine
    # delays them, so the wait is bounded by a generous limit (a stuck server), not a race.
    deadline = time.monotonic() + EVENTS_LIMIT_S
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        found = {
            run.name: (run.state.name if run.state else "?", run.run_count)
            for run in runs
            if run.name.startswith("ingest-")
        }
        if len(found) == lanes and all(
            state in {"Completed", "Failed"} for state, _ in found.values()
        ):
            return found
        time.sleep(0.5)
    return found


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_venue_failing_twice_is_retried_alone_and_the_day_completes_whole(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    venues = day_venues()
    assert len(venues) == 2
    flaky = venues[0]
    reads = failing_venue(monkeypatch, flaky, failures=2)
    summary, flow_run_id = run_day(sqlite_url)
    assert summary["status"] == "completed" and summary["venues_down"] == []
    assert summary["races"] == RACES
    assert sorted(reads) == sorted([flaky] * 3 + venues[1:])  # only the flaky venue re-read
    status, attempts, message = ingest_record(sqlite_url)
    assert (status, attempts) == ("completed", 3)
    assert f"{flaky} " in message and "3 att." in message and "0 down" in message
    assert lane_task_runs(flow_run_id, lanes=2) == {
        lane_name(flaky): ("Completed", 3),
        lane_name(venues[1]): ("Completed", 1),
    }


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_venue_that_stays_down_is_quarantined_and_alerted_while_the_others_finish(
    sqlite_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # warm-up history, so reference times come from the days before (not the partial day)
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "2")
    venues = day_venues()
    down, up = venues[0], venues[1]
    answering = SimulatorSource.read_days
    reads = failing_venue(monkeypatch, down, failures=100)
    summary, flow_run_id = run_day(sqlite_url)

    assert summary["status"] == "completed-with-alerts"  # venue_down is critical: exit 6
    assert [alert["rule"] for alert in summary["alerts"]] == ["venue_down"]
    assert len(summary["venues_down"]) == 1 and summary["venues_down"][0].startswith(f"{down} (")
    assert reads.count(down) == 4  # the first try and three retries
    with make_engine(sqlite_url).connect() as connection:
        races = read_races(connection, DAY, DAY)
        predicted = set(connection.execute(select(PREDICTIONS.c.race_id)).scalars())
        quarantine = read_quarantine(connection, DAY, DAY)
        alerts = connection.execute(select(ALERTS.c.rule, ALERTS.c.message)).all()
    # the other venue: predicted, settled and stored
    assert set(races["keibajo_code"]) == {up} and races["has_results"].astype(bool).all()
    assert summary["races"] == len(races) > 0
    assert predicted == set(races["race_id"])
    # the venue that stayed down: quarantined as an input, alerted by name
    location = f"venue {down} ({venue_names()[down]})"
    inputs = quarantine[quarantine["table_name"] == "input"]
    assert [json.loads(detail)["location"] for detail in inputs["detail"]] == [location] * 2
    venue_alerts = [message for rule, message in alerts if rule == "venue_down"]
    assert len(venue_alerts) == 1 and location in venue_alerts[0]
    assert "flow_failed" not in {rule for rule, _ in alerts}
    status, attempts, message = ingest_record(sqlite_url)
    assert (status, attempts) == ("completed", 4) and f"{down} " in message
    assert lane_task_runs(flow_run_id, lanes=2) == {
        lane_name(down): ("Failed", 4),
        lane_name(up): ("Completed", 1),
    }

    # The venue answers again: re-running the day gives what an uninterrupted run gives.
    monkeypatch.setattr(SimulatorSource, "read_days", answering)
    again, _ = run_day(sqlite_url)
    assert again["status"] == "completed" and again["races"] == RACES
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    run_day(clean)
    assert data_checksums(sqlite_url) == data_checksums(clean)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_source_that_cannot_list_its_venues_fails_the_run_with_its_retries_recorded(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[int] = []

    def venues(self: SimulatorSource, start: date, end: date) -> list[str]:
        listed.append(1)
        raise SourceUnavailable("source down while listing venues")

    monkeypatch.setattr(SimulatorSource, "venues", venues)
    with pytest.raises(SourceUnavailable, match="listing venues"), use_store(sqlite_url):
        daily_run(race_date=DAY)
    assert len(listed) == 4  # the first try and three retries
    status, attempts, message = ingest_record(sqlite_url)
    assert (status, attempts) == ("failed", 4) and "listing venues" in message


def lanes_time_out_after(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The venue lanes' (and the venue listing's) task timeout, and no other stage's: the
    store writes of the day keep the default, so a loaded machine cannot time them out."""
    import tasks.ingest

    def lane_options(settings: Settings) -> dict[str, Any]:
        return {**io_task_options(settings), "timeout_seconds": seconds}

    monkeypatch.setattr(tasks.ingest, "io_task_options", lane_options)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_venue_that_hangs_times_out_and_is_retried_while_the_others_finish(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first read of one venue never returns (it waits on an event set only after the run):
    the run completes all the same, so the lane stopped waiting for it, and the venue's rows
    come from a retry. Nothing races a clock: a healthy read the loaded machine makes time out
    is retried too, so only the venue's run count may grow, never the outcome change."""
    SimulatorSource(simulator_config(load_settings())).read_days(DAY, DAY)  # healthy reads: cached
    lanes_time_out_after(monkeypatch, LANE_TIMEOUT_S)
    hung, answering = day_venues()[0], SimulatorSource.read_days
    reads: list[str] = []
    released = threading.Event()
    hung_read_returned = threading.Event()

    def read_days(
        self: SimulatorSource, start: date, end: date, venues: Collection[str] | None = None
    ) -> RawDay:
        reads.append(",".join(venues or ["all"]))
        if venues is not None and list(venues) == [hung] and reads.count(hung) == 1:
            released.wait()  # the first read of the venue hangs until the run has ended
            hung_read_returned.set()
        return answering(self, start, end, venues)

    monkeypatch.setattr(SimulatorSource, "read_days", read_days)
    try:
        summary, flow_run_id = run_day(sqlite_url)
        assert not hung_read_returned.is_set()  # the run ended with the hung read still waiting
    finally:
        released.set()  # lets the abandoned read's thread end
    assert summary["status"] == "completed" and summary["races"] == RACES
    state, runs = lane_task_runs(flow_run_id, lanes=2)[lane_name(hung)]
    assert state == "Completed" and runs >= 2  # timed out, then retried (more only when loaded)
    assert reads.count(hung) == runs  # one read per attempt: the hung one and the retries
    status, attempts, message = ingest_record(sqlite_url)
    assert status == "completed" and attempts >= runs and "0 down" in message  # the most of a lane
