"""A post time changed (発走時刻変更) after the morning card, seen at race time: the day's loop
in real time reads the post times again while it waits and decides a moved race at its new
moment. On a replay clock, with the source, the store and each race stubbed (no waiting)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

import flows.chain
from config import load_settings
from data_checks.validate import ValidatedDay
from flows.chain import race_day_chain
from raceday.racetime import WAITING_FOR_ODDS, RaceSlot, ReplayClock
from tasks.race import RaceCard

DAY = date(2026, 12, 3)


def card(posts: dict[int, str]) -> RaceCard:
    """A card of race numbers at post times (HHMM) at one venue."""
    races = pd.DataFrame(
        {
            "race_id": [f"{DAY:%Y%m%d}44{number:02d}" for number in posts],
            "race_date": pd.Timestamp(DAY),
            "keibajo_code": "44",
            "race_bango": list(posts),
            "post_time": list(posts.values()),
        }
    )
    return RaceCard(ValidatedDay(races, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), ()), None)


def decided_at(
    monkeypatch: pytest.MonkeyPatch, morning: dict[int, str], source: dict[int, str]
) -> dict[int, tuple[datetime, datetime]]:
    """Each race's decision moment and close when the card says ``morning`` and the source,
    once the card was read, ``source`` (the loop starts at 07:00)."""
    monkeypatch.setattr(flows.chain, "races_decided", lambda *_: set())
    monkeypatch.setattr(flows.chain, "races_with_open_bets", lambda *_: set())
    clock = ReplayClock(datetime(2026, 12, 3, 7, 0))
    moved = card(source).card.races
    posts = pd.Series(
        pd.to_datetime(f"{DAY:%Y%m%d}" + moved["post_time"], format="%Y%m%d%H%M").to_numpy(),
        index=moved["race_id"].to_numpy(),
    )

    def run(stage: Any, *_args: Any, **_kwargs: Any) -> Any:
        if stage.name == "post-times":
            return posts
        return [] if stage.name == "skip-closed" else None

    seen: dict[int, tuple[datetime, datetime]] = {}

    def race(slot: RaceSlot) -> dict[str, Any]:
        seen[slot.race_bango] = (clock.now(), slot.close_at)
        return {}

    race_day_chain(run, load_settings(), DAY, card(morning), clock, race, raw=None)
    return seen


def test_a_race_moved_later_is_decided_at_its_new_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = decided_at(monkeypatch, {1: "0723", 2: "0750"}, {1: "0729", 2: "0750"})
    assert seen[1] == (datetime(2026, 12, 3, 7, 24), datetime(2026, 12, 3, 7, 27))  # not 07:18
    assert seen[2][0] == datetime(2026, 12, 3, 7, 45)


def test_a_race_moved_earlier_is_decided_at_its_new_moment_before_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = decided_at(monkeypatch, {1: "0723", 2: "0750"}, {1: "0723", 2: "0720"})
    assert seen[2][0] == datetime(2026, 12, 3, 7, 15) and seen[1][0] == datetime(2026, 12, 3, 7, 18)
    assert list(seen) == [2, 1]


def test_a_race_moved_earlier_past_its_close_reaches_its_runner_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its runner (:func:`flows.chain.race_chain`) records it ``missed_close``, never bets it."""
    seen = decided_at(monkeypatch, {1: "0723"}, {1: "0701"})
    moment, close = seen[1]
    assert moment == datetime(2026, 12, 3, 7, 0) and close == datetime(2026, 12, 3, 6, 59)


def test_a_source_unavailable_while_waiting_keeps_the_cards_post_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(*_args: Any) -> pd.Series:
        raise ConnectionError("source down")

    clock = ReplayClock(datetime(2026, 12, 3, 7, 0))
    monkeypatch.setattr(flows.chain, "races_decided", lambda *_: set())
    monkeypatch.setattr(flows.chain, "races_with_open_bets", lambda *_: set())

    def run(stage: Any, *args: Any, **_kwargs: Any) -> Any:
        if stage.name == "post-times":
            return unavailable(*args)
        return [] if stage.name == "skip-closed" else None

    seen: list[datetime] = []

    def race(_slot: RaceSlot) -> dict[str, Any]:
        seen.append(clock.now())
        return {}

    race_day_chain(run, load_settings(), DAY, card({1: "0723"}), clock, race)
    assert seen == [datetime(2026, 12, 3, 7, 18)]


def test_a_race_waiting_for_its_odds_does_not_read_the_post_times_at_each_odds_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its odds read again every 20 s until its close: the post times every 120 s only."""
    monkeypatch.setattr(flows.chain, "races_decided", lambda *_: set())
    monkeypatch.setattr(flows.chain, "races_with_open_bets", lambda *_: set())
    clock = ReplayClock(datetime(2026, 12, 3, 7, 17))
    reads: list[datetime] = []

    def run(stage: Any, *_args: Any, **_kwargs: Any) -> Any:
        if stage.name == "post-times":
            reads.append(clock.now())
            return pd.Series(dtype="datetime64[ns]")
        return [] if stage.name == "skip-closed" else None

    def race(slot: RaceSlot) -> dict[str, Any]:
        again = clock.now() + timedelta(seconds=20)
        if again < slot.close_at:
            return {"outcome": WAITING_FOR_ODDS, "read_again_at": again}
        return {"outcome": "no_odds"}

    race_day_chain(run, load_settings(), DAY, card({1: "0723"}), clock, race)
    assert len(reads) <= 4, reads  # 07:17, 07:18 (its first try), 07:20 (, 07:22): not 9
