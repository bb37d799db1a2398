"""Backups: a backup restored over a changed store brings back exactly the backed-up rows;
retention keeps the newest copies (SQLite backup API, and pg_dump/pg_restore on PostgreSQL); a
restore is refused while a live run holds a day of the store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from cli import app
from config import load_settings
from raceday.errors import InputError
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.backup import backups_in, restore_store
from raceday.store.catalogs.races import RUNNERS
from raceday.store.catalogs.runs import day_lock_holder, lock_day
from raceday.store.engine import make_engine, upgrade_schema
from tasks.backup import backup_task
from tasks.validate import validate_and_store
from tests.store_support import data_checksums

DAY = date(2025, 5, 10)


def _stored_day(db: str) -> None:
    settings = load_settings(db_url=db)
    upgrade_schema(make_engine(db))
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    validate_and_store(settings, raw, DAY, DAY, "results")


@pytest.mark.slow
def test_restore_brings_back_the_backed_up_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_BACKUP__FOLDER", str(tmp_path / "backups"))
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    _stored_day(store_url)
    before = data_checksums(store_url)
    result = backup_task(load_settings(db_url=store_url))
    backup = Path(result["backup"])
    assert backup.is_file() and result["kept"] == 1

    with make_engine(store_url).begin() as connection:
        connection.execute(delete(RUNNERS))
    assert data_checksums(store_url) != before

    restore_store(store_url, backup)
    assert data_checksums(store_url) == before


def test_retention_keeps_the_newest_backups(sqlite_url: str, tmp_path: Path) -> None:
    upgrade_schema(make_engine(sqlite_url))
    settings = load_settings(db_url=sqlite_url).model_copy(
        update={"backup": load_settings().backup.model_copy(update={"keep": 2})}
    )
    names = [Path(backup_task(settings)["backup"]).name for _ in range(3)]
    kept = [path.name for path in backups_in(settings.backups_dir)]
    assert kept == names[1:]


def test_restoring_a_backup_of_the_other_kind_of_store_is_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    dump = tmp_path / "raceday-20250101T000000-000000.dump"
    dump.write_bytes(b"not sqlite")
    with pytest.raises(InputError, match="not a backup of a sqlite store"):
        restore_store(sqlite_url, dump)


def _backup_then_lock(db: str, holder_pid: int, tmp_path: Path) -> Path:
    """A backup of ``db``, then the store changed and the day's lock taken by ``holder_pid``."""
    settings = load_settings(db_url=db).model_copy(
        update={"backup": load_settings().backup.model_copy(update={"folder": tmp_path})}
    )
    backup = Path(backup_task(settings)["backup"])
    with make_engine(db).begin() as connection:
        connection.execute(delete(RUNNERS))
        lock_day(connection, DAY, f"daily-run {socket.gethostname()} pid {holder_pid}", "run-1")
    return backup


@pytest.mark.slow
def test_a_restore_is_refused_in_one_line_while_a_live_run_holds_a_day_of_the_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore under a writing run left the run's later rows without their races: while a
    live run (this process) holds a day, ``restore --yes`` changes nothing and exits 7 saying
    which run and day."""
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    _stored_day(store_url)
    backup = _backup_then_lock(store_url, os.getpid(), tmp_path)
    before = data_checksums(store_url)
    result = CliRunner().invoke(app, ["restore", str(backup), "--db", store_url, "--yes"])
    assert result.exit_code == 7, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"{DAY} is being run by daily-run" in line and "run run-1" in line
    assert "nothing restored" in line
    assert data_checksums(store_url) == before


def test_a_lock_left_by_a_killed_run_does_not_stop_a_restore(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The liveness the runs use: a dead holder on this machine holds nothing."""
    upgrade_schema(make_engine(sqlite_url))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    backup = _backup_then_lock(sqlite_url, int(dead.stdout.strip()), tmp_path)
    result = CliRunner().invoke(app, ["restore", str(backup), "--db", sqlite_url, "--yes"])
    assert result.exit_code == 0, result.stderr
    with make_engine(sqlite_url).connect() as connection:
        assert day_lock_holder(connection, DAY) is None  # the backup's (unlocked) store
