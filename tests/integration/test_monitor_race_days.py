"""The monitor without a racing calendar on a store of weekend racing (a JRA user's): its
Tuesdays are no race days, so an empty Tuesday raises nothing, while an empty Saturday is a
race day that did not run: ``no_races``, critical (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from config import load_settings
from raceday.store.catalogs.races import RACES
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import insert_rows
from tasks.monitor import monitor_day

TUESDAY = date(2026, 11, 17)


def weekend_races(first: date, last: date) -> pd.DataFrame:
    """Two settled races at Tokyo (05) on every Saturday and Sunday from ``first`` to ``last``."""
    days = [day.date() for day in pd.date_range(first, last) if day.weekday() >= 5]
    rows = [
        {
            "race_id": f"{day:%Y%m%d}05{number:02d}",
            "race_date": day,
            "keibajo_code": "05",
            "race_bango": number,
            "distance_m": 1600,
            "field_size": 12,
            "has_results": True,
            "source": "test",
        }
        for day in days
        for number in (1, 2)
    ]
    return pd.DataFrame(rows)


def test_an_empty_weekday_of_a_weekend_store_is_no_race_day(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        insert_rows(connection, RACES, weekend_races(TUESDAY - timedelta(weeks=10), TUESDAY))
    settings = load_settings(db_url=store_url)
    assert [alert.rule for alert in monitor_day(settings, TUESDAY)] == []
    saturday = TUESDAY + timedelta(days=4)
    alerts = monitor_day(settings, saturday)
    assert [(alert.rule, alert.severity) for alert in alerts] == [("no_races", "critical")]
    assert "a race day (8 of the last 8 Saturdays had races)" in alerts[0].message
