"""Reference times, rollout priority, settlement to the yen and the metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raceday.model.metrics import pseudo_r2, top_pick_rates, winner_log_loss
from raceday.model.rollout import select_races
from raceday.ratings.reference_times import ALL_CLASSES, lookup_reference
from raceday.ratings.standards import learn_reference_times
from raceday.staking.ledger import (
    bankroll_yen,
    drawdown_from_peak,
    payout_per_unit_yen,
    settle_bets,
)


def history(n_races: int, venue: str = "44", cls: str = "C3", base: float = 74.0) -> pd.DataFrame:
    rows = []
    for race in range(n_races):
        for pos in (1, 2, 3, 4):
            rows.append(
                {
                    "race_id": f"{venue}-{cls}-{race}", "keibajo_code": venue, "distance_m": 1200,
                    "class_code": cls, "finish_pos": pos, "finish_time_s": base + pos * 0.2,
                    "last3f_s": 38.0, "leader_first3f_s": 35.0,
                }
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


def test_reference_times_are_top3_medians_shrunk_toward_the_venue_cell() -> None:
    """A thin class cell is pulled toward its venue x distance median by n / (n + 30)."""
    frame = pd.concat([history(40, cls="C3", base=74.0), history(2, cls="A1", base=72.0)])
    refs = learn_reference_times(frame)
    total = refs[refs["kind"] == "total"].set_index("class_code")["value_s"]
    parent = frame[frame["finish_pos"] <= 3]["finish_time_s"].median()
    assert total[ALL_CLASSES] == pytest.approx(parent)
    a1_median, n = 72.4, 6
    assert total["A1"] == pytest.approx((n * a1_median + 30 * parent) / (n + 30))
    leader = refs[(refs["kind"] == "leader_first3f") & (refs["class_code"] == ALL_CLASSES)]
    assert leader["value_s"].iloc[0] == 35.0 and leader["n_samples"].iloc[0] == 42


def test_lookup_falls_back_from_class_to_venue_and_distance() -> None:
    """Unknown classes and missing class cells take the venue x distance value."""
    refs = learn_reference_times(history(40, cls="C3"))
    query = pd.DataFrame(
        {
            "keibajo_code": ["44", "44", "44", "45"],
            "distance_m": [1200, 1200, 1200, 1200],
            "class_code": pd.array(["C3", "B1", None, "C3"], dtype="string"),
        }
    )
    values = lookup_reference(query, refs, "total")
    assert values.iloc[0] == values.iloc[1] == values.iloc[2]
    assert np.isnan(values.iloc[3])


def test_rollout_takes_venues_round_robin_later_races_first() -> None:
    """With a cap of 3 over two venues: each venue's last race, then the next venue's."""
    races = pd.DataFrame(
        {
            "race_id": ["a1", "a2", "a3", "b1", "b2"],
            "race_date": pd.Timestamp("2026-11-20"),
            "keibajo_code": ["44", "44", "44", "45", "45"],
            "race_bango": [1, 2, 3, 1, 2],
        }
    )
    assert select_races(races, 3)["race_id"].tolist() == ["a2", "a3", "b2"]
    assert len(select_races(races, 50)) == 5


def test_settlement_pays_to_the_yen_and_refunds_scratches() -> None:
    """Winner: stake/100 * odds*100; scratched: stake back; loser: nothing."""
    bets = pd.DataFrame({"race_id": ["r"] * 3, "umaban": [1, 2, 3], "stake_yen": [300, 500, 200]})
    runners = pd.DataFrame(
        {
            "race_id": ["r"] * 4, "umaban": [1, 2, 3, 4],
            "finish_pos": pd.array([1, 2, None, 3], dtype="Int64"),
            "abnormal_code": [0, 0, 1, 0], "win_odds": [3.7, 5.1, np.nan, 9.9],
        }
    )  # fmt: skip
    settled = settle_bets(bets, runners)
    assert settled["payout_yen"].tolist() == [1110, 0, 0]
    assert settled["refund_yen"].tolist() == [0, 0, 200]
    assert settled["settled"].all()
    assert bankroll_yen(10_000, settled) == 10_000 + 1110 + 200 - 1000


def test_payout_never_rounds_up() -> None:
    """Odds are tenths: 100 yen at 2.3 pays 230, never 231 from float noise."""
    assert payout_per_unit_yen(pd.Series([2.3, 1.0, 12.7])).tolist() == [230, 100, 1270]


def test_unrun_races_stay_unsettled() -> None:
    """Without results a bet waits: settleable later, nothing paid yet."""
    bets = pd.DataFrame({"race_id": ["r"], "umaban": [1], "stake_yen": [100]})
    runners = pd.DataFrame(
        {"race_id": ["r"], "umaban": [1], "finish_pos": pd.array([None], dtype="Int64"),
         "abnormal_code": [0], "win_odds": [np.nan]}
    )  # fmt: skip
    settled = settle_bets(bets, runners)
    assert not settled["settled"].iloc[0] and pd.isna(settled["payout_yen"].iloc[0])


def test_drawdown_from_peak() -> None:
    """Peak 1,200 then 900: a 25% drawdown."""
    assert drawdown_from_peak(1000, pd.Series([200, -300])) == pytest.approx(0.25)
    assert drawdown_from_peak(1000, pd.Series(dtype="int64")) == 0.0


def test_metrics_against_hand_computed_values() -> None:
    """Two races: log loss, uniform baseline, pseudo-R², hit and top-3 rates."""
    frame = pd.DataFrame(
        {
            "race_id": ["a", "a", "b", "b", "b"], "umaban": [1, 2, 1, 2, 3],
            "p": [0.7, 0.3, 0.2, 0.5, 0.3],
            "finish_pos": pd.array([1, 2, 1, 2, 3], dtype="Int64"),
        }
    )  # fmt: skip
    loss = winner_log_loss(frame, "p")
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.2)) / 2)
    uniform = (np.log(2) + np.log(3)) / 2
    assert pseudo_r2(frame, "p") == pytest.approx(1 - loss / uniform)
    assert top_pick_rates(frame, "p") == (0.5, 1.0)
