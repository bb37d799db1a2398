"""`kill -9` of a daily run at several points, then a re-run: the store ends identical to an
uninterrupted run's (table checksums), and the dead run's lock is taken over. The run goes
through ``daily_run``'s own chain (``flows/chain.py: daily_chain``) in-process, in a child
process (no Prefect server to start per process). The days before are warmed up once and the
store copied for the reference and the killed run (history, not what is killed)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_settings
from flows.chain import daily_chain, prepare_history
from raceday.store.catalogs.runs import RUNS
from raceday.store.engine import make_engine
from tasks.common import LOCAL_FLOW, in_process
from tasks.ingest import ingest
from tasks.locks import day_lock
from tests.kill_support import kill_once, run_reference, stop_after_stage
from tests.store_support import data_checksums

DAY, RACES, FLOW = date(2025, 6, 7), 8, LOCAL_FLOW


def warm_up(db: str) -> None:
    """The warm-up the day's run would do first on an empty store."""
    prepare_history(in_process, load_settings(races=RACES, db_url=db), DAY)


def run_daily(db: str) -> None:
    """``daily_run``'s chain with the stages run in-process (same stages, same order)."""
    settings = load_settings(races=RACES, db_url=db)
    with day_lock(settings, DAY):
        prepare_history(in_process, settings, DAY)
        daily_chain(in_process, settings, ingest(settings, DAY, DAY), DAY)


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


def run_daily_until(db: str, stage: str) -> None:
    """The child's body: the day, stopped once ``stage`` of the day is recorded completed."""
    stop_after_stage(stage, DAY)
    run_daily(db)


def kill_after(db: str, stage: str) -> None:
    """Start the day in a child process and SIGKILL it once ``stage`` of the day is done."""
    kill_once(run_daily_until, (db, stage), lambda: stage in stages_done(db), stage)


@pytest.mark.slow
def test_a_daily_run_killed_at_three_points_then_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, killed = run_reference(tmp_path, monkeypatch, RACES, warm_up, run_daily)
    for stage in ("predict", "first3f", "settle"):  # the morning half, mid-night, before record
        kill_after(killed, stage)
        assert "record" not in stages_done(killed)
    run_daily(killed)  # takes over the dead run's lock
    assert "record" in stages_done(killed)
    assert data_checksums(killed) == data_checksums(reference)
