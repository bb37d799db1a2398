"""The stake stage's pure parts: which runners are candidates, and the bet rows it records.

The stage is agnostic of the model: it stakes on ``p_final`` of whatever single model version
the predict stage used, at the odds known at bet time (the snapshot; final odds only for replays
of sources without one, flagged ``odds_source = "final"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, TypeAlias

import pandas as pd

from raceday.errors import InputError
from raceday.odds_snapshots import stamp_moments
from raceday.pipeline import FINAL_ODDS_SNAPSHOT as FINAL_ODDS
from raceday.staking.kelly import (
    UNIT_YEN,
    StakingPolicy,
    kelly_candidates,
    odds_after_stake,
    size_stakes,
    stakes_on_bankroll,
)
from raceday.staking.ledger import drawdown_from_peak

SNAPSHOT_ODDS: Final = "snapshot"
BET_COLUMNS: Final = [
    "race_id", "umaban", "race_date", "model_version", "p_final", "odds_at_bet", "odds_source",
    "edge", "kelly_fraction", "stake_yen", "bankroll_at_bet_yen", "expected_win_pool_yen",
    "policy_params", "odds_at", "decided_at",
]  # fmt: skip
# When tickets were emitted: one moment for all, or a moment per race (a series by race_id).
Decided: TypeAlias = datetime | pd.Series | None


def single_model_version(predictions: pd.DataFrame) -> str | None:
    """The one model version the predictions come from (None when there are none)."""
    versions = sorted(set(predictions["model_version"].dropna()))
    if len(versions) > 1:
        raise InputError(
            f"the stake stage got predictions of {len(versions)} model versions "
            f"({', '.join(versions)}): pass only the version the day is staked with"
        )
    return versions[0] if versions else None


def staking_candidates(
    predictions: pd.DataFrame, odds: pd.DataFrame, race_pools: pd.DataFrame
) -> pd.DataFrame:
    """Every predicted runner with bet-time odds and its race's expected win pool.

    ``odds`` has ``race_id, umaban, win_odds, snapshot_at``; ``race_pools`` ``race_id,
    win_pool_yen``. Runners without odds cannot be bet on and are left out. ``odds_at``: when
    the snapshot was published (NaT for final odds).
    """
    priced = odds[odds["win_odds"].notna() & (odds["win_odds"] >= 1.0)]
    frame = predictions[["race_id", "umaban", "race_date", "model_version", "p_final"]].merge(
        priced[["race_id", "umaban", "win_odds", "snapshot_at"]], on=["race_id", "umaban"]
    )
    frame = frame.merge(race_pools[["race_id", "win_pool_yen"]], on="race_id", how="left")
    source = frame["snapshot_at"].astype("string").eq(FINAL_ODDS).fillna(False)
    return frame.assign(
        odds=frame["win_odds"].astype("float64"),
        odds_source=source.map({True: FINAL_ODDS, False: SNAPSHOT_ODDS}).astype("string"),
        odds_at=stamp_moments(frame["snapshot_at"], frame["race_date"]),
    ).drop(columns=["win_odds", "snapshot_at"])


def day_bets(
    candidates: pd.DataFrame,
    bankroll_yen: int,
    policy: StakingPolicy,
    *,
    stake_scale: float,
    drawdown: float,
    decided_at: datetime | None = None,
    recorded_policy: StakingPolicy | None = None,
) -> pd.DataFrame:
    """The day's bet rows as the ledger stores them (``BET_COLUMNS``); ``decided_at``: when
    the tickets were emitted; ``recorded_policy``: the policy recorded on each bet when
    ``policy`` is its narrowing to what is left of a day (:func:`size_race`)."""
    if "odds_at" not in candidates.columns:
        candidates = candidates.assign(odds_at=pd.NaT)
    sized = size_stakes(
        candidates, bankroll_yen, policy, stake_scale=stake_scale, drawdown=drawdown
    )
    return _bet_rows(sized, bankroll_yen, recorded_policy or policy, decided_at)


def _bet_rows(
    sized: pd.DataFrame, bankroll_yen: int, policy: StakingPolicy, decided_at: Decided
) -> pd.DataFrame:
    """The ledger's bet rows (``BET_COLUMNS``) of sized stakes; ``policy``: the one recorded."""
    return (
        sized.rename(columns={"odds": "odds_at_bet"})
        .assign(
            bankroll_at_bet_yen=int(bankroll_yen),
            expected_win_pool_yen=sized["win_pool_yen"].round().astype("Int64"),
            policy_params=policy.to_json(),
            odds_at=pd.to_datetime(sized["odds_at"]).astype("datetime64[ns]"),
            decided_at=_decision_moments(sized, decided_at),
        )[BET_COLUMNS]
        .reset_index(drop=True)
    )


