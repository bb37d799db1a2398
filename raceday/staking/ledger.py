"""The paper ledger: settlement of win bets to the yen, and the bankroll derived from it.

A winning 100-yen ticket pays ``odds * 100`` yen (odds are quoted in tenths, so this is already
a multiple of 10 yen, the pari-mutuel's rounding); a dead heat for first splits the losing money
between the winners (競馬法施行規則 付録第6: ``(W + D/P) * R``), rounded down to 10 yen per
100-yen ticket, never below 100 yen; a scratched horse (取消, 除外) is refunded.

The cash is what a stake leaves when the bet is placed and a payout or refund comes back to
when the bet is settled. So for any range of days, in integer yen,
``cash_end = cash_start + payouts + refunds - stakes``, and a day staked but not yet settled
counts as money out of the cash until it is: the next day is sized on the cash. The bankroll
the record keeps and the drawdown (the monitor's rule, the staking brake) judge is the
**settled** bankroll: initial + the P&L of the settled bets; an open bet's stake is committed,
not lost. ``cash = settled bankroll - committed`` (the stakes of the open bets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.staking.kelly import UNIT_YEN

REFUNDED_ABNORMAL_CODES: Final = (1, 2, 3)  # 出走取消, 発走除外, 競走除外
SETTLEMENT_COLUMNS: Final = (
    "final_odds", "payout_yen", "refund_yen", "pnl_yen", "settled", "void_reason",
)  # fmt: skip
VOID_REASON_WIDTH: Final = 200  # bets.void_reason
SET_ASIDE_AT_NIGHT: Final = "race set aside at night"
# 競走不成立: every runner of the race has an abnormal code and none finished (all pulled up,
# excluded or disqualified): the race is void and every ticket on it is paid back.
NO_FINISHER: Final = "race void: no horse finished (競走不成立)"
_PAYOUT_STEP_YEN: Final = 10  # payouts per 100-yen ticket are rounded down to 10 yen


def payout_per_unit_yen(final_odds: pd.Series) -> pd.Series:
    """Yen paid per 100-yen ticket: odds in tenths times ten, rounded down to 10 yen."""
    tenths = np.floor(final_odds.astype("float64").to_numpy() * 10 + 1e-6)
    return pd.Series(tenths * 10, index=final_odds.index).astype("Int64")


def win_payout_per_unit_yen(
    race_id: pd.Series, won: pd.Series, final_odds: pd.Series, takeout: float
) -> pd.Series:
    """Yen per 100-yen ticket on each winner (NA elsewhere), dead heats included.

    With k winners, winner i pays ``R + d_i (1 - R * sum_w 1/d_w) / k`` per yen (R = 1 -
    takeout), which is ``d_i`` when k = 1: the law's ``(W + D/P) * R`` written with final odds.
    Rounded down to 10 yen per ticket, at least 100 yen (元返し). When a winner has no final
    odds, no winner of its race has a payout (a dead heat's split needs every winner's odds).
    """
    odds = final_odds.astype("float64")
    winning = won.astype(bool)
    keep = 1.0 - takeout
    inverse = (1.0 / odds).where(winning, 0.0)
    by_race = pd.factorize(race_id)[0]
    winners = winning.astype("int64").groupby(by_race).transform("sum")
    unpriced_winner = (winning & odds.isna()).groupby(by_race).transform("any")
    inverse_sum = inverse.groupby(by_race).transform("sum")
    dead_heat = keep + odds * (1.0 - keep * inverse_sum) / winners.where(winners > 0)
    steps = np.floor(dead_heat.to_numpy() * UNIT_YEN / _PAYOUT_STEP_YEN + 1e-6)
    split = pd.Series(np.maximum(steps * _PAYOUT_STEP_YEN, UNIT_YEN), index=odds.index)
    single = payout_per_unit_yen(odds).astype("float64")
    per_unit = single.where(winners == 1, split)
    return per_unit.where(winning & odds.notna() & ~unpriced_winner).astype("Int64")


def settle_bets(bets: pd.DataFrame, runners: pd.DataFrame, takeout: float = 0.20) -> pd.DataFrame:
    """Fill final_odds, payout_yen, refund_yen, pnl_yen and settled for bets with a result.

    A bet is settled when its race has results and its runner's row is there (a winner without
    final odds stays unsettled: its payout is unknown). Unsettled bets keep NA payouts.
    """
    return settle_on_results(bets, settlement_results(runners, takeout))


def settlement_results(runners: pd.DataFrame, takeout: float = 0.20) -> pd.DataFrame:
    """What settling needs of each runner's result, worked out once for any bets on them: the
    result columns with ``won``, ``per_unit_yen`` (dead heats split within the race) and
    ``race_run`` (the race has a finisher). Every runner of a race must be among ``runners``
    (the payouts and the race's state are the race's)."""
    results = runners[["race_id", "umaban", "finish_pos", "abnormal_code", "win_odds"]]
    finish = results["finish_pos"].astype("Float64")
    won_in_race = finish.eq(1).fillna(False).astype(bool) & ~results["abnormal_code"].isin(
        REFUNDED_ABNORMAL_CODES
    )
    per_unit = win_payout_per_unit_yen(
        results["race_id"], won_in_race, results["win_odds"], takeout
    )
    by_race = pd.factorize(results["race_id"])[0]
    race_has_run = finish.notna().groupby(by_race).transform("any")
    flagged = results["abnormal_code"].fillna(0).ne(0).groupby(by_race).transform("all")
    # A marker of the runner's row found (merge's indicator=True costs more than the merge).
    return results.assign(
        won=won_in_race,
        per_unit_yen=per_unit,
        race_run=race_has_run,
        race_void=flagged & ~race_has_run,
        _found=True,
    )


def settle_on_results(bets: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """:func:`settle_bets` on results already worked out (:func:`settlement_results`)."""
    merged = bets.drop(columns=[c for c in SETTLEMENT_COLUMNS if c in bets]).merge(
        results, on=["race_id", "umaban"], how="left"
    )
    refunded = merged["abnormal_code"].isin(REFUNDED_ABNORMAL_CODES)
    won = merged["won"].astype("boolean").fillna(False).astype(bool)
    unknown_payout = won & merged["per_unit_yen"].isna()
    race_run = merged["race_run"].astype("boolean").fillna(False).astype(bool)
    race_void = merged["race_void"].astype("boolean").fillna(False).astype(bool)
    found = merged["_found"].astype("boolean").fillna(False).astype(bool)
    settled = ((race_run | race_void) & found & ~unknown_payout).astype(bool)
    units = (merged["stake_yen"].astype("int64") // UNIT_YEN).astype("int64")
    payout = (units * merged["per_unit_yen"].fillna(0).astype("int64")).where(won, 0)
    refund = merged["stake_yen"].astype("int64").where(refunded | race_void, 0)
    merged["final_odds"] = merged["win_odds"].astype("float64")
    merged["payout_yen"] = payout.astype("Int64").where(settled)
    merged["refund_yen"] = refund.astype("Int64").where(settled)
    merged["pnl_yen"] = (
        (payout + refund - merged["stake_yen"].astype("int64")).astype("Int64").where(settled)
    )
    merged["settled"] = settled
    merged["void_reason"] = pd.Series(NO_FINISHER, index=merged.index, dtype="string").where(
        race_void & found
    )
    extra = [
        "finish_pos", "abnormal_code", "win_odds", "won", "per_unit_yen", "race_run", "race_void",
        "_found",
    ]  # fmt: skip
    return merged.drop(columns=extra)


def night_set_aside_reasons(quarantine: pd.DataFrame) -> pd.Series:
    """Per race set aside by the night's validation, why (indexed by race_id): the checks its
    rows failed. ``quarantine`` holds the stored quarantine rows of the day (every stage)."""
    night = quarantine[quarantine["stage"] == "results"]
    races = night.loc[(night["table_name"] == "races") & night["race_id"].notna(), "race_id"]
    rows = night[night["race_id"].isin(set(races))]
    checks = rows.loc[rows["check_name"] != "race_has_invalid_runner"]
    if rows.empty:
        return pd.Series(dtype="string")
    named = (checks if not checks.empty else rows).groupby("race_id")["check_name"]
    reasons = named.agg(lambda names: ", ".join(sorted(set(names))))
    reasons = reasons.reindex(sorted(set(races)), fill_value="race_has_invalid_runner")
    text = (SET_ASIDE_AT_NIGHT + ": " + reasons.astype(str)).str.slice(0, VOID_REASON_WIDTH)
    return text.astype("string")


def void_bets(settled: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """Open bets whose race was set aside at night, voided: settled with the stake refunded
    (0 P&L) and the reason in ``void_reason``. Its results will never be valid as they are, so
    leaving them open would hold their stakes out of the bankroll forever. Settled bets and
    bets of other races are returned unchanged (``void_reason`` empty)."""
    reason = settled["race_id"].map(reasons)
    void = (~_is_settled(settled) & reason.notna()).to_numpy(dtype=bool)
    stake = settled["stake_yen"].astype("int64")
    settled_void = settled.get("void_reason", pd.Series(pd.NA, index=settled.index))
    out = settled.assign(
        void_reason=reason.where(void).astype("string").fillna(settled_void.astype("string"))
    )
    out["payout_yen"] = out["payout_yen"].astype("Int64").mask(void, 0)
    out["refund_yen"] = out["refund_yen"].astype("Int64").mask(void, stake.astype("Int64"))
    out["pnl_yen"] = out["pnl_yen"].astype("Int64").mask(void, 0)
    out["final_odds"] = out["final_odds"].astype("float64").mask(void, np.nan)
    out["settled"] = _is_settled(out) | void
    return out


def void_summary(settled: pd.DataFrame | None) -> dict[str, int]:
    """How many bets (and races) a settlement voided, for the run's summary."""
    if settled is None or settled.empty or "void_reason" not in settled:
        return {"voided_bets": 0, "voided_races": 0}
    voided = settled[settled["void_reason"].notna()]
    return {"voided_bets": len(voided), "voided_races": int(voided["race_id"].nunique())}


