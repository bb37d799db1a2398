"""Reference times per surface: turf, dirt and jumps at one venue and distance each have their
own cells, a version learned before surfaces (surface ``""``) is read for every surface, and a
run without a usable track code has cells of its own (``other``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.first3f.layers import estimate_first3f
from raceday.ratings.indexes import compute_indexes
from raceday.ratings.reference_times import lookup_reference, lookup_references
from raceday.ratings.standards import REFERENCE_COLUMNS, learn_reference_times

TURF, DIRT, JUMP = "17", "24", "53"  # JV-Data track codes: 10-22 turf, 23-29 dirt, 51-59 jump
DAY = pd.Timestamp("2026-11-20")
KINDS = [  # every kind learned
    "total", "last3f", "first_segment", "leader_first3f", "par_total", "par_last3f", "par_ten",
]  # fmt: skip


def races(
    n_races: int,
    track_code: str | None,
    winner_s: float,
    venue: str = "08",
    distance: int = 1800,
    first: int = 0,
    class_code: str = "1W",
) -> pd.DataFrame:
    """``n_races`` four-runner races on one track; race r's winner runs ``winner_s + r / 10`` s,
    each next finisher 0.2 s behind."""
    rows = [
        {
            "race_id": f"{venue}-{distance}-{track_code}-{first + race}", "umaban": position,
            "race_date": DAY, "keibajo_code": venue, "distance_m": distance,
            "class_code": class_code, "track_code": track_code, "finish_pos": position,
            "finish_time_s": winner_s + race / 10 + (position - 1) * 0.2,
            "last3f_s": 36.0 + (position - 1) * 0.1, "leader_first3f_s": 36.0,
            "weight_carried_kg": 55.0,
        }
        for race in range(n_races)
        for position in (1, 2, 3, 4)
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


def top3_median(frame: pd.DataFrame) -> float:
    return float(frame.loc[frame["finish_pos"] <= 3, "finish_time_s"].median())


def runner(track_code: str | None, venue: str = "08", distance: int = 1800) -> pd.DataFrame:
    """One runner to look up (class 1W)."""
    return races(1, track_code, 110.0, venue=venue, distance=distance).head(1)


def test_turf_and_dirt_at_one_venue_and_distance_get_separate_references() -> None:
    """Venue 08 / 1800 m hosts turf (~107 s) and dirt (~112 s): each surface's runners are
    looked up in their own cells, standards and pars alike, not in one blended cell."""
    turf, dirt = races(20, TURF, 107.0), races(20, DIRT, 112.0, first=100)
    refs = learn_reference_times(pd.concat([turf, dirt], ignore_index=True))
    for track_code, frame in ((TURF, turf), (DIRT, dirt)):
        looked_up = lookup_references(runner(track_code), refs, ["total", "par_total"])
        assert looked_up["total"].iloc[0] == pytest.approx(top3_median(frame))
        assert looked_up["par_total"].iloc[0] == pytest.approx(top3_median(frame))
    assert set(refs["surface"]) == {"turf", "dirt"}


def test_a_jump_race_does_not_move_the_flat_par() -> None:
    """A slow jump race at a venue x distance of flat races (09 / 3000 m): the flat runners'
    par and standard are those learned without it; the jump runner gets its own."""
    flat = races(15, TURF, 187.0, venue="09", distance=3000)
    jump = races(1, JUMP, 200.0, venue="09", distance=3000, first=100, class_code="OP")
    alone = learn_reference_times(flat)
    mixed = learn_reference_times(pd.concat([flat, jump], ignore_index=True))
    flat_runner = runner(TURF, venue="09", distance=3000)
    kinds = ["total", "par_total", "par_last3f", "leader_first3f"]
    pd.testing.assert_frame_equal(
        lookup_references(flat_runner, mixed, kinds), lookup_references(flat_runner, alone, kinds)
    )
    jump_par = lookup_reference(runner(JUMP, venue="09", distance=3000), mixed, "par_total")
    assert jump_par.iloc[0] == pytest.approx(top3_median(jump))


def old_version(value_s: float = 110.0, class_value_s: float = 109.0) -> pd.DataFrame:
    """Rows of a version learned before surfaces: surface ``""`` (every surface)."""
    rows = [
        ("total", "08", "", 1800, "", value_s, 40),
        ("total", "08", "", 1800, "1W", class_value_s, 40),
        ("par_total", "08", "", 1800, "", value_s, 40),
    ]
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


@pytest.mark.parametrize("track_code", [TURF, DIRT, JUMP, "00", "", None])
def test_an_old_versions_rows_are_looked_up_for_any_surface(track_code: str | None) -> None:
    """A version stored before surfaces (surface ``""``) gives every runner, whatever its track,
    the values it gave before: its class cell, else its venue x distance cell."""
    refs = old_version()
    one = runner(track_code)
    assert lookup_reference(one, refs, "total").iloc[0] == 109.0
    no_class = one.assign(class_code=pd.array(["MDN"], dtype="string"))
    looked_up = lookup_references(no_class, refs, ["total", "par_total"])
    assert looked_up.iloc[0].tolist() == [110.0, 110.0]


def test_a_surface_cell_comes_before_the_every_surface_cell() -> None:
    """The runner's own surface cell wins; a surface without one falls back to surface ``""``."""
    refs = pd.concat(
        [
            old_version(),
            pd.DataFrame([("total", "08", "turf", 1800, "", 107.0, 40)], columns=REFERENCE_COLUMNS),
        ],
        ignore_index=True,
    )
    frame = pd.concat([runner(TURF), runner(DIRT)], ignore_index=True).assign(
        class_code=pd.array(["MDN", "MDN"], dtype="string")
    )
    assert lookup_reference(frame, refs, "total").tolist() == [107.0, 110.0]


