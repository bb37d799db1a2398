"""A validated card of several days split by day (``tasks.replay.day_cards``): each day's races,
and the runners and odds of its races, found by the race's date."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from data_checks.validate import ValidatedDay
from tasks.replay import day_cards

FIRST = date(2025, 3, 1)
RACES = st.lists(
    st.tuples(st.sampled_from(["R1", "R2", "Ｒ3", "R4"]), st.integers(0, 3)), max_size=6
)
ROWS = st.lists(st.sampled_from(["R1", "R2", "Ｒ3", "R4", "R9"]), max_size=20)


@given(races=RACES, runners=ROWS, odds=ROWS, arrow=st.booleans())
def test_each_day_has_its_races_and_their_runners_and_odds(
    races: list[tuple[str, int]], runners: list[str], odds: list[str], arrow: bool
) -> None:
    """A day's part holds the races dated that day and the runners and odds of the races
    whose (last) date it is, in their order; a runner of a race not on the card is in no
    day's part (R9); a race listed twice counts on its last date for its runners."""
    text = "string" if arrow else "object"
    card = ValidatedDay(
        races=pd.DataFrame(
            {
                "race_id": pd.Series([race for race, _ in races], dtype=text),
                "race_date": pd.Series(
                    [pd.Timestamp(FIRST + timedelta(days=day)) for _, day in races],
                    dtype="datetime64[ns]",
                ),
            }
        ),
        runners=pd.DataFrame({"race_id": pd.Series(runners, dtype=text)}),
        odds=pd.DataFrame({"race_id": pd.Series(odds, dtype=text)}),
        quarantine=pd.DataFrame(),
        outcomes=(),
    )
    days = [FIRST + timedelta(days=day) for day in range(4)]
    date_of = {race: FIRST + timedelta(days=day) for race, day in races}  # the last one wins
    for day, part in day_cards(card, days).items():
        assert part.races["race_id"].tolist() == [
            race for race, offset in races if FIRST + timedelta(days=offset) == day
        ]
        assert part.runners["race_id"].tolist() == [r for r in runners if date_of.get(r) == day]
        assert part.odds["race_id"].tolist() == [r for r in odds if date_of.get(r) == day]
