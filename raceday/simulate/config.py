"""The simulator's knobs: its output is a deterministic function of these and the date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PROFILES: Final = ("clean", "messy")
CIRCUITS: Final = ("nar", "jra")


@dataclass(frozen=True)
class SimulatorConfig:
    """Knobs of the simulator; its output is a deterministic function of these and the date."""

    seed: int = 20261121
    races_per_day: int = 200  # races offered per day across venues (real NAR offers ~40-60)
    races_per_venue: float = 12.0  # venues racing = races_per_day / this, at most all 14
    max_races_per_venue: int = 16
    takeout: float = 0.20
    ability_sd: float = 2.2  # logits, the venue population's spread of base ability
    class_rating_sd: float = 1.8  # how loosely a class fits current ability (persistent part)
    form_noise_sd: float = 0.45  # day form, part of the true strength
    market_noise_sd: float = 0.58  # the public's error about strength (final odds)
    market_gamma: float = 0.80  # favourite-longshot bias: shares ~ exp(gamma * public strength)
    snapshot_noise_sd: float = 0.35  # extra error of the morning odds snapshot
    cancel_rate: float = 0.007  # 取消: scratched before the race, no odds
    exclusion_rate: float = 0.003  # 除外: excluded at the gate, odds refunded
    dnf_rate: float = 0.0025  # 中止: started, did not finish
    disqualification_rate: float = 0.0002  # 失格
    missing_last3f_rate: float = 0.003
    missing_body_weight_rate: float = 0.002
    profile: str = "clean"  # or "messy": what real exports hold (raceday.simulate.messy)
    circuit: str = "nar"  # or "jra": JRA venues, turf and dirt, JRA classes (jvd_* tables)

    def __post_init__(self) -> None:
        if self.circuit not in CIRCUITS:
            raise ValueError(f"circuit must be one of {', '.join(CIRCUITS)}, not {self.circuit!r}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if not 0 <= self.races_per_day <= 14 * 40:
            raise ValueError(f"races_per_day must be 0..560, not {self.races_per_day}")
        if self.races_per_venue <= 0 or self.max_races_per_venue < 1:
            raise ValueError("races_per_venue and max_races_per_venue must be positive")
        if not 0 < self.takeout < 1:
            raise ValueError(f"takeout must be between 0 and 1, not {self.takeout}")
        rates = (
            self.cancel_rate, self.exclusion_rate, self.dnf_rate, self.disqualification_rate,
            self.missing_last3f_rate, self.missing_body_weight_rate,
        )  # fmt: skip
        if any(not 0 <= rate <= 0.1 for rate in rates):
            raise ValueError("scratch, non-finisher and missing-field rates must be in [0, 0.1]")
