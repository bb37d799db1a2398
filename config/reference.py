"""Reference tables kept as small files next to this module, with typed loaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

REFERENCE_DIR = Path(__file__).parent / "reference"


@dataclass(frozen=True)
class RolloutStage:
    """One step of the operating plan's rollout (seed 000: months 1-3)."""

    name: str
    races_per_day: int
    stake_scale: float
    description: str


@cache
def load_venues() -> pd.DataFrame:
    """Known venues: keibajo_code (2 digits), name_ja, name_en, region, circuit (nar / jra)."""
    return pd.read_csv(REFERENCE_DIR / "venues.csv", dtype={"keibajo_code": "string"})


def venue_names() -> dict[str, str]:
    """keibajo_code -> Japanese venue name (NAR and JRA)."""
    venues = load_venues()
    return dict(zip(venues["keibajo_code"], venues["name_ja"], strict=True))


def nar_venue_codes() -> frozenset[str]:
    """The flat NAR keibajo_codes in scope (ban-ei 83 is not)."""
    venues = load_venues()
    return frozenset(venues.loc[venues["circuit"] == "nar", "keibajo_code"])


def jra_venue_codes() -> frozenset[str]:
    """The JRA keibajo_codes 01-10."""
    venues = load_venues()
    return frozenset(venues.loc[venues["circuit"] == "jra", "keibajo_code"])


def known_venue_codes() -> frozenset[str]:
    """Every venue the pipeline knows: NAR and JRA."""
    return frozenset(load_venues()["keibajo_code"])


@cache
def load_rollout_stages() -> dict[str, RolloutStage]:
    """pilot / ramp / full from rollout_stages.yaml."""
    raw = yaml.safe_load((REFERENCE_DIR / "rollout_stages.yaml").read_text(encoding="utf-8"))
    return {name: RolloutStage(name=name, **fields) for name, fields in raw["stages"].items()}


@dataclass(frozen=True)
class WinPools:
    """Expected win-pool sizes (yen) per race: by venue, times a factor by class letter."""

    pool_by_venue_yen: dict[str, float]
    default_pool_yen: float
    class_factors: dict[str, float]


@cache
def load_win_pools(path: Path = REFERENCE_DIR / "win_pools.yaml") -> WinPools:
    """Win-pool estimates from win_pools.yaml: sales per race times the win bets' share."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    share = float(raw["win_share"])
    pools = {
        str(code): float(venue["annual_sales_yen"]) / float(venue["races_per_year"]) * share
        for code, venue in raw["venues"].items()
    }
    return WinPools(
        pool_by_venue_yen=pools,
        default_pool_yen=float(raw["default_annual_sales_per_race_yen"]) * share,
        class_factors={str(k): float(v) for k, v in raw["class_factors"].items()},
    )
