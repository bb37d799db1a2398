"""A defect in our code is not retried: the run fails once, saying which stage (and, where
known, which race) it was, in the stage record and the flow-failure alert. An unavailable
source is still retried."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from config import load_settings, use_store
from flows.backfill import backfill
from flows.daily import daily_run
from raceday.errors import SourceUnavailable, StageDefect
from raceday.sources.base import RawDay
from raceday.sources.simulator import SimulatorSource
from raceday.store.catalogs.alerts import ALERTS
from raceday.store.catalogs.runs import RUNS, day_lock_holder
from raceday.store.engine import make_engine, upgrade_schema
from tasks.common import LOCAL_FLOW, stage_run
from tests.retry_support import use_quick_retries

DAY = date(2025, 7, 1)
RACES = 8


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small simulated days, no warm-up, retries 0.1 s apart (the policy, not its delays)."""
    use_quick_retries(monkeypatch, RACES)


def stage_record(db: str, flow_name: str, stage: str) -> tuple[str, int, str]:
    with make_engine(db).connect() as connection:
        row = connection.execute(
            select(RUNS.c.status, RUNS.c.attempts, RUNS.c.message).where(
                RUNS.c.flow_name == flow_name, RUNS.c.stage == stage
            )
        ).one()
    return str(row[0]), int(row[1]), str(row[2])


def alert_messages(db: str) -> list[str]:
    with make_engine(db).connect() as connection:
        return [
            str(message)
            for rule, message in connection.execute(select(ALERTS.c.rule, ALERTS.c.message))
            if rule == "flow_failed"
        ]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_retried_io_task_whose_body_has_a_defect_runs_once_and_the_run_fails_as_a_defect(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def venues(self: SimulatorSource, start: date, end: date) -> list[str]:
        calls.append(1)
        raise ValueError("invalid literal for int() with base 10: 'ab'")

    monkeypatch.setattr(SimulatorSource, "venues", venues)
    with pytest.raises(StageDefect) as raised, use_store(sqlite_url):
        daily_run(race_date=DAY)
    assert len(calls) == 1  # retrying cannot fix a bug: no retries
    assert raised.value.stage == "ingest" and isinstance(raised.value.error, ValueError)
    status, attempts, message = stage_record(sqlite_url, "daily-run", "ingest")
    assert (status, attempts) == ("failed", 1) and message.startswith("defect: ValueError")
    (alert,) = alert_messages(sqlite_url)
    assert "daily-run for 2025-07-01 failed" in alert
    assert "defect in stage ingest: ValueError: invalid literal" in alert
    assert "please report" in alert
    with make_engine(sqlite_url).connect() as connection:
        assert day_lock_holder(connection, DAY) is None  # released on failure


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_a_defect_in_a_backfill_stage_is_not_retried_and_names_the_stage(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: real data that crashed a stage inside a backfill chunk (a retried
    task) was retried three times although nothing transient had happened."""
    calls: list[int] = []

    def estimate_first3f(*_args: Any, **_kwargs: Any) -> pd.DataFrame:
        calls.append(1)
        raise KeyError("time_sa")

    monkeypatch.setattr("tasks.derive.estimate_first3f", estimate_first3f)
    with (
        pytest.raises(StageDefect, match=r"defect in stage first3f: KeyError: 'time_sa'"),
        use_store(sqlite_url),
    ):
        backfill(start=DAY, end=DAY, races=RACES, chunk_days=1)
    assert len(calls) == 1
    status, attempts, message = stage_record(sqlite_url, "backfill", "first3f")
    assert (status, attempts) == ("failed", 1) and message == "defect: KeyError: 'time_sa'"
    (alert,) = alert_messages(sqlite_url)
    assert "defect in stage first3f: KeyError: 'time_sa' — please report" in alert


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "quick_retries")
def test_an_unavailable_source_in_a_backfill_chunk_is_still_retried(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    original = SimulatorSource.read_days

    def read_days(
        self: SimulatorSource, start: date, end: date, venues: Collection[str] | None = None
    ) -> RawDay:
        reads.append(1)
        if len(reads) <= 2:
            raise SourceUnavailable(f"source down (injected failure {len(reads)})")
        return original(self, start, end, venues)

    monkeypatch.setattr(SimulatorSource, "read_days", read_days)
    with use_store(sqlite_url):
        summary = backfill(start=DAY, end=DAY, races=RACES, chunk_days=1)
    assert summary["races"] == RACES
    assert len(reads) == 3


def test_a_defect_names_the_race_when_the_stage_works_on_one(sqlite_url: str) -> None:
    settings = load_settings(db_url=sqlite_url)
    upgrade_schema(make_engine(sqlite_url))
    one_race = pd.DataFrame({"race_id": ["202507014401"] * 3, "umaban": [1, 2, 3]})
    with (
        pytest.raises(StageDefect) as raised,
        stage_run(settings, "predict", DAY) as record,
    ):
        record.about_races(one_race)
        raise TypeError("unsupported operand type(s) for -: 'str' and 'float'")
    assert raised.value.race_id == "202507014401"
    assert isinstance(raised.value.__cause__, TypeError)
    assert str(raised.value).startswith("defect in stage predict (race 202507014401): TypeError")
    status, _attempts, message = stage_record(sqlite_url, LOCAL_FLOW, "predict")
    assert status == "failed" and message.startswith("defect: TypeError")

    two_races = pd.DataFrame({"race_id": ["202507014401", "202507014402"]})
    with (
        pytest.raises(StageDefect) as raised,
        stage_run(settings, "predict", DAY) as record,
    ):
        record.about_races(two_races)
        raise TypeError("boom")
    assert raised.value.race_id is None


def test_bad_input_and_unavailability_leave_a_stage_as_they_are(sqlite_url: str) -> None:
    settings = load_settings(db_url=sqlite_url)
    upgrade_schema(make_engine(sqlite_url))
    with pytest.raises(SourceUnavailable), stage_run(settings, "ingest", DAY):
        raise SourceUnavailable("down")
    status, _attempts, message = stage_record(sqlite_url, LOCAL_FLOW, "ingest")
    assert status == "failed" and message == "SourceUnavailable: down"
