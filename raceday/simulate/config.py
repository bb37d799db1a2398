"""The simulator's knobs: its output is a deterministic function of these and the date."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
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
    # The odds timeline (raceday.simulate.odds, docs/PIPELINE.md "The odds timeline"): snapshots
    # this many minutes before each post time, and the share of the final win pool in each;
    # the public's error shrinks from the morning's to 0 at the close as the pool fills.
    snapshot_minutes: tuple[int, ...] = (60, 30, 15, 10, 5, 2)
    snapshot_pool_shares: tuple[float, ...] = (0.12, 0.16, 0.22, 0.26, 0.34, 0.55)
    morning_pool_share: float = 0.07
    drift_exponent: float = 0.488  # (interim - final share)^2 ~ votes^-0.488 (Mori, Hisakado)
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
        self._check_timeline()
        if any(not 0 <= rate <= 0.1 for rate in rates):
            raise ValueError("scratch, non-finisher and missing-field rates must be in [0, 0.1]")

    def _check_timeline(self) -> None:
        minutes, shares = self.snapshot_minutes, self.snapshot_pool_shares
        if len(minutes) != len(shares):
            raise ValueError("snapshot_minutes and snapshot_pool_shares must be as long")
        if any(m <= 0 for m in minutes) or list(minutes) != sorted(minutes, reverse=True):
            raise ValueError("snapshot_minutes must be positive and decreasing")
        ordered = (self.morning_pool_share, *shares)
        rising = all(a < b for a, b in pairwise(ordered))
        if not (ordered[0] > 0 and rising and ordered[-1] < 1):
            raise ValueError("pool shares must rise from the morning's, between 0 and 1")
        if self.drift_exponent <= 0:
            raise ValueError(f"drift_exponent must be positive, not {self.drift_exponent}")
