"""A race's payout lines judged against its finishing order: a line naming a boat that did not
finish where its bet needs it sets the race aside (its bets refunded), where it was stored and
settled as printed (a win line on boat 6 paid boat 6 while boat 2 won)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from data_checks.boat import validate_results
from raceday.boat.files import parse_k_text
from raceday.boat.finish import payouts_name_the_finish
from raceday.boat.settle import SET_ASIDE, settle_boat_bets
from tests.unit.boat.excerpts import RESULTS

DAY = date(2026, 4, 1)
R1, R2 = "202604010501", "202604010502"


def _contradicted(old: str, new: str) -> list[list[str]]:
    assert old in RESULTS
    day = parse_k_text(RESULTS.replace(old, new), DAY)
    agrees = payouts_name_the_finish(day.payouts, day.results)
    return day.payouts.loc[~agrees, ["race_id", "bet_type", "combination"]].values.tolist()


def test_the_excerpt_and_its_dead_heat_agree_with_their_finish() -> None:
    """Two boats at 01 and no 02 is a dead heat for first: both win lines, both exactas and
    both trifectas agree; 特払い and 不成立 name no boat."""
    day = parse_k_text(RESULTS, DAY)
    assert payouts_name_the_finish(day.payouts, day.results).all()


@pytest.mark.parametrize(
    ("old", "new", "wrong"),
    [
        ("単勝     1          230", "単勝     6          230", [R1, "win", "6"]),
        ("２連単   1-2        560", "２連単   2-1        560", [R1, "exacta", "2-1"]),
        ("複勝     1          130  2          180", "複勝     1          130  4          180",
         [R1, "place", "4"]),
        ("拡連複   1-2        150", "拡連複   1-5        150", [R1, "wide", "1-5"]),
        ("３連複   1-2-4      480", "３連複   1-2-3      480", [R1, "trio", "1-2-3"]),
        ("         2-1-3     1740", "         2-3-1     1740", [R2, "trifecta", "2-3-1"]),
        # a dead heat printed with one win line: the other winner's tickets would lose
        ("\r\n                 2          290", "", [R2, "win", "1"]),
    ],
)  # fmt: skip
def test_a_line_against_the_finish_is_named(old: str, new: str, wrong: list[str]) -> None:
    assert _contradicted(old, new) == [wrong]


def test_a_win_line_on_a_loser_sets_its_race_aside_and_refunds_its_bets() -> None:
    """Race 1 won by boat 1, its win line naming boat 6: set aside with the reason, every bet
    on it refunded (boat 6's included); race 2 still settled."""
    day = parse_k_text(RESULTS.replace("単勝     1          230", "単勝     6          230"), DAY)
    night = validate_results(day.races, day.results, day.payouts, pd.Timestamp(DAY))
    assert R1 in night.set_aside and R2 not in night.set_aside
    reasons = night.quarantine[night.quarantine["race_id"] == R1]["check_name"]
    assert reasons.str.contains("payout_names_the_finish").any()
    bets = pd.DataFrame({"race_id": [R1, R1, R2], "boat": pd.array([1, 6, 2], dtype="Int64"),
                         "stake_yen": [100, 100, 100]})  # fmt: skip
    settled = settle_boat_bets(bets, night.races, night.results, night.payouts, night.set_aside)
    assert settled["outcome"].tolist() == [SET_ASIDE, SET_ASIDE, "won"]
    assert settled["refund_yen"].tolist() == [100, 100, 0]
    assert settled["payout_yen"].tolist() == [0, 0, 290]
