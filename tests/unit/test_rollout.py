"""The rollout's pick of a chunk's races, every day at once, against the day-by-day pick it
replaced: the same rows in the same order on hostile cards."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from raceday.model.rollout import priority_within_day, race_priority, select_races


def select_races_day_by_day(races: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The pick as it was (a loop over the days, :func:`race_priority` of each)."""
    if races.empty:
        return races
    parts = []
    for _, day in races.groupby("race_date", sort=True):
        rank = race_priority(day)
        parts.append(day[rank < cap])
    return pd.concat(parts).sort_values("race_id").reset_index(drop=True)


DAYS = [pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"), pd.Timestamp("2026-11-19")]


@st.composite
def hostile_cards(draw: st.DrawFn) -> pd.DataFrame:
    """Races over a few days (some undated), venues missing, race numbers repeated or missing,
    race ids repeated, an index out of order."""
    n_rows = draw(st.integers(1, 30))

    def column(values: st.SearchStrategy[object]) -> list[object]:
        return draw(st.lists(values, min_size=n_rows, max_size=n_rows))

    races = pd.DataFrame(
        {
            "race_id": pd.array(column(st.sampled_from([f"r{i}" for i in range(12)])), "string"),
            "race_date": pd.to_datetime(column(st.sampled_from([*DAYS, None]))),
            "keibajo_code": pd.array(column(st.sampled_from(["44", "45", "30", None])), "string"),
            "race_bango": pd.array(column(st.one_of(st.integers(1, 12), st.none())), "Int64"),
            "distance_m": column(st.integers(800, 2400)),
        },
        index=draw(st.permutations(range(100, 100 + n_rows))),
    )
    return races


@settings(max_examples=300, deadline=None)
@given(hostile_cards(), st.integers(0, 8))
def test_every_day_at_once_picks_what_day_by_day_picked(races: pd.DataFrame, cap: int) -> None:
    """The same races, columns and order as the per-day loop (whenever it had a day to pick)."""
    if races["race_date"].isna().all():
        assert select_races(races, cap).empty  # the loop had nothing to concatenate
        return
    assert_frame_equal(select_races(races, cap), select_races_day_by_day(races, cap))


def test_priority_within_day_ranks_each_day_from_zero() -> None:
    """Two days, two venues: each day's races ranked 0.. round robin, later races first; an
    undated race has no rank."""
    races = pd.DataFrame(
        {
            "race_id": ["a1", "a2", "b1", "c1", "c2", "x"],
            "race_date": pd.to_datetime(
                ["2026-11-20", "2026-11-20", "2026-11-20", "2026-11-21", "2026-11-21", None]
            ),
            "keibajo_code": ["44", "44", "45", "44", "44", "44"],
            "race_bango": [1, 2, 1, 1, 2, 3],
        }
    )
    assert priority_within_day(races).tolist()[:5] == [2.0, 0.0, 1.0, 1.0, 0.0]
    assert pd.isna(priority_within_day(races).iloc[5])
