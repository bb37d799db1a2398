"""Multi-outcome Kelly staking per race (Smoczynski & Tomkins 2010) with risk limits.

For one race with mutually exclusive outcomes (win bets on several horses), sort runners by
expected return ``e = p * d`` (d = decimal odds); add runners while ``e`` exceeds the reserve
rate ``R = (1 - sum p) / (1 - sum 1/d)`` of the set chosen so far; stake ``f = p - R/d`` on each
runner of the final set. With one runner this is ``(p d - 1) / (d - 1)``.

The set is restricted to runners with ``p d > 1`` (and at least the minimum edge). Unrestricted,
S&T can add a runner with ``p d < 1`` once the reserve rate has fallen below its ``p d``: a hedge
that buys lower variance with negative expected return. With estimated probabilities, a runner
the model itself prices as a loser is the last place for money, so we leave hedges out; the
stakes are then the growth-optimal ones among bets on runners with an edge. (Since the reserve
rate starts at 1 and only falls, every runner with ``p d > 1`` is in the set.)

On top of the full-Kelly fractions: a fraction of Kelly, a minimum edge, caps per bet / race /
day (fractions of the bankroll), a cap as a share of the money expected on the horse in the win
pool (local pools are thin: a large bet moves its own odds), a drawdown brake, and whole 100-yen
tickets rounded down. Every function is vectorised over all races of a day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

import numpy as np
import pandas as pd

UNIT_YEN: Final = 100  # Japanese betting unit: stakes are whole 100-yen tickets


@dataclass(frozen=True)
class StakingPolicy:
    """Fractional Kelly with a minimum edge and caps (fractions of the bankroll).

    ``drawdown_soft`` .. ``drawdown_brake``: stakes shrink linearly from full size at the soft
    drawdown to nothing at the brake (equal values make the brake a hard stop).
    ``max_pool_share``: a stake never exceeds this share of the money expected on its horse in
    the win pool; ``takeout`` is the win pool's deduction, used to infer that money from odds.
    """

    name: str = "kelly"
    fraction: float = 0.25
    min_edge: float = 1.05
    max_bet_fraction: float = 0.02
    max_race_fraction: float = 0.05
    max_day_fraction: float = 0.25
    drawdown_soft: float = 0.15
    drawdown_brake: float = 0.30
    max_pool_share: float = 0.02
    takeout: float = 0.20

    def __post_init__(self) -> None:
        checks = {
            "fraction": 0 < self.fraction <= 1,
            "min_edge": self.min_edge >= 1,
            "max_bet_fraction": 0 < self.max_bet_fraction <= 1,
            "max_race_fraction": 0 < self.max_race_fraction <= 1,
            "max_day_fraction": 0 < self.max_day_fraction <= 1,
            "drawdown_brake": 0 < self.drawdown_brake <= 1,
            "drawdown_soft": 0 <= self.drawdown_soft <= self.drawdown_brake,
            "max_pool_share": 0 < self.max_pool_share <= 1,
            "takeout": 0 <= self.takeout < 1,
            "name": 0 < len(self.name) <= 24,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid staking policy parameter(s): {', '.join(bad)} ({self})")

    def to_json(self) -> str:
        """The policy's parameters as recorded on every bet."""
        return json.dumps(asdict(self), sort_keys=True)


def policy_from_settings(name: str, parameters: Mapping[str, Any]) -> StakingPolicy:
    """A policy named ``name`` from a settings mapping (keys that are not parameters ignored)."""
    known = {field.name for field in fields(StakingPolicy)} - {"name"}
    return StakingPolicy(name=name, **{key: parameters[key] for key in known if key in parameters})


def kelly_fractions(
    race_id: pd.Series, p: pd.Series, odds: pd.Series, min_edge: float = 1.0
) -> pd.Series:
    """Full-Kelly bankroll fraction per runner (0 outside the optimal set), per race.

    Only runners with ``p * odds > 1`` and ``>= min_edge`` can be in the set (no hedges). ``p``
    of every runner of the race counts towards the reserve rate, so pass the whole field.
    """
    codes, _ = pd.factorize(race_id)  # integer race keys: grouping on them is much faster
    frame = pd.DataFrame(
        {
            "race": codes,
            "p": p.astype("float64").to_numpy(),
            "d": odds.astype("float64").to_numpy(),
        },
        index=race_id.index,
    )
    frame["e"] = frame["p"] * frame["d"]
    frame["inv_d"] = 1.0 / frame["d"]
    ordered = frame.sort_values(["race", "e"], ascending=[True, False], kind="stable")
    races = ordered["race"]
    # The reserve rate of the set made of every runner ranked above this one.
    cum_p_before = ordered["p"].groupby(races, sort=False).cumsum() - ordered["p"]
    cum_inv_before = ordered["inv_d"].groupby(races, sort=False).cumsum() - ordered["inv_d"]
    room_before = 1.0 - cum_inv_before
    reserve_before = (1.0 - cum_p_before) / room_before.where(room_before > 0)
    has_edge = (ordered["e"] > 1.0) & (ordered["e"] >= min_edge)
    candidate = (ordered["e"] > reserve_before) & has_edge
    # The set is a prefix of the ranking: the first runner that fails ends it.
    chosen = candidate.astype("int8").groupby(races, sort=False).cummin().astype(bool)
    sum_p = ordered["p"].where(chosen, 0.0).groupby(races, sort=False).transform("sum")
    sum_inv = ordered["inv_d"].where(chosen, 0.0).groupby(races, sort=False).transform("sum")
    reserve = (1.0 - sum_p) / (1.0 - sum_inv)
    fraction = (ordered["p"] - reserve / ordered["d"]).where(chosen, 0.0).clip(lower=0.0)
    return fraction.reindex(frame.index).fillna(0.0).rename("kelly_fraction")


