"""A day read from a PC-KEIBA PostgreSQL database (nvd_* tables of text columns, as PC-KEIBA
stores them) ends in the same store as the same day read from files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Text, create_engine

from config import use_store
from flows.daily import daily_run
from raceday.sources.base import join_lanes, rows_of_venues, venues_in
from raceday.sources.files import write_tables
from raceday.sources.pckeiba import PcKeibaSource
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
    with use_store(from_pckeiba):
        summary = daily_run(race_date=DAY, source="pckeiba")
    from_files = f"sqlite:///{tmp_path / 'files.db'}"
    with use_store(from_files):
        daily_run(race_date=DAY, source=f"files:{files}")

    assert summary["status"] == "completed" and summary["races"] == 24
    assert checksums(from_pckeiba) == checksums(from_files)


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


@pytest.mark.postgres
def test_pckeiba_reads_a_day_venue_by_venue_with_a_parameterised_filter(
    postgres_url: str,
) -> None:
    """``venues`` lists the day's keibajo codes; each venue's read holds exactly its rows, and
    the venues' reads together are the whole day's read."""
    config = SimulatorConfig(races_per_day=40)
    load_pckeiba_tables(postgres_url, DAY, races=40)
    whole = simulate_days(DAY, DAY, config).raw
    source = PcKeibaSource(postgres_url)
    venues = source.venues(DAY, DAY)
    assert len(venues) >= 2 and venues == venues_in(whole)
    assert source.venues(DAY + timedelta(days=1), DAY + timedelta(days=1)) == []
    lanes = [source.read_days(DAY, DAY, [venue]) for venue in venues]
    for venue, lane in zip(venues, lanes, strict=True):
        expected = rows_of_venues(whole, [venue])
        for table in ("nvd_ra", "nvd_se", "nvd_o1"):
            pd.testing.assert_frame_equal(
                sorted_rows(getattr(lane, table)), sorted_rows(getattr(expected, table))
            )
    joined, read_whole = join_lanes(lanes), source.read_days(DAY, DAY)
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(
            sorted_rows(getattr(joined, table)), sorted_rows(getattr(read_whole, table))
        )
    assert set(source.read_days(DAY, DAY, venues[:2]).nvd_ra["keibajo_code"]) == set(venues[:2])
    assert source.read_days(DAY, DAY, ["83"]).is_empty  # a venue not racing: nothing, no error
