"""Boat training: the split, the fit that never sees its held-out days, the held-out judgement
against the baseline (market, else lane prior) and the incumbent, the version's name and
artifact, and the sport check every command shares."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from cli.options import known_sport
from raceday.boat.features import DESIGN_COLUMNS
from raceday.boat.history import training_rows
from raceday.boat.model import (
    FALLBACK_VERSION,
    BoatModel,
    as_fresh,
    model_source,
    version_name,
)
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days
from raceday.boat.training import (
    BoatSplit,
    boat_split,
    check_windows,
    fit_boat_version,
    head_to_head,
    held_out_evaluation,
    version_meta,
)
from raceday.errors import InputError
from raceday.model.condlogit import BlendParameters
from raceday.store.registry import promotion_decision

UNTIL = date(2026, 4, 14)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """Training rows of 14 simulated days, 4 venues x 12 races."""
    days = simulate_boat_days(date(2026, 4, 1), UNTIL, BoatSimulatorConfig(venues_per_day=4,
                              seed=5))  # fmt: skip
    entries = days.entries.assign(
        race_date=pd.to_datetime(days.entries["race_id"].str[:8], format="%Y%m%d")
    )
    results = days.results.assign(
        race_date=pd.to_datetime(days.results["race_id"].str[:8], format="%Y%m%d")
    )
    return training_rows(entries, results, days.odds, time(9, 0))


def test_the_split_holds_out_the_newest_days() -> None:
    split = boat_split(UNTIL, train_days=30, evaluate_days=4)
    assert split == BoatSplit(date(2026, 3, 12), date(2026, 4, 10), date(2026, 4, 11), UNTIL)
    days = pd.Series(pd.to_datetime(["2026-04-10", "2026-04-11", "2026-04-14", "2026-04-15"]))
    assert split.window(days, "fit").tolist() == [True, False, False, False]
    assert split.window(days, "eval").tolist() == [False, True, True, False]


def test_a_short_window_is_one_clear_error() -> None:
    split = boat_split(UNTIL, 30, 4)
    check_windows({"fit": 300, "eval": 300}, split, 300)
    with pytest.raises(InputError, match=r"boat eval window 2026-04-11\.\.2026-04-14 has 12"):
        check_windows({"fit": 300, "eval": 12}, split, 300)


def test_a_short_window_names_the_settings_a_one_venue_source_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One venue holds 12 races a day: 14 held-out days are 167 settled races, never 300, and
    neither more history nor a later --until helps. The line names the settings that do (real
    names: setting them changes the windows and the need) and the days that would do."""
    from config import load_settings

    split = boat_split(UNTIL, 180, 14)
    with pytest.raises(InputError) as short:
        check_windows({"fit": 2100, "eval": 167}, split, 300)
    said = str(short.value)
    assert "RACEDAY_BOAT__EVALUATE_DAYS (now 14; about 26 days at this rate)" in said
    assert "RACEDAY_BOAT__MIN_RACES (now 300)" in said and "\n" not in said
    with pytest.raises(InputError, match=r"RACEDAY_BOAT__TRAIN_DAYS \(now 180; about 216"):
        check_windows({"fit": 250, "eval": 300}, split, 300)
    for name, value in (("TRAIN_DAYS", 200), ("EVALUATE_DAYS", 26), ("MIN_RACES", 150)):
        monkeypatch.setenv(f"RACEDAY_BOAT__{name}", str(value))
    boat = load_settings().boat
    assert (boat.train_days, boat.evaluate_days, boat.min_races) == (200, 26, 150)


def test_the_version_never_sees_its_held_out_days(rows: pd.DataFrame) -> None:
    """Named after --until; fitted on the fit window only: scrambling the held-out days'
    outcomes changes nothing in the fitted version, only its judgement."""
    split = boat_split(UNTIL, 180, 3)
    fitted = fit_boat_version(rows, split, min_races=100)
    assert fitted.model.version == "boat-clogit-20260414" == version_name(UNTIL)
    assert fitted.model.coefficients is not None
    held_days = pd.to_datetime(fitted.held_out["race_date"])
    assert held_days.min() == pd.Timestamp("2026-04-12") and held_days.max() == pd.Timestamp(UNTIL)
    held = split.window(rows["race_date"], "eval").to_numpy()
    scrambled = rows.assign(won=np.where(held, rows["won"].sample(frac=1, random_state=1)
                                         .to_numpy(), rows["won"]))  # fmt: skip
    again = fit_boat_version(scrambled, split, min_races=100)
    assert again.model == fitted.model
    sums = fitted.held_out.groupby("race_id")["p_final"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)


