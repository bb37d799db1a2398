"""`raceday monitor --sport boat` runs the boat rules the boat day runs in its own stage
(tasks.monitor.boat_monitor_day) on a recorded boat day; `raceday monitor` on a store that holds
boat days but no horse race says to use --sport boat."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from raceday.store.catalogs.boat import write_performance
from raceday.store.engine import make_engine
from tests.e2e.boat_cli_support import invoke

DAY = date(2024, 12, 1)


def _record_boat_days(db: str, days: int = 3) -> None:
    """``days`` boat days up to DAY, the last one's bankroll fallen by half (the brake)."""
    rows = pd.DataFrame({
        "perf_date": [DAY - timedelta(days=n) for n in range(days - 1, -1, -1)],
        "races": 36, "boats": 216, "quarantined": 0, "races_left_out": 0, "bets": 10,
        "staked_yen": 10_000, "returned_yen": 9_000,
        "bankroll_yen": [1_000_000] * (days - 1) + [500_000], "scored_races": 36,
        "log_loss": 1.5, "model_log_loss": 1.5, "market_log_loss": 1.5, "prior_log_loss": 1.6,
        "uniform_log_loss": 1.79, "pseudo_r2": 0.16, "model_version": "boat-market-prior",
    })  # fmt: skip
    with make_engine(db).begin() as connection:
        write_performance(connection, rows)


@pytest.mark.usefixtures("sqlite_schema")
def test_monitor_sport_boat_judges_the_recorded_boat_day(sqlite_url: str) -> None:
    _record_boat_days(sqlite_url)
    code, stdout, stderr = invoke(
        "monitor", "--sport", "boat", "--date", str(DAY), "--db", sqlite_url, "--json"
    )
    assert code == 6, stderr  # the drawdown at the staking brake is critical, as in the day
    result = json.loads(stdout)
    assert result["sport"] == "boat" and result["status"] == "completed-with-alerts"
    assert [(a["rule"], a["scope"]) for a in result["alerts"]] == [("drawdown", "boat")]
    assert result["alerts"][0]["message"].startswith("boat racing: ")


@pytest.mark.usefixtures("sqlite_schema")
def test_monitor_of_a_boat_only_store_says_to_use_sport_boat(sqlite_url: str) -> None:
    _record_boat_days(sqlite_url)
    code, _stdout, stderr = invoke("monitor", "--date", str(DAY), "--db", sqlite_url)
    assert code == 2
    line = " ".join(stderr.split())
    assert line.startswith(f"error: nothing to monitor for {DAY}: the store holds no settled "
                           "race on or before that day"), line  # fmt: skip
    assert "boat days are recorded: use --sport boat" in line, line


@pytest.mark.usefixtures("sqlite_schema")
def test_monitor_sport_boat_before_any_boat_day_is_one_line(sqlite_url: str) -> None:
    _record_boat_days(sqlite_url)
    earlier = DAY - timedelta(days=10)
    code, _stdout, stderr = invoke("monitor", "--sport", "boat", "--date", str(earlier),
                                   "--db", sqlite_url)  # fmt: skip
    assert code == 2
    assert f"nothing to monitor for {earlier}: no boat day is recorded on or before" in " ".join(
        stderr.split()
    )
