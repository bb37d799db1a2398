"""A NAR export holds ban-ei's races (帯広 ばんえい, venue 83: sleds over 200 m, another sport).
Read from files, the day stores and records exactly what it does without them: no race of
venue 83 is kept or set aside, nothing is quarantined, and the day's quarantine rate stays 0
(ban-ei set aside tripped the 5 % ``quarantine_rate`` alert on about 150 NAR days a year)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from config import load_settings
from flows.chain import daily_chain
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay
from raceday.sources.files import write_tables
from raceday.store.catalogs.alerts import ALERTS
from raceday.store.catalogs.performance import PERFORMANCE
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES, RUNNERS
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tasks.common import in_process
from tasks.ingest import ingest_by_venue
from tasks.store import prepare_store

DAY = date(2026, 5, 2)
RACES_PER_DAY = 20
BAN_EI = "83"


def with_ban_ei(raw: RawDay, venue: str) -> RawDay:
    """``raw`` and, in every table, a copy of ``venue``'s rows written as ban-ei's."""

    def added(table: pd.DataFrame) -> pd.DataFrame:
        copy = table[table["keibajo_code"] == venue].assign(keibajo_code=BAN_EI)
        return pd.concat([table, copy], ignore_index=True)

    return RawDay(nvd_ra=added(raw.nvd_ra), nvd_se=added(raw.nvd_se), nvd_o1=added(raw.nvd_o1))


@dataclass(frozen=True)
class Stored:
    """What the day left in the store, and its alerts."""

    tables: dict[str, pd.DataFrame]
    day: pd.Series  # the day's performance row, scope all
    alerts: list[str]
    heading: str  # the report's line under its title


def run_day(db_url: str, files: Path) -> Stored:
    """The day as ``raceday run`` runs it (its chain in-process), read by venue lanes."""
    settings = load_settings(races=RACES_PER_DAY, source=f"files:{files}", db_url=db_url)
    prepare_store(settings)
    daily_chain(in_process, settings, ingest_by_venue(settings, DAY, DAY), DAY)
    with make_engine(db_url).connect() as connection:
        tables = {
            name: read_rows(connection, table)
            for name, table in (("races", RACES), ("runners", RUNNERS), ("quarantine", QUARANTINE))
        }
        performance = read_rows(connection, PERFORMANCE)
        alerts = read_rows(connection, ALERTS)
    page = (settings.reports_dir / f"raceday-{DAY}.html").read_text(encoding="utf-8")
    heading = next(line for line in page.splitlines() if 'class="meta"' in line)
    day = performance[performance["scope"] == "all"].iloc[0]
    return Stored(tables, day, list(alerts["rule"]), heading)


def test_ban_ei_races_are_left_out_not_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=RACES_PER_DAY)).raw
    venue = str(raw.nvd_ra["keibajo_code"].value_counts().index[0])
    write_tables(raw, tmp_path / "nar", "csv")
    write_tables(with_ban_ei(raw, venue), tmp_path / "with_ban_ei", "csv")

    plain = run_day(f"sqlite:///{tmp_path / 'plain.db'}", tmp_path / "nar")
    mixed = run_day(f"sqlite:///{tmp_path / 'mixed.db'}", tmp_path / "with_ban_ei")

    assert mixed.tables["quarantine"].empty and plain.tables["quarantine"].empty
    for table in ("races", "runners"):  # the same rows, read from another folder
        read = [
            stored.tables[table].drop(columns="source", errors="ignore")
            for stored in (mixed, plain)
        ]
        pd.testing.assert_frame_equal(*read, obj=table)
    assert mixed.day["races_offered"] == RACES_PER_DAY and mixed.day["quarantine_rate"] == 0
    assert "quarantine_rate" not in mixed.alerts
    assert "· NAR 地方競馬 · " in mixed.heading  # no "other venues": ban-ei was never read
