"""The win model's pieces: per-race softmax, temperature and blend fits, the unrated-runner rule,
time-ordered splits, the scorer on a planted signal, and the evaluation's figures."""

from __future__ import annotations

import pickle
import threading
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from raceday.model.condlogit import (
    BlendParameters,
    RaceGroups,
    apply_blend,
    fit_blend,
    fit_temperature,
    log_softmax,
    softmax,
)
from raceday.model.encoding import VenueEncoding
from raceday.model.evaluate import evaluate_predictions
from raceday.model.win import (
    PREDICTION_COLUMNS,
    SCORE_BLOCK_ROWS,
    FitResult,
    ModelInputs,
    NotEnoughData,
    ScorerOptions,
    TimeSplit,
    WinModel,
    fit_scorer,
    fit_win_model,
    implied_probabilities,
    model_predictions,
    openmp_threads,
    scorer_pipeline,
    time_split,
)
from raceday.ratings.features import FEATURE_COLUMNS


def sampled_winners(
    probability: np.ndarray, race: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One winner per race drawn from ``probability``."""
    cumulative = pd.Series(probability).groupby(race).cumsum().to_numpy()
    draw = rng.random(race.max() + 1)[race]
    first = pd.Series(cumulative >= draw).groupby(race).idxmax().to_numpy()
    won = np.zeros(race.size, dtype=bool)
    won[first] = True
    return won


def planted_races(races: int, field: int, seed: int) -> tuple[np.ndarray, RaceGroups]:
    race = np.repeat(np.arange(races), field)
    return race, RaceGroups.of(pd.Series(race).astype(str))


def test_softmax_is_per_race_and_sums_to_one() -> None:
    """Each race's probabilities sum to 1 and equal the textbook softmax of its own scores,
    whatever the row order and however large the scores."""
    race_id = pd.Series(["b", "a", "b", "a", "a", "c"])
    utility = np.array([1.0, 0.0, 3.0, 1000.0, 1001.0, -5.0])
    p = softmax(utility, RaceGroups.of(race_id))
    assert p[[0, 2]] == pytest.approx(np.exp([1.0, 3.0]) / np.exp([1.0, 3.0]).sum())
    a = np.exp([0.0 - 1001, 1000.0 - 1001, 1001.0 - 1001])
    assert p[[1, 3, 4]] == pytest.approx(a / a.sum())
    assert p[5] == 1.0
    assert np.isfinite(log_softmax(utility, RaceGroups.of(race_id))).all()


def test_blend_fit_recovers_planted_alpha_and_beta() -> None:
    """Winners drawn from exp(1.3 ln f + 0.7 ln pi): the MLE finds alpha and beta within 0.15."""
    rng = np.random.default_rng(3)
    race, groups = planted_races(4000, 10, 3)
    strength = rng.normal(0.0, 1.0, race.size)
    p_model = softmax(strength + rng.normal(0.0, 0.8, race.size), groups)
    p_market = softmax(strength + rng.normal(0.0, 0.8, race.size), groups)
    truth = softmax(1.3 * np.log(p_model) + 0.7 * np.log(p_market), groups)
    won = sampled_winners(truth, race, rng)
    fitted = fit_blend(p_model, p_market, groups, won, np.ones(race.size, dtype=bool))
    assert fitted.alpha == pytest.approx(1.3, abs=0.15)
    assert fitted.beta == pytest.approx(0.7, abs=0.15)
    assert fitted.races == 4000


def test_temperature_fit_recovers_a_planted_scale() -> None:
    """Winners drawn from softmax(0.6 * score): the fitted kappa is 0.6 within 0.08."""
    rng = np.random.default_rng(5)
    race, groups = planted_races(4000, 10, 5)
    score = rng.normal(0.0, 2.0, race.size)
    won = sampled_winners(softmax(0.6 * score, groups), race, rng)
    assert fit_temperature(score, groups, won) == pytest.approx(0.6, abs=0.08)


def test_unrated_runners_keep_the_market_and_the_rest_share_what_is_left() -> None:
    """Debutants keep pi; the rated runners' blend fills 1 - their share; a race of debutants
    is the market."""
    race_id = pd.Series(["r1", "r1", "r1", "r2", "r2"])
    groups = RaceGroups.of(race_id)
    p_market = np.array([0.5, 0.3, 0.2, 0.6, 0.4])
    p_model = np.array([0.2, 0.2, 0.6, 0.5, 0.5])
    rated = np.array([True, True, False, False, False])
    blended = apply_blend(p_model, p_market, groups, rated, BlendParameters(1.0, 0.0, 0))
    assert blended[2] == 0.2 and blended[3:] == pytest.approx([0.6, 0.4])
    assert blended[:2] == pytest.approx([0.4, 0.4])  # model 1:1 over the 0.8 left
    assert groups.sum(blended) == pytest.approx([1.0, 1.0])


@given(
    until=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    train_days=st.integers(1, 400),
    blend_days=st.integers(1, 90),
    eval_days=st.integers(1, 90),
    offsets=st.lists(st.integers(0, 700), min_size=1, max_size=60),
)
def test_time_split_never_puts_a_training_day_after_a_held_out_day(
    until: date, train_days: int, blend_days: int, eval_days: int, offsets: list[int]
) -> None:
    """Whatever the windows and dates: every train date < every blend date < every eval date,
    the eval window ends on ``until`` and nothing after it is used."""
    split = time_split(until, train_days, blend_days, eval_days)
    dates = pd.Series(pd.to_datetime([until - timedelta(days=o - 20) for o in offsets]))
    part = split.part(dates)
    for earlier, later in (("train", "blend"), ("blend", "eval"), ("train", "eval")):
        if (part == earlier).any() and (part == later).any():
            assert dates[part == earlier].max() < dates[part == later].min()
    assert (part[dates > pd.Timestamp(until)] == "").all()
    assert split.eval_end == until
    assert (split.eval_end - split.eval_start).days + 1 == eval_days
    assert (split.train_end - split.train_start).days + 1 == train_days


def synthetic_runners(races: int, seed: int, start: date) -> pd.DataFrame:
    """Races of 10 with features, a market and winners drawn from a strength the market sees
    with noise and one feature (``speed_mean3``) sees with other noise; 10 races a day."""
    rng = np.random.default_rng(seed)
    race = np.repeat(np.arange(races), 10)
    groups = RaceGroups.of(pd.Series(race).astype(str))
    strength = rng.normal(0.0, 1.0, race.size)
    frame = pd.DataFrame(
        rng.normal(0.0, 1.0, (race.size, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS
    )
    frame["speed_mean3"] = strength + rng.normal(0.0, 0.7, race.size)
    frame["n_past_runs"] = 5
    frame["race_id"] = pd.Series(race).map(lambda r: f"{r:012d}")
    frame["umaban"] = np.tile(np.arange(1, 11), races)
    frame["race_date"] = pd.to_datetime([start + timedelta(days=int(r) // 10) for r in race])
    frame["keibajo_code"] = np.where(race % 2 == 0, "44", "45")
    public = softmax(0.8 * (strength + rng.normal(0.0, 0.8, race.size)), groups)
    frame["win_odds"] = np.round(0.8 / public, 1).clip(1.0, 999.9)
    frame["p_market"] = implied_probabilities(frame["race_id"], frame["win_odds"])
    won = sampled_winners(softmax(strength, groups), race, rng)
    frame["finish_pos"] = pd.array(np.where(won, 1, 2), dtype="Int64")
    return frame


FAST = ScorerOptions(max_iter=60, min_samples_leaf=50)


def test_two_stage_model_beats_the_market_on_later_races_and_sums_to_one() -> None:
    """A feature with information the market lacks: the scorer trained on the oldest days, the
    blend fitted on the next, the held-out days' blend beats the market's log loss."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(3000, 11, start)
    split = time_split(start + timedelta(days=299), 150, 75, 75)
    fitted = fit_win_model(runners, split, "gbm-test", FAST)
    held = fitted.held_out
    assert held["race_date"].min() >= pd.Timestamp(split.eval_start)
    assert fitted.model.blend.alpha > 0.2 and fitted.model.blend.beta > 0.2
    result = evaluate_predictions(held)
    assert result["races"] == 750
    assert result["delta_r2"] > 0.0
    assert result["blend"]["log_loss"] < result["market"]["log_loss"]
    predictions = model_predictions(fitted.model, held)
    assert list(predictions.columns) == PREDICTION_COLUMNS
    sums = predictions.groupby("race_id")[["p_model", "p_final"]].sum()
    assert np.allclose(sums, 1.0)


def test_the_fit_does_not_depend_on_the_order_the_store_returns_rows_in() -> None:
    """21,000 races (210,000 rows): more than the booster's binning sample (200,000 rows)."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(21_000, 5, start)
    split = time_split(start + timedelta(days=2099), 1400, 350, 350)
    shuffled = runners.sample(frac=1.0, random_state=3).reset_index(drop=True)
    options = ScorerOptions(max_iter=10, min_samples_leaf=50)
    one, other = (fit_win_model(frame, split, "gbm-x", options) for frame in (runners, shuffled))
    assert one.model.kappa == other.model.kappa
    assert np.array_equal(one.held_out["p_final"], other.held_out["p_final"])


@pytest.fixture(scope="module")
def fast_fit() -> tuple[pd.DataFrame, TimeSplit, FitResult]:
    """3,000 races fitted with :data:`FAST` once for the module: the tests that compare another
    fit of the same runners (on two threads, on a thread of its own) with it read it."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(3000, 7, start)
    split = time_split(start + timedelta(days=299), 150, 75, 75)
    return runners, split, fit_win_model(runners, split, "gbm-x", FAST)


def test_scores_are_the_same_by_blocks_and_on_one_thread_or_two(
    fast_fit: tuple[pd.DataFrame, TimeSplit, FitResult],
) -> None:
    """Each runner is scored on its own, through the trees in order: by blocks of rows or all at
    once, on one OpenMP thread or two, the same bits (``train.score_threads``; the fit itself
    stays on one). Scored: five blocks and a part of one (the property is per block, not per
    size), on one thread and two."""
    runners, split, one = fast_fit
    two = fit_win_model(runners, split, "gbm-x", FAST, score_threads=2)
    scored = runners.iloc[: 5 * SCORE_BLOCK_ROWS + 17]
    whole = one.model.scorer.decision_function(one.model.inputs.frame(scored))  # one block
    assert len(scored) > 2 * SCORE_BLOCK_ROWS
    assert np.array_equal(one.model.scores(scored, 1), whole)
    assert np.array_equal(one.model.scores(scored, 2), whole)
    assert one.model.kappa == two.model.kappa and one.model.blend == two.model.blend
    assert np.array_equal(one.held_out["p_final"], two.held_out["p_final"])


@pytest.mark.parametrize("encoding", ["categorical", "one-hot"])
def test_a_venue_never_trained_on_is_scored_as_a_blank_one(encoding: VenueEncoding) -> None:
    """``venue_encoding="one-hot"`` (the default): a column per venue; ``"categorical"``: one
    column the trees split by sets of venues. Either way a venue the training window
    never saw (a new track, a code of another circuit) is scored as a blank one is (missing; no
    venue column set): the same scores for both, finite, summing to 1."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(3000, 7, start)
    split = time_split(start + timedelta(days=299), 150, 75, 75)
    options = ScorerOptions(max_iter=60, min_samples_leaf=50, venue_encoding=encoding)
    fitted = fit_win_model(runners, split, "gbm-x", options)
    booster = fitted.model.scorer.steps[-1][1]
    venue_columns = booster.n_features_in_ - len(fitted.model.inputs.numeric)
    assert venue_columns == (1 if encoding == "categorical" else 2)  # two venues trained on
    assert (booster.is_categorical_ is not None) == (encoding == "categorical")
    later = runners[runners["race_date"] >= pd.Timestamp(split.eval_start)].reset_index(drop=True)
    unseen, blank = later.assign(keibajo_code="99"), later.assign(keibajo_code=pd.NA)
    assert np.array_equal(fitted.model.scores(unseen), fitted.model.scores(blank))
    predicted = model_predictions(fitted.model, unseen)
    assert np.isfinite(predicted["p_final"]).all()
    assert np.allclose(predicted.groupby("race_id")["p_final"].sum(), 1.0)


def test_early_stopping_is_judged_on_the_blend_window_only() -> None:
    """``stop_after``: the scorer stops adding trees once its loss on the blend window has not
    improved for that many; the held-out window never decides it (its rows changed, the same
    trees), and the same runners give the same model."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(3000, 7, start)
    split = time_split(start + timedelta(days=299), 150, 75, 75)
    options = ScorerOptions(max_iter=400, learning_rate=0.5, min_samples_leaf=50, stop_after=5)
    fitted = fit_win_model(runners, split, "gbm-x", options)
    trees = fitted.model.trees
    assert trees < options.max_iter
    held_out = runners["race_date"] >= pd.Timestamp(split.eval_start)
    changed = runners.copy()
    changed.loc[held_out, "speed_mean3"] = -changed.loc[held_out, "speed_mean3"]
    again = fit_win_model(changed, split, "gbm-x", options)
    assert again.model.trees == trees
    assert again.model.kappa == fitted.model.kappa and again.model.blend == fitted.model.blend
    same = fit_win_model(runners, split, "gbm-x", options)
    assert np.array_equal(same.held_out["p_final"], fitted.held_out["p_final"])
    blend_changed = runners.copy()
    in_blend = (runners["race_date"] >= pd.Timestamp(split.blend_start)) & ~held_out
    blend_changed.loc[in_blend, "speed_mean3"] = 0.0  # the blend window no longer agrees
    assert fit_win_model(blend_changed, split, "gbm-x", options).model.trees != trees


@pytest.mark.parametrize("encoding", ["one-hot", "categorical"])
def test_the_stop_windows_columns_from_the_fit_are_those_the_model_builds(
    encoding: VenueEncoding,
) -> None:
    """With early stopping the fit hands back the blend window's columns it judged the trees
    on; the blend is fitted on their scores, so they must be what the fitted model builds for
    those runners (the scores are not built twice)."""
    runners = synthetic_runners(60, 3, date(2026, 1, 1))
    runners["won"] = (runners["finish_pos"] == 1).astype(int)
    train, check = runners.iloc[:400], runners.iloc[400:]
    inputs = ModelInputs().with_values_in(train)
    options = ScorerOptions(max_iter=20, min_samples_leaf=20, stop_after=3, venue_encoding=encoding)
    scorer = scorer_pipeline(inputs, options)
    stop_on = (inputs.frame(check), check["won"].to_numpy())
    columns = fit_scorer(scorer, inputs.frame(train), train["won"].to_numpy(), stop_on)
    model = WinModel("gbm-x", scorer, 1.0, BlendParameters(0.0, 1.0, 0), inputs)
    assert np.array_equal(columns, model.columns(check), equal_nan=True)
    assert np.array_equal(model.scores_of_columns(columns), model.scores(check))
    assert fit_scorer(scorer_pipeline(inputs, options), inputs.frame(train), train["won"]) is None


def test_a_fit_on_a_thread_of_its_own_is_the_same_and_leaves_the_others_limits(
    fast_fit: tuple[pd.DataFrame, TimeSplit, FitResult],
) -> None:
    """A backfill fits on a thread of its own while the next chunk runs (flows/backfill.py,
    ``Training``): the same model as here, and its thread limit is its own — the OpenMP and BLAS
    limits the other threads see do not change while it holds it."""
    from threadpoolctl import threadpool_info

    runners, split, here = fast_fit
    there: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: there.update(fit=fit_win_model(runners, split, "gbm-x", FAST))
    )
    thread.start()
    thread.join()
    fitted = there["fit"]
    assert isinstance(fitted, type(here))
    assert fitted.model.kappa == here.model.kappa and fitted.model.blend == here.model.blend
    assert np.array_equal(fitted.held_out["p_final"], here.held_out["p_final"])

    holding, release = threading.Event(), threading.Event()

    def hold_one_thread() -> None:
        with openmp_threads(1):
            holding.set()
            release.wait(30)

    before = [info["num_threads"] for info in threadpool_info()]
    holder = threading.Thread(target=hold_one_thread)
    holder.start()
    try:
        assert holding.wait(30)
        assert [info["num_threads"] for info in threadpool_info()] == before
    finally:
        release.set()
        holder.join()