@pytest.mark.parametrize("unusable", ["", None, "00", "99", "ab"])
def test_a_frame_with_blank_or_unknown_track_codes_runs_on_cells_of_its_own(
    unusable: str | None,
) -> None:
    """Runs without a usable track code are surface ``other``: they learn and read cells of
    their own (their times do not move the dirt cells), and every stage runs on them."""
    dirt = races(12, DIRT, 112.0)
    unknown = races(12, unusable, 100.0, first=100)
    refs = learn_reference_times(pd.concat([dirt, unknown], ignore_index=True))
    frame = pd.concat([runner(unusable), runner(DIRT)], ignore_index=True)
    estimates = estimate_first3f(frame, refs)
    indexes = compute_indexes(frame, estimates, refs)
    par = lookup_reference(frame, refs, "par_total")
    assert par.tolist() == pytest.approx([top3_median(unknown), top3_median(dirt)])
    assert indexes["speed_index"].notna().all()
    dirt_runner = runner(DIRT)
    pd.testing.assert_frame_equal(
        lookup_references(dirt_runner, refs, KINDS),
        lookup_references(dirt_runner, learn_reference_times(dirt), KINDS),
    )
    assert set(refs["surface"]) == {"dirt", "other"}


@settings(max_examples=25, deadline=None)
@given(
    dirt_winners=st.lists(st.floats(100.0, 120.0), min_size=1, max_size=6),
    other_winners=st.lists(
        st.tuples(st.sampled_from([TURF, JUMP, "11", "", None]), st.floats(90.0, 210.0)),
        min_size=1,
        max_size=6,
    ),
    distance=st.sampled_from([1200, 1800, 3000]),
)
def test_races_on_another_surface_never_move_a_surfaces_references(
    dirt_winners: list[float], other_winners: list[tuple[str | None, float]], distance: int
) -> None:
    """Whatever is raced on the other surfaces of a venue and distance, the dirt rows learned
    (standards, class cells, pars) are those learned from the dirt races alone."""
    dirt = pd.concat(
        [races(1, DIRT, s, distance=distance, first=i) for i, s in enumerate(dirt_winners)],
        ignore_index=True,
    )
    others = [
        races(1, code, s, distance=distance, first=100 + i)
        for i, (code, s) in enumerate(other_winners)
    ]
    alone = learn_reference_times(dirt)
    mixed = learn_reference_times(pd.concat([dirt, *others], ignore_index=True))
    pd.testing.assert_frame_equal(
        lookup_references(dirt, mixed, KINDS), lookup_references(dirt, alone, KINDS)
    )
    mixed_dirt = mixed[mixed["surface"] == "dirt"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mixed_dirt, alone, check_dtype=False)
    assert np.isfinite(alone["value_s"]).all()
