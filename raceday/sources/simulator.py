"""The built-in race source: simulated days (``raceday.simulate``) as PC-KEIBA tables."""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection
from datetime import date
from typing import Final

from raceday.simulate.calendar import schedule
from raceday.simulate.circuits import circuit_of
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import dates_between, simulate_day, simulate_days
from raceday.simulate.messy import no_racing_day
from raceday.sources.base import RawDay, join_lanes, rows_of_venues


class SimulatorSource:
    """The built-in race source: simulated NAR days as PC-KEIBA tables (no truth)."""

    name = "sim"

    def __init__(self, config: SimulatorConfig = SimulatorConfig()) -> None:
        """A source simulating with ``config``."""
        self.config = config

    def venues(self, start: date, end: date) -> list[str]:
        """The venues the calendar races from ``start`` to ``end`` (nothing is simulated)."""
        days = dates_between(start, end)
        if self.config.profile == "messy":
            days = [day for day in days if not no_racing_day(self.config.seed, day)]
        racing = {v for day in days for v, _n in schedule(self.config, day.toordinal())}
        return sorted(circuit_of(self.config).venues[v].code for v in racing)

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Every simulated race from ``start`` to ``end`` inclusive (of ``venues`` only, if given).

        Reading venue by venue simulates each day once (kept for the next venues' reads):
        a venue's rows are exactly its rows of the whole day.
        """
        if venues is None:
            return simulate_days(start, end, self.config).raw
        return join_lanes(
            [
                rows_of_venues(_simulated_day(self.config, day), venues)
                for day in dates_between(start, end)
            ]
        )


_SIMULATED_DAYS_LOCK: Final = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached_day(config: SimulatorConfig, day: date) -> RawDay:
    tables = simulate_day(config, day)
    return RawDay(nvd_ra=tables.ra, nvd_se=tables.se, nvd_o1=tables.o1)


def _simulated_day(config: SimulatorConfig, day: date) -> RawDay:
    """One simulated day's tables, simulated once per (config, day) however many venues read it
    at the same time (callers filter it; nobody changes it in place)."""
    with _SIMULATED_DAYS_LOCK:
        return _cached_day(config, day)
