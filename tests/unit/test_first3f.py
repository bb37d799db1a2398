"""Seed 003's first-3F rules with the seed's own worked examples (in seconds), and the layers
above them: race-leader anchor, pace/corner layer, ML layer, fallbacks and invariants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.first3f.layers import (
    First3FModel,
    LeaderDeficit,
    PaceCoefficients,
    early_position,
    estimate_first3f,
    first3f_layers,
    first_segment_m,
    seed_adjusted,
    unavailable_note,
)
from raceday.ratings.reference_times import ALL_CLASSES, ALL_SURFACES
from raceday.ratings.standards import REFERENCE_COLUMNS, learn_reference_times


def references(rows: list[tuple[str, str, int, str, float]]) -> pd.DataFrame:
    """Reference rows (kind, venue, distance, class, seconds) for every surface."""
    return pd.DataFrame(
        [
            (kind, venue, ALL_SURFACES, distance, cls, value, 50)
            for kind, venue, distance, cls, value in rows
        ],
        columns=REFERENCE_COLUMNS,
    )


def runners(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {
        "race_id": "202611203001", "race_date": pd.Timestamp("2026-11-20"),
        "keibajo_code": "30", "class_code": pd.NA, "last3f_s": np.nan,
    }  # fmt: skip
    frame = pd.DataFrame([{**base, "umaban": i + 1, **row} for i, row in enumerate(rows)])
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


NO_REFERENCES = references([])
REFS_1600 = references(
    [
        ("leader_first3f", "30", 1600, ALL_CLASSES, 36.0),
        ("total", "30", 1600, ALL_CLASSES, 100.0),
        ("first_segment", "30", 1600, ALL_CLASSES, 60.0),
    ]
)


class ConstantRegressor:
    """A fitted-regressor stand-in that predicts one value (the ML layer's interface)."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.rows_seen = 0

    def predict(self, X: Any) -> Any:
        self.rows_seen += len(X)
        return np.full(len(X), self.value)


# --- the seed's own examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "total", "last", "expected", "segment"),
    [(1000, 60.5, 36.5, 24.0, 400), (1100, 66.5, 36.0, 30.5, 500), (1200, 72.0, 36.0, 36.0, 600)],
)
def test_short_races_use_total_minus_last(
    distance: int, total: float, last: float, expected: float, segment: int
) -> None:
    """Seed examples: T_start = T_total - T_last, and the first segment is distance - 600 m."""
    frame = runners([{"distance_m": distance, "finish_time_s": total, "last3f_s": last}])
    out = estimate_first3f(frame, NO_REFERENCES)
    assert out["first3f_s"].iloc[0] == pytest.approx(expected)
    assert out["method"].iloc[0] == "baseline"
    assert out["first_segment_m"].iloc[0] == segment


def test_short_race_without_last3f_is_half_the_total() -> None:
    """No last 3F and no fitted ML layer: assume even halves (method ratio)."""
    out = estimate_first3f(runners([{"distance_m": 1000, "finish_time_s": 60.5}]), NO_REFERENCES)
    assert out["first3f_s"].iloc[0] == pytest.approx(30.25)
    assert out["method"].iloc[0] == "ratio"


def test_long_race_uses_base_minus_point_three_speed_index() -> None:
    """>= 1201 m: base - 0.3 * (standard - T); the class cell wins over the venue cell."""
    refs = references(
        [
            ("leader_first3f", "30", 1600, "C3", 35.8),
            ("total", "30", 1600, "C3", 103.5),
            ("leader_first3f", "30", 1600, ALL_CLASSES, 99.0),
            ("total", "30", 1600, ALL_CLASSES, 99.0),
        ]
    )
    frame = runners([{"distance_m": 1600, "finish_time_s": 105.0, "class_code": "C3"}])
    out = estimate_first3f(frame, refs)
    assert out["first3f_s"].iloc[0] == pytest.approx(35.8 - 0.3 * (103.5 - 105.0))
    assert out["method"].iloc[0] == "adjusted"
    assert out["first_segment_m"].iloc[0] == 600


def test_unknown_class_falls_back_to_venue_and_distance() -> None:
    """A class without its own cell takes the venue x distance reference."""
    refs = references(
        [("leader_first3f", "30", 1600, ALL_CLASSES, 36.0), ("total", "30", 1600, "", 100.0)]
    )
    frame = runners([{"distance_m": 1600, "finish_time_s": 101.0, "class_code": "A1"}])
    assert estimate_first3f(frame, refs)["first3f_s"].iloc[0] == pytest.approx(36.3)


