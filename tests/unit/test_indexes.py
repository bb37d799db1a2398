"""Class-neutral pars, the track variant and the speed / ten / agari / composite indexes on small
hand-checkable frames, and the variant's recovery of a planted shift in simulated data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from raceday import codec
from raceday.first3f.layers import estimate_first3f
from raceday.pipeline import runner_view
from raceday.ratings.indexes import (
    INDEX_COLUMNS,
    INDEX_VERSION,
    composite,
    compute_indexes,
    surface_of,
    track_variants,
    weight_points,
)
from raceday.ratings.reference_times import ALL_CLASSES
from raceday.ratings.standards import REFERENCE_COLUMNS, class_neutral_pars
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days

DAY = pd.Timestamp("2026-11-20")


def samples(cells: list[tuple[int, str, float, int]]) -> pd.DataFrame:
    """``total`` samples at venue 44 on dirt: (distance, class, pace s/km, count)."""
    rows = [
        ("total", "44", "dirt", distance, cls, pace * distance / 1000)
        for distance, cls, pace, count in cells
        for _ in range(count)
    ]
    return pd.DataFrame(
        rows, columns=["kind", "keibajo_code", "surface", "distance_m", "class_code", "value_s"]
    )


def references(
    rows: list[tuple[str, int, str, float]], venue: str = "44", surface: str = "dirt"
) -> pd.DataFrame:
    """Reference rows (kind, distance, class, seconds) at one venue, on one surface."""
    return pd.DataFrame(
        [(kind, venue, surface, distance, cls, value, 100) for kind, distance, cls, value in rows],
        columns=REFERENCE_COLUMNS,
    )


def test_par_removes_the_class_mix_of_a_distance() -> None:
    """1400 m hosts only A1 (1 s/km faster than C3 at 1200 m): its par is C3's pace, not A1's.

    Median polish: A1 runs 61 and C3 62 s/km at 1200 m, A1 63 at 1400 m, so C3 would run 64 at
    1400 m; C3 is the venue's typical class, so the pars are 62 and 64 s/km.
    """
    frame = samples([(1200, "C3", 62.0, 301), (1200, "A1", 61.0, 100), (1400, "A1", 63.0, 99)])
    pars = class_neutral_pars(frame, shrink_samples=0).set_index("distance_m")
    assert set(pars["kind"]) == {"par_total"} and set(pars["class_code"]) == {ALL_CLASSES}
    assert pars.loc[1200, "value_s"] == pytest.approx(62.0 * 1.2)
    assert pars.loc[1400, "value_s"] == pytest.approx(64.0 * 1.4)
    assert pars.loc[1400, "n_samples"] == 99
    raw_median_1400 = frame[frame["distance_m"] == 1400]["value_s"].median()
    assert raw_median_1400 == pytest.approx(63.0 * 1.4), "the all-class cell is A1's time"


def test_thin_classes_are_shrunk_toward_no_effect() -> None:
    """A 10-sample class's effect is shrunk by 10/40: the par of the distance only it runs stays
    nearer its raw pace than the unshrunk fit puts it."""
    frame = samples([(1200, "C3", 62.0, 201), (1200, "A1", 59.0, 5), (1600, "A1", 58.0, 5)])
    raw_pace = 58.0
    shrunk = class_neutral_pars(frame).set_index("distance_m").loc[1600, "value_s"] / 1.6
    unshrunk = class_neutral_pars(frame, shrink_samples=0).set_index("distance_m")
    full = unshrunk.loc[1600, "value_s"] / 1.6
    assert raw_pace < shrunk < full
    assert class_neutral_pars(frame).set_index("distance_m").loc[1200, "value_s"] == (
        pytest.approx(62.0 * 1.2)
    )


def day_runners(deviations_s_per_km: list[float], venue: str = "44") -> pd.DataFrame:
    """Races at 1000 m whose top 3 all run ``60 + deviation`` s (class C3, standard 60.0 s)."""
    rows = []
    for race, deviation in enumerate(deviations_s_per_km):
        for position in (1, 2, 3, 4):
            rows.append(
                {
                    "race_id": f"r{venue}{race}", "umaban": position, "race_date": DAY,
                    "keibajo_code": venue, "distance_m": 1000, "class_code": "C3",
                    "track_code": "24", "finish_pos": position,
                    "finish_time_s": 60.0 + deviation + (5.0 if position == 4 else 0.0),
                }
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


STANDARD_1000 = references([("total", 1000, "C3", 60.0)])


def test_track_variant_is_a_trimmed_mean_of_race_deviations() -> None:
    """Five races +0.5, +0.6, +0.4, +0.5 and a freak +10: drop the extremes, mean = 0.5333."""
    variants = track_variants(day_runners([0.5, 0.6, 0.4, 0.5, 10.0]), STANDARD_1000)
    assert len(variants) == 1
    row = variants.iloc[0]
    assert row["variant_s_per_km"] == pytest.approx((0.5 + 0.6 + 0.5) / 3)
    assert (row["n_races"], row["n_runners"], row["surface"]) == (5, 15, "dirt")


def test_one_freak_race_barely_moves_the_variant() -> None:
    """Twelve ordinary races: one 8 s/km freak moves the variant by less than 0.1."""
    ordinary = [0.3, 0.5, 0.2, 0.4, 0.6, 0.3, 0.4, 0.5, 0.2, 0.4, 0.3, 0.5]
    calm = track_variants(day_runners(ordinary), STANDARD_1000)["variant_s_per_km"].iloc[0]
    freak = track_variants(day_runners([*ordinary[:-1], 8.0]), STANDARD_1000)
    assert abs(freak["variant_s_per_km"].iloc[0] - calm) < 0.1


def test_small_days_are_plain_means_and_unknown_cells_are_skipped() -> None:
    """Under five races nothing is trimmed; a race without a standard gives no deviation."""
    runners = pd.concat([day_runners([0.2, 0.4]), day_runners([1.0], venue="45")])
    variants = track_variants(runners, STANDARD_1000)
    assert variants["keibajo_code"].tolist() == ["44"]
    assert variants["variant_s_per_km"].iloc[0] == pytest.approx(0.3)


def test_surface_from_track_codes() -> None:
    """JV-Data track codes: 10-22 turf, 23-29 dirt, 51-59 jump, anything else other."""
    codes = pd.Series(["17", "24", "23", "52", "", None], dtype="string")
    assert surface_of(codes).tolist() == ["turf", "dirt", "dirt", "jump", "other", "other"]


def test_surface_of_reads_each_code_as_its_row_would() -> None:
    """Codes read once each (repeated, padded, numbers, missing) label every row as that row's
    code alone does, on the frame's own index, as text."""
    codes = pd.Series(
        ["23", " 23", "22.0", "1e1", "", None, "29", "23", "x", "52"] * 3,
        index=range(100, 130),
        dtype="string",
    )
    alone = [surface_of(codes.iloc[[row]]).iloc[0] for row in range(len(codes))]
    surfaces = surface_of(codes)
    assert surfaces.tolist() == alone
    assert surfaces.index.equals(codes.index)
    assert surfaces.dtype == "string"
    numbers = pd.Series([10, 30, None, 59], dtype="Int64")
    assert surface_of(numbers).tolist() == ["turf", "other", "other", "jump"]


