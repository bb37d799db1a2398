"""Staking boats: the horses' policy and sizing (``raceday.staking.bets.size_day``: fractional
multi-outcome Kelly, caps per bet, race and day, the pool cap, the drawdown brake) at boat
racing's 25% takeout, on a win pool of a typical size."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Final

import pandas as pd

from raceday.boat.codes import TAKEOUT
from raceday.staking.bets import SizedDay, size_day
from raceday.staking.kelly import StakingPolicy

# 単勝 is a small share of a boat race's sales (most money is on 3連単): about a million yen a
# race at an ordinary meeting. With the 2% pool cap a boat at 5.0 takes at most ~3,000 yen.
EXPECTED_WIN_POOL_YEN: Final = 1_000_000


def boat_policy(policy: StakingPolicy) -> StakingPolicy:
    """The staking policy with boat racing's takeout (25%): the pool cap reads pools from odds."""
    return replace(policy, takeout=TAKEOUT)


def size_boat_day(
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    daily_pnl: pd.Series,
    *,
    committed_yen: int,
    initial_bankroll_yen: int,
    stake_scale: float,
    decided_at: datetime | None,
) -> SizedDay:
    """The day's win bets on ``predictions`` (``race_id, boat, race_date, model_version,
    p_market, p_final, win_odds, odds_at``: the odds known at the decision) sized by
    :func:`raceday.staking.bets.size_day`; bets keyed by ``boat``. A race the market does not
    price (``p_market`` missing: too few boats with odds) is not bet."""
    runners = predictions.rename(columns={"boat": "umaban"})
    priced = pd.to_numeric(runners["p_market"], errors="coerce").notna()
    odds = pd.DataFrame(
        {
            "race_id": runners["race_id"],
            "umaban": runners["umaban"],
            "win_odds": runners["win_odds"].astype("float64").where(priced),
            "snapshot_at": pd.to_datetime(runners["odds_at"]).dt.strftime("%m%d%H%M"),
        }
    ).dropna(subset=["win_odds"])
    pools = pd.DataFrame({"race_id": runners["race_id"].unique()}).assign(
        win_pool_yen=float(EXPECTED_WIN_POOL_YEN)
    )
    sized = size_day(
        boat_policy(policy),
        runners,
        odds,
        pools,
        daily_pnl,
        committed_yen=committed_yen,
        initial_bankroll_yen=initial_bankroll_yen,
        stake_scale=stake_scale,
        decided_at=decided_at,
    )
    return replace(sized, bets=sized.bets.rename(columns={"umaban": "boat"}))
