"""Measuring the first-3F estimator: error statistics, what counts as truth, what is hidden from
the estimator while it is scored, and a small simulated evaluation end to end."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from raceday.first3f.evaluate import (
    distance_band,
    error_stats,
    eval_data_from_raw,
    evaluate_first3f,
    hide_truth,
    real_truth,
    simulator_truth,
)
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days

START, END = date(2026, 5, 22), date(2026, 5, 24)


def test_error_stats_are_count_mae_p90_and_bias() -> None:
    """Missing estimates are left out; bias is the signed mean error."""
    stats = error_stats(pd.Series([36.0, 37.0, np.nan, 35.0]), pd.Series([36.5, 36.0, 30.0, 35.0]))
    assert stats["n"] == 3
    assert stats["mae_s"] == pytest.approx(0.5)
    assert stats["bias_s"] == pytest.approx((-0.5 + 1.0 + 0.0) / 3, abs=1e-3)
    assert stats["p90_s"] == pytest.approx(0.9)
    assert error_stats(pd.Series([np.nan]), pd.Series([1.0]))["n"] == 0


def test_distance_bands_are_ordered_shortest_first() -> None:
    """Reporting bands split at 1000, 1200, 1400 and 1800 m."""
    bands = distance_band(pd.Series([800, 1000, 1100, 1200, 1230, 1400, 1600, 1800, 2600]))
    assert bands.astype(str).tolist() == [
        "<=1000m", "<=1000m", "1001-1200m", "1001-1200m", "1201-1400m", "1201-1400m",
        "1401-1800m", "1401-1800m", ">=1801m",
    ]  # fmt: skip
    assert bands.cat.categories[0] == "<=1000m"


def test_simulator_truth_is_600m_above_1200m_and_first_segment_below() -> None:
    """The seed's meaning per distance: a (distance - 600) m time up to 1200 m."""
    truth = pd.DataFrame(
        {
            "race_id": ["a", "b", "c"],
            "umaban": [1, 1, 1],
            "distance_m": [1000, 1600, 1600],
            "true_first3f_s": [35.0, 36.2, np.nan],
            "true_first_segment_s": [24.0, 62.0, np.nan],
        }
    )
    assert simulator_truth(truth)["true_s"].tolist() == [24.0, 36.2]


def real_view() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for umaban, (corner_2, total, last) in enumerate([(2, 100.5, 38.0), (1, 100.0, 38.2)], 1):
        rows.append(
            {"race_id": "long", "umaban": umaban, "distance_m": 1600, "corner_2": corner_2,
             "finish_time_s": total, "last3f_s": last, "leader_first3f_s": 35.4}
        )  # fmt: skip
    rows.append(
        {"race_id": "short", "umaban": 1, "distance_m": 1000, "corner_3": 1,
         "finish_time_s": 60.5, "last3f_s": 36.5, "leader_first3f_s": 34.0}
    )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["corner_1"] = np.nan
    frame["field_size"] = 2
    return frame


def test_real_truth_is_the_leader_row_and_short_first_segments() -> None:
    """zenhan_3f goes to the runner in front early; <= 1200 m rows carry T - L3F."""
    truth = real_truth(real_view()).set_index(["race_id", "umaban"])["true_s"]
    assert truth.to_dict() == {("long", 2): 35.4, ("short", 1): pytest.approx(24.0)}


def test_real_truth_is_hidden_from_the_estimator() -> None:
    """No anchor above 1200 m, no last 3F up to 1200 m; nothing else changes."""
    view = real_view()
    hidden = hide_truth(view)
    assert hidden.loc[view["distance_m"] > 1200, "leader_first3f_s"].isna().all()
    assert hidden.loc[view["distance_m"] <= 1200, "last3f_s"].isna().all()
    assert hidden.loc[view["distance_m"] > 1200, "last3f_s"].notna().all()
    pd.testing.assert_series_equal(hidden["finish_time_s"], view["finish_time_s"])


@pytest.fixture(scope="module")
def simulated_result() -> dict[str, Any]:
    simulated = simulate_days(date(2026, 5, 1), END, SimulatorConfig(races_per_day=40))
    data = eval_data_from_raw(simulated.raw, START, END, simulated.truth)
    return evaluate_first3f(data)


def test_simulated_evaluation_reports_every_method_and_layer(
    simulated_result: dict[str, Any],
) -> None:
    """JSON shape of `raceday eval first3f`: runners, methods, overall, layers, coefficients."""
    result = simulated_result
    assert result["truth"] == "simulator"
    assert result["runners"] == result["overall"]["n"] > 0
    assert sum(stats["n"] for stats in result["methods"].values()) == result["runners"]
    assert {"baseline", "leader"} <= set(result["methods"])
    for stats in (*result["methods"].values(), result["overall"]):
        assert set(stats) >= {"n", "mae_s", "p90_s"}
    assert {"adjusted", "pace", "leader", "ml", "ratio", "ml_leaders", "ml_truth"} <= set(
        result["layers"]
    )
    assert result["coefficients"]["seed"] == 0.3
    assert result["coefficients"]["fitted_on_leader_rows"] is not None


def test_upper_layers_beat_the_seeds_formula_on_the_simulator(
    simulated_result: dict[str, Any],
) -> None:
    """Measured on held-out simulated days: leader < pace < adjusted; ml < ratio."""
    layers = {name: stats["mae_s"] for name, stats in simulated_result["layers"].items()}
    assert layers["leader"] < layers["pace"] < layers["adjusted"]
    assert layers["ml"] < layers["ratio"]
    assert layers["baseline"] < 0.06  # only the 0.1 s rounding of time and last 3F


def test_evaluation_needs_history_before_the_period() -> None:
    """Nothing to learn from is an error, not a silent seed-only evaluation."""
    simulated = simulate_days(START, END, SimulatorConfig(races_per_day=20))
    data = eval_data_from_raw(simulated.raw, START, END, simulated.truth)
    with pytest.raises(ValueError, match="no history"):
        evaluate_first3f(data)
