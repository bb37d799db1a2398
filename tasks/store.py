"""Store housekeeping: schema upgrades and whether history needs warming up."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from config import Settings
from raceday.store.catalogs.races import history_bounds
from raceday.store.catalogs.runs import (
    WARM_UP_STAGE,
    WARM_UP_STARTED,
    record_stage_run,
    warm_up_cut_short,
)
from raceday.store.engine import upgrade_schema
from tasks.common import engine_for, logger, stage, stage_run_row


@stage("prepare-store")
def prepare_store(settings: Settings) -> None:
    """Bring the store's schema to the latest migration (a no-op when it is current)."""
    upgrade_schema(engine_for(settings))


@stage("history-gap")
def history_gap(settings: Settings, race_date: date) -> tuple[date, date] | None:
    """The prior days to ingest first when the store has no settled history before the date,
    or when its warm-up was cut short (results stored, not derived: reference times, first 3F
    and indexes missing for every day of it). A warm-up decided here is recorded started;
    :func:`warm_up_done` records it completed."""
    days = settings.history.warmup_days
    if days == 0:
        return None
    start, end = race_date - timedelta(days=days), race_date - timedelta(days=1)
    with engine_for(settings).begin() as connection:
        _first, last = history_bounds(connection, before=race_date)
        cut_short = warm_up_cut_short(connection)
        if last is not None and cut_short is None:
            return None
        record_stage_run(
            connection, stage_run_row(WARM_UP_STAGE, end, WARM_UP_STARTED, datetime.now())
        )
    if cut_short is not None:
        logger().warning(
            "the warm-up up to %s was cut short (stored, never derived): warming up again with "
            "%s..%s (%d days)",
            cut_short,
            start,
            end,
            days,
        )
    else:
        logger().info("empty history: warming up with %s..%s (%d days)", start, end, days)
    return start, end


@stage("warm-up-done")
def warm_up_done(settings: Settings, end: date) -> None:
    """The warm-up up to ``end`` stored and derived: recorded completed."""
    with engine_for(settings).begin() as connection:
        record_stage_run(connection, stage_run_row(WARM_UP_STAGE, end, "completed", datetime.now()))