def test_the_held_out_judgement_and_the_promotion_rule(rows: pd.DataFrame) -> None:
    """On the simulator the blend beats the baseline; the first version is promoted on that,
    a later one only when it also beats the version in use on the same races."""
    fitted = fit_boat_version(rows, boat_split(UNTIL, 180, 3), min_races=100)
    evaluation = held_out_evaluation(fitted.held_out)
    assert evaluation["races"] > 100
    assert evaluation["blend_log_loss"] < evaluation["baseline_log_loss"]
    assert evaluation["blend_log_loss"] < evaluation["uniform_log_loss"]
    decision = promotion_decision(
        evaluation["blend_log_loss"], evaluation["baseline_log_loss"],
        market="the market (the lane prior where no odds)",
    )  # fmt: skip
    assert decision.promote and "lane prior" in decision.reason
    # An incumbent that is the same model: a tie, not better -> not promoted.
    same = head_to_head(fitted, fitted.model, date(2026, 4, 1))
    assert same is not None
    candidate, incumbent, baseline, races = same
    assert candidate == pytest.approx(incumbent) and races == evaluation["races"]
    assert not promotion_decision(candidate, baseline, "boat-clogit-20260401", incumbent).promote
    # An incumbent that bets against the lane prior (inner lanes least likely) loses to it.
    backwards = replace(fitted.model, version="boat-clogit-20260401",
                        coefficients=tuple(-1.0 if name == "log_prior" else 0.0
                                           for name in DESIGN_COLUMNS),
                        market_blend=None, prior_blend=None)  # fmt: skip
    head = head_to_head(fitted, backwards, date(2026, 4, 1))
    assert head is not None and head[0] < head[1]
    assert promotion_decision(head[0], head[2], "boat-clogit-20260401", head[1]).promote
    # Only the held-out days the incumbent was not fitted on are compared.
    assert head_to_head(fitted, backwards, UNTIL) is None
    meta = version_meta(fitted, evaluation, code_version="raceday test", source="files:x")
    assert meta["split"]["fit_end"] == "2026-04-11" and meta["sport"] == "boat"


def test_a_boat_artifact_round_trips_and_names_say_where_a_model_came_from() -> None:
    coefficients = tuple(0.1 * n for n in range(len(DESIGN_COLUMNS)))
    model = BoatModel("boat-clogit-20260410", coefficients, BlendParameters(0.9, 0.3, 150),
                      None, 250)  # fmt: skip
    assert BoatModel.from_bytes(model.to_bytes()) == model
    older = replace(model, columns=("log_prior", "st_mean"))  # fitted by another design
    with pytest.raises(ValueError, match=r"fitted on other features.*retrain it"):
        BoatModel.from_bytes(older.to_bytes())
    with pytest.raises(TypeError):
        BoatModel.from_bytes(__import__("pickle").dumps({"not": "a model"}))
    fresh = as_fresh(model)
    assert fresh.version == "boat-clogit-20260410-fresh"
    assert model_source(fresh.version) == "fresh"
    assert model_source(model.version) == "registered"
    fallback = BoatModel(FALLBACK_VERSION, None, None, None, 0)
    assert as_fresh(fallback) == fallback and model_source(FALLBACK_VERSION) == "market-prior"


@pytest.mark.parametrize("sport", ["nar", "jra", "boat"])
def test_the_three_sports_are_known(sport: str) -> None:
    assert known_sport(sport) == sport


@pytest.mark.parametrize("sport", ["horse", "", "BOAT", "keirin"])
def test_another_sport_is_one_clear_error(sport: str) -> None:
    with pytest.raises(InputError, match="--sport must be nar, jra or boat"):
        known_sport(sport)