PARS_1200 = references(
    [
        ("par_total", 1200, ALL_CLASSES, 74.4),  # 62 s/km
        ("par_ten", 1200, ALL_CLASSES, 36.0),
        ("par_last3f", 1200, ALL_CLASSES, 38.4),
    ]
)


def one_runner(**overrides: object) -> pd.DataFrame:
    row = {
        "race_id": "r1", "umaban": 1, "race_date": DAY, "keibajo_code": "44",
        "distance_m": 1200, "class_code": "C3", "track_code": "24", "finish_pos": 1,
        "finish_time_s": 73.8, "last3f_s": 38.1, "weight_carried_kg": 57.0,
    }  # fmt: skip
    frame = pd.DataFrame([{**row, **overrides}])
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


def first3f_of(value: float, method: str = "baseline", segment: int = 600) -> pd.DataFrame:
    return pd.DataFrame(
        {"race_id": ["r1"], "umaban": [1], "first3f_s": [value], "first_segment_m": [segment],
         "method": [method]}
    )  # fmt: skip


def variant_of(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"race_date": [DAY], "keibajo_code": ["44"], "surface": ["dirt"],
         "variant_s_per_km": [value], "n_races": [12], "n_runners": [36]}
    )  # fmt: skip


def test_indexes_by_hand() -> None:
    """0.6 s under a 74.4 s par at 1200 m, 57 kg, a +0.5 s/km day.

    speed = 0.6 * 10000/1200 + 5 + (57 - 55) * 0.002 * 62 * 10 + 80 = 92.48;
    ten = (36.0 - 35.7) * 10000/600 + 5 + 80 = 90; agari = (38.4 - 38.1) * 10000/600 + 85 = 90;
    composite = 0.6 * 92.48 + 0.2 * 90 + 0.2 * 90 = 91.488.
    """
    out = compute_indexes(one_runner(), first3f_of(35.7), PARS_1200, variant_of(0.5))
    row = out.iloc[0]
    assert list(out.columns) == INDEX_COLUMNS
    assert row["speed_index"] == pytest.approx(92.48)
    assert row["ten_index"] == pytest.approx(90.0)
    assert row["agari_index"] == pytest.approx(90.0)
    assert row["composite_index"] == pytest.approx(91.488)
    assert row["track_variant_s_per_km"] == 0.5 and row["index_version"] == INDEX_VERSION


