"""Simulated boat racing days: the B and K text of each day, the odds timeline, the truth, and
the frames the parsers must read back from the text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raceday.boat import layout
from raceday.boat.files import (
    B_ENTRY_COLUMNS,
    B_RACE_COLUMNS,
    K_RACE_COLUMNS,
    K_RESULT_COLUMNS,
    PAYOUT_COLUMNS,
)
from raceday.boat.simulate import population
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.odds import odds_timeline
from raceday.boat.simulate.race import (
    SimulatedRace,
    day_venues,
    simulate_venue_day,
    venue_card_pool,
)
from raceday.boat.simulate.text import program_text, results_text


@dataclass(frozen=True)
class SimulatedBoatDays:
    """Simulated days: text per day, and the frames a reader of that text must get back."""

    program_texts: dict[date, str]  # Byymmdd.TXT
    result_texts: dict[date, str]  # Kyymmdd.TXT
    odds: pd.DataFrame  # boat_odds.csv
    program_races: pd.DataFrame
    entries: pd.DataFrame
    result_races: pd.DataFrame
    results: pd.DataFrame
    payouts: pd.DataFrame
    truth: pd.DataFrame  # race_id, boat, course, p_win: the true win probabilities


def simulate_boat_days(
    first: date, last: date, config: BoatSimulatorConfig | None = None
) -> SimulatedBoatDays:
    """Every day from ``first`` to ``last``; the same config and dates give the same output."""
    config = config or BoatSimulatorConfig()
    racers = population.racers(config)
    equipment = population.equipment(config)
    programs, results, races_by_day = {}, {}, []
    odds = []
    day = first
    while day <= last:
        rng = np.random.default_rng([config.seed, day.toordinal()])
        races: list[SimulatedRace] = []
        for venue_code in day_venues(config, rng):
            pool = population_for(racers, equipment, venue_code, rng)
            races += simulate_venue_day(config, day, venue_code, pool, rng)
        programs[day], results[day] = program_text(day, races), results_text(day, races)
        odds.append(odds_timeline(races, rng, config.takeout))
        races_by_day += races
        day += timedelta(days=1)
    return SimulatedBoatDays(
        programs, results, pd.concat(odds, ignore_index=True), *_frames(races_by_day)
    )


def population_for(
    racers: pd.DataFrame, equipment: pd.DataFrame, venue_code: str, rng: np.random.Generator
) -> pd.DataFrame:
    """The venue's racers of the day (with local rates, motors and boats)."""
    return venue_card_pool(racers, equipment, venue_code, rng)


def _frames(
    races: list[SimulatedRace],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    program_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    result_race_rows: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    payout_rows: list[dict[str, Any]] = []
    truth_rows: list[dict[str, Any]] = []
    for simulated in races:
        race = simulated.race
        program_rows.append({k: race[k] for k in B_RACE_COLUMNS})
        result_race_rows.append({k: race.get(k) for k in K_RACE_COLUMNS})
        for entry in simulated.card:
            named = {**entry, "race_id": race["race_id"],
                     "racer_name": entry["surname"] + entry["given_name"]}  # fmt: skip
            entry_rows.append({column: named[column] for column in B_ENTRY_COLUMNS})
        result_rows += [{"race_id": race["race_id"], **row} for row in simulated.results]
        payout_rows += [{"race_id": race["race_id"], **row} for row in simulated.payouts]
        truth_rows += [
            {"race_id": race["race_id"], "boat": boat, "p_win": p}
            for boat, p in simulated.p_true.items()
        ]
    return (
        _typed(program_rows, B_RACE_COLUMNS),
        _typed(entry_rows, B_ENTRY_COLUMNS),
        _typed(result_race_rows, K_RACE_COLUMNS),
        _typed(result_rows, K_RESULT_COLUMNS),
        _typed(payout_rows, PAYOUT_COLUMNS),
        pd.DataFrame(truth_rows, columns=["race_id", "boat", "p_win"]),
    )


def _typed(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns)).astype(columns)


def write_boat_days(simulated: SimulatedBoatDays, out_dir: Path) -> list[Path]:
    """Write ``Byymmdd.TXT`` and ``Kyymmdd.TXT`` (CP932) per day, and ``boat_odds.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, texts in (("B", simulated.program_texts), ("K", simulated.result_texts)):
        for day, text in texts.items():
            path = out_dir / f"{kind}{day:%y%m%d}.TXT"
            path.write_bytes(text.encode(layout.ENCODING))
            written.append(path)
    odds_path = out_dir / "boat_odds.csv"
    simulated.odds.to_csv(odds_path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return [*written, odds_path]
