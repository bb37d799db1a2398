"""The whole daily run and a short backfill with the store on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from flows.backfill import backfill
from flows.daily import daily_run
from raceday.store.catalogs.performance import PERFORMANCE
from raceday.store.catalogs.runs import completed_backfill_days
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tests.store_support import data_checksums

RACES = 6


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("prefect_harness")
def test_daily_run_and_backfill_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "5")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    monkeypatch.setenv("RACEDAY_DB_URL", postgres_url)  # as on a worker
    summary = daily_run(race_date=date(2025, 8, 1))
    assert summary["status"] == "completed" and summary["races"] == RACES

    result = backfill(start=date(2025, 8, 2), end=date(2025, 8, 3), races=RACES, chunk_days=2)
    assert (result["chunks_run"], result["races"]) == (1, 2 * RACES)
    with make_engine(postgres_url).connect() as connection:
        performance = read_rows(connection, PERFORMANCE, date_column="perf_date")
        done = completed_backfill_days(connection, date(2025, 8, 1), date(2025, 8, 3))
    assert set(performance["perf_date"].dt.date) == {date(2025, 8, d) for d in (1, 2, 3)}
    assert done == {date(2025, 8, 2), date(2025, 8, 3)}

    once = data_checksums(postgres_url)
    again = backfill(start=date(2025, 8, 2), end=date(2025, 8, 3), races=RACES, chunk_days=2)
    assert again["chunks_skipped"] == 1 and data_checksums(postgres_url) == once