def test_adjusted_is_clipped_to_30_and_45() -> None:
    """The seed clips the adjusted estimate to [30, 45] s."""
    base = pd.Series([36.0, 36.0])
    standard = pd.Series([100.0, 100.0])
    clipped = seed_adjusted(base, standard, pd.Series([60.0, 140.0]))
    assert clipped.tolist() == [30.0, 45.0]


def test_estimates_are_clipped_at_30_and_45_end_to_end() -> None:
    """A runner 40 s faster / slower than standard lands on the clip, not beyond it."""
    frame = runners(
        [{"distance_m": 1600, "finish_time_s": 60.0}, {"distance_m": 1600, "finish_time_s": 140.0}]
    )
    out = estimate_first3f(frame, REFS_1600)
    assert out["first3f_s"].tolist() == [30.0, 45.0]
    assert out["method"].tolist() == ["adjusted", "adjusted"]


def test_fallbacks_in_the_seeds_order() -> None:
    """No finish time: base time only; no references: distance ratio; nothing: unavailable."""
    refs = references([("leader_first3f", "30", 1600, ALL_CLASSES, 36.0)])
    frame = runners(
        [
            {"distance_m": 1600, "finish_time_s": np.nan},
            {"distance_m": 1800, "finish_time_s": 115.0},
            {"distance_m": 1800, "finish_time_s": np.nan},
        ]
    )
    out = estimate_first3f(frame, refs)
    assert out["method"].tolist() == ["base", "distance_ratio", "unavailable"]
    assert out["first3f_s"].iloc[0] == pytest.approx(36.0)
    assert out["first3f_s"].iloc[1] == pytest.approx(115.0 * 600 / 1800)
    assert np.isnan(out["first3f_s"].iloc[2])


def test_unavailable_estimates_are_said_in_one_line() -> None:
    """A runner no layer can serve (no time, no reference cell) is counted in the stage's
    warning (``unavailable_note``); none unavailable, no note."""
    frame = runners(
        [
            {"distance_m": 1800, "finish_time_s": np.nan},
            {"distance_m": 1800, "finish_time_s": 110.0},
        ]
    )
    out = estimate_first3f(frame, references([]))
    assert out["method"].tolist() == ["unavailable", "distance_ratio"]
    assert unavailable_note(out) is not None
    assert "first 3F unavailable for 1 of 2 runners" in str(unavailable_note(out))
    assert unavailable_note(out.iloc[1:]) is None


def test_learning_reference_times_does_not_warn_of_the_windows_runners(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reference times estimate the window's first 3F to learn from it: a runner of the window
    no layer serves is no runner of the day, and the day's log must not say it is (a day's run
    on a short store said 'first 3F unavailable for 52 of 12733 runners': the whole window)."""
    settled = runners(
        [{"distance_m": 1200, "finish_time_s": 74.0 + i / 10, "last3f_s": 38.0} for i in range(6)]
    )
    unplaced = runners([{"distance_m": 1800, "finish_time_s": np.nan, "keibajo_code": "99"}])
    history = pd.concat([settled, unplaced], ignore_index=True)
    history["finish_pos"] = [1, 2, 3, 1, 2, 3, np.nan]
    history["race_id"] = ["a", "a", "a", "b", "b", "b", "c"]
    history["leader_first3f_s"] = [35.0] * 6 + [np.nan]
    with caplog.at_level("WARNING"):
        learn_reference_times(history)
    assert "first 3F unavailable" not in caplog.text


def test_short_race_without_finish_time_takes_the_first_segment_base() -> None:
    """<= 1200 m without a finish time: the learned first-segment time of the cell (base)."""
    refs = references([("first_segment", "30", 1000, ALL_CLASSES, 24.2)])
    out = estimate_first3f(runners([{"distance_m": 1000, "finish_time_s": np.nan}]), refs)
    assert (out["first3f_s"].iloc[0], out["method"].iloc[0]) == (24.2, "base")


def test_measured_first3f_is_used_as_is() -> None:
    """A measured value wins over every estimate (method actual)."""
    frame = runners([{"distance_m": 1600, "finish_time_s": 100.0, "measured_first3f_s": 35.8}])
    out = estimate_first3f(frame, NO_REFERENCES)
    assert (out["first3f_s"].iloc[0], out["method"].iloc[0]) == (35.8, "actual")


def test_runners_that_never_started_get_no_estimate() -> None:
    """取消 / 除外 (ijo_kubun_code 1, 2) are said to be not_started, not given a base time."""
    frame = runners(
        [
            {"distance_m": 1600, "finish_time_s": np.nan, "abnormal_code": 1},
            {"distance_m": 1600, "finish_time_s": np.nan, "abnormal_code": 2},
            {"distance_m": 1600, "finish_time_s": np.nan, "abnormal_code": 4},
        ]
    )
    out = estimate_first3f(frame, REFS_1600)
    assert out["method"].tolist() == ["not_started", "not_started", "base"]
    assert out["first3f_s"].isna().tolist() == [True, True, False]


def test_first_segment_lengths() -> None:
    """The first segment is distance - 600 m up to 1200 m, and 600 m beyond."""
    assert first_segment_m(pd.Series([800, 1000, 1200, 1230, 2000])).tolist() == [
        200, 400, 600, 600, 600,
    ]  # fmt: skip


# --- the race-leader anchor -------------------------------------------------------------------


def leader_race(leader_s: float) -> pd.DataFrame:
    """A 1600 m race whose front reaches the last 600 m in 62.0 s."""
    return runners(
        [
            {"distance_m": 1600, "finish_time_s": 100.0, "last3f_s": 38.0},  # front: 62.0
            {"distance_m": 1600, "finish_time_s": 101.0, "last3f_s": 37.9},  # 63.1
            {"distance_m": 1600, "finish_time_s": 103.0, "last3f_s": 38.4},  # 64.6
        ]
    ).assign(leader_first3f_s=leader_s)


def test_leader_anchor_scales_the_leaders_time_by_each_first_segment() -> None:
    """Every runner spends the front's share of its first segment on the first 600 m."""
    out = estimate_first3f(leader_race(35.0), REFS_1600)
    expected = [35.0, 35.0 * 63.1 / 62.0, 35.0 * 64.6 / 62.0]
    assert out["first3f_s"].to_numpy() == pytest.approx(expected)
    assert (out["method"] == "leader").all()


