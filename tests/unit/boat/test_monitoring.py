"""Boat days judged by the horse days' monitor rules: their record shaped as a horse day's,
the alerts scoped ``boat``; the rules with no boat figure stay silent."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from raceday.boat.monitoring import as_boat_alert, boat_daily, boat_monitor_inputs, boat_rolling
from raceday.monitoring.rules import Alert, Thresholds, evaluate

DAY = date(2026, 11, 20)
LIMITS = Thresholds()


def recorded(days: int = 12, **today: float) -> pd.DataFrame:
    """``days`` boat days up to DAY, 48 races each, the blend a little better than the market;
    today's figures overridden."""
    rows = [
        {
            "perf_date": DAY - timedelta(days=offset),
            "races": 48,
            "boats": 288,
            "quarantined": 0,
            "races_left_out": 0,
            "bets": 30,
            "staked_yen": 30_000,
            "returned_yen": 29_000,
            "bankroll_yen": 1_000_000,
            "scored_races": 48,
            "log_loss": 1.40,
            "model_log_loss": 1.45,
            "market_log_loss": 1.42,
            "prior_log_loss": 1.50,
            "uniform_log_loss": 1.79,
            "pseudo_r2": 0.2,
            "model_version": "boat-clogit-x",
        }
        for offset in range(days)
    ]
    frame = pd.DataFrame(rows)
    for column, value in today.items():
        frame.loc[frame["perf_date"] == DAY, column] = value
    return frame.iloc[::-1].reset_index(drop=True)


def boat_alerts(performance: pd.DataFrame) -> list[Alert]:
    """The rules' alerts on DAY's record (the 500-race window), as a boat day raises them."""
    inputs = boat_monitor_inputs(
        DAY,
        performance,
        span="500r",
        initial_bankroll_yen=1_000_000,
        runs=pd.DataFrame(columns=["flow_name", "duration_s"]),
        races_by_venue={"boat": 48},
        racing_expected=True,
    )
    return [as_boat_alert(alert) for alert in evaluate(inputs, LIMITS)]


def alerts_of(performance: pd.DataFrame) -> list[tuple[str, str, str]]:
    return [(alert.rule, alert.severity, alert.scope) for alert in boat_alerts(performance)]


def test_a_plain_boat_day_raises_nothing() -> None:
    """No hit rate recorded, no training schedule: those rules are silent, as the rest."""
    assert alerts_of(recorded()) == []


def test_races_left_out_a_drawdown_and_a_blend_worse_than_the_market_alert_as_boat() -> None:
    assert alerts_of(recorded(races_left_out=12)) == [("quarantine_rate", "warning", "boat")]
    braked = recorded(bankroll_yen=690_000)
    assert ("drawdown", "critical", "boat") in alerts_of(braked)
    worse = recorded().assign(log_loss=1.46)  # 0.04 nats worse over 576 races
    assert alerts_of(worse) == [("log_loss_vs_market", "warning", "boat")]
    (alert,) = boat_alerts(recorded(races_left_out=12))
    assert alert.message.startswith("boat racing: ") and "12 of 60" in alert.message
    assert alert.fingerprint == f"quarantine_rate|boat|{DAY}"


def test_the_rolling_window_takes_the_latest_whole_days_reaching_its_races() -> None:
    """500 races of 48-race days: the last 11 days (528 races), log losses weighted by races."""
    days = recorded().assign(scored_races=48)
    days.loc[days.index[-1], ["scored_races", "log_loss"]] = [96, 1.70]  # today: 96 races
    window = boat_rolling(boat_daily(days, 1_000_000), DAY, "500r").iloc[0]
    assert window["scored_races"] == 96 + 48 * 9  # 528 < 500 + 48: whole days
    assert window["log_loss"] == pytest.approx((96 * 1.70 + 432 * 1.40) / 528)
    week = boat_rolling(boat_daily(days, 1_000_000), DAY, "7d").iloc[0]
    assert week["scored_races"] == 96 + 48 * 6


def test_the_drawdown_is_from_the_peak_the_first_being_the_initial_bankroll() -> None:
    days = recorded(days=3)
    days["bankroll_yen"] = [1_100_000, 880_000, 990_000]
    daily = boat_daily(days, 1_000_000)
    assert daily["drawdown"].tolist() == pytest.approx([0.0, 0.2, 0.1])
    assert daily["races_offered"].tolist() == [48, 48, 48]
