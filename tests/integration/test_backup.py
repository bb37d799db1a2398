"""Backups: a backup restored over a changed store brings back exactly the backed-up rows (a
backup of an older schema revision too); retention keeps the newest copies; a copy that fails
its check, or a backup that fails, keeps nothing, prunes nothing and leaves no partial file
(SQLite backup API, and pg_dump/pg_restore on PostgreSQL); a restore is refused while a live
run holds a day of the store."""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic import command
from alembic.config import Config
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cli import app
from cli.shared import guard
from config import Settings, load_settings
from raceday.errors import BackupUnusable, InputError, StoreUnavailable
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store import backup as backup_module
from raceday.store.backup import (
    FOLDER_LOCK,
    backup_name,
    backup_store,
    backups_in,
    restore_store,
)
from raceday.store.catalogs.races import RUNNERS
from raceday.store.catalogs.runs import day_lock_holder, lock_day
from raceday.store.engine import MIGRATIONS_DIR, make_engine, stored_revisions, upgrade_schema
from tasks.backup import backup_task
from tasks.validate import validate_and_store
from tests.kill_support import dead_pid
from tests.store_support import data_checksums

DAY = date(2025, 5, 10)


def _left_in(folder: Path) -> list[str]:
    """The files in a backup folder but its backups' lock (an empty file, kept)."""
    return sorted(path.name for path in folder.iterdir() if path.name != FOLDER_LOCK)


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


def _keeping(db: str, keep: int) -> Settings:
    return load_settings(db_url=db).model_copy(
        update={"backup": load_settings().backup.model_copy(update={"keep": keep})}
    )


def _downgrade(db: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with make_engine(db).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _damage(store_file: Path) -> None:
    """16 KiB of garbage halfway into the file (on page boundaries; the header page intact),
    as a failing disk or a stray write leaves it."""
    offset = store_file.stat().st_size // 2 // 4096 * 4096
    with store_file.open("r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(7).randbytes(16 * 1024))


def test_retention_keeps_the_newest_backups(sqlite_url: str, tmp_path: Path) -> None:
    upgrade_schema(make_engine(sqlite_url))
    settings = _keeping(sqlite_url, 2)
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
    backup = _backup_then_lock(sqlite_url, dead_pid(), tmp_path)
    result = CliRunner().invoke(app, ["restore", str(backup), "--db", sqlite_url, "--yes"])
    assert result.exit_code == 0, result.stderr
    with make_engine(sqlite_url).connect() as connection:
        assert day_lock_holder(connection, DAY) is None  # the backup's (unlocked) store


def test_a_damaged_sqlite_store_fails_its_backup_and_the_good_backups_stay(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy of a damaged store fails ``quick_check``: the backup fails in one line (exit 8,
    not a defect), the bad copy is deleted and retention prunes nothing (it used to keep the
    damaged copies and delete the good ones)."""
    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    engine.dispose()  # its last connection closed: the write-ahead log is in the file
    settings = _keeping(sqlite_url, 2)
    good = [Path(backup_task(settings)["backup"]).name for _ in range(2)]
    _damage(Path(str(make_url(sqlite_url).database)))

    for _ in range(2):
        with pytest.raises(typer.Exit) as ended:
            guard(False, lambda: backup_task(settings))
        assert ended.value.exit_code == BackupUnusable.exit_code
        line = capsys.readouterr().err.strip()
        assert len(line.splitlines()) == 1 and "quick_check" in line
        assert "defect" not in line
    assert _left_in(settings.backups_dir) == good
    for name in good:
        with sqlite3.connect(settings.backups_dir / name) as copy:
            assert copy.execute("PRAGMA quick_check").fetchall() == [("ok",)]


def test_a_damaged_sqlite_backup_is_refused_and_the_store_is_unchanged(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A backup damaged since it was written (a failing disk, a bad copy) or a file that is not
    a database: the restore refuses it in one line (bad input) and leaves the store as it was;
    it used to copy the damage over the store."""
    _stored_day(sqlite_url)
    backup = backup_store(sqlite_url, tmp_path / "raceday-20250101T000000-000000.db")
    before = data_checksums(sqlite_url)
    _damage(backup)
    not_a_database = tmp_path / "raceday-20250102T000000-000000.db"
    not_a_database.write_bytes(b"SQLite format 2\x00" + bytes(8192))

    for given in (backup, not_a_database):
        with pytest.raises(InputError, match=r"quick_check .*the store is unchanged"):
            restore_store(sqlite_url, given)
        assert data_checksums(sqlite_url) == before


def test_a_sqlite_backup_that_fails_leaves_no_partial_file(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy that fails half-way (the disk full) removes its partial file and journal."""
    upgrade_schema(make_engine(sqlite_url))

    def disk_full(source: Path, target: Path) -> None:
        target.write_bytes(b"half a copy")
        target.with_name(target.name + "-journal").write_bytes(b"journal")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_module, "_sqlite_copy", disk_full)
    folder = tmp_path / "backups"
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        backup_store(sqlite_url, folder / backup_name(sqlite_url, datetime.now(UTC)))
    assert _left_in(folder) == []


def test_a_postgres_backup_that_fails_leaves_no_partial_file(
    postgres_url: str, tmp_path: Path
) -> None:
    """pg_dump of a database that is gone fails (exit 3) and leaves no empty partial dump."""
    gone = make_url(postgres_url).set(database="raceday_no_such_database")
    url = gone.render_as_string(hide_password=False)
    folder = tmp_path / "backups"
    with pytest.raises(StoreUnavailable, match="pg_dump failed"):
        backup_store(url, folder / backup_name(url, datetime.now(UTC)))
    assert _left_in(folder) == []


def test_a_postgres_dump_that_cannot_be_read_is_not_kept(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dump ``pg_restore --list`` cannot read fails the backup and is deleted."""
    upgrade_schema(make_engine(postgres_url))
    real_run = subprocess.run

    def garbled_dump(command: list[str], **options: Any) -> Any:
        done = real_run(command, **options)
        if command[0] == "pg_dump":
            dump = Path(next(arg for arg in command if arg.startswith("--file="))[7:])
            dump.write_bytes(random.Random(7).randbytes(4096))
        return done

    monkeypatch.setattr(backup_module.subprocess, "run", garbled_dump)
    folder = tmp_path / "backups"
    with pytest.raises(BackupUnusable, match="pg_restore failed"):
        backup_store(postgres_url, folder / backup_name(postgres_url, datetime.now(UTC)))
    assert _left_in(folder) == []


@pytest.mark.slow
def test_a_backup_of_an_older_revision_restored_over_a_newer_store_is_that_backup(
    store_url: str, tmp_path: Path
) -> None:
    """Restored over a store at head, a backup taken at revision 1900 leaves the store at 1900
    with none of the later revisions' tables, so the upgrade to head runs and gives the backed-up
    rows (on PostgreSQL the later tables used to stay, and every upgrade failed on them)."""
    _stored_day(store_url)
    _downgrade(store_url, "1900")
    backup = backup_store(store_url, tmp_path / backup_name(store_url, datetime.now(UTC)))
    upgrade_schema(make_engine(store_url))
    backed_up = data_checksums(store_url)
    with make_engine(store_url).begin() as connection:
        connection.execute(delete(RUNNERS))

    restore_store(store_url, backup)
    assert stored_revisions(make_engine(store_url)) == {"1900"}
    upgrade_schema(make_engine(store_url))
    assert data_checksums(store_url) == backed_up