def test_too_few_winners_is_a_clear_error() -> None:
    """Thirty races cannot train a model: ValueError naming the window."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(60, 2, start)
    with pytest.raises(NotEnoughData, match=r"the train window .* at least 50 are needed"):
        fit_win_model(runners, time_split(start + timedelta(days=5), 2, 2, 2), "gbm-x", FAST)


def test_a_blend_window_without_a_single_winner_race_is_not_enough_data() -> None:
    """Every blend-window race a dead heat: no race to fit the temperature or the blend on, so
    NotEnoughData (the train task's one-line error), not a bare ValueError from the optimiser."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(300, 4, start)
    split = time_split(start + timedelta(days=29), 10, 10, 10)
    in_blend = split.part(runners["race_date"]).eq("blend").to_numpy()
    tied = in_blend & (runners["umaban"] <= 2).to_numpy()
    runners["finish_pos"] = runners["finish_pos"].mask(tied, 1)
    with pytest.raises(NotEnoughData, match="the blend window cannot be fitted"):
        fit_win_model(runners, split, "gbm-x", FAST)


def test_evaluation_reports_market_blend_and_venues() -> None:
    """Log loss, pseudo-R² against the uniform baseline, top picks, calibration, venues."""
    frame = pd.DataFrame(
        {
            "race_id": ["a", "a", "b", "b"],
            "umaban": [1, 2, 1, 2],
            "keibajo_code": ["44", "44", "45", "45"],
            "finish_pos": [1, 2, 2, 1],
            "p_market": [0.5, 0.5, 0.5, 0.5],
            "p_final": [0.8, 0.2, 0.6, 0.4],
        }
    )
    result = evaluate_predictions(frame)
    assert result["races"] == 2
    assert result["market"]["pseudo_r2"] == pytest.approx(0.0)
    expected = (-np.log(0.8) - np.log(0.4)) / 2
    assert result["blend"]["log_loss"] == pytest.approx(expected, abs=1e-6)
    assert result["delta_r2"] == pytest.approx(1 - expected / np.log(2), abs=1e-5)
    assert result["blend"]["top1_hit"] == 0.5 and result["blend"]["top3_hit"] == 1.0
    assert set(result["by_venue"]) == {"44", "45"}
    assert sum(row["runners"] for row in result["calibration"]) == 4
    assert "model" not in result and "truth" not in result


def _as_pickled_before_the_move(model: WinModel) -> bytes:
    """The model pickled with its classes in ``raceday.model`` and ``raceday.condlogit``, as
    the release before issue 15 stored it (protocol 2 names a class's module as a line of text,
    so the old names can be written in place of the new)."""
    blob = pickle.dumps(model, protocol=2)
    moved = {"raceday.model.win": "raceday.model", "raceday.model.condlogit": "raceday.condlogit"}
    for new, old in moved.items():
        blob = blob.replace(f"c{new}\n".encode(), f"c{old}\n".encode())
    return blob


def test_a_model_registered_before_the_domain_moved_still_loads() -> None:
    """A version stored by an earlier release (classes in the old flat modules) unpickles to the
    same model and predicts the same probabilities."""
    start = date(2026, 1, 1)
    runners = synthetic_runners(600, 5, start)
    split = time_split(start + timedelta(days=59), 30, 15, 15)
    fitted = fit_win_model(runners, split, "gbm-old", FAST)
    old_blob = _as_pickled_before_the_move(fitted.model)
    assert b"craceday.condlogit\n" in old_blob and b"raceday.model.win" not in old_blob
    loaded = WinModel.from_bytes(old_blob)
    pd.testing.assert_frame_equal(
        model_predictions(loaded, fitted.held_out), model_predictions(fitted.model, fitted.held_out)
    )
