"""A race's final odds are a pool as its snapshot is: Σ 1/odds out of 1.0-1.5 (every price 1.0,
every price ten times too long) sets the race aside in the results phase, as the card phase does
with its snapshot, instead of settling bets and pricing the market on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.reference import circuit_venue_codes
from data_checks.validate import validate_day
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay

DAY = date(2026, 3, 6)


@cache
def simulated() -> RawDay:
    return simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6, seed=11)).raw


def _race_rows(se: pd.DataFrame, race_bango: str) -> pd.Series:
    return se["race_bango"].astype("string") == race_bango


def _results(raw: RawDay, se: pd.DataFrame) -> tuple[set[str], set[str]]:
    valid = validate_day(
        replace(raw, nvd_se=se), phase="results", venue_codes=circuit_venue_codes("nar")
    )
    return set(valid.races["race_id"]), set(valid.quarantine["check_name"])


def test_a_clean_day_keeps_every_race() -> None:
    raw = simulated()
    kept, failed = _results(raw, raw.nvd_se)
    assert len(kept) == 6 and "final_overround_plausible" not in failed


@given(
    scale=st.one_of(st.floats(0.05, 0.6), st.floats(2.5, 12.0)),
    race=st.sampled_from(["01", "03", "06"]),
)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_final_pool_out_of_range_sets_its_race_aside(scale: float, race: str) -> None:
    """Every finisher's final odds scaled (popularity order kept, so no other odds check fires):
    the race is set aside by ``final_overround_plausible``, the day's other races kept."""
    raw = simulated()
    se = raw.nvd_se.copy()
    rows = _race_rows(se, race)
    odds = pd.to_numeric(se.loc[rows, "tansho_odds"], errors="coerce")
    priced = rows & (pd.to_numeric(se["tansho_odds"], errors="coerce") > 0)
    scaled = (odds[priced[rows]] * scale).clip(10, 9999).round().astype(int)
    se.loc[scaled.index, "tansho_odds"] = scaled.map("{:04d}".format)
    race_id = next(r for r in (set(_results(raw, raw.nvd_se)[0])) if r.endswith(race))
    kept, failed = _results(raw, se)
    assert race_id not in kept and len(kept) == 5
    assert "final_overround_plausible" in failed


def test_every_final_price_at_1_0_sets_the_race_aside() -> None:
    """All final odds 1.0 (Σ 1/odds = field size): the race is not settled at 1.0 on every horse."""
    raw = simulated()
    se = raw.nvd_se.copy()
    rows = _race_rows(se, "02") & (pd.to_numeric(se["tansho_odds"], errors="coerce") > 0)
    se.loc[rows, "tansho_odds"] = "0010"
    kept, failed = _results(raw, se)
    assert len(kept) == 5 and "final_overround_plausible" in failed