def _decision_moments(sized: pd.DataFrame, decided_at: Decided) -> pd.Series:
    """Each sized stake's decision moment: ``decided_at`` for all, or by its race (a series
    by ``race_id``); NaT when unknown."""
    if isinstance(decided_at, pd.Series):
        moment = sized["race_id"].map(decided_at[~decided_at.index.duplicated()])
    else:
        moment = pd.Series(pd.Timestamp(decided_at) if decided_at else pd.NaT, index=sized.index)
    return pd.to_datetime(moment).astype("datetime64[ns]")


def bet_slip(
    bets: pd.DataFrame,
    races: pd.DataFrame,
    runners: pd.DataFrame,
    venue_names: dict[str, str],
    takeout: float,
    keys: tuple[str, ...] = (),
) -> pd.DataFrame:
    """What a person would act on: venue, race, post time, horse, stake, odds used, edge.

    ``odds_after_bet`` estimates the odds once the stake is in the pool (from the expected pool):
    the price actually obtained is lower than the one the bet was sized on. ``keys``: columns
    of all three frames that the bets are matched on besides the race (and kept in the slip):
    several days' slips made at once, each day's bets against its own card.
    """
    race_key, runner_key = ["race_id", *keys], ["race_id", "umaban", *keys]
    slip = bets.merge(races[[*race_key, "keibajo_code", "race_bango", "post_time"]], on=race_key)
    slip = slip.merge(runners[[*runner_key, "horse_name"]], on=runner_key, how="left")
    after = odds_after_stake(
        slip["odds_at_bet"], slip["expected_win_pool_yen"], slip["stake_yen"], takeout
    )
    return (
        pd.DataFrame(
            {
                "venue": slip["keibajo_code"].map(venue_names).fillna(slip["keibajo_code"]),
                "race": slip["race_bango"].astype("Int64"),
                "post_time": slip["post_time"],
                "umaban": slip["umaban"].astype("Int64"),
                "horse": slip["horse_name"],
                "stake_yen": slip["stake_yen"].astype("int64"),
                "odds": slip["odds_at_bet"].astype("float64").round(1),
                "odds_source": slip["odds_source"],
                "odds_after_bet": after.round(1),
                "p": slip["p_final"].astype("float64").round(4),
                "edge": slip["edge"].astype("float64").round(3),
                "model_version": slip["model_version"],
                "race_id": slip["race_id"],
                **{key: slip[key] for key in keys},
            }
        )
        .sort_values(["post_time", "venue", "race", "umaban"])
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class SizedDay:
    """A day's bets sized on the bankroll its earlier days left."""

    bets: pd.DataFrame
    candidates: int
    bankroll_yen: int
    drawdown: float


def size_day(
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    odds: pd.DataFrame,
    pools: pd.DataFrame,
    daily_pnl: pd.Series,
    *,
    committed_yen: int,
    initial_bankroll_yen: int,
    stake_scale: float,
    decided_at: Decided = None,
) -> SizedDay:
    """The day's bets from its predictions, bet-time odds and expected win pools; the drawdown
    brake judges ``daily_pnl``, the settled P&L of every earlier day with bets
    (:func:`raceday.staking.ledger.daily_pnl_from_ledger_days`), the stakes are sized on the
    cash: that bankroll less ``committed_yen``, the stakes of earlier bets still open."""
    return size_on_bankroll(
        policy,
        kelly_candidates(staking_candidates(predictions, odds, pools), policy),
        daily_pnl,
        committed_yen=committed_yen,
        initial_bankroll_yen=initial_bankroll_yen,
        stake_scale=stake_scale,
        decided_at=decided_at,
    )


def size_on_bankroll(
    policy: StakingPolicy,
    kelly: pd.DataFrame,
    daily_pnl: pd.Series,
    *,
    committed_yen: int,
    initial_bankroll_yen: int,
    stake_scale: float,
    decided_at: Decided = None,
) -> SizedDay:
    """:func:`size_day` of the day's :func:`raceday.staking.kelly.kelly_candidates` (which do
    not depend on the bankroll: a run of days prices them once, then sizes day by day)."""
    bankroll = int(initial_bankroll_yen + daily_pnl.sum()) - int(committed_yen)
    drawdown = drawdown_from_peak(initial_bankroll_yen, daily_pnl)
    if "odds_at" not in kelly.columns:
        kelly = kelly.assign(odds_at=pd.NaT)
    sized = stakes_on_bankroll(kelly, bankroll, policy, stake_scale=stake_scale, drawdown=drawdown)
    return SizedDay(_bet_rows(sized, bankroll, policy, decided_at), len(kelly), bankroll, drawdown)


@dataclass(frozen=True)
class DayLimits:
    """What a race decided during the day may take: the day's bankroll (as the daily run sizes
    on: the cash its earlier days left), the stakes already placed today, and the drawdown from
    the peak counting what today's settled races won or lost (open bets are not losses yet)."""

    bankroll_yen: int
    staked_today_yen: int
    drawdown: float

    def remaining_day_yen(self, policy: StakingPolicy) -> float:
        """What is left of the per-day cap."""
        return policy.max_day_fraction * self.bankroll_yen - self.staked_today_yen


def day_limits(
    initial_bankroll_yen: int,
    daily_pnl: pd.Series,
    today_pnl_yen: int,
    staked_today_yen: int,
    committed_yen: int = 0,
) -> DayLimits:
    """The limits of a day in progress: ``daily_pnl`` the settled P&L of every earlier day,
    ``today_pnl_yen`` what today's settled bets won or lost so far, ``committed_yen`` the
    stakes of earlier days' bets still open (out of the cash the day is sized on)."""
    bankroll = int(initial_bankroll_yen + daily_pnl.sum()) - int(committed_yen)
    with_today = pd.concat([daily_pnl, pd.Series([float(today_pnl_yen)])], ignore_index=True)
    drawdown = drawdown_from_peak(initial_bankroll_yen, with_today)
    return DayLimits(bankroll, int(staked_today_yen), drawdown)


def size_race(
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    odds: pd.DataFrame,
    pools: pd.DataFrame,
    limits: DayLimits,
    *,
    stake_scale: float,
    decided_at: datetime,
) -> SizedDay:
    """One race's bets, decided during the day: the same Kelly fractions and per-bet, per-race
    and pool caps as the daily run, on the day's bankroll, with the per-day cap narrowed to
    what earlier races left (first come, first served: the daily run, which sees every race at
    once, shrinks them all in proportion instead) and the drawdown brake on today's cash too."""
    candidates = staking_candidates(predictions, odds, pools)
    remaining = limits.remaining_day_yen(policy)
    spent = remaining < UNIT_YEN or limits.bankroll_yen <= 0
    narrowed = (
        policy
        if spent
        else replace(policy, max_day_fraction=min(1.0, remaining / limits.bankroll_yen))
    )
    bets = day_bets(
        candidates.iloc[0:0] if spent else candidates,
        limits.bankroll_yen,
        narrowed,
        stake_scale=stake_scale,
        drawdown=limits.drawdown,
        decided_at=decided_at,
        recorded_policy=policy,
    )
    return SizedDay(bets, len(candidates), limits.bankroll_yen, limits.drawdown)