def test_a_run_without_a_par_gets_no_index_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A venue x distance the history never ran (a new venue, a first day): NaN, a warning."""
    out = compute_indexes(one_runner(keibajo_code="05", distance_m=2400), first3f_of(36.0),
                          PARS_1200, variant_of(0.5).iloc[0:0])  # fmt: skip
    assert out[["speed_index", "ten_index", "agari_index", "composite_index"]].isna().all(None)
    assert "no index for 1 runs: no par for 1 venue x surface x distance cell(s)" in caplog.text


def test_without_a_variant_the_index_uses_zero_and_says_so() -> None:
    """No variant for the day: scored with 0, provenance NaN."""
    out = compute_indexes(one_runner(weight_carried_kg=55.0), first3f_of(35.7), PARS_1200,
                          variant_of(0.5).iloc[0:0])  # fmt: skip
    assert out["speed_index"].iloc[0] == pytest.approx(85.0)
    assert np.isnan(out["track_variant_s_per_km"].iloc[0])


def test_long_races_use_the_600m_ten_par_and_fraction_methods_give_no_ten() -> None:
    """> 1200 m: ten against par_ten over 600 m; ``ratio`` estimates get no ten index."""
    pars = references([("par_total", 1600, ALL_CLASSES, 100.0),
                       ("par_ten", 1600, ALL_CLASSES, 36.0)])  # fmt: skip
    runner = one_runner(distance_m=1600, finish_time_s=100.0, last3f_s=np.nan,
                        weight_carried_kg=55.0)  # fmt: skip
    adjusted = compute_indexes(runner, first3f_of(36.6, "leader"), pars, variant_of(0.0))
    assert adjusted["ten_index"].iloc[0] == pytest.approx(70.0)
    assert np.isnan(adjusted["agari_index"].iloc[0])
    assert adjusted["composite_index"].iloc[0] == pytest.approx((0.6 * 80 + 0.2 * 70) / 0.8)
    ratio = compute_indexes(runner, first3f_of(50.0, "ratio"), pars, variant_of(0.0))
    assert np.isnan(ratio["ten_index"].iloc[0])
    assert ratio["composite_index"].iloc[0] == pytest.approx(80.0)


def test_runners_without_a_time_get_no_index_row() -> None:
    """Non-finishers have nothing to index."""
    out = compute_indexes(
        one_runner(finish_time_s=np.nan), first3f_of(35.7), PARS_1200, variant_of(0.0)
    )
    assert out.empty


def test_weight_points_and_composite_renormalise() -> None:
    """Missing weight: no allowance; composite of speed alone is speed."""
    points = weight_points(pd.Series([53.0, np.nan]), pd.Series([60.0, 60.0]))
    assert points.tolist() == pytest.approx([-2.4, 0.0])
    parts = pd.DataFrame(
        {"speed_index": [90.0, np.nan], "ten_index": [np.nan, np.nan],
         "agari_index": [np.nan, np.nan]}
    )  # fmt: skip
    result = composite(parts)
    assert result.iloc[0] == 90.0 and np.isnan(result.iloc[1])


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six weeks of a 100-race-a-day simulated NAR: the runner view and the truth table."""
    sim = simulate_days(date(2026, 3, 1), date(2026, 4, 11), SimulatorConfig(races_per_day=100))
    races = codec.decode_races(sim.raw.nvd_ra)
    runners = codec.decode_runners(sim.raw.nvd_se)
    return runner_view(races, runners), sim.truth


