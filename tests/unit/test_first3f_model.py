"""Fitting the first-3F layers from what real data measures, gating them on held-out days, and
storing them so a day can be recomputed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from raceday.codec import decode_races, decode_runners
from raceday.first3f.layers import estimate_first3f
from raceday.first3f.model import (
    FitOptions,
    exact_600m_rows,
    first3f_model_version,
    fit_first3f_model,
    fit_leader_deficit,
    fit_pace,
    fit_short_ml,
    leader_rows,
    ml_trainable,
    model_from_record,
    model_to_record,
    short_rows,
    without_empty_columns,
)
from raceday.pipeline import runner_view
from raceday.ratings.standards import learn_reference_times
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """Three weeks of a small simulated world, as the runner view the pipeline stores."""
    simulated = simulate_days(
        date(2026, 5, 1), date(2026, 5, 21), SimulatorConfig(races_per_day=40)
    )
    return runner_view(decode_races(simulated.raw.nvd_ra), decode_runners(simulated.raw.nvd_se))


@pytest.fixture(scope="module")
def fitted(history: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    references = learn_reference_times(history)
    return references, fit_first3f_model(history, references, "f3f-20260521")


def known(rows: list[dict[str, float | str]]) -> pd.DataFrame:
    return pd.DataFrame(rows).assign(race_date=pd.Timestamp("2026-05-01"))


def test_fit_pace_recovers_known_coefficients() -> None:
    """Least squares finds a, c and b of target = base + a - c * SI + b * early."""
    rng = np.random.default_rng(3)
    n = 2000
    early, speed = rng.uniform(0, 1, n), rng.normal(0, 2, n)
    target = 36.0 + 0.2 - 0.35 * speed + 1.8 * early + rng.normal(0, 0.05, n)
    rows = pd.DataFrame(
        {"base_s": 36.0, "speed_index_s": speed, "early": early, "target_s": target}
    )
    pace = fit_pace(rows, min_rows=100)
    assert pace is not None
    assert (pace.intercept_s, pace.speed_coefficient, pace.position_s) == pytest.approx(
        (0.2, 0.35, 1.8), abs=0.02
    )


def test_fit_pace_refuses_thin_or_degenerate_data() -> None:
    """Too few rows, or no spread of early positions (only leaders): no pace layer."""
    rows = pd.DataFrame(
        {"base_s": 36.0, "speed_index_s": [0.1, 0.2], "early": [0.0, 0.0], "target_s": 36.0}
    )
    assert fit_pace(rows, min_rows=100) is None
    assert fit_pace(pd.concat([rows] * 100), min_rows=100) is None


def test_leader_rows_credit_the_best_early_position() -> None:
    """Above 1200 m the runner in front early carries the race's zenhan_3f; ties by segment."""
    frame = known(
        [
            {"race_id": "a", "distance_m": 1600, "early": 0.3, "segment_s": 62.0},
            {"race_id": "a", "distance_m": 1600, "early": 0.0, "segment_s": 62.5},
            {"race_id": "a", "distance_m": 1600, "early": 0.0, "segment_s": 62.2},
            {"race_id": "b", "distance_m": 1200, "early": 0.0, "segment_s": 36.0},
        ]
    ).assign(leader_first3f_s=35.5)
    leaders = leader_rows(frame)
    assert leaders["race_id"].tolist() == ["a"]
    assert leaders["segment_s"].iloc[0] == 62.2 and leaders["target_s"].iloc[0] == 35.5


def test_1200m_rows_are_the_exact_first_600m() -> None:
    """At 1200 m, T - L3F is the first 600 m: those rows train with it as target."""
    frame = known(
        [
            {"race_id": "a", "distance_m": 1200, "segment_s": 36.4},
            {"race_id": "b", "distance_m": 1000, "segment_s": 24.0},
            {"race_id": "c", "distance_m": 1200, "segment_s": np.nan},
        ]
    )
    assert exact_600m_rows(frame)["target_s"].tolist() == [36.4]


def test_leader_deficit_grows_with_early_position() -> None:
    """Seconds behind the front at 600 m, fitted against the early position on 1200 m rows."""
    early = np.linspace(0, 1, 300)
    rows = pd.DataFrame(
        {"early": early, "segment_s": 36.0 + 0.2 + 2.5 * early, "front_segment_s": 36.0}
    )
    deficit = fit_leader_deficit(rows, min_rows=100)
    assert deficit is not None
    assert (deficit.intercept_s, deficit.position_s) == pytest.approx((0.2, 2.5))


