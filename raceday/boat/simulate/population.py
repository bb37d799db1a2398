"""The racers, and each venue's motors and boats, drawn once per seed.

A racer's skill sets the national win rate (勝率, points per race: 1st 10, 2nd 8, ... 6th 1; the
field runs from about 1 to 9) and the class (A1 the best 20%, A2 the next 20%, B1 the next 50%,
B2 the last 10%), so classes and rates agree as they do in the official tables.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.codes import VENUES
from raceday.boat.simulate.config import BRANCHES, BoatSimulatorConfig

SURNAMES: Final = (
    "青木", "石田", "上原", "遠藤", "岡村", "川端", "北野", "久保", "小池", "坂口", "篠原",
    "杉浦", "高畑", "竹内", "千葉", "土屋", "徳永", "中川", "西岡", "野口", "浜田", "平井",
    "福本", "堀", "松尾", "三浦", "村上", "森", "安田", "山根", "吉岡", "渡部", "堤", "辻",
)  # fmt: skip
GIVEN_NAMES: Final = (
    "翔", "健太", "大輔", "亮", "誠", "拓也", "直樹", "浩", "隆", "勇気", "優", "剛", "昇",
    "聡", "航", "陽介", "美咲", "彩", "真由", "香織", "遥", "恵", "守", "修",
)  # fmt: skip
CLASS_QUANTILES: Final = ((0.8, "A1"), (0.6, "A2"), (0.1, "B1"), (0.0, "B2"))


def racers(config: BoatSimulatorConfig) -> pd.DataFrame:
    """The registered racers: id, name, age, branch, weight, class, skill, national rates and
    tendencies (:func:`tendencies`)."""
    rng = np.random.default_rng([config.seed, 1])
    count = config.racers
    skill = rng.normal(0.0, 1.0, count)
    rank = skill.argsort().argsort() / (count - 1)
    racer_class = np.select(
        [rank >= q for q, _ in CLASS_QUANTILES], [c for _, c in CLASS_QUANTILES], "B2"
    )
    win_rate = np.clip(5.2 + 1.3 * skill + rng.normal(0, 0.25, count), 1.0, 9.5)
    top2 = np.clip(9.0 * win_rate - 18 + rng.normal(0, 3, count), 0.0, 80.0)
    drawn = pd.DataFrame(
        {
            "racer_id": [f"{number}" for number in rng.choice(np.arange(3000, 5400), count, False)],
            "surname": rng.choice(SURNAMES, count),
            "given_name": rng.choice(GIVEN_NAMES, count),
            "age": rng.integers(20, 60, count),
            "branch": rng.choice(BRANCHES, count),
            "weight_kg": rng.integers(47, 58, count),
            "racer_class": racer_class,
            "skill": skill,
            "national_win_rate": win_rate.round(2),
            "national_top2_pct": top2.round(2),
        }
    )
    return pd.concat([drawn, tendencies(config, count)], axis=1)


def tendencies(config: BoatSimulatorConfig, count: int) -> pd.DataFrame:
    """Each racer's 前付け habit and mean start-timing offset (s), from a stream of their own
    so that the racers' other draws stay as they were."""
    rng = np.random.default_rng([config.seed, 3])
    return pd.DataFrame(
        {
            "front_taker": rng.random(count) < config.front_taker_share,
            "start_offset": rng.normal(0.0, 1.0, count) * config.start_skill_sd,
        }
    )


def equipment(config: BoatSimulatorConfig) -> pd.DataFrame:
    """Each venue's motors and boats: number and 2連率 (%); some venues number boats 100+."""
    rng = np.random.default_rng([config.seed, 2])
    rows = []
    for index, venue in enumerate(VENUES):
        motors = np.arange(11, 71)
        boats = np.arange(101, 161) if index % 2 else np.arange(11, 71)
        motor_rates = np.clip(rng.normal(33, 8, motors.size), 5, 100).round(2)
        boat_rates = np.clip(rng.normal(33, 6, boats.size), 5, 100).round(2)
        motor_rates[rng.random(motors.size) < 0.01] = 100.0  # a new motor, few races, all top 2
        boat_rates[rng.random(boats.size) < 0.01] = 100.0
        rows.append(
            pd.DataFrame(
                {
                    "venue_code": venue.code,
                    "motor_no": motors,
                    "motor_top2_pct": motor_rates,
                    "boat_no": boats,
                    "boat_top2_pct": boat_rates,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
