"""A day read from a PC-KEIBA PostgreSQL database (nvd_* tables of text columns, as PC-KEIBA
stores them) ends in the same store as the same day read from files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Text, create_engine

from flows.daily import daily_run
from raceday.sources.files import write_tables
from raceday.sources.simulator import SimulatorConfig, simulate_days
from tests.store_support import TIMING_COLUMNS, data_checksums

DAY = date(2025, 6, 3)
# Where each row came from is the one thing that differs (races.source: pckeiba vs files:...).
IGNORED = {**TIMING_COLUMNS, "races": ["source"]}


def load_pckeiba_tables(url: str, day: date, races: int) -> None:
    """Simulated nvd_ra / nvd_se / nvd_o1 rows as PC-KEIBA keeps them: every column text."""
    raw = simulate_days(day, day, SimulatorConfig(races_per_day=races)).raw
    engine = create_engine(url)
    for name, frame in (("nvd_ra", raw.nvd_ra), ("nvd_se", raw.nvd_se), ("nvd_o1", raw.nvd_o1)):
        frame.astype("string").to_sql(
            name, engine, index=False, dtype=dict.fromkeys(frame.columns, Text())
        )
    engine.dispose()


def checksums(db: str) -> dict[str, str]:
    return data_checksums(db, ignore_columns=IGNORED)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("prefect_harness")
def test_a_day_from_pckeiba_equals_the_day_from_files(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    load_pckeiba_tables(postgres_url, DAY, races=24)
    files = tmp_path / "files"
    write_tables(simulate_days(DAY, DAY, SimulatorConfig(races_per_day=24)).raw, files)

    from_pckeiba = f"sqlite:///{tmp_path / 'pckeiba.db'}"
    monkeypatch.setenv("RACEDAY_PCKEIBA_URL", postgres_url)
    summary = daily_run(race_date=DAY, source="pckeiba", db_url=from_pckeiba)
    from_files = f"sqlite:///{tmp_path / 'files.db'}"
    daily_run(race_date=DAY, source=f"files:{files}", db_url=from_files)

    assert summary["status"] == "completed" and summary["races"] == 24
    assert checksums(from_pckeiba) == checksums(from_files)
