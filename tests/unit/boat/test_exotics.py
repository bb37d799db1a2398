"""Exacta and trifecta probabilities: every ordered combination of the boats that run, summing
to 1 per race; Harville's closed form; the discounted variant; the realised combinations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.boat.exotics import (
    exotic_probabilities,
    fit_exponent,
    most_likely,
    order_probabilities,
    realised_combinations,
    realised_log_loss,
)


def race(race_id: str, p: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"race_id": race_id, "boat": range(1, len(p) + 1), "p_final": p})


SIX = race("202604010101", [0.5, 0.2, 0.1, 0.1, 0.06, 0.04])


@pytest.mark.parametrize(("boats", "bet_type", "count"),
                         [(6, "exacta", 30), (6, "trifecta", 120), (5, "exacta", 20),
                          (5, "trifecta", 60)])  # fmt: skip
def test_every_ordered_combination_once_summing_to_1(boats: int, bet_type: str, count: int) -> None:
    frame = exotic_probabilities(SIX.head(boats), bet_type)  # type: ignore[arg-type]
    assert len(frame) == count and frame["combination"].is_unique
    assert frame["probability"].sum() == pytest.approx(1.0)


def test_harville_closed_form_on_a_hand_example() -> None:
    """p = (.5, .3, .2): P(1-2) = .5 × .3/.5 = .3; P(3-1-2) = .2 × .5/.8 × .3/.3 = .125."""
    three = race("202604010101", [0.5, 0.3, 0.2])
    exacta = exotic_probabilities(three, "exacta").set_index("combination")["probability"]
    trifecta = exotic_probabilities(three, "trifecta").set_index("combination")["probability"]
    assert exacta["1-2"] == pytest.approx(0.3)
    assert exacta["2-1"] == pytest.approx(0.3 * 0.5 / 0.7)
    assert trifecta["3-1-2"] == pytest.approx(0.125)


def test_a_withdrawn_boat_takes_no_part() -> None:
    """Boat 4 has no prediction row (withdrawn): no combination names it."""
    five = SIX[SIX["boat"] != 4]
    frame = exotic_probabilities(five, "trifecta")
    assert len(frame) == 60 and not frame["combination"].str.contains("4").any()


def test_an_exponent_below_1_flattens_the_later_places() -> None:
    """The winner's share is the win probability whatever the exponent; a flatter second
    place gives the favourite-first, longshot-second exacta more."""
    harville = exotic_probabilities(SIX, "exacta").set_index("combination")["probability"]
    flat = exotic_probabilities(SIX, "exacta", second=0.5).set_index("combination")["probability"]
    assert flat["1-6"] > harville["1-6"] and flat["1-2"] < harville["1-2"]
    winner = flat.groupby(flat.index.str[0]).sum()
    assert winner["1"] == pytest.approx(0.5)


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=6).filter(lambda w: sum(w) > 0),
    second=st.floats(0.2, 2.0),
    third=st.floats(0.2, 2.0),
)
def test_any_probabilities_sum_to_1(weights: list[float], second: float, third: float) -> None:
    p = np.asarray([weights]) / sum(weights)
    for places in (2, 3):
        result = order_probabilities(p, places, second, third)
        assert np.isfinite(result).all() and result.sum() == pytest.approx(1.0)


def test_most_likely_ranks_each_race() -> None:
    frame = most_likely(exotic_probabilities(SIX, "trifecta"), top=3)
    assert frame["rank"].tolist() == [1, 2, 3]
    assert frame["combination"].iloc[0] == "1-2-3"


def results(race_id: str, order: list[int]) -> pd.DataFrame:
    positions = pd.array(range(1, len(order) + 1), dtype="Int64")
    return pd.DataFrame({"race_id": race_id, "boat": order, "position": positions})


def test_realised_combinations_skip_dead_heats() -> None:
    ties = results("202604010102", [2, 1, 3]).assign(position=pd.array([1, 1, 3], "Int64"))
    realised = realised_combinations(pd.concat([results("202604010101", [3, 1, 2, 4]), ties]))
    assert realised.to_dict("records") == [
        {"race_id": "202604010101", "exacta": "3-1", "trifecta": "3-1-2"}
    ]
    exotics = exotic_probabilities(race("202604010101", [0.5, 0.3, 0.2]), "exacta")
    assert realised_log_loss(exotics, realised, "exacta") == pytest.approx(-np.log(0.2 * 0.5 / 0.8))


def test_the_fitted_exponent_follows_what_happened() -> None:
    """Races the favourite wins with a longshot second give an exponent below 1."""
    races = [race(f"2026040101{n:02d}", [0.5, 0.2, 0.1, 0.1, 0.06, 0.04]) for n in range(12)]
    outcomes = [results(f"2026040101{n:02d}", [1, 6 - n % 2, 2]) for n in range(12)]
    exponent = fit_exponent(pd.concat(races), realised_combinations(pd.concat(outcomes)), "exacta")
    assert exponent < 0.9
