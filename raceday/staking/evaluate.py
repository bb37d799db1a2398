"""How a staking policy did over a range of days, next to simple baselines and the oracle.

* ``policy`` — the ledger as staked (or the Kelly policy replayed on another model's
  predictions);
* ``flat`` — the same selection (runners in the Kelly set of the model) at a flat stake each:
  what the sizing adds;
* ``favourite`` — a flat stake on every race's favourite at bet time: the market's own best
  guess, which returns about the payout rate (~80%) on real data;
* ``oracle`` — (simulated data only) the Kelly policy with the simulator's true probabilities:
  the best any model could do with this policy, so the gap to it is visible.

Replays run day by day (each day is sized on the bankroll the replay has reached), settle
through the same ledger functions as the pipeline, and never touch the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.errors import InputError
from raceday.pipeline import FINAL_ODDS_SNAPSHOT
from raceday.staking.kelly import UNIT_YEN, StakingPolicy, kelly_fractions, size_stakes
from raceday.staking.ledger import bankroll_curve_yen, cash_flows_yen, max_drawdown, settle_bets

# A sizer: (one day's candidates, bankroll, drawdown) -> that day's bets with ``stake_yen``.
Sizer = Callable[[pd.DataFrame, int, float], pd.DataFrame]
CANDIDATE_COLUMNS: Final = (
    "race_id", "umaban", "race_date", "post_time", "p_final", "odds", "win_pool_yen",
)  # fmt: skip


@dataclass(frozen=True)
class PolicyResult:
    """A policy's figures over the range, in integer yen where money."""

    bets: int
    unsettled: int
    turnover_yen: int
    return_yen: int
    profit_yen: int
    roi: float | None
    hit_rate: float | None
    max_drawdown: float
    longest_losing_streak: int
    bankroll_start_yen: int
    final_bankroll_yen: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (ratios rounded to 6 places)."""
        values = asdict(self)
        for key in ("roi", "hit_rate", "max_drawdown"):
            if values[key] is not None:
                values[key] = round(float(values[key]), 6)
        return values


def longest_losing_streak(bets: pd.DataFrame) -> int:
    """Most consecutive races bet on (in post-time order) in which no bet won.

    Races whose bets were all refunded are neither won nor lost and are skipped.
    """
    settled = bets[bets["settled"].fillna(False).astype(bool)]
    if settled.empty:
        return 0
    per_race = settled.assign(
        won=settled["payout_yen"].fillna(0).astype("int64") > 0,
        refunded=settled["refund_yen"].fillna(0).astype("int64") >= settled["stake_yen"],
        post_time=settled.get("post_time", pd.Series("", index=settled.index)).fillna(""),
    ).groupby(["race_date", "post_time", "race_id"], sort=True)
    races = pd.DataFrame({"won": per_race["won"].any(), "void": per_race["refunded"].all()})
    lost = (~races["won"])[~races["void"]].to_numpy()
    if not lost.any():
        return 0
    run_id = np.cumsum(~lost)
    return int(pd.Series(lost.astype("int64")).groupby(run_id).sum().max())


def summarise(bets: pd.DataFrame, bankroll_start_yen: int, days: list[date]) -> PolicyResult:
    """The figures of settled bets (``race_date, race_id, stake_yen, payout_yen, refund_yen,
    settled``) starting from ``bankroll_start_yen``; unsettled stakes count as money out."""
    settled_mask = bets["settled"].fillna(False).astype(bool)
    settled = bets[settled_mask]
    turnover = int(settled["stake_yen"].astype("int64").sum())
    returned = int(
        settled["payout_yen"].fillna(0).astype("int64").sum()
        + settled["refund_yen"].fillna(0).astype("int64").sum()
    )
    decided = settled[settled["refund_yen"].fillna(0).astype("int64") < settled["stake_yen"]]
    wins = int((decided["payout_yen"].fillna(0).astype("int64") > 0).sum())
    flows = cash_flows_yen(bets) if not bets.empty else pd.Series(dtype="int64")
    by_day = (
        flows.groupby(pd.to_datetime(bets["race_date"]).dt.date.to_numpy()).sum()
        if not bets.empty
        else pd.Series(dtype="int64")
    )
    daily = pd.Series(0, index=sorted(days), dtype="int64").add(by_day, fill_value=0)
    final = int(bankroll_curve_yen(bankroll_start_yen, daily).iloc[-1]) if len(daily) else 0
    return PolicyResult(
        bets=len(bets),
        unsettled=int((~settled_mask).sum()),
        turnover_yen=turnover,
        return_yen=returned,
        profit_yen=returned - turnover,
        roi=(returned - turnover) / turnover if turnover else None,
        hit_rate=wins / len(decided) if len(decided) else None,
        max_drawdown=max_drawdown(bankroll_start_yen, daily.astype("int64")),
        longest_losing_streak=longest_losing_streak(bets),
        bankroll_start_yen=int(bankroll_start_yen),
        final_bankroll_yen=final if len(daily) else int(bankroll_start_yen),
    )


def replay(
    candidates: pd.DataFrame,
    results: pd.DataFrame,
    sizer: Sizer,
    bankroll_start_yen: int,
    takeout: float,
) -> pd.DataFrame:
    """Stake and settle day by day; returns every bet with its settlement."""
    bankroll = int(bankroll_start_yen)
    peak = bankroll
    settled_days = []
    by_day = candidates.groupby(pd.to_datetime(candidates["race_date"]).dt.date, sort=True)
    for _day, day_candidates in by_day:
        drawdown = 0.0 if peak <= 0 else max(0.0, (peak - bankroll) / peak)
        stakes = sizer(day_candidates, bankroll, drawdown)
        if stakes.empty:
            continue
        day_results = results[results["race_id"].isin(stakes["race_id"])]
        settled = settle_bets(stakes, day_results, takeout)
        settled_days.append(settled)
        bankroll += int(cash_flows_yen(settled).sum())
        peak = max(peak, bankroll)
    if not settled_days:
        return pd.DataFrame(
            columns=[*CANDIDATE_COLUMNS, "stake_yen", "payout_yen", "refund_yen", "settled"]
        )
    return pd.concat(settled_days, ignore_index=True)


def kelly_sizer(policy: StakingPolicy, stake_scale: float, p_column: str = "p_final") -> Sizer:
    """The staking policy itself, on the probabilities in ``p_column``."""

    def size(day: pd.DataFrame, bankroll: int, drawdown: float) -> pd.DataFrame:
        return size_stakes(
            day.assign(p_final=day[p_column]),
            bankroll,
            policy,
            stake_scale=stake_scale,
            drawdown=drawdown,
        )

    return size


def _flat(chosen: pd.DataFrame, bankroll: int, stake_yen: int) -> pd.DataFrame:
    """A flat stake on each chosen runner in post-time order while the bankroll lasts."""
    affordable = max(0, bankroll // stake_yen) if stake_yen > 0 else 0
    ordered = chosen.sort_values(["post_time", "race_id", "umaban"]).head(affordable)
    return ordered.assign(stake_yen=int(stake_yen)).reset_index(drop=True)


def flat_sizer(policy: StakingPolicy, stake_yen: int) -> Sizer:
    """A flat stake on every runner the model puts in its Kelly set (edge >= min edge)."""

    def size(day: pd.DataFrame, bankroll: int, _drawdown: float) -> pd.DataFrame:
        fraction = kelly_fractions(day["race_id"], day["p_final"], day["odds"], policy.min_edge)
        return _flat(day[fraction > 0], bankroll, stake_yen)

    return size


def favourite_sizer(stake_yen: int) -> Sizer:
    """A flat stake on each race's favourite at bet time (lowest odds, then lowest umaban)."""

    def size(day: pd.DataFrame, bankroll: int, _drawdown: float) -> pd.DataFrame:
        favourites = day.sort_values(["race_id", "odds", "umaban"]).drop_duplicates("race_id")
        return _flat(favourites, bankroll, stake_yen)

    return size


