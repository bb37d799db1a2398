"""Settling boat win bets (単勝) from the K file's payouts, to the yen.

Per bet, in this order: its race cancelled (中止) or set aside by the night's validation →
refunded; its boat refunded (返還: F, L, K — the boat never counted for the bettor) →
refunded; the race's win bets 不成立 → refunded; 特払い (nobody held the winning ticket) → the
fixed payout on every ticket; the boat named by a win payout line → that payout per 100-yen
ticket (a dead heat prints one line per winner, each with its own payout); else lost. A race
without its result (not published yet) or with finishers but no win line (a misread payout)
stays open. The ledger identity holds as for the horses: bankroll = start + payouts + refunds −
stakes (``raceday.staking.ledger``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.codes import FINISH_CODES
from raceday.staking.kelly import UNIT_YEN

WON: Final = "won"
LOST: Final = "lost"
REFUNDED: Final = "refunded"  # the boat F, L or K
CANCELLED: Final = "cancelled"  # the race 中止
NOT_ESTABLISHED: Final = "void"  # 不成立
SPECIAL: Final = "special"  # 特払い
SET_ASIDE: Final = "set aside"  # the night's validation left the race out
SETTLEMENT_COLUMNS: Final = ("settled", "payout_yen", "refund_yen", "pnl_yen", "outcome")

_REFUNDED_CODES: Final = frozenset(
    code for code, meaning in FINISH_CODES.items() if meaning.refunded
)


def boat_refunded(finish_code: pd.Series) -> pd.Series:
    """True where the 着 code refunds the boat's tickets (F, L, K)."""
    return finish_code.astype("string").isin(_REFUNDED_CODES).fillna(False).astype(bool)


def settle_boat_bets(
    bets: pd.DataFrame,
    races: pd.DataFrame,
    results: pd.DataFrame,
    payouts: pd.DataFrame,
    set_aside: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """``bets`` (``race_id, boat, stake_yen`` …) with ``SETTLEMENT_COLUMNS`` filled where the
    result is known. ``races``: ``race_id, status`` (run / cancelled) of the K file;
    ``results``: ``race_id, boat, finish_code``; ``payouts``: the K file's payout lines;
    ``set_aside``: races the night's validation left out (their bets are refunded)."""
    frame = bets.drop(columns=[c for c in SETTLEMENT_COLUMNS if c in bets]).reset_index(drop=True)
    race_id = frame["race_id"].astype("string")
    boat = frame["boat"].astype("Int64").astype("string")
    status = race_id.map(races.set_index(races["race_id"].astype("string"))["status"])
    cancelled = status.eq(CANCELLED).fillna(False).to_numpy(dtype=bool)
    has_result = status.notna().to_numpy(dtype=bool)
    codes = results.assign(key=results["race_id"].astype("string") + "|"
                           + results["boat"].astype("Int64").astype("string"))  # fmt: skip
    code = (race_id + "|" + boat).map(codes.drop_duplicates("key").set_index("key")["finish_code"])
    refunded = boat_refunded(code).to_numpy(dtype=bool)

    win = payouts[payouts["bet_type"].astype("string") == "win"]
    win_kind = win.assign(race_id=win["race_id"].astype("string"))
    void_races = set(win_kind.loc[win_kind["kind"] == NOT_ESTABLISHED, "race_id"])
    special = win_kind[win_kind["kind"] == SPECIAL].drop_duplicates("race_id")
    special_yen = race_id.map(special.set_index("race_id")["payout_yen"])
    paid = win_kind[win_kind["kind"] == "paid"]
    paid_key = paid["race_id"] + "|" + paid["combination"].astype("string")
    paid_yen = (race_id + "|" + boat).map(
        pd.Series(paid["payout_yen"].to_numpy(), index=paid_key.to_numpy()).groupby(level=0).max()
    )
    race_paid = race_id.isin(set(paid["race_id"])).to_numpy(dtype=bool)

    units = (frame["stake_yen"].astype("int64") // UNIT_YEN).to_numpy()
    stake = frame["stake_yen"].astype("int64").to_numpy()
    outcome = np.select(
        [
            race_id.isin(set_aside).to_numpy(dtype=bool),
            cancelled,
            ~has_result,
            refunded,
            race_id.isin(void_races).to_numpy(dtype=bool),
            special_yen.notna().to_numpy(dtype=bool),
            paid_yen.notna().to_numpy(dtype=bool),
            race_paid,
        ],
        [SET_ASIDE, CANCELLED, "", REFUNDED, NOT_ESTABLISHED, SPECIAL, WON, LOST],
        default="",  # finishers but no win line: the payout is unknown, the bet stays open
    )
    settled = outcome != ""
    refund = np.isin(outcome, [SET_ASIDE, CANCELLED, REFUNDED, NOT_ESTABLISHED])
    per_unit = np.where(
        outcome == SPECIAL,
        special_yen.astype("Float64").fillna(0).to_numpy(dtype="float64"),
        paid_yen.astype("Float64").fillna(0).to_numpy(dtype="float64"),
    )
    payout = np.where(np.isin(outcome, [WON, SPECIAL]), units * per_unit, 0).astype("int64")
    refund_yen = np.where(refund, stake, 0).astype("int64")
    return frame.assign(
        settled=settled,
        payout_yen=pd.array(np.where(settled, payout, 0), dtype="Int64"),
        refund_yen=pd.array(np.where(settled, refund_yen, 0), dtype="Int64"),
        pnl_yen=pd.array(payout + refund_yen - stake, dtype="Int64"),
        outcome=pd.Series(outcome, dtype="string").replace("", pd.NA).to_numpy(),
    ).pipe(_open_bets_unsettled)


def _open_bets_unsettled(frame: pd.DataFrame) -> pd.DataFrame:
    """Open bets carry no payout, refund or P&L (NA), as the horse ledger stores them."""
    open_ = ~frame["settled"].to_numpy(dtype=bool)
    for column in ("payout_yen", "refund_yen", "pnl_yen"):
        frame[column] = frame[column].mask(open_)
    return frame
