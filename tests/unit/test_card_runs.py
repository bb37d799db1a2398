"""Which races of a race-time card get a race run (``race-card``, ``raceday live``): those
whose sales are still open when the card is made. A race past its close is recorded missed,
not started: a card made late (or run again after racing began) started a run for each."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.racetime import card_runs, timetable
from tests.unit.test_racetime import races as card  # a card of 大井 and 川崎 at HHMM posts


def hhmm(slots: tuple[object, ...]) -> list[str]:
    return [slot.post_at.strftime("%H%M") for slot in slots]  # type: ignore[attr-defined]


def test_a_card_made_late_starts_no_run_for_a_race_past_its_close() -> None:
    """At 12:00 (close 2 minutes before post): 11:00 and 12:01 have closed; 12:03 (closes
    12:01, its moment 11:58 passed) is run at once, 15:00 at its moment."""
    slots = timetable(card(["1100", "1201", "1203", "1500"]), 5, 2).slots
    plan = card_runs(slots, set(), datetime(2026, 12, 3, 12, 0))
    assert hhmm(plan.past_close) == ["1100", "1201"]
    assert hhmm(plan.to_run) == ["1203", "1500"]


def test_a_card_made_at_its_time_runs_every_race() -> None:
    slots = timetable(card(["1030", "2050"]), 5, 2).slots
    plan = card_runs(slots, set(), datetime(2026, 12, 3, 8, 30))
    assert plan.to_run == slots and plan.past_close == ()


def test_a_card_run_again_neither_runs_nor_records_a_race_decided() -> None:
    """A second run of the card: the races decided (bet, or recorded missed by the first
    run) are in neither list, so nothing is recorded or started twice."""
    slots = timetable(card(["1100", "1203", "1500"]), 5, 2).slots
    decided = {slots[0].race_id, slots[2].race_id}
    plan = card_runs(slots, decided, datetime(2026, 12, 3, 12, 0))
    assert hhmm(plan.to_run) == ["1203"] and plan.past_close == ()


@settings(max_examples=200, deadline=None)
@given(
    posts=st.lists(st.sampled_from(["0930", "1045", "1200", "1203", "1530", "2050"]), max_size=8),
    decided_mask=st.lists(st.booleans(), min_size=8, max_size=8),
    minutes=st.integers(min_value=0, max_value=24 * 60),
)
def test_every_race_not_decided_is_run_or_recorded_missed_never_both(
    posts: list[str], decided_mask: list[bool], minutes: int
) -> None:
    slots = timetable(card(posts), 5, 2).slots
    decided = {slot.race_id for slot, done in zip(slots, decided_mask, strict=False) if done}
    now = datetime(2026, 12, 3) + timedelta(minutes=minutes)
    plan = card_runs(slots, decided, now)
    assert all(now < slot.close_at for slot in plan.to_run)
    assert all(now >= slot.close_at for slot in plan.past_close)
    ran, missed = [s.race_id for s in plan.to_run], [s.race_id for s in plan.past_close]
    assert sorted(ran + missed) == sorted(s.race_id for s in slots if s.race_id not in decided)
    order = [s.race_id for s in slots]
    assert ran == sorted(ran, key=order.index) and missed == sorted(missed, key=order.index)
