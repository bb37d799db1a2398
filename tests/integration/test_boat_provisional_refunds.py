"""A boat day whose K file could not be read (its finishing lines unreadable, its races still
there) has its races set aside and their bets refunded: provisionally. Such a day is not done
for the backfill (it was, so a good K file arriving later was never read without --force); a
day whose refunds are final (a race cancelled, a boat withdrawn) stays done."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert

from config import load_settings, use_store
from flows.boat import store_days
from raceday.boat.settle import SET_ASIDE
from raceday.store.catalogs.boat import BETS, PERFORMANCE, PROVISIONAL_OUTCOME
from raceday.store.engine import make_engine

UNREADABLE, CANCELLED = date(2026, 4, 4), date(2026, 4, 5)


def _day(day: date, outcome: str) -> tuple[dict[str, object], dict[str, object]]:
    bet = {
        "policy": "kelly", "race_id": f"{day:%Y%m%d}0301", "boat": 1, "race_date": day,
        "model_version": "boat-clogit-fresh", "p_final": 0.5, "odds_at_bet": 3.0, "edge": 0.1,
        "stake_yen": 1000, "policy_params": "{}", "settled": True, "payout_yen": 0,
        "refund_yen": 1000, "pnl_yen": 0, "outcome": outcome,
    }  # fmt: skip
    record = {
        "perf_date": day, "races": 12, "boats": 72, "quarantined": 6, "races_left_out": 12,
        "bets": 1, "staked_yen": 1000, "returned_yen": 1000, "bankroll_yen": 1_000_000,
        "scored_races": 0,
    }  # fmt: skip
    return bet, record


@pytest.mark.usefixtures("sqlite_schema")
def test_a_day_refunded_for_unreadable_results_is_not_done(sqlite_url: str) -> None:
    assert PROVISIONAL_OUTCOME == SET_ASIDE
    with make_engine(sqlite_url).begin() as connection:
        for day, outcome in ((UNREADABLE, SET_ASIDE), (CANCELLED, "cancelled")):
            bet, record = _day(day, outcome)
            connection.execute(insert(BETS).values(**bet))
            connection.execute(insert(PERFORMANCE).values(**record))
    with use_store(sqlite_url):
        found = store_days(load_settings(), UNREADABLE, CANCELLED)
    assert found.recorded == {UNREADABLE, CANCELLED}
    assert found.done == {CANCELLED}
    assert found.provisional == {UNREADABLE: 1}
