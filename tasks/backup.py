"""Backup: one consistent copy of the store written, the copies beyond the retention pruned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config import Settings
from raceday.store.backup import (
    backup_name,
    backup_store,
    backups_in,
    remove_abandoned_partials,
    to_prune,
)
from tasks.common import logger, stage


@stage("backup-store", io=True)
def backup_task(settings: Settings) -> dict[str, Any]:
    """Remove the partial files killed backups left, write one backup file and prune the old
    ones; returns what was kept and removed."""
    url = settings.database_url
    folder = settings.backups_dir
    abandoned = remove_abandoned_partials(folder)
    if abandoned:
        logger().warning(
            "removed %d partial files left by killed backups: %s",
            len(abandoned),
            ", ".join(path.name for path in abandoned),
        )
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
        "abandoned_removed": [left.name for left in abandoned],
    }
