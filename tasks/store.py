"""Store housekeeping: schema upgrades and whether history needs warming up."""

from __future__ import annotations

from datetime import date, timedelta

from config import Settings
from raceday.store.catalogs.races import history_bounds
from raceday.store.engine import upgrade_schema
from tasks.common import engine_for, logger, stage


@stage("prepare-store")
def prepare_store(settings: Settings) -> None:
    """Bring the store's schema to the latest migration (a no-op when it is current)."""
    upgrade_schema(engine_for(settings))


@stage("history-gap")
def history_gap(settings: Settings, race_date: date) -> tuple[date, date] | None:
    """The prior days to ingest first when the store has no settled history before the date."""
    days = settings.history.warmup_days
    if days == 0:
        return None
    with engine_for(settings).connect() as connection:
        _first, last = history_bounds(connection, before=race_date)
    if last is not None:
        return None
    start, end = race_date - timedelta(days=days), race_date - timedelta(days=1)
    logger().info("empty history: warming up with %s..%s (%d days)", start, end, days)
    return start, end
