"""The boat simulator's knobs and the real figures it is calibrated to.

Course win shares (1着率 by 進入コース): nationwide course 1 wins about 55%, courses 2-6 about
14.5 / 12.0 / 10.2 / 5.4 / 1.6% (issue 18, from the official yearly statistics). Per venue course 1
ranges from about 41% (戸田, the narrowest water) to about 66% (大村, 徳山); the figures below are
approximations in that range (docs/BOAT.md), weighted so that the all-venue mean is 55%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

NATIONAL_COURSE_WIN_SHARES: Final = (0.55, 0.145, 0.120, 0.102, 0.054, 0.016)
OUTER_COURSE_WEIGHTS: Final = NATIONAL_COURSE_WIN_SHARES[1:]

VENUE_COURSE1_WIN_SHARE: Final = {
    "01": 0.52, "02": 0.41, "03": 0.46, "04": 0.45, "05": 0.55, "06": 0.53, "07": 0.57,
    "08": 0.59, "09": 0.57, "10": 0.55, "11": 0.52, "12": 0.57, "13": 0.59, "14": 0.50,
    "15": 0.55, "16": 0.56, "17": 0.56, "18": 0.66, "19": 0.60, "20": 0.55, "21": 0.61,
    "22": 0.51, "23": 0.58, "24": 0.66,
}  # fmt: skip
NIGHT_VENUES: Final = frozenset({"01", "07", "12", "15", "20", "24"})  # ナイター: later deadlines
BRANCHES: Final = (
    "群馬", "埼玉", "東京", "静岡", "愛知", "三重", "福井", "滋賀", "大阪", "兵庫", "徳島",
    "香川", "岡山", "広島", "山口", "福岡", "佐賀", "長崎",
)  # fmt: skip
ODDS_SNAPSHOTS: Final = (  # name, minutes before the deadline (None: the morning), extra noise sd
    ("morning", None, 0.60), ("T-60", 60, 0.40), ("T-30", 30, 0.30), ("T-15", 15, 0.22),
    ("T-10", 10, 0.16), ("T-5", 5, 0.10), ("T-2", 2, 0.05), ("final", 0, 0.0),
)  # fmt: skip
MORNING_SNAPSHOT_HOUR: Final = 8


@dataclass(frozen=True)
class BoatSimulatorConfig:
    """Knobs of the boat simulator; its output is a deterministic function of these and the date."""

    seed: int = 20260401
    venues_per_day: int = 13  # 12 races each: 156 races, a busy day (24 at most)
    races_per_venue: int = 12
    racers: int = 1600  # the registered racers (~1,600 in reality)
    takeout: float = 0.25
    skill_weight: float = 0.45  # logit per point of national win rate above the race's mean
    motor_weight: float = 0.015  # logit per 2連率 point of the motor above the race's mean
    market_noise_sd: float = 0.30  # the final odds' error about the true strengths (logits)
    cancel_rate: float = 0.003  # races cancelled (中止)
    withdrawal_rate: float = 0.005  # races with a boat withdrawn before the start (K0/K1)
    flying_rate: float = 0.012  # races with a flying start (F)
    late_rate: float = 0.002  # races with a late start (L0/L1)
    disqualification_rate: float = 0.012  # races with a boat disqualified in the race (S0-S2)
    dead_heat_rate: float = 0.002  # races whose first place is a dead heat (同着)
    front_taking_rate: float = 0.04  # races where an outside boat takes an inner course (前付け)
    # Racers' own tendencies, drawn from their own random streams (population: [seed, 3]; a
    # race: [seed, 3, race_id]) so every other draw stays as it was; all 0: the simulator of
    # before, byte for byte.
    front_taker_share: float = 0.08  # racers who take an inner course (前付け) when outside
    front_taker_rate: float = 0.5  # how often such a racer, drawn in lane 3-6, moves in
    start_skill_sd: float = 0.02  # spread of the racers' mean start timing (s) about the field's
    start_weight: float = 10.0  # logit per second of mean ST faster than the race's

    def __post_init__(self) -> None:
        if not 1 <= self.venues_per_day <= 24:
            raise ValueError(f"venues_per_day must be 1..24, not {self.venues_per_day}")
        if not 1 <= self.races_per_venue <= 12:
            raise ValueError(f"races_per_venue must be 1..12, not {self.races_per_venue}")
        if not 0 < self.takeout < 1:
            raise ValueError(f"takeout must be between 0 and 1, not {self.takeout}")
        if self.racers < 24 * 36:
            raise ValueError("racers must be enough for 24 venues of 36")


def venues_for_races(races_per_day: int) -> int:
    """How many venues (12 races each) offer about ``races_per_day`` races: 1..24."""
    return max(1, min(24, round(races_per_day / 12)))