def flat_stake_yen(bankroll_yen: int, share: float = 0.01) -> int:
    """The baselines' flat stake: ``share`` of the bankroll in whole 100-yen units (>= 100)."""
    return max(UNIT_YEN, int(bankroll_yen * share) // UNIT_YEN * UNIT_YEN)


def _market_log_loss(odds: pd.DataFrame, results: pd.DataFrame) -> dict[str, Any]:
    """``market_log_loss`` (mean over winners of -log of the normalised 1 / odds; None without
    any) and ``scored_races`` of ``odds`` on ``results``' winners."""
    priced = odds[odds["win_odds"].astype("float64") >= 1.0][["race_id", "umaban", "win_odds"]]
    implied = 1.0 / priced["win_odds"].astype("float64")
    p_market = implied / implied.groupby(priced["race_id"]).transform("sum")
    winners = results.loc[results["finish_pos"].astype("Float64").eq(1).fillna(False).to_numpy()]
    scored = priced.assign(p_market=p_market.to_numpy()).merge(
        winners[["race_id", "umaban"]], on=["race_id", "umaban"]
    )
    losses = -np.log(scored["p_market"].clip(lower=1e-12).to_numpy(np.float64))
    return {
        "market_log_loss": round(float(losses.mean()), 6) if losses.size else None,
        "scored_races": int(scored["race_id"].nunique()),
    }


def market_log_loss_at_bet_time(odds: pd.DataFrame, results: pd.DataFrame) -> dict[str, Any]:
    """The market's log loss on the odds the bets were sized on: each race's stored odds as
    probabilities (1 / odds, normalised over the runners priced), scored on its winners
    (``finish_pos`` 1; a dead heat scores each winner). Races whose winner was not priced are
    left out.

    Returns ``market_log_loss`` and ``scored_races`` over every race, and the same split by what
    the odds were (``by_odds``): ``snapshot``, the bet-time snapshot, and ``final``, the final
    odds a race without a snapshot was sized on (``snapshot_at`` "final"; a frame without
    ``snapshot_at`` is all snapshots) — a figure on final odds is not the market at bet time."""
    final = (
        odds["snapshot_at"].astype("string").eq(FINAL_ODDS_SNAPSHOT).fillna(False).to_numpy(bool)
        if "snapshot_at" in odds
        else np.zeros(len(odds), dtype=bool)
    )
    return {
        **_market_log_loss(odds, results),
        "by_odds": {
            "snapshot": _market_log_loss(odds[~final], results),
            "final": _market_log_loss(odds[final], results),
        },
    }


def predictions_as_placed(
    predictions: pd.DataFrame, ledger_bets: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Each day's predictions by the model the day was staked with, and those versions in order.

    A backfill retrains as it goes, so a range holds several versions, each the one its days
    used: that is the ledger as placed, the natural thing to judge. A day predicted by one
    version takes it; a day with several (a model evaluated besides) takes the version its bets
    were placed with; a day with several and no bet to tell them apart is ambiguous: one clear
    error naming it (``--model`` chooses)."""
    if predictions.empty:
        return predictions, []
    per_day = predictions.dropna(subset=["model_version"]).groupby("race_date")["model_version"]
    chosen: dict[Any, str] = {}
    ambiguous: list[str] = []
    placed = ledger_bets.dropna(subset=["model_version"]).groupby("race_date")["model_version"]
    placed_versions = {day: set(versions) for day, versions in placed}
    for day, versions in per_day:
        stored = set(versions)
        if len(stored) == 1:
            chosen[day] = next(iter(stored))
            continue
        on_bets = placed_versions.get(day, set()) & stored
        if len(on_bets) == 1:
            chosen[day] = next(iter(on_bets))
        else:
            ambiguous.append(f"{day} ({', '.join(sorted(stored))})")
    if ambiguous:
        raise InputError(
            f"{len(ambiguous)} days hold predictions of several models and no bet tells which "
            f"was placed: {'; '.join(ambiguous[:3])}: choose one with --model"
        )
    keep = predictions["race_date"].map(chosen).eq(predictions["model_version"]).fillna(False)
    in_use = list(dict.fromkeys(chosen[day] for day in sorted(chosen)))  # by first day used
    return predictions[keep.astype(bool)], in_use
