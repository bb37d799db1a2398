"""Text the store is given: NUL bytes never lose a day, a refused write never logs race data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from config import load_settings
from raceday.codec import decode_races, decode_runners
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.races import read_races, read_runners, write_races_and_runners
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import ERROR_LINE_CHARS, StoreWriteError
from tasks.validate import validate_and_store

DAY = date(2026, 11, 20)


def _day() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    return decode_races(raw.nvd_ra), decode_runners(raw.nvd_se)


def test_a_nul_byte_in_a_horse_name_does_not_lose_the_day(store_url: str) -> None:
    """A NUL inside a horse's name is stripped at the store write: the day's card is stored on
    SQLite and PostgreSQL alike, the name without the NUL."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    se = raw.nvd_se.copy()
    name = str(se.loc[3, "bamei"]).strip()
    se.loc[3, "bamei"] = name[:1] + "\x00" + name[1:]
    settings = load_settings(db_url=store_url, validation={"data_docs": False})
    upgrade_schema(make_engine(store_url))
    valid = validate_and_store(settings, replace(raw, nvd_se=se), DAY, DAY, "card")
    with make_engine(store_url).connect() as connection:
        stored = read_runners(connection, DAY, DAY)
    assert len(stored) == len(valid.runners) > 0
    assert stored["horse_id"].eq(str(se.loc[3, "ketto_toroku_bango"]).strip()).any()
    assert not stored["horse_name"].str.contains("\x00", regex=False).any()
    assert name in set(stored["horse_name"])


@pytest.mark.postgres
def test_a_refused_write_says_one_short_line_without_rows(postgres_url: str) -> None:
    """A value PostgreSQL refuses (a horse id longer than its column) fails the write with the
    table and the driver's first line, at most 300 characters, and no runner's data."""
    races, runners = _day()
    runners = runners.copy()
    runners.loc[0, "horse_id"] = "9" * 200
    upgrade_schema(make_engine(postgres_url))
    with pytest.raises(StoreWriteError) as raised, make_engine(postgres_url).begin() as connection:
        write_races_and_runners(connection, races, runners, has_results=False, source="test")
    message = str(raised.value)
    assert message.startswith("writing runners failed:")
    assert "\n" not in message and len(message) <= ERROR_LINE_CHARS
    assert raised.value.__suppress_context__  # the statement and its rows are not chained
    for horse in runners["horse_name"].head(10):
        assert str(horse) not in message
    with make_engine(postgres_url).connect() as connection:
        assert read_races(connection, DAY, DAY).empty  # the transaction rolled back
