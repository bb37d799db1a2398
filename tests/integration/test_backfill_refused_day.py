"""A backfill over a range with one day refused for its input: the other days go on.

A day whose every race validation sets aside is refused as its daily run would refuse it (exit
4); in a chunk with other days, the day is taken out and the chunk's other days are stored as a
backfill of the range without that day stores them. The day is not marked done, so the same
command, once its file is mended, runs that day alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from config import use_store
from flows.backfill import backfill
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay, rows_of_days
from raceday.sources.files import write_tables
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES as RACES_TABLE
from raceday.store.catalogs.runs import BACKFILL_DAYS
from raceday.store.engine import make_engine
from tests.store_support import data_checksums

START, END = date(2025, 3, 1), date(2025, 3, 5)
BAD_DAY = date(2025, 3, 3)  # in the middle of the first chunk (4 days: 1..4, then 5)
CHUNK_DAYS = 4
RACES = 4


@pytest.fixture
def small_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files hold only the range: no warm-up history to read; few races a day."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")


def with_bad_day(raw: RawDay) -> RawDay:
    """``raw`` whose ``BAD_DAY`` runners all lack a readable horse number: every race of the
    day is set aside, so the day has nothing valid (its daily run ends with exit 4)."""
    runners = raw.nvd_se.copy()
    on_bad_day = (runners["kaisai_tsukihi"] == f"{BAD_DAY:%m%d}").to_numpy(bool)
    runners.loc[on_bad_day, "umaban"] = "XX"
    return RawDay(raw.nvd_ra, runners, raw.nvd_o1)


def _backfill(db: str, files: Path, force: bool = False) -> dict[str, object]:
    with use_store(db):
        result: dict[str, object] = backfill(
            start=START,
            end=END,
            races=RACES,
            source=f"files:{files}",
            chunk_days=CHUNK_DAYS,
            force=force,
        )
    return result


def _dates(db: str, column: object) -> set[date]:
    with make_engine(db).connect() as connection:
        return {pd.Timestamp(value).date() for value in connection.scalars(select(column))}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_a_refused_day_is_set_aside_and_the_range_goes_on(tmp_path: Path) -> None:
    """The bad day stores nothing but its quarantine and is listed with its exit code; the
    other days are stored exactly as a backfill of the range without that day; a re-run once
    its file is mended runs that day alone."""
    raw = simulate_days(START, END, SimulatorConfig(races_per_day=RACES)).raw
    files = tmp_path / "files"  # one directory (the races' source label) for every run
    without_bad_day, refused_db = (
        f"sqlite:///{tmp_path / 'without.db'}",
        f"sqlite:///{tmp_path / 'refused.db'}",
    )

    write_tables(rows_of_days(raw, [BAD_DAY], keep=False), files)
    expected = _backfill(without_bad_day, files)
    assert expected["days_refused"] == ()

    write_tables(with_bad_day(raw), files)
    refused = _backfill(refused_db, files)
    assert refused["status"] == "completed-with-refusals"
    [day] = refused["days_refused"]  # type: ignore[misc]
    assert (day["date"], day["exit_code"]) == (BAD_DAY.isoformat(), 4)
    assert day["reason"].startswith(f"nothing valid left for {BAD_DAY} (card)")
    assert (refused["races"], refused["chunks_run"]) == (expected["races"], 2)
    assert data_checksums(refused_db) == data_checksums(without_bad_day)
    assert BAD_DAY not in _dates(refused_db, RACES_TABLE.c.race_date)
    assert BAD_DAY in _dates(refused_db, QUARANTINE.c.race_date)  # as its daily run records
    range_days = {START + timedelta(days=n) for n in range((END - START).days + 1)}
    assert _dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days - {BAD_DAY}

    write_tables(raw, files)  # the day's file mended: the same command runs that day alone
    mended = _backfill(refused_db, files)
    assert (mended["status"], mended["days_refused"]) == ("completed", ())
    assert (mended["days_skipped"], mended["chunks_run"], mended["races"]) == (4, 1, RACES)
    assert _dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days
    assert BAD_DAY in _dates(refused_db, RACES_TABLE.c.race_date)

    write_tables(with_bad_day(raw), files)  # refused again over a range done: --force
    forced = _backfill(refused_db, files, force=True)
    assert [day["date"] for day in forced["days_refused"]] == [BAD_DAY.isoformat()]  # type: ignore[attr-defined]
    assert _dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days - {BAD_DAY}