def open_bet_count(settled: pd.DataFrame | None) -> int:
    """How many of a settlement's bets are still open (no result stored for their race yet)."""
    return 0 if settled is None else len(open_bets(settled))


def open_bets(bets: pd.DataFrame) -> pd.DataFrame:
    """The bets of ``bets`` still open (no result stored for their race yet)."""
    return bets if bets.empty else bets[~_is_settled(bets)]


def _is_settled(bets: pd.DataFrame) -> pd.Series:
    """Whether each bet is settled (a bet not marked either way is open)."""
    return bets["settled"].fillna(False).astype(bool)


def settled_flows_yen(bets: pd.DataFrame) -> pd.Series:
    """Each bet's P&L once settled (payout + refund - stake); 0 while it is open (its stake is
    committed, not lost)."""
    return cash_flows_yen(bets).where(_is_settled(bets), 0)


def open_stakes_yen(bets: pd.DataFrame) -> int:
    """The stakes of the bets still open: committed, out of the cash, not lost."""
    if bets.empty:
        return 0
    return int(bets["stake_yen"].astype("int64")[~_is_settled(bets)].sum())


def cash_flows_yen(bets: pd.DataFrame) -> pd.Series:
    """Each bet's effect on the bankroll: payout + refund - stake (an unsettled bet: -stake)."""
    return (
        bets["payout_yen"].fillna(0).astype("int64")
        + bets["refund_yen"].fillna(0).astype("int64")
        - bets["stake_yen"].astype("int64")
    )


