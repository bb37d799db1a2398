"""A card stored again (a re-run of ``live``, or ``run`` on a day ``live`` decided) keeps, for
each race already decided at race time, the odds its decision read; the other races get the
card's odds again. It used to put the morning snapshot back over every race (the fuzz probe:
``live --replay`` run twice left 09:00 odds beside bets decided on later ones)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from config import load_settings
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.decisions import record_decision
from raceday.store.catalogs.races import read_odds, write_odds
from raceday.store.engine import make_engine, upgrade_schema
from tasks.validate import validate_and_store

DAY = date(2025, 5, 10)


def test_a_card_stored_again_keeps_the_odds_its_decided_races_read(sqlite_url: str) -> None:
    settings = load_settings(db_url=sqlite_url, validation={"data_docs": False})
    upgrade_schema(make_engine(sqlite_url))
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    card = validate_and_store(settings, raw, DAY, DAY, "card")
    decided = str(card.races["race_id"].iloc[0])
    with make_engine(sqlite_url).begin() as connection:
        morning = read_odds(connection, DAY, DAY)
        of_decided = morning["race_id"] == decided
        later = morning[of_decided].assign(
            snapshot_at="05101055", win_odds=lambda f: f.win_odds + 1
        )
        write_odds(connection, later.drop(columns="race_date"), card.runners)  # as `live` does
        record_decision(
            connection,
            {
                "policy": settings.kelly.policy().name, "race_id": decided, "race_date": DAY,
                "outcome": "no_bet", "decided_at": datetime(2025, 5, 10, 10, 55), "bets": 0,
                "staked_yen": 0, "run_id": "test-live",
            },
        )  # fmt: skip

    validate_and_store(settings, raw, DAY, DAY, "card")  # the card again

    with make_engine(sqlite_url).connect() as connection:
        again = read_odds(connection, DAY, DAY)
    key = ["race_id", "umaban"]
    pd.testing.assert_frame_equal(
        again[again["race_id"] == decided].sort_values(key, ignore_index=True),
        later.sort_values(key, ignore_index=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        again[again["race_id"] != decided].sort_values(key, ignore_index=True),
        morning[~of_decided].sort_values(key, ignore_index=True),
    )
