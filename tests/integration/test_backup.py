"""Backups: a backup restored over a changed store brings back exactly the backed-up rows;
retention keeps the newest copies (SQLite backup API, and pg_dump/pg_restore on PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete

from config import load_settings
from raceday.errors import InputError
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.backup import backups_in, restore_store
from raceday.store.catalogs.races import RUNNERS
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
