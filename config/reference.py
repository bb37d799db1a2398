"""Reference tables kept as small files next to this module, with typed loaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from raceday.sport import CIRCUITS, Circuit, Venue, circuit_named, venue_codes, with_venues

if TYPE_CHECKING:
    import pandas as pd

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
    """Known venues: keibajo_code (2 digits), name_ja, name_en, region, circuit (its
    :mod:`raceday.sport` name: nar / jra)."""
    import pandas as pd  # here: the settings (and so every command's start) need no pandas

    return pd.read_csv(REFERENCE_DIR / "venues.csv", dtype={"keibajo_code": "string"})


def venue_names() -> dict[str, str]:
    """keibajo_code -> Japanese venue name (every circuit's)."""
    venues = load_venues()
    return dict(zip(venues["keibajo_code"], venues["name_ja"], strict=True))


def venue_romanised_names() -> dict[str, str]:
    """keibajo_code -> romanised venue name (``Urawa``), where the reference has one."""
    venues = load_venues().dropna(subset=["name_en"])
    return dict(zip(venues["keibajo_code"], venues["name_en"], strict=True))


@cache
def circuits() -> tuple[Circuit, ...]:
    """Every circuit of :mod:`raceday.sport` with its venues from venues.csv (its ``circuit``
    column names the circuit); ValueError for a venue of a circuit the pipeline does not know."""
    venues = load_venues()
    unknown = sorted(set(venues["circuit"]) - {circuit.name for circuit in CIRCUITS})
    if unknown:
        raise ValueError(f"venues.csv names unknown circuit(s) {', '.join(unknown)}")
    return tuple(
        with_venues(
            circuit,
            (
                Venue(row.keibajo_code, row.name_ja, row.name_en, row.region)
                for row in venues[venues["circuit"] == circuit.name].itertuples()
            ),
        )
        for circuit in CIRCUITS
    )


def circuit_venue_codes(name: str) -> frozenset[str]:
    """The keibajo_codes of the circuit called ``name`` (``nar``: the flat venues, ban-ei 83 is
    not one; ``jra``: 01-10)."""
    return circuit_named(name, circuits()).venue_codes


def known_venue_codes() -> frozenset[str]:
    """Every venue the pipeline knows, of every circuit."""
    return venue_codes(circuits())


@cache
def venue_time_zones() -> dict[str, str]:
    """keibajo_code -> IANA time zone of the venues whose exports write their post times and
    odds stamps on another clock than Japan's (venue_time_zones.csv: ``G0`` Hong Kong); every
    other venue keeps Japan time."""
    import csv

    with (REFERENCE_DIR / "venue_time_zones.csv").open(encoding="utf-8", newline="") as table:
        return {row["keibajo_code"]: row["time_zone"] for row in csv.DictReader(table)}


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