def expected_log_growth(p: np.ndarray, odds: np.ndarray, stakes: np.ndarray) -> float:
    """``E[ln wealth]`` of betting fractions ``stakes`` on one race's mutually exclusive runners."""
    kept = 1.0 - stakes.sum()
    p_none = max(0.0, 1.0 - p.sum())
    wealth_if_win = kept + stakes * odds
    growth = float((p * np.log(wealth_if_win)).sum())
    if p_none > 0:
        growth += p_none * float(np.log(kept))
    return growth


def drawdown_scale(drawdown: float, policy: StakingPolicy) -> float:
    """Stake multiplier for the bankroll's drawdown from its peak: 1, shrinking, then 0."""
    if drawdown >= policy.drawdown_brake:
        return 0.0
    if drawdown <= policy.drawdown_soft:
        return 1.0
    return (policy.drawdown_brake - drawdown) / (policy.drawdown_brake - policy.drawdown_soft)


def horse_pool_yen(race_pool_yen: pd.Series, odds: pd.Series, takeout: float) -> pd.Series:
    """Money expected on a horse in the win pool: ``pool * (1 - takeout) / odds``.

    Odds are ``(1 - t) * pool / horse pool``, so the horse's share of the pool follows from its
    odds; only the race's total has to be estimated.
    """
    return race_pool_yen.astype("float64") * (1.0 - takeout) / odds.astype("float64")


def odds_after_stake(
    odds: pd.Series, race_pool_yen: pd.Series, stake_yen: pd.Series, takeout: float
) -> pd.Series:
    """Odds once ``stake_yen`` is added to the horse (and the race pool): ``(1-t)(P+s)/(P_i+s)``.

    For a stake small against the horse's pool the odds fall by about ``s / P_i``.
    """
    pool = race_pool_yen.astype("float64")
    stake = stake_yen.astype("float64")
    horse = horse_pool_yen(pool, odds, takeout)
    return (1.0 - takeout) * (pool + stake) / (horse + stake)


def _floor_units(yen: pd.Series) -> pd.Series:
    return (np.floor(yen.fillna(0.0).to_numpy() / UNIT_YEN + 1e-9) * UNIT_YEN).astype("int64")


def _scale_groups_to_cap(stake: pd.Series, groups: pd.Series, cap_yen: float) -> pd.Series:
    """Shrink each group's stakes proportionally so that its total is at most ``cap_yen``."""
    total = stake.groupby(pd.factorize(groups)[0]).transform("sum")
    factor = np.minimum(1.0, cap_yen / total.where(total > 0, np.inf))
    return stake * factor


def size_stakes(
    candidates: pd.DataFrame,
    bankroll_yen: int,
    policy: StakingPolicy,
    *,
    stake_scale: float = 1.0,
    drawdown: float = 0.0,
) -> pd.DataFrame:
    """Stakes in yen for one day's runners: fractional Kelly and every limit of ``policy``.

    ``candidates`` has ``race_id, umaban, p_final, odds, win_pool_yen`` for every priced runner
    of the day's races (``win_pool_yen``: the race's expected win pool). Returns the candidates
    that get a stake, with ``kelly_fraction`` (full Kelly), ``edge`` (``p * odds``),
    ``stake_yen`` (whole 100-yen units, rounded down) and ``odds_after_bet`` (estimated odds
    once the stake is in the pool).
    """
    return stakes_on_bankroll(
        kelly_candidates(candidates, policy),
        bankroll_yen,
        policy,
        stake_scale=stake_scale,
        drawdown=drawdown,
    )


def kelly_candidates(candidates: pd.DataFrame, policy: StakingPolicy) -> pd.DataFrame:
    """The candidates (of any number of days: each race on its own) with their ``edge`` and
    full-Kelly ``kelly_fraction``: what :func:`size_stakes` sizes before the bankroll counts."""
    frame = candidates.reset_index(drop=True).copy()
    frame["edge"] = frame["p_final"].astype("float64") * frame["odds"].astype("float64")
    frame["kelly_fraction"] = kelly_fractions(
        frame["race_id"], frame["p_final"], frame["odds"], policy.min_edge
    )
    return frame


def stakes_on_bankroll(
    kelly: pd.DataFrame,
    bankroll_yen: int,
    policy: StakingPolicy,
    *,
    stake_scale: float = 1.0,
    drawdown: float = 0.0,
) -> pd.DataFrame:
    """:func:`size_stakes` of one day's :func:`kelly_candidates`: the bankroll's part."""
    frame = kelly.reset_index(drop=True).copy()
    scale = policy.fraction * stake_scale * drawdown_scale(drawdown, policy)
    if scale <= 0 or bankroll_yen <= 0:
        return frame.assign(stake_yen=0, odds_after_bet=np.nan).iloc[0:0]
    stake = frame["kelly_fraction"] * scale * bankroll_yen
    stake = stake.clip(upper=policy.max_bet_fraction * bankroll_yen)
    pool_cap = policy.max_pool_share * horse_pool_yen(
        frame["win_pool_yen"], frame["odds"], policy.takeout
    )
    stake = np.minimum(stake, pool_cap.fillna(0.0))
    stake = _scale_groups_to_cap(stake, frame["race_id"], policy.max_race_fraction * bankroll_yen)
    day_total = float(stake.sum())
    day_cap = policy.max_day_fraction * bankroll_yen
    if day_total > day_cap:
        stake = stake * (day_cap / day_total)
    frame["stake_yen"] = _floor_units(stake)
    frame["odds_after_bet"] = odds_after_stake(
        frame["odds"], frame["win_pool_yen"], frame["stake_yen"], policy.takeout
    )
    return frame[frame["stake_yen"] > 0].reset_index(drop=True)
