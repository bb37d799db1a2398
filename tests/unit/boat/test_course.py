"""The start-and-course stage's domain: the expected course from the racers' 前付け habit, the
course prior, the ST and exhibition indexes against the venue's standard (point in time,
shrunk), and finite values for any card and history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.boat.course import (
    COURSE_COLUMNS,
    INDEX_PRIOR_STARTS,
    course_features,
    expected_courses,
)


def card(day: str = "2026-04-10", racers: tuple[str, ...] = ("1001",) * 6) -> pd.DataFrame:
    return pd.DataFrame(
        {"race_id": f"{day.replace('-', '')}0101", "race_date": pd.Timestamp(day),
         "venue_code": "01", "boat": range(1, 7), "racer_id": list(racers)}
    )  # fmt: skip


def start(day: str, racer: str, boat: int, course: int, st: float = 0.15,
          won: float = 0.0, venue: str = "01") -> dict[str, object]:  # fmt: skip
    return {"race_id": f"{day.replace('-', '')}{venue}01", "race_date": pd.Timestamp(day),
            "venue_code": venue, "racer_id": racer, "boat": boat, "course": course,
            "won": won, "start_timing_s": st, "exhibition_s": 6.75}  # fmt: skip


RACERS = ("1001", "1002", "1003", "1004", "1005", "9999")


def test_a_racer_who_moves_in_is_expected_inside_and_pushes_the_others_out() -> None:
    """Racer 9999 took course 2 from lane 6 on each of 30 earlier days, the others kept their
    lanes: in lane 6 today 9999 is expected well inside; boats 2-5 are pushed out; lane 1
    moves least; the courses keep their sum."""
    march = [f"2026-03-{day:02d}" for day in range(1, 31)]
    history = pd.DataFrame(
        [start(day, "9999", 6, 2) for day in march]
        + [start(day, racer, lane, lane) for day in march
           for lane, racer in enumerate(RACERS[:5], start=1)]
    )  # fmt: skip
    frame = course_features(card(racers=RACERS), history)
    expected = frame["expected_course"].to_numpy()
    assert expected[5] < 4.0 and frame["inner_take_rate"].iloc[5] > 0.5
    assert frame["inner_take_rate"].iloc[1] < 0.1
    assert (expected[1:5] > np.arange(2, 6)).all() and expected[0] < expected[1] - 1
    assert expected.sum() == pytest.approx(21.0)
    assert frame["inner_take_starts"].tolist() == [0, 30, 30, 30, 30, 30]
    # Expected around course 3-4 instead of 6: worth more than lane 6's share.
    lanes_only = course_features(card(racers=RACERS), history[history["racer_id"] != "9999"])
    assert frame["p_course"].iloc[5] > 1.5 * lanes_only["p_course"].iloc[5]


def test_expected_courses_with_nobody_moving_are_the_lanes() -> None:
    boats = card()
    zero = pd.Series(0.0, index=boats.index)
    expected = expected_courses(boats, zero, zero + 2.0)
    assert expected.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_the_st_index_is_against_the_venues_standard_shrunk_and_point_in_time() -> None:
    """The venue's standard on 04-05 is 0.15 (the days before); racer 1001 started 0.10 that
    day: index −0.05 / (1 + 5) on 04-06; that day's own and later starts change nothing; a
    racer never seen is neutral."""
    history = pd.DataFrame(
        [start(f"2026-04-0{day}", "2002", 2, 2, st=0.15) for day in range(1, 5)]
        + [start("2026-04-05", "1001", 1, 1, st=0.10),
           start("2026-04-06", "1001", 1, 1, st=0.40)]
    )  # fmt: skip
    today = card("2026-04-06", racers=("1001", "2002", "3003", "3003", "3003", "3003"))
    frame = course_features(today, history)
    index = -0.05 / (1 + INDEX_PRIOR_STARTS)
    assert frame["st_index"].iloc[0] == pytest.approx(index)
    assert frame["expected_st"].iloc[0] == pytest.approx(0.14 + index)  # standard of 04-01..05
    assert frame["st_starts"].iloc[0] == 1
    assert frame["st_index"].iloc[2] == 0 and frame["st_starts"].iloc[2] == 0
    later = pd.concat([history, pd.DataFrame([start("2026-04-07", "1001", 1, 1, st=0.9)])])
    pd.testing.assert_frame_equal(frame, course_features(today, later))


def test_no_history_gives_the_lanes_and_neutral_indexes() -> None:
    frame = course_features(card(), pd.DataFrame(columns=["race_date", "racer_id"]))
    # The field's rate before any history (1%) moves the lanes by hundredths.
    np.testing.assert_allclose(frame["expected_course"], [1, 2, 3, 4, 5, 6], atol=0.03)
    assert (frame["st_index"] == 0).all() and (frame["exhibition_index"] == 0).all()
    assert frame["p_course"].sum() == pytest.approx(1.0)
    assert list(frame.columns) == COURSE_COLUMNS


TEXT = st.sampled_from(["1001", "1002", "9999", "", "abc", None])
NUMBER = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32),
                   st.integers(-3, 9), st.sampled_from(["", "x", "1.2"]))  # fmt: skip


@st.composite
def garbage_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A card of 0-12 boats over two races and a history of 0-20 starts (one venue, short,
    unknown racers, blank and unreadable fields)."""
    rows = draw(st.integers(0, 12))
    race_ids = st.sampled_from(["202604100101", "202604100102", None])
    boats = pd.DataFrame(
        {"race_id": [draw(race_ids) for _ in range(rows)],
         "race_date": pd.Timestamp("2026-04-10"),
         "venue_code": [draw(st.sampled_from(["01", "99", None])) for _ in range(rows)],
         "boat": [draw(NUMBER) for _ in range(rows)],
         "racer_id": [draw(TEXT) for _ in range(rows)]},
        dtype="object",
    )  # fmt: skip
    starts = draw(st.integers(0, 20))
    days = st.sampled_from(["2026-04-08", "2026-04-09", "2026-04-10", "junk", None])
    history = pd.DataFrame(
        {"race_id": "202604090101",
         "race_date": [draw(days) for _ in range(starts)],
         "venue_code": "01",
         **{column: [draw(NUMBER) for _ in range(starts)]
            for column in ("boat", "course", "won", "start_timing_s", "exhibition_s")},
         "racer_id": [draw(TEXT) for _ in range(starts)]},
        dtype="object",
    )  # fmt: skip
    return boats.assign(race_date=pd.Timestamp("2026-04-10")), history


@settings(max_examples=50, deadline=None)
@given(frames=garbage_frames())
def test_any_card_and_history_give_finite_values_for_every_boat(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    boats, history = frames
    frame = course_features(boats, history)
    assert len(frame) == len(boats)
    numbers = frame[[c for c in COURSE_COLUMNS if c not in {"race_id", "boat", "race_date",
                                                            "racer_id"}]]  # fmt: skip
    assert np.isfinite(numbers.to_numpy(dtype="float64")).all()
