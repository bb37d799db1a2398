"""The earlier-days aggregates on prepared days and key codes (one preparation per
``course_features`` call) against their definition, on random histories: each row's sum and
count over the history rows of its key dated strictly before its day, nothing of its own day or
later (point in time); and ``course_features`` of a card equals, day by day, the same call on
that day's boats with only the history before the day (to the last bits but one: pandas'
grouped sums of the same rows differ in the last bit with the groups beside them, e.g. 2.14 and
2.1400000000000006 for one venue's 12 ST of 2026-03-01 with and without a second day, main's
code too; so earlier days' rows are computed again, not reused, docs/PERFORMANCE.md stop 55)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.boat.course import course_features
from raceday.boat.features import earlier_days_totals

DAYS = pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-05", None])
RACERS = ("1001", "1002", "1003", None)
VENUES = ("01", "02", None)


def _definition(history: pd.DataFrame, keys: list[str], rows: pd.DataFrame) -> pd.DataFrame:
    """Row by row, as the docstring says: the history rows with the same keys (as text, none
    missing) and a value, dated strictly before the row's day."""
    totals = []
    for _, row in rows.iterrows():
        same = pd.Series(True, index=history.index)
        for key in keys:
            same &= history[key].notna() & (history[key].astype("string") == str(row[key]))
        if pd.isna(row["race_date"]) or any(pd.isna(row[key]) for key in keys):
            same &= False
        before = same & (history["race_date"] < row["race_date"]) & history["v"].notna()
        totals.append((float(history.loc[before, "v"].sum()), float(before.sum())))
    return pd.DataFrame(totals, columns=["total", "n"], index=rows.index, dtype="float64")


def _frame(draw: st.DrawFn, size: int, values: bool) -> pd.DataFrame:
    picks = st.lists(st.integers(0, 99), min_size=size, max_size=size)
    frame = pd.DataFrame(
        {"race_date": pd.to_datetime([DAYS[i % len(DAYS)] for i in draw(picks)]),
         "racer_id": pd.array([RACERS[i % len(RACERS)] for i in draw(picks)], dtype="string"),
         "venue_code": [VENUES[i % len(VENUES)] for i in draw(picks)]}
    )  # fmt: skip
    if values:
        floats = st.one_of(st.none(), st.floats(-1.0, 1.0, allow_nan=False, width=32))
        drawn = draw(st.lists(floats, min_size=size, max_size=size))
        frame["v"] = pd.array(drawn, dtype="Float64")
    return frame


@st.composite
def histories(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    history = _frame(draw, draw(st.integers(0, 30)), values=True)
    rows = _frame(draw, draw(st.integers(1, 12)), values=False)
    keys = draw(st.sampled_from([["racer_id"], ["venue_code"], ["venue_code", "racer_id"]]))
    return history, rows, keys


@settings(max_examples=80, deadline=None)
@given(histories())
def test_earlier_days_totals_are_their_definition(
    drawn: tuple[pd.DataFrame, pd.DataFrame, list[str]],
) -> None:
    """Sums and counts of earlier days only; a missing key, day or value counts nowhere."""
    history, rows, keys = drawn
    got = earlier_days_totals(history, keys, "v", rows)
    pd.testing.assert_frame_equal(got, _definition(history, keys, rows), rtol=1e-9)


def _history(seed: int, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random results history and card of ``days`` days, 2 venues x 2 races, 8 racers."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range("2026-03-01", periods=days):
        for venue in ("01", "02"):
            for race in (1, 2):
                racers = rng.permutation(8)[:6]
                courses = np.where(rng.random(6) < 0.2, rng.integers(1, 7, 6), np.arange(1, 7))
                for lane, (racer, course) in enumerate(zip(racers, courses, strict=True), 1):
                    rows.append(
                        {"race_id": f"{day:%Y%m%d}{venue}{race:02d}", "race_date": day,
                         "venue_code": venue, "racer_id": f"40{racer:02d}", "boat": lane,
                         "course": int(course), "won": float(rng.random() < 0.2),
                         "start_timing_s": round(rng.uniform(0.05, 0.3), 2),
                         "exhibition_s": round(rng.uniform(6.5, 7.0), 2)}
                    )  # fmt: skip
    frame = pd.DataFrame(rows)
    card = frame[["race_id", "race_date", "venue_code", "boat", "racer_id"]]
    return frame, card.sample(frac=1.0, random_state=seed)  # any order in


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 9))
def test_course_features_of_each_day_see_only_the_days_before_it(seed: int, days: int) -> None:
    """The card's rows of each day equal the call on that day's boats alone with the history
    cut before the day: nothing of the day itself or later reaches them (counts exactly)."""
    history, card = _history(seed, days)
    whole = course_features(card, history)
    for day, boats in card.groupby("race_date"):
        alone = course_features(boats, history[history["race_date"] < day])
        pd.testing.assert_frame_equal(whole.loc[boats.index], alone, rtol=1e-12, atol=0.0)
