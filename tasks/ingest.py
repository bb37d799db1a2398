"""Ingest: read raw PC-KEIBA tables for a date range from the configured source."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NONE

from config import Settings
from raceday.sources.base import RawDay
from raceday.sources.factory import open_source
from raceday.sources.simulator import SimulatorConfig
from tasks.common import logger, stage_run


def simulator_config(settings: Settings) -> SimulatorConfig:
    """The simulator's configuration from settings."""
    return SimulatorConfig(
        seed=settings.simulator.seed, races_per_day=settings.simulator.races_per_day
    )


@task(name="ingest", cache_policy=NONE)
def ingest(settings: Settings, start: date, end: date, flow_name: str) -> RawDay:
    """Raw races, runners and odds snapshots dated ``start``..``end`` from the source."""
    source = open_source(
        settings.source,
        simulator=simulator_config(settings),
        pckeiba_url=settings.pckeiba_url,
    )
    with stage_run(settings, flow_name, "ingest", end) as record:
        raw = source.read_days(start, end)
        record.rows_out = len(raw.nvd_se)
    logger().info(
        "ingested %d races, %d runners from %s for %s..%s",
        len(raw.nvd_ra),
        len(raw.nvd_se),
        settings.source,
        start,
        end,
    )
    return raw
