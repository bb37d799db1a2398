"""Simulated days: one day's tables, a function of (config, day) only, and a range of days."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from raceday.simulate.card import plan_day
from raceday.simulate.circuits import circuit_of
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.encode import DayTables, empty_day_tables, encode_day
from raceday.simulate.messy import messy_day
from raceday.simulate.race import run_races
from raceday.sources.base import RawDay


@dataclass(frozen=True)
class SimulatedDays:
    """Simulated PC-KEIBA tables and the truth behind them (never shown to the pipeline)."""

    raw: RawDay
    truth: pd.DataFrame


def simulate_days(
    start: date, end: date, config: SimulatorConfig = SimulatorConfig()
) -> SimulatedDays:
    """Every simulated race from ``start`` to ``end`` inclusive, with its truth table."""
    tables = [simulate_day(config, day) for day in dates_between(start, end)] or [
        empty_day_tables()
    ]
    return SimulatedDays(
        raw=RawDay(
            nvd_ra=_concat([t.ra for t in tables]),
            nvd_se=_concat([t.se for t in tables]),
            nvd_o1=_concat([t.o1 for t in tables]),
        ),
        truth=_concat([t.truth for t in tables]),
    )


def dates_between(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end`` inclusive (none when ``end`` is before ``start``)."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def simulate_day(config: SimulatorConfig, day: date) -> DayTables:
    """One day's tables; a function of (config, day) only."""
    if config.profile == "messy":
        # The clean engine (its caches keyed by the clean config) with the messy card, then the
        # rest of the mess written over the tables.
        tables = _simulate_clean_day(replace(config, profile="clean"), day, messy=True)
        venue_codes = [venue.code for venue in circuit_of(config).venues]
        return messy_day(tables, config.seed, day, venue_codes)
    return _simulate_clean_day(config, day)


def _simulate_clean_day(config: SimulatorConfig, day: date, messy: bool = False) -> DayTables:
    """One day's tables from the engine (``messy``: with the messy profile's card)."""
    rng = np.random.default_rng([config.seed, day.toordinal()])
    card = plan_day(config, day, rng, messy)
    if card is None:
        return empty_day_tables()
    result = run_races(config, day, card, rng)
    return encode_day(config, day, card, result, rng)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [frame for frame in frames if not frame.empty]
    if not non_empty:
        return frames[0]
    return pd.concat(non_empty, ignore_index=True)