def test_fitted_model_reports_holdout_and_gates_its_layers(fitted: tuple) -> None:
    """Held-out errors are recorded; a layer is kept only when it beat the one beneath."""
    _references, model = fitted
    details = model.details
    holdout = details["holdout_mae_s"]
    assert details["n_leader_rows"] > 0 and details["n_1200m_rows"] > 0
    assert details["seed_coefficient"] == 0.3
    assert details["fitted_seed_coefficient"] is not None
    assert details["pace_used"] == (model.pace is not None)
    assert details["pace_used"] == (holdout["pace"] < holdout["adjusted"])
    assert details["ml_used"] == (model.short_ml is not None)
    assert details["ml_used"] == (holdout["ml"] < holdout["ratio"])


def test_fit_on_no_history_gives_the_seed_layers_only(history: pd.DataFrame) -> None:
    """An empty history fits nothing: estimates fall back to the seed's layers."""
    empty = history.iloc[0:0]
    model = fit_first3f_model(empty, learn_reference_times(empty), "f3f-empty")
    assert model.pace is None and model.short_ml is None and model.leader_deficit is None
    assert model.details["n_leader_rows"] == 0


def test_ml_layer_is_not_fitted_when_disabled(history: pd.DataFrame) -> None:
    """``ml_enabled=False`` leaves the ML layer out (ratio stays the short-race fallback)."""
    references = learn_reference_times(history)
    model = fit_first3f_model(history, references, "v", FitOptions(ml_enabled=False))
    assert model.short_ml is None and "ml" not in model.details["holdout_mae_s"]


def test_model_round_trips_through_its_stored_record(fitted: tuple, history: pd.DataFrame) -> None:
    """A stored model (JSON + pickled ML layer) estimates exactly as the fitted one."""
    references, model = fitted
    record = model_to_record(model, "ref-20260521", date(2026, 5, 1), date(2026, 5, 21))
    assert record["version"] == "f3f-20260521" and record["reference_version"] == "ref-20260521"
    loaded = model_from_record(record)
    assert loaded is not None
    sample = history.assign(last3f_s=history["last3f_s"].where(history.index % 7 != 0))
    pd.testing.assert_frame_equal(
        estimate_first3f(sample, references, model), estimate_first3f(sample, references, loaded)
    )


def test_model_pickled_by_another_library_version_is_not_trusted(fitted: tuple) -> None:
    """A stored ML layer from another scikit-learn version is refused (the caller refits)."""
    _references, model = fitted
    if model.short_ml is None:
        model = replace(model, short_ml=object())
    record = model_to_record(model, "ref-20260521", None, None)
    assert model_from_record({**record, "ml_library": "scikit-learn 0.0.1"}) is None


def test_versions_are_named_after_the_last_day_of_history() -> None:
    """f3f-YYYYMMDD: the model for day D is the one fitted up to D - 1."""
    assert first3f_model_version(date(2026, 11, 19)) == "f3f-20261119"


def test_ml_layer_trains_without_any_leader_time(history: pd.DataFrame) -> None:
    """Real NAR exports with every zenhan_3f '000': the booster cannot bin an all-missing
    column; the fit trains it as a constant instead of crashing, and still estimates."""
    blank = history.assign(leader_first3f_s=np.nan)
    references = learn_reference_times(blank)
    options = FitOptions(min_rows=50, ml_max_iter=5)
    model = fit_first3f_model(blank, references, "f3f-blank", options)
    short = short_rows(blank)
    regressor = fit_short_ml(short, references, options)
    assert regressor is not None
    estimates = estimate_first3f(blank.assign(last3f_s=np.nan), references, model)
    assert estimates["method"].notna().all()


def test_ml_layer_is_skipped_with_a_warning_on_degenerate_rows(
    history: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    """Too few rows, or a target of one value: no ML layer (the ratio layer serves), a warning."""
    references = learn_reference_times(history)
    short = short_rows(history)
    options = FitOptions(min_rows=50, ml_max_iter=5)
    flat = short.head(80).assign(target_s=36.0)
    assert fit_short_ml(flat, references, options) is None
    assert "first-3F ML layer skipped: a target of one value" in caplog.text
    assert ml_trainable(pd.DataFrame({"x": [1.0] * 60}), pd.Series(range(60)), 50) is not None
    assert ml_trainable(pd.DataFrame({"x": [1.0, 2.0]}), pd.Series([1, 2]), 50) is not None


def test_empty_feature_columns_become_constants() -> None:
    """All-missing columns (and only those) are set to 0.0; partly missing ones stay as they are."""
    features = pd.DataFrame({"empty": [np.nan, np.nan], "partly": [1.0, np.nan], "full": [1, 2]})
    out = without_empty_columns(features)
    assert out["empty"].tolist() == [0.0, 0.0]
    assert out["partly"].isna().tolist() == [False, True]
    assert out["full"].tolist() == [1, 2]
