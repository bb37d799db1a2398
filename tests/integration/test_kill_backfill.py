"""`kill -9` of a backfill at several points, then a re-run: the store ends identical to an
uninterrupted backfill's (table checksums). The backfill's chunks run in a child process through
the same task bodies as the flow (no Prefect server to start per process). The warm-up before
the first chunk is done once and the store copied for the reference and the killed backfill."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from config import load_settings
from flows.backfill import backfill_chunk, completed_days, warm_up
from flows.backfill_plan import chunk_grid, pending_chunks
from raceday.store.catalogs.ratings import SettledRuns
from raceday.store.catalogs.runs import RUNS
from raceday.store.engine import make_engine
from tasks.common import LOCAL_FLOW
from tests.kill_support import kill_once, run_reference, stop_after_stage
from tests.store_support import data_checksums

START, END, CHUNK_DAYS, RACES = date(2025, 4, 1), date(2025, 4, 4), 2, 6


def warm_up_before(db: str) -> None:
    """The warm-up the backfill would do first on an empty store."""
    warm_up(load_settings(races=RACES, db_url=db), START)


def run_backfill(db: str) -> None:
    """The backfill flow's body without Prefect: warm-up, then the pending chunks in order."""
    settings = load_settings(races=RACES, db_url=db)
    todo = pending_chunks(
        chunk_grid(START, END, CHUNK_DAYS), completed_days(settings, START, END), False
    )
    if todo:
        warm_up(settings, todo[0].start)
    settled = SettledRuns()
    for chunk in todo:
        backfill_chunk.fn(settings, chunk, settled)


def stages_done(db: str) -> set[tuple[str, date]]:
    try:
        with make_engine(db).connect() as connection:
            rows = connection.execute(
                select(RUNS.c.stage, RUNS.c.race_date).where(
                    RUNS.c.flow_name == LOCAL_FLOW, RUNS.c.status == "completed"
                )
            ).all()
    except Exception:  # noqa: BLE001 - no schema yet
        return set()
    return {(str(stage), day) for stage, day in rows}


def run_backfill_until(db: str, stage: str, day: date) -> None:
    """The child's body: the backfill, stopped once ``stage`` of ``day`` is recorded completed."""
    stop_after_stage(stage, day)
    run_backfill(db)


def kill_when(db: str, stage: str, day: date) -> None:
    """Start a backfill in a child process and SIGKILL it once ``stage`` of ``day`` is done."""

    def reached() -> bool:
        return (stage, day) in stages_done(db)

    kill_once(run_backfill_until, (db, stage, day), reached, f"{stage} of {day}")


@pytest.mark.slow
def test_a_backfill_killed_twice_then_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, killed = run_reference(tmp_path, monkeypatch, RACES, warm_up_before, run_backfill)
    first, second = chunk_grid(START, END, CHUNK_DAYS)
    kill_when(killed, "first3f", first.end)  # inside the first chunk, mid-way
    # The first chunk done; the second's results settled and its features built, not staked.
    kill_when(killed, "features_range", second.end)
    assert completed_days(load_settings(db_url=killed), START, END) == set(first.days)
    run_backfill(killed)
    assert completed_days(load_settings(db_url=killed), START, END) == {*first.days, *second.days}
    assert data_checksums(killed) == data_checksums(reference)
