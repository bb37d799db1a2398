"""Backup: a consistent copy of the store, then the oldest copies beyond the retention deleted."""

from __future__ import annotations

from typing import Any

from config import load_settings
from flows.alerting import alerting_flow, today_run_name
from tasks.backup import backup_task
from tasks.common import AsTasks
from tasks.locks import store_in_use


@alerting_flow("backup", today_run_name)
def backup() -> dict[str, Any]:
    """Back up the store (SQLite backup API / pg_dump) and keep the newest ``backup.keep``;
    the store is the settings' (``RACEDAY_DB_URL``), never a parameter, held from restores
    while it is copied (:func:`tasks.locks.store_in_use`: no copy of a half-restored store)."""
    settings = load_settings()
    with store_in_use(settings):
        result: dict[str, Any] = AsTasks(settings)(backup_task, settings)
    return result