def test_variant_tracks_the_simulators_daily_shift(
    simulated: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Against the planted per venue-day shift (truth): after the overall offset (the standards
    are an average day) the variant is within ~0.2 s/km (RMSE < 0.25) and correlates > 0.85."""
    view, truth = simulated
    cut = pd.Timestamp("2026-04-01")
    refs = _learn(view[view["race_date"] < cut])
    variants = track_variants(view[view["race_date"] >= cut], refs)
    shift = (
        truth.assign(race_date=pd.to_datetime(truth["race_date"]))
        .groupby(["race_date", "keibajo_code"])["track_shift_s_per_km"]
        .first()
    )
    matched = variants.join(shift, on=["race_date", "keibajo_code"])
    error = matched["variant_s_per_km"] - matched["track_shift_s_per_km"]
    assert len(matched) > 50
    assert np.sqrt(((error - error.mean()) ** 2).mean()) < 0.25
    assert matched["variant_s_per_km"].corr(matched["track_shift_s_per_km"]) > 0.85


def test_a_day_made_one_second_per_km_slower_comes_out_within_a_fifth(
    simulated: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Every time of one venue-day + 1.0 s/1000 m: its variant rises by 1.0 +- 0.2 and its
    speed indexes do not move (the variant gives back what the slow day took)."""
    view, _truth = simulated
    cut = pd.Timestamp("2026-04-01")
    refs = _learn(view[view["race_date"] < cut])
    day = view[view["race_date"] == pd.Timestamp("2026-04-05")]
    venue = day["keibajo_code"].iloc[0]
    slow = day.copy()
    planted = slow["keibajo_code"] == venue
    slow.loc[planted, "finish_time_s"] += (
        1.0 * slow.loc[planted, "distance_m"].astype("float64") / 1000
    )
    before = track_variants(day, refs).set_index("keibajo_code")["variant_s_per_km"]
    after = track_variants(slow, refs).set_index("keibajo_code")["variant_s_per_km"]
    assert after[venue] - before[venue] == pytest.approx(1.0, abs=0.2)
    others = before.index != venue
    assert np.allclose(after[others], before[others])
    speed_before = _speed(day, refs)
    speed_after = _speed(slow, refs)
    assert np.allclose(speed_before, speed_after, atol=1e-6, equal_nan=True)


def _learn(history: pd.DataFrame) -> pd.DataFrame:
    from raceday.ratings.standards import learn_reference_times

    return learn_reference_times(history)


def _speed(day: pd.DataFrame, refs: pd.DataFrame) -> pd.Series:
    estimates = estimate_first3f(day, refs)
    return compute_indexes(day, estimates, refs, track_variants(day, refs))["speed_index"]


def test_ten_index_means_the_same_either_side_of_1200m(
    simulated: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """par_ten comes from top-3 finishers' estimates over the segment each measures: the
    median ten index up to 1200 m and above it are within 5 points (the race leader's par put
    the longer races 6-9 points lower)."""
    view, _truth = simulated
    cut = pd.Timestamp("2026-04-01")
    refs = _learn(view[view["race_date"] < cut])
    assert (refs["kind"] == "par_ten").any()
    later = view[view["race_date"] >= cut]
    ten = compute_indexes(later, estimate_first3f(later, refs), refs).merge(
        later[["race_id", "umaban", "distance_m"]], on=["race_id", "umaban"]
    )
    short = ten[ten["distance_m"] <= 1200]["ten_index"].median()
    long = ten[ten["distance_m"] > 1200]["ten_index"].median()
    assert abs(short - long) < 5.0
