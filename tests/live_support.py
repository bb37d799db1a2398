"""Race-time tests' shared parts: a simulated day written as files, and a stand-in model that
disagrees with the market enough to bet (the market's own view never has an edge)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from raceday.model.win import market_predictions
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.files import write_tables

LONGSHOT_MODEL = "test-longshot"


def write_simulated_files(directory: Path, start: date, end: date, races: int) -> Path:
    """Simulated days ``start``..``end`` (``races`` a day) as nvd_* CSV files."""
    simulated = simulate_days(start, end, SimulatorConfig(races_per_day=races))
    write_tables(simulated.raw, directory, "csv")
    return directory


def longshot_predictions(
    _model: object,
    _why: str,
    runners: pd.DataFrame,
    odds: pd.DataFrame,
    _features: pd.DataFrame | None,
) -> tuple[pd.DataFrame, str | None]:
    """A stand-in for ``predictions_or_market``: the market's probabilities flattened
    (``p ∝ q ** 0.6``), so longshots carry an edge at the odds and the staking has work to do."""
    market = market_predictions(runners, odds)
    flattened = market["p_market"].astype("float64") ** 0.6
    p = flattened / flattened.groupby(market["race_id"]).transform("sum")
    return market.assign(
        model_version=LONGSHOT_MODEL, p_model=np.asarray(p), p_final=np.asarray(p)
    ), None