def test_leader_anchor_without_own_segment_adds_the_early_position_deficit() -> None:
    """No last 3F: the leader's time plus the fitted deficit of its early position."""
    frame = leader_race(35.0)
    frame["last3f_s"] = [38.0, 37.9, np.nan]
    frame["corner_2"], frame["field_size"] = [1, 2, 3], 3
    model = First3FModel("f3f-test", leader_deficit=LeaderDeficit(0.2, 2.0))
    out = estimate_first3f(frame, REFS_1600, model)
    assert out["first3f_s"].iloc[2] == pytest.approx(35.0 + 0.2 + 2.0 * 1.0)
    assert out["method"].iloc[2] == "leader"


def test_no_runner_is_faster_than_the_race_leader() -> None:
    """Layers below the anchor are floored at the leader's measured first 3F."""
    frame = leader_race(37.5)
    frame["last3f_s"] = np.nan  # no segment: the anchor cannot scale, adjusted applies
    out = estimate_first3f(frame, REFS_1600)
    assert out["method"].tolist() == ["adjusted", "adjusted", "adjusted"]
    assert (out["first3f_s"] >= 37.5).all()
    assert out["first3f_s"].iloc[0] == 37.5  # 36.0 - 0.3 * 0 = 36.0, floored at 37.5


@pytest.mark.parametrize("leader_s", [0.0, 12.0, 55.0, np.nan])
def test_implausible_or_missing_leader_time_is_no_anchor(leader_s: float) -> None:
    """A leader time outside [30, 45] s (or none) is ignored: the seed's layer applies."""
    out = estimate_first3f(leader_race(leader_s), REFS_1600)
    assert (out["method"] == "adjusted").all()


def test_leader_anchor_is_not_used_up_to_1200m() -> None:
    """Up to 1200 m T - L3F is the definition, whatever the leader's 600 m time."""
    frame = runners([{"distance_m": 1000, "finish_time_s": 60.5, "last3f_s": 36.5}])
    out = estimate_first3f(frame.assign(leader_first3f_s=34.0), NO_REFERENCES)
    assert (out["first3f_s"].iloc[0], out["method"].iloc[0]) == (24.0, "baseline")


# --- the pace / corner layer ------------------------------------------------------------------


def test_pace_layer_shifts_by_early_position() -> None:
    """base + a - c * SI + b * early: the front runner faster, the back marker slower."""
    frame = runners(
        [
            {"distance_m": 1600, "finish_time_s": 100.0, "corner_2": 1},
            {"distance_m": 1600, "finish_time_s": 100.0, "corner_2": 11},
        ]
    ).assign(field_size=11)
    model = First3FModel("f3f-test", pace=PaceCoefficients(0.1, 0.25, 2.0))
    out = estimate_first3f(frame, REFS_1600, model)
    assert out["method"].tolist() == ["pace", "pace"]
    assert out["first3f_s"].to_numpy() == pytest.approx([36.1, 38.1])


