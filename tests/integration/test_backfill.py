"""The backfill flow on a small simulated range: point in time, resumable, idempotent."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete

from flows.backfill import backfill, chunk_grid
from raceday.standards import reference_version
from raceday.store import catalog
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tests.store_support import data_checksums

START, END = date(2025, 3, 1), date(2025, 3, 4)
CHUNK_DAYS = 2
RACES = 6
DAYS = 4


@pytest.fixture
def small_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short warm-up and small simulated days keep the runs to seconds."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "7")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))


def _run(db: str, force: bool = False) -> dict[str, object]:
    result: dict[str, object] = backfill(
        start=START, end=END, races=RACES, chunk_days=CHUNK_DAYS, force=force, db_url=db
    )
    return result


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_backfill_is_point_in_time_resumable_and_idempotent(sqlite_url: str) -> None:
    first = _run(sqlite_url)
    assert (first["chunks"], first["chunks_run"], first["chunks_skipped"]) == (2, 2, 0)
    assert first["races"] == RACES * DAYS
    once = data_checksums(sqlite_url)

    with make_engine(sqlite_url).connect() as connection:
        first3f = read_rows(connection, catalog.FIRST3F, start=START, end=END)
        predictions = read_rows(connection, catalog.PREDICTIONS, start=START, end=END)
        performance = read_rows(
            connection, catalog.PERFORMANCE, start=START, end=END, date_column="perf_date"
        )
    assert predictions["race_id"].nunique() == RACES * DAYS
    assert set(performance["perf_date"].dt.date) == set(chunk_grid(START, END, DAYS)[0].days)
    # Every chunk's first-3F layers were learned from the days before the chunk, never its own.
    for chunk in chunk_grid(START, END, CHUNK_DAYS):
        in_chunk = first3f[first3f["race_date"].dt.date.between(chunk.start, chunk.end)]
        expected = reference_version(date.fromordinal(chunk.start.toordinal() - 1))
        assert set(in_chunk["reference_version"]) == {expected}

    again = _run(sqlite_url)
    assert (again["chunks_run"], again["chunks_skipped"]) == (0, 2)
    assert data_checksums(sqlite_url) == once

    # As if killed before the second chunk finished: its days are not marked, so only it reruns.
    with make_engine(sqlite_url).begin() as connection:
        connection.execute(
            delete(catalog.RUNS).where(
                catalog.RUNS.c.stage == catalog.BACKFILL_DAY_STAGE,
                catalog.RUNS.c.race_date >= date(2025, 3, 4),
            )
        )
    resumed = _run(sqlite_url)
    assert (resumed["chunks_run"], resumed["chunks_skipped"]) == (1, 1)
    assert data_checksums(sqlite_url) == once

    forced = _run(sqlite_url, force=True)
    assert forced["chunks_run"] == 2
    assert data_checksums(sqlite_url) == once
