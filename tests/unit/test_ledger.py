"""Settlement to the yen (dead heats, scratches, missing results) and the cash ledger."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from raceday.staking.ledger import (
    NO_FINISHER,
    bankroll_yen,
    daily_pnl_yen,
    ledger_statement,
    max_drawdown,
    settle_bets,
    win_payout_per_unit_yen,
)


def runners(
    finish: list[int | None], abnormal: list[int], odds: list[float], race: str = "r"
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_id": race,
            "umaban": range(1, len(finish) + 1),
            "finish_pos": pd.array(finish, dtype="Int64"),
            "abnormal_code": abnormal,
            "win_odds": odds,
        }
    )


def bets(umaban: list[int], stakes: list[int], race: str = "r") -> pd.DataFrame:
    return pd.DataFrame({"race_id": race, "umaban": umaban, "stake_yen": stakes})


def test_dead_heat_splits_the_losing_money_between_the_winners() -> None:
    """Two winners at 2.0 and 10.0 (R = 0.8): 0.8 + d (1 - 0.8 * 0.6) / 2 per yen, i.e. 130
    and 340 yen per 100-yen ticket after rounding down to 10 yen."""
    field = runners([1, 1, 3, 4], [0, 0, 0, 0], [2.0, 10.0, 4.0, 6.0])
    won = field["finish_pos"].eq(1).fillna(False)
    per_unit = win_payout_per_unit_yen(field["race_id"], won, field["win_odds"], 0.20)
    assert per_unit.tolist()[:2] == [130, 340]
    assert per_unit.isna().tolist()[2:] == [True, True]
    settled = settle_bets(bets([1, 2, 3], [300, 200, 100]), field)
    assert settled["payout_yen"].tolist() == [390, 680, 0]
    assert settled["pnl_yen"].tolist() == [90, 480, -100]


def test_a_dead_heat_with_a_winner_without_odds_pays_no_winner_yet() -> None:
    """The split needs every winner's odds: with one unknown, neither winner's payout is known
    (the bet on the priced one stays open, not paid as if it had won alone)."""
    field = runners([1, 1, 3], [0, 0, 0], [np.nan, 8.0, 4.0])
    won = field["finish_pos"].eq(1).fillna(False)
    assert win_payout_per_unit_yen(field["race_id"], won, field["win_odds"], 0.20).isna().all()
    settled = settle_bets(bets([2, 3], [300, 100]), field)
    assert settled["settled"].tolist() == [False, True]  # the loser's outcome is known
    assert pd.isna(settled["payout_yen"].iloc[0])


def test_a_race_nobody_finished_is_void_and_its_bets_refunded() -> None:
    """競走不成立: every runner pulled up, excluded or disqualified, none finished: each bet is
    settled with its stake back and the reason; a race whose results are not in (every runner
    as on the card) stays open."""
    void = runners([None, None, None], [4, 4, 5], [np.nan, np.nan, np.nan], race="v")
    unrun = runners([None, None], [0, 1], [np.nan, np.nan], race="u")
    bets_on = pd.concat([bets([1, 3], [300, 200], race="v"), bets([1], [100], race="u")])
    settled = settle_bets(bets_on.reset_index(drop=True), pd.concat([void, unrun]))
    assert settled["settled"].tolist() == [True, True, False]
    assert settled["refund_yen"].tolist()[:2] == [300, 200]
    assert settled["pnl_yen"].tolist()[:2] == [0, 0] and settled["payout_yen"].tolist()[:2] == [
        0,
        0,
    ]
    assert settled["void_reason"].tolist()[:2] == [NO_FINISHER, NO_FINISHER]
    assert pd.isna(settled["void_reason"].iloc[2])


def test_a_single_winner_pays_its_odds_and_never_less_than_the_stake() -> None:
    """Odds 1.0 (元返し) pay 100 yen per ticket; 12.7 pays 1,270."""
    field = runners([2, 1], [0, 0], [1.0, 12.7])
    settled = settle_bets(bets([2], [500]), field)
    assert settled["payout_yen"].tolist() == [6350]
    favourite = runners([1, 2], [0, 0], [1.0, 12.7])
    assert settle_bets(bets([1], [500]), favourite)["payout_yen"].tolist() == [500]


def test_scratched_and_excluded_are_refunded_a_non_finisher_loses() -> None:
    """取消 (1) and 除外 (2, 3) get the stake back; 中止 (4) and 失格 (5) lose it."""
    field = runners(
        [1, None, None, None, None, None], [0, 1, 2, 3, 4, 5], [3.0, np.nan, 5, 6, 7, 8]
    )
    settled = settle_bets(bets([2, 3, 4, 5, 6], [100, 200, 300, 400, 500]), field)
    assert settled["refund_yen"].tolist() == [100, 200, 300, 0, 0]
    assert settled["pnl_yen"].tolist() == [0, 0, 0, -400, -500]
    assert settled["payout_yen"].tolist() == [0, 0, 0, 0, 0]
    assert settled["settled"].all()


def test_a_bet_without_its_result_stays_open() -> None:
    """A race without results, a runner row missing, or a winner without odds: not settled."""
    unrun = runners([None, None], [0, 0], [np.nan, np.nan], race="u")
    missing = runners([1, 2], [0, 0], [2.0, 3.0], race="m")
    no_odds = runners([1, 2], [0, 0], [np.nan, 3.0], race="n")
    open_bets = pd.concat([bets([1], [100], "u"), bets([7], [100], "m"), bets([1], [100], "n")])
    settled = settle_bets(open_bets, pd.concat([unrun, missing, no_odds]))
    assert not settled["settled"].any()
    assert settled[["payout_yen", "refund_yen", "pnl_yen"]].isna().all().all()


def test_settling_again_changes_nothing() -> None:
    """Settlement is a function of the bets and the results: re-settling is a no-op."""
    field = runners([1, 2, None], [0, 0, 1], [3.7, 5.1, np.nan])
    once = settle_bets(bets([1, 2, 3], [300, 500, 200]), field)
    twice = settle_bets(once, field)
    pd.testing.assert_frame_equal(once, twice)


def ledger(rows: list[tuple[str, int, int | None, int | None, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_date": pd.to_datetime([row[0] for row in rows]),
            "stake_yen": [row[1] for row in rows],
            "payout_yen": pd.array([row[2] for row in rows], dtype="Int64"),
            "refund_yen": pd.array([row[3] for row in rows], dtype="Int64"),
            "settled": [row[4] for row in rows],
        }
    )


def test_unsettled_stakes_are_out_of_the_bankroll_until_settled() -> None:
    """Cash accounting: a placed, unsettled bet has cost its stake and returned nothing yet."""
    book = ledger([("2026-01-01", 1000, 3000, 0, True), ("2026-01-02", 500, None, None, False)])
    assert bankroll_yen(10_000, book) == 10_000 + 3000 - 1000 - 500
    assert daily_pnl_yen(book).tolist() == [2000, -500]


def test_ledger_statement_over_a_range() -> None:
    """Start = initial + everything before; end = start + paid + refunded - staked."""
    book = ledger(
        [
            ("2026-01-01", 1000, 0, 0, True),
            ("2026-01-02", 2000, 5000, 0, True),
            ("2026-01-02", 300, 0, 300, True),
            ("2026-01-03", 700, None, None, False),
        ]
    )
    statement = ledger_statement(100_000, book, date(2026, 1, 2), date(2026, 1, 3))
    assert statement.bankroll_start_yen == 99_000
    assert (statement.staked_yen, statement.paid_yen, statement.refunded_yen) == (3000, 5000, 300)
    assert statement.bankroll_end_yen == 99_000 + 5000 + 300 - 3000 == 101_300
    assert statement.bets == 3 and statement.unsettled == 1


def test_max_drawdown_is_the_deepest_fall_from_a_running_peak() -> None:
    """1,000 → 1,200 → 900 → 1,300 → 1,040: the deepest fall is 25% (1,200 → 900)."""
    pnl = pd.Series([200, -300, 400, -260])
    assert max_drawdown(1000, pnl) == pytest.approx(0.25)
    assert max_drawdown(1000, pd.Series(dtype="int64")) == 0.0


def test_night_set_aside_reasons_name_the_failed_checks() -> None:
    """A race set aside at night gets the checks its rows failed; morning rows do not count."""
    from raceday.staking.ledger import night_set_aside_reasons

    quarantine = pd.DataFrame(
        {
            "stage": ["results", "results", "results", "card"],
            "table_name": ["races", "runners", "races", "races"],
            "race_id": ["r1", "r1", "r2", "r3"],
            "check_name": [
                "race_has_invalid_runner",
                "fields_parse",
                "results_not_in_future",
                "fields_parse",
            ],
        }
    )
    reasons = night_set_aside_reasons(quarantine)
    assert reasons.to_dict() == {
        "r1": "race set aside at night: fields_parse",
        "r2": "race set aside at night: results_not_in_future",
    }


def test_void_bets_refund_open_bets_of_set_aside_races_only() -> None:
    """Open bets on a set-aside race: settled, stake refunded, 0 P&L, with the reason; a bet
    already settled and a bet on another race are untouched."""
    from raceday.staking.ledger import void_bets

    bets = pd.DataFrame(
        {
            "race_id": ["r1", "r1", "r2"],
            "umaban": [1, 2, 3],
            "stake_yen": [500, 300, 200],
            "final_odds": [np.nan, 4.0, np.nan],
            "payout_yen": pd.array([None, 0, None], dtype="Int64"),
            "refund_yen": pd.array([None, 0, None], dtype="Int64"),
            "pnl_yen": pd.array([None, -300, None], dtype="Int64"),
            "settled": [False, True, False],
        }
    )
    out = void_bets(bets, pd.Series({"r1": "race set aside at night: fields_parse"}))
    assert out["settled"].tolist() == [True, True, False]
    assert out["refund_yen"].tolist()[:2] == [500, 0] and out["pnl_yen"].tolist()[:2] == [0, -300]
    assert out["payout_yen"].iloc[0] == 0 and pd.isna(out["payout_yen"].iloc[2])
    assert out["void_reason"].iloc[0] == "race set aside at night: fields_parse"
    assert out["void_reason"].iloc[1:].isna().all()


def test_open_stakes_are_committed_not_a_drawdown() -> None:
    """A day staked whose results are not in (the boat day run before its K file, a horse
    night run before the results): its stakes are out of the cash the next day is sized on,
    but no loss: the settled bankroll, which the drawdown rule and the staking brake judge,
    is where the settled days left it. Before, 234,600 yen staked and open read as a 23.5%
    drawdown (an alert, and the next day's stakes shrunk by the brake's soft zone)."""
    from raceday.staking.ledger import daily_pnl_from_ledger_days, drawdown_from_peak

    days = pd.DataFrame(
        {"race_date": pd.to_datetime(["2026-10-03", "2026-10-04"]), "bets": [3, 258],
         "open_bets": [0, 258], "staked_yen": [1000, 234_600], "paid_yen": [3000, 0],
         "refunded_yen": [0, 0], "open_staked_yen": [0, 234_600]}
    )  # fmt: skip
    pnl = daily_pnl_from_ledger_days(days)
    assert pnl.tolist() == [2000, 0]
    assert drawdown_from_peak(1_000_000, pnl) == 0.0
    from raceday.staking.bets import size_on_bankroll, staking_candidates
    from raceday.staking.kelly import StakingPolicy, kelly_candidates
    from raceday.staking.ledger import (
        committed_from_ledger_days,
        open_stakes_yen,
        settled_daily_pnl_yen,
    )

    assert committed_from_ledger_days(days) == 234_600
    runners = pd.DataFrame({"race_id": "r", "umaban": [1, 2], "p_final": [0.6, 0.4],
                            "win_odds": [2.0, 2.0], "race_date": pd.Timestamp("2026-10-05"),
                            "model_version": "m"})  # fmt: skip
    odds = runners[["race_id", "umaban", "win_odds"]].assign(snapshot_at="10050900")
    pools = pd.DataFrame({"race_id": ["r"], "win_pool_yen": [1e9]})
    kelly = kelly_candidates(staking_candidates(runners, odds, pools), StakingPolicy())
    sized = size_on_bankroll(
        StakingPolicy(), kelly, pnl, committed_yen=234_600,
        initial_bankroll_yen=1_000_000, stake_scale=1.0,
    )  # fmt: skip
    assert len(sized.bets) == 1
    assert sized.drawdown == 0.0 and sized.bankroll_yen == 1_002_000 - 234_600  # sized on cash
    book = ledger([("2026-01-01", 1000, 3000, 0, True), ("2026-01-02", 500, None, None, False)])
    assert settled_daily_pnl_yen(book).tolist() == [2000, 0] and open_stakes_yen(book) == 500
    assert bankroll_yen(10_000, book) == 10_000 + 2000 - 500  # the cash: settled less committed
