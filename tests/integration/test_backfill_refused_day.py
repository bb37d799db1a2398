"""A backfill over a range with one day refused for its input: the other days go on.

A day whose every race validation sets aside is refused as its daily run would refuse it (exit
4); in a chunk with other days, the day is taken out and the chunk's other days are stored as a
backfill of the range without that day stores them. The day is not marked done, so the same
command, once its file is mended, runs that day alone. A day whose folder (one folder per day)
cannot be read is refused by the chunk's read the same way (exit 2), not read as a day without
races.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from config import load_settings, use_store
from flows.backfill import backfill
from flows.chain import read_chunk
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay, days_with_races, rows_of_days
from raceday.sources.files import write_tables
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES as RACES_TABLE
from raceday.store.catalogs.runs import BACKFILL_DAYS
from raceday.store.engine import make_engine, upgrade_schema
from tasks.common import in_process
from tests.store_support import data_checksums

START, END = date(2025, 3, 1), date(2025, 3, 5)
BAD_DAY = date(2025, 3, 3)  # in the middle of the first chunk (4 days: 1..4, then 5)
CHUNK_DAYS = 4
RACES = 4


def days_of(start: date, end: date) -> set[date]:
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


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


def backfill_files(
    db: str, files: Path, *, force: bool = False, workers: int = 0
) -> dict[str, object]:
    """The scenario's backfill of ``files`` into the store ``db`` (its summary)."""
    with use_store(db):
        result: dict[str, object] = backfill(
            start=START,
            end=END,
            races=RACES,
            source=f"files:{files}",
            chunk_days=CHUNK_DAYS,
            force=force,
            workers=workers,
        )
    return result


def stored_dates(db: str, column: object) -> set[date]:
    """The days ``column`` holds in the store ``db``."""
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
    expected = backfill_files(without_bad_day, files)
    assert expected["days_refused"] == ()

    write_tables(with_bad_day(raw), files)
    refused = backfill_files(refused_db, files)
    assert refused["status"] == "completed-with-refusals"
    [day] = refused["days_refused"]  # type: ignore[misc]
    assert (day["date"], day["exit_code"]) == (BAD_DAY.isoformat(), 4)
    assert day["reason"].startswith(f"nothing valid left for {BAD_DAY} (card)")
    assert (refused["races"], refused["chunks_run"]) == (expected["races"], 2)
    assert data_checksums(refused_db) == data_checksums(without_bad_day)
    assert BAD_DAY not in stored_dates(refused_db, RACES_TABLE.c.race_date)
    assert BAD_DAY in stored_dates(refused_db, QUARANTINE.c.race_date)  # as its daily run records
    range_days = days_of(START, END)
    assert stored_dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days - {BAD_DAY}

    write_tables(raw, files)  # the day's file mended: the same command runs that day alone
    mended = backfill_files(refused_db, files)
    assert (mended["status"], mended["days_refused"]) == ("completed", ())
    assert (mended["days_skipped"], mended["chunks_run"], mended["races"]) == (4, 1, RACES)
    assert stored_dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days
    assert BAD_DAY in stored_dates(refused_db, RACES_TABLE.c.race_date)

    write_tables(with_bad_day(raw), files)  # refused again over a range done: --force
    forced = backfill_files(refused_db, files, force=True)
    assert [day["date"] for day in forced["days_refused"]] == [BAD_DAY.isoformat()]  # type: ignore[attr-defined]
    assert stored_dates(refused_db, BACKFILL_DAYS.c.race_date) == range_days - {BAD_DAY}


def test_a_chunk_refuses_the_day_whose_folder_cannot_be_read_and_reads_the_others(
    tmp_path: Path, sqlite_url: str
) -> None:
    """One folder per day, the bad day's runners file in EUC-JP: the chunk's read refuses that
    day alone as its daily run does (exit 2, its line naming the folder and the file), so the
    backfill neither stores it as a day without races nor marks it done; the other days are
    read, without the bad day's folder among their inputs set aside."""
    raw = simulate_days(START, END, SimulatorConfig(races_per_day=RACES)).raw
    files = tmp_path / "files"
    for day in days_of(START, END):
        write_tables(rows_of_days(raw, [day]), files / f"{day:%Y%m%d}")
    runners = files / f"{BAD_DAY:%Y%m%d}" / "nvd_se.csv"
    runners.write_bytes(
        runners.read_text(encoding="utf-8").replace("\n", ",大井\n", 2).encode("euc_jp")
    )
    upgrade_schema(make_engine(sqlite_url))
    settings = load_settings(source=f"files:{files}", db_url=sqlite_url)

    read, refused = read_chunk(in_process, settings, START, END)
    [refusal] = refused
    assert (refusal.day, refusal.exit_code) == (BAD_DAY, 2)
    assert refusal.reason.startswith(f"{BAD_DAY} cannot be read: its input is in {runners.parent}")
    assert "nvd_se.csv: not UTF-8 or Shift-JIS (CP932) text" in refusal.reason
    assert days_with_races(read) == sorted(days_of(START, END) - {BAD_DAY})
    assert read.rejected == ()


def test_a_chunk_with_nothing_valid_but_rows_of_no_day_ends_alike_with_workers_or_not(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A chunk whose input is only rows of no day (dated 31 February), nothing valid: the
    in-process chunk fails in one line with exit 4 (refused as a range). Its store wave, run
    by a worker, failed as a wave (a run that did not complete: exit 5); now it records the
    refusal and completes, and the ordered pass, in the backfill's process, ends at that chunk
    with the same line and exit code, where the in-process backfill ends."""
    from flows.chain import ordered_chain, prepare_chunk, store_wave
    from raceday.errors import NothingValid

    raw = simulate_days(START, START, SimulatorConfig(races_per_day=RACES)).raw
    no_day = RawDay(
        *(t.assign(kaisai_tsukihi="0231") for t in (raw.nvd_ra, raw.nvd_se, raw.nvd_o1))
    )
    files = tmp_path / "files"
    write_tables(no_day, files)
    upgrade_schema(make_engine(sqlite_url))
    settings = load_settings(source=f"files:{files}", db_url=sqlite_url)
    days = sorted(days_of(START, START + timedelta(days=1)))

    with pytest.raises(NothingValid) as in_order:
        prepare_chunk(in_process, settings, days[0], days[-1])
    assert store_wave(in_process, settings, days[0], days[-1]) == 0  # raised: the wave failed
    with pytest.raises(NothingValid) as ordered:
        ordered_chain(in_process, settings, days[0], days[-1], days)
    assert str(ordered.value) == str(in_order.value)
    assert str(in_order.value).startswith(f"nothing valid left for {days[0]}..{days[-1]}")
