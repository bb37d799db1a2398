"""The performance record in the store (SQLite and PostgreSQL): day writes replace the day,
windows find their races, and what the report reads comes back in order."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import Connection

from raceday.model.calibration import calibration_counts
from raceday.monitoring.performance import (
    bankroll_curve,
    daily_performance,
    race_scores,
    rolling_performance,
)
from raceday.store.catalogs.performance import (
    nth_last_race_date,
    read_calibration,
    read_daily,
    read_day_performance,
    read_race_scores,
    read_rolling,
    write_day_record,
    write_rolling,
)
from raceday.store.engine import make_engine, upgrade_schema
from tests.unit.test_performance import NO_BETS, make_day

FIRST = date(2026, 11, 1)


def record(connection: Connection, day: date, venues: dict[str, int]) -> pd.DataFrame:
    predictions, runners = make_day(day, venues, seed=day.day)
    scores = race_scores(predictions, runners, NO_BETS)
    races = pd.DataFrame({"race_id": scores["race_id"]})
    performance = daily_performance(
        day, scores, races, pd.DataFrame(columns=["race_id"]), bankroll_yen=1_000_000,
        drawdown=0.0, model_version="market-v1", run_seconds=4.0,
    )  # fmt: skip
    judged = predictions.merge(runners, on=["race_id", "umaban"])
    calibration = calibration_counts(judged["p_final"], judged["finish_pos"].eq(1).fillna(False))
    write_day_record(connection, day, performance, scores, calibration.assign(source="final"))
    return scores


def test_a_day_written_twice_is_stored_once_and_a_dropped_venue_leaves(store_url: str) -> None:
    """Re-recording a day replaces its rows; a venue no longer raced that day disappears."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        record(connection, FIRST, {"44": 3, "45": 2})
    with engine.begin() as connection:
        record(connection, FIRST, {"44": 3})
    with engine.connect() as connection:
        performance = read_day_performance(connection, FIRST)
        assert performance["scope"].tolist() == ["all", "44"]
        assert len(read_race_scores(connection, FIRST, FIRST)) == 3
        assert read_calibration(connection, FIRST, FIRST)["runners"].sum() == 18
        assert read_day_performance(connection, FIRST)["run_seconds"].iloc[0] == 4.0


def test_windows_find_their_races_and_come_back_in_order(store_url: str) -> None:
    """The N-th last race's date bounds a race window; rolling rows read back 7d, 30d, 500r."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        for offset in range(5):
            record(connection, FIRST + timedelta(days=offset), {"44": 10})
    last = FIRST + timedelta(days=4)
    with engine.begin() as connection:
        assert nth_last_race_date(connection, last, 10) == last
        assert nth_last_race_date(connection, last, 11) == last - timedelta(days=1)
        assert nth_last_race_date(connection, last, 51) is None
        scores = read_race_scores(connection, FIRST, last)
        daily = read_daily(connection, FIRST, last)
        assert daily["perf_date"].dt.date.tolist() == [FIRST + timedelta(days=d) for d in range(5)]
        rolling = rolling_performance(
            last, scores, daily, bankroll_curve(1_000_000, pd.Series(dtype="int64")), 1_000_000
        )
        write_rolling(connection, rolling)
        write_rolling(connection, rolling)
    with engine.connect() as connection:
        stored = read_rolling(connection, last, last)
    assert stored["span"].tolist() == ["7d", "30d", "500r"]
    assert stored.set_index("span").loc["500r", "races"] == 50
    assert stored.set_index("span").loc["7d", "log_loss"] == pytest.approx(
        rolling.set_index("span").loc["7d", "log_loss"]
    )
