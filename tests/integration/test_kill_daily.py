"""`kill -9` of a daily run at several points, then a re-run: the store ends identical to an
uninterrupted run's (table checksums), and the dead run's lock is taken over. The run goes
through the same stage bodies as ``flows/daily.py:daily_run``, in its order, in a child process
(no Prefect server to start per process)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_settings
from flows.backfill import settled_stages, warm_up
from raceday.store.catalogs.runs import RUNS
from raceday.store.engine import make_engine
from tasks.common import day_lock
from tasks.features import day_features
from tasks.ingest import ingest
from tasks.monitor import monitor_day
from tasks.predict import predict
from tasks.record import record_day, report_day, settle
from tasks.stake import stake
from tasks.validate import validate_and_store
from tests.kill_support import kill_once
from tests.store_support import data_checksums

DAY, RACES, FLOW = date(2025, 6, 7), 8, "daily-run"


def run_daily(db: str) -> None:
    """``daily_run``'s body with the task bodies called directly (same stages, same order)."""
    settings = load_settings(races=RACES, db_url=db)
    with day_lock(settings, DAY, FLOW):
        warm_up(settings, DAY, FLOW)
        raw = ingest.fn(settings, DAY, DAY, FLOW)
        card = validate_and_store.fn(settings, raw, DAY, DAY, "card", FLOW)
        features = day_features.fn(settings, card, DAY, FLOW)
        predictions = predict.fn(settings, card, DAY, FLOW, features)
        stake.fn(settings, predictions, card, DAY, FLOW)
        settled_stages(settings, raw, DAY, DAY, FLOW)
        settle.fn(settings, DAY, FLOW)
        summary = record_day.fn(settings, DAY, len(card.races), FLOW)
        monitor_day.fn(settings, DAY, FLOW)
        report_day.fn(settings, DAY, summary, FLOW)


def stages_done(db: str) -> set[str]:
    """The stages of the day's runs completed so far."""
    try:
        with make_engine(db).connect() as connection:
            rows = connection.execute(
                select(RUNS.c.stage).where(
                    RUNS.c.flow_name == FLOW,
                    RUNS.c.race_date == DAY,
                    RUNS.c.status == "completed",
                )
            ).all()
    except Exception:  # noqa: BLE001 - no schema yet
        return set()
    return {str(stage) for (stage,) in rows}


def kill_after(db: str, stage: str) -> None:
    """Start the day in a child process and SIGKILL it once ``stage`` of the day is done."""
    code = f"from {__name__} import run_daily; run_daily({db!r})"
    kill_once(code, lambda: stage in stages_done(db), stage)


@pytest.mark.slow
def test_a_daily_run_killed_at_three_points_then_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "5")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    run_daily(reference)

    killed = f"sqlite:///{tmp_path / 'killed.db'}"
    for stage in ("predict", "first3f", "settle"):  # the morning half, mid-night, before record
        kill_after(killed, stage)
        assert "record" not in stages_done(killed)
    run_daily(killed)  # takes over the dead run's lock
    assert "record" in stages_done(killed)
    assert data_checksums(killed) == data_checksums(reference)