def test_early_position_falls_back_from_corner_2_to_1_to_3() -> None:
    """Races <= 1300 m run only corners 3 and 4 (1 and 2 are 00): corner 3 is used there."""
    frame = pd.DataFrame(
        {
            "corner_1": pd.array([2, 5, None], dtype="Int64"),
            "corner_2": pd.array([3, None, None], dtype="Int64"),
            "corner_3": pd.array([4, 4, 9], dtype="Int64"),
            "field_size": pd.array([9, 9, 9], dtype="Int64"),
        }
    )
    assert early_position(frame).tolist() == [2 / 8, 4 / 8, 1.0]


def test_pace_layer_needs_an_early_position() -> None:
    """Without any corner the pace layer has nothing to shift by: the seed's layer applies."""
    frame = runners([{"distance_m": 1600, "finish_time_s": 100.0}]).assign(field_size=10)
    model = First3FModel("f3f-test", pace=PaceCoefficients(0.1, 0.25, 2.0))
    assert estimate_first3f(frame, REFS_1600, model)["method"].iloc[0] == "adjusted"


# --- the ML layer -----------------------------------------------------------------------------


def test_ml_layer_serves_short_runners_without_a_last3f_only() -> None:
    """The regressor replaces ``ratio``; runners with T - L3F keep the exact baseline."""
    regressor = ConstantRegressor(23.8)
    frame = runners(
        [
            {"distance_m": 1000, "finish_time_s": 60.5},
            {"distance_m": 1000, "finish_time_s": 60.5, "last3f_s": 36.5},
            {"distance_m": 1600, "finish_time_s": 100.0},
        ]
    ).assign(field_size=10, going_code=1, corner_3=3, corner_4=3)
    out = estimate_first3f(frame, REFS_1600, First3FModel("f3f-test", short_ml=regressor))
    assert out["method"].tolist() == ["ml", "baseline", "adjusted"]
    assert out["first3f_s"].iloc[0] == pytest.approx(23.8)
    assert regressor.rows_seen == 1


def test_layers_frame_has_every_layer_per_runner() -> None:
    """first3f_layers exposes each layer's raw value (NaN where it does not apply)."""
    layers = first3f_layers(leader_race(35.0), REFS_1600)
    assert layers["leader"].notna().all() and layers["adjusted"].notna().all()
    assert layers["baseline"].isna().all() and layers["ratio"].isna().all()


# --- invariants -------------------------------------------------------------------------------


race_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "distance_m": st.sampled_from([800, 1000, 1200, 1230, 1400, 1600, 1800, 2000, 2600]),
            "finish_time_s": st.floats(min_value=45.0, max_value=180.0),
            "last3f_s": st.one_of(st.none(), st.floats(min_value=33.0, max_value=45.0)),
            "corner_2": st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
            "corner_3": st.integers(min_value=1, max_value=12),
        }
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=race_strategy,
    leader_s=st.one_of(st.none(), st.floats(min_value=31.0, max_value=42.0)),
    with_model=st.booleans(),
)
def test_estimates_are_finite_clipped_and_never_faster_than_the_leader(
    rows: list[dict[str, Any]], leader_s: float | None, with_model: bool
) -> None:
    """Every runner with a finish time gets a finite value; above 1200 m it lies in [30, 45] s
    and is never faster than the race leader's measured first 3F."""
    distance = rows[0]["distance_m"]
    frame = runners([{**row, "distance_m": distance} for row in rows]).assign(
        field_size=12, leader_first3f_s=leader_s if leader_s is not None else np.nan
    )
    refs = references(
        [
            ("leader_first3f", "30", distance, ALL_CLASSES, 36.0),
            ("total", "30", distance, ALL_CLASSES, distance * 0.062),
            ("first_segment", "30", distance, ALL_CLASSES, (distance - 600) * 0.061),
        ]
    )
    model = (
        First3FModel(
            "f3f-test",
            pace=PaceCoefficients(0.1, 0.27, 1.9),
            leader_deficit=LeaderDeficit(0.3, 2.3),
            short_ml=ConstantRegressor(24.0),
        )
        if with_model
        else None
    )
    out = estimate_first3f(frame, refs, model)
    assert np.isfinite(out["first3f_s"]).all()
    assert (out["method"] != "unavailable").all()
    if distance > 1200:
        assert out["first3f_s"].between(30.0, 45.0).all()
        if leader_s is not None:
            assert (out["first3f_s"] >= leader_s - 1e-9).all()
