"""Backup: a consistent copy of the store, then the oldest copies beyond the retention deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from config import Settings, load_settings
from raceday.backup import backup_name, backup_store, backups_in, to_prune
from tasks.alerts import alert_on_flow_failure
from tasks.common import io_task_options, logger


@task(name="backup-store", cache_policy=NONE)
def backup_task(settings: Settings) -> dict[str, Any]:
    """Write one backup file and prune the old ones; returns what was kept and removed."""
    url = settings.database_url
    folder = settings.backups_dir
    path = backup_store(url, folder / backup_name(url, datetime.now().astimezone()))
    pruned = to_prune(backups_in(folder), settings.backup.keep)
    for old in pruned:
        old.unlink(missing_ok=True)
    logger().info("backup %s (%d bytes); pruned %d", path, path.stat().st_size, len(pruned))
    return {
        "backup": str(path.resolve()),
        "bytes": path.stat().st_size,
        "pruned": [old.name for old in pruned],
        "kept": len(backups_in(folder)),
    }


@flow(name="backup", log_prints=False, on_failure=[alert_on_flow_failure])
def backup() -> dict[str, Any]:
    """Back up the store (SQLite backup API / pg_dump) and keep the newest ``backup.keep``;
    the store is the settings' (``RACEDAY_DB_URL``), never a parameter."""
    settings = load_settings()
    result: dict[str, Any] = backup_task.with_options(**io_task_options(settings))(settings)
    return result