def daily_pnl_yen(bets: pd.DataFrame) -> pd.Series:
    """Cash flow per race date, in date order."""
    return _per_race_date(bets, cash_flows_yen)


def settled_daily_pnl_yen(bets: pd.DataFrame) -> pd.Series:
    """P&L of the settled bets per race date, in date order (what
    :func:`daily_pnl_from_ledger_days` reads from the ledger's sums)."""
    return _per_race_date(bets, settled_flows_yen)


def _per_race_date(bets: pd.DataFrame, flows_yen: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    """Each bet's ``flows_yen`` summed per race date, in date order."""
    if bets.empty:
        return pd.Series(dtype="int64")
    dates = pd.to_datetime(bets["race_date"]).dt.normalize()
    return flows_yen(bets).groupby(dates.to_numpy()).sum().sort_index().astype("int64")


def bankroll_yen(initial_yen: int, bets: pd.DataFrame) -> int:
    """Bankroll after the given bets: initial + payouts + refunds - stakes, in yen."""
    if bets.empty:
        return int(initial_yen)
    return int(initial_yen + int(cash_flows_yen(bets).sum()))


def bankroll_curve_yen(initial_yen: int, daily_pnl: pd.Series) -> pd.Series:
    """End-of-day bankroll for each day of ``daily_pnl``."""
    return (initial_yen + daily_pnl.astype("int64").cumsum()).astype("int64")


def drawdown_from_peak(initial_yen: int, daily_pnl: pd.Series) -> float:
    """Current drawdown from the bankroll's peak as a fraction (0 at a new high)."""
    curve = bankroll_curve_yen(initial_yen, daily_pnl)
    peak = max(initial_yen, int(curve.max())) if not curve.empty else initial_yen
    current = int(curve.iloc[-1]) if not curve.empty else initial_yen
    return 0.0 if peak <= 0 else max(0.0, (peak - current) / peak)


def max_drawdown(initial_yen: int, daily_pnl: pd.Series) -> float:
    """The largest fall from a running peak of the end-of-day bankroll, as a fraction."""
    curve = bankroll_curve_yen(initial_yen, daily_pnl).to_numpy(dtype="float64")
    values = np.concatenate([[float(initial_yen)], curve])
    peaks = np.maximum.accumulate(values)
    falls = np.where(peaks > 0, (peaks - values) / np.where(peaks > 0, peaks, 1.0), 0.0)
    return float(falls.max())


def daily_pnl_from_ledger_days(ledger_days: pd.DataFrame) -> pd.Series:
    """P&L of the settled bets per race date from the ledger's per-day sums
    (``catalogs.bets.ledger_days``): the settled bankroll's curve, what the drawdown judges.
    An open bet's stake is committed (:func:`committed_from_ledger_days`), not a loss: a day
    whose results are not in yet read as a 23% drawdown and braked the next day's stakes."""
    settled_stakes = ledger_days["staked_yen"] - ledger_days["open_staked_yen"]
    flow = ledger_days["paid_yen"] + ledger_days["refunded_yen"] - settled_stakes
    return pd.Series(
        flow.astype("int64").to_numpy(), index=pd.to_datetime(ledger_days["race_date"])
    )


def committed_from_ledger_days(ledger_days: pd.DataFrame) -> int:
    """The stakes of the ledger's open bets: out of the cash, not yet won or lost."""
    return int(ledger_days["open_staked_yen"].astype("int64").sum())


@dataclass(frozen=True)
class LedgerStatement:
    """The ledger over a range of days, in integer yen; the identity holds by construction."""

    start: date
    end: date
    bets: int
    unsettled: int
    bankroll_start_yen: int
    staked_yen: int
    paid_yen: int
    refunded_yen: int
    bankroll_end_yen: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {**asdict(self), "start": self.start.isoformat(), "end": self.end.isoformat()}


def ledger_statement(
    initial_yen: int, bets: pd.DataFrame, start: date, end: date
) -> LedgerStatement:
    """Bankroll at the start of ``start`` and at the end of ``end``, and what moved it."""
    dates = pd.to_datetime(bets["race_date"]).dt.date
    before = bets[dates < start]
    within = bets[(dates >= start) & (dates <= end)]
    bankroll_start = bankroll_yen(initial_yen, before)
    staked = int(within["stake_yen"].astype("int64").sum())
    paid = int(within["payout_yen"].fillna(0).astype("int64").sum())
    refunded = int(within["refund_yen"].fillna(0).astype("int64").sum())
    return LedgerStatement(
        start=start,
        end=end,
        bets=len(within),
        unsettled=int((~_is_settled(within)).sum()),
        bankroll_start_yen=bankroll_start,
        staked_yen=staked,
        paid_yen=paid,
        refunded_yen=refunded,
        bankroll_end_yen=bankroll_yen(initial_yen, bets[dates <= end]),
    )
