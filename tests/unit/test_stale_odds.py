"""Bets sized on odds older than the decision they served: said, not silent.

Race time (``raceday live``, ``raceday backfill --odds-at lead``) decides each race minutes
before its close on the latest snapshot published by then; a source sampled only in the
morning gave a 13:10 race its 09:00 odds, and the run said nothing (exit 0, ``completed``).
A day's run whose one venue had no snapshot sized that venue's races on their final odds and
said nothing either: it warned only when every race of the day had used them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

MORNING = datetime(2026, 12, 3, 9, 0)


def decisions(ages: list[int | None]) -> pd.DataFrame:
    """One race decided at 13:10 per age (minutes between its snapshot and its decision;
    None: no snapshot, as a race sized on its final odds)."""
    decided = datetime(2026, 12, 3, 13, 10)
    return pd.DataFrame(
        {
            "race_id": [f"2026120344{number:02d}" for number in range(1, len(ages) + 1)],
            "odds_at": [None if age is None else decided - timedelta(minutes=age) for age in ages],
            "decided_at": [decided] * len(ages),
        }
    )


@given(
    ages=st.lists(st.one_of(st.none(), st.integers(0, 24 * 60)), max_size=12),
    stale_minutes=st.integers(1, 600),
)
def test_a_race_is_on_stale_odds_when_its_snapshot_is_older_than_the_setting(
    ages: list[int | None], stale_minutes: int
) -> None:
    from raceday.pipeline import races_on_stale_odds

    frame = decisions(ages)
    expected = [
        race_id
        for race_id, age in zip(frame["race_id"], ages, strict=True)
        if age is not None and age > stale_minutes
    ]
    assert races_on_stale_odds(frame, stale_minutes) == expected


def card_odds() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A card of three races (posts 09:20, 13:15, 13:45) bet at 5 minutes before post on the
    only snapshots the source held, 09:00's, and a third sized on its final odds."""
    races = pd.DataFrame(
        {
            "race_id": ["202612034401", "202612034402", "202612034403"],
            "race_date": [date(2026, 12, 3)] * 3,
            "post_time": ["0920", "1315", "1345"],
        }
    )
    odds = pd.DataFrame(
        {
            "race_id": ["202612034401", "202612034401", "202612034402", "202612034403"],
            "umaban": [1, 2, 1, 1],
            "snapshot_at": ["12030900", "12030900", "12030900", "final"],
            "win_odds": [2.0, 3.0, 4.0, 5.0],
            "popularity": [1, 2, 1, 1],
        }
    )
    return races, odds


def test_a_card_bet_at_race_time_on_the_morning_snapshot_names_its_late_races() -> None:
    """At race time, the 13:15 race decided at 13:10 on the 09:00 snapshot is named; the 09:20
    race (15 minutes) is not, nor the race sized on its final odds (said by its own warning)."""
    from raceday.pipeline import odds_moments, races_on_stale_odds
    from raceday.sources.timeline import CardTiming, decision_moments

    races, odds = card_odds()
    lead = decision_moments(races, CardTiming("lead", lead_minutes=5))
    seen = odds_moments(odds, lead)
    assert seen["odds_at"].tolist()[:2] == [pd.Timestamp(MORNING)] * 2
    assert pd.isna(seen["odds_at"].iloc[2])
    assert races_on_stale_odds(seen, 30) == ["202612034402"]
    assert races_on_stale_odds(seen, 300) == []


def test_stale_odds_are_one_warning_naming_the_races_or_their_days() -> None:
    """One day: its races by id (the first five); several: their days; none: no warning; the
    run completes with warnings (it said nothing, ``completed``)."""
    from raceday.run_status import run_status, stale_odds_warning

    assert stale_odds_warning([], 30) == []
    [one_day] = stale_odds_warning(["202612034402", "202612034403"], 30)
    assert one_day.startswith("2 race(s) (202612034402, 202612034403) were decided on odds ")
    assert "more than 30 minutes before their decision" in one_day
    assert "live.stale_odds_minutes" in one_day
    ids = [f"2026120{day}4401" for day in range(1, 8)]
    [days] = stale_odds_warning(ids, 45)
    assert days.startswith("7 race(s) on 7 day(s) (2026-12-01, 2026-12-02, ")
    assert "2026-12-05 and 2 more)" in days and "more than 45 minutes" in days
    assert run_status((), [one_day]) == "completed-with-warnings"


def test_race_time_settings_judge_stale_odds_after_30_minutes_by_default() -> None:
    from config import load_settings

    assert load_settings().live.stale_odds_minutes == 30


def test_a_backfill_at_race_time_notes_the_races_decided_on_stale_odds() -> None:
    """A backfill's chunk notes them at ``lead`` only: the morning's snapshot is the
    morning's by design, however early the source published it."""
    from config import load_settings
    from data_checks.validate import ValidatedDay
    from flows.chain import ChunkNotes

    races, odds = card_odds()
    card = ValidatedDay(races, pd.DataFrame(), odds, pd.DataFrame(), ())
    live = load_settings().live
    morning, lead = ChunkNotes(), ChunkNotes()
    morning.note_card(card, live.model_copy(update={"odds_at": "morning"}))
    lead.note_card(card, live.model_copy(update={"odds_at": "lead"}))
    assert morning.stale_odds == [] and lead.stale_odds == ["202612034402"]
    assert lead.final_odds == morning.final_odds == ["202612034403"]


def test_a_day_run_names_the_races_of_a_venue_sized_on_final_odds() -> None:
    """A day where one venue's races had no snapshot: those races named (it was silent, the
    warning said only when every race of the day used final odds)."""
    from flows.daily import day_outcome
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days

    day = date(2026, 11, 20)
    raw = simulate_days(day, day, SimulatorConfig(races_per_day=2)).raw
    counts = {"races_offered": 2, "races_quarantined": 0, "quarantined": 0}
    outcome = day_outcome(raw, counts, None, alerts=[], final_odds=["202611204401"])
    [line] = outcome["warnings"]
    assert line.startswith("1 race(s) (202611204401) were sized on their final odds")
    assert outcome["status"] == "completed-with-warnings"


def test_live_names_the_days_races_decided_on_stale_odds(tmp_path: Path) -> None:
    """Race time's summary reads the day's decisions as stored (a restarted day's earlier runs
    too): a race bet at 13:10 on the 09:00 snapshot is named, one bet on 13:05's is not."""
    from config import load_settings
    from raceday.store.catalogs.decisions import record_decision
    from raceday.store.engine import make_engine
    from raceday.store.models import Base
    from tasks.race import races_on_stale_odds_decided

    settings = load_settings(db_url=f"sqlite:///{tmp_path / 'day.db'}")
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    decided = datetime(2026, 12, 3, 13, 10)
    with engine.begin() as connection:
        for race_id, odds_at in [("202612034407", MORNING), ("202612034408", decided)]:
            row = {
                "policy": settings.kelly.policy().name,
                "race_id": race_id,
                "race_date": pd.Timestamp(decided.date()),
                "outcome": "bet",
                "post_at": pd.Timestamp(decided + timedelta(minutes=5)),
                "odds_at": pd.Timestamp(odds_at - timedelta(minutes=5)),
                "decided_at": pd.Timestamp(decided),
                "bets": 1,
                "staked_yen": 100,
                "run_id": "test",
            }
            record_decision(connection, row)
    engine.dispose()
    assert races_on_stale_odds_decided(settings, decided.date()) == ["202612034407"]
