"""Monitor rules: each fires on its condition and stays silent otherwise; de-duplication."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from raceday.monitoring.rules import (
    Alert,
    MonitorInputs,
    Thresholds,
    calendar_expectation,
    evaluate,
    plan_notifications,
    race_day_by_history,
    robust_z,
)

DAY = date(2026, 11, 20)
LIMITS = Thresholds(
    run_budgets_s={"settle-day": 600.0},
    anomaly_metrics=("races", "market_log_loss", "quarantine_rate"),
)


def daily(days: int = 20, **today: float) -> pd.DataFrame:
    """Scope-all rows for the ``days`` days up to DAY: steady figures, today's overridden."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "perf_date": pd.Timestamp(DAY - timedelta(days=offset)),
            "races": 200,
            "market_log_loss": 1.56 + rng.normal(0, 0.05),
            "quarantine_rate": 0.01 + rng.normal(0, 0.003),
            "drawdown": 0.0,
            "races_offered": 200,
            "races_quarantined": 2,
            "model_version": "market-v1",
        }
        for offset in range(days - 1, -1, -1)
    ]
    rows[-1].update(today)
    return pd.DataFrame(rows)


def rolling(span: str = "500r", **figures: float) -> pd.DataFrame:
    row = {"span": span, "scored_races": 500, "log_loss": 1.56, "market_log_loss": 1.56,
           "hit_rate": 0.42}  # fmt: skip
    row.update(figures)
    return pd.DataFrame([row])


def inputs(**changes: object) -> MonitorInputs:
    base = MonitorInputs(
        race_date=DAY,
        daily=daily(),
        rolling=rolling(),
        runs=pd.DataFrame({"flow_name": ["settle-day"] * 2, "duration_s": [3.0, 4.0]}),
        races_by_venue={"44": 100, "45": 100},
        racing_expected=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rules_of(alerts: list[Alert]) -> list[str]:
    return [alert.rule for alert in alerts]


def test_a_normal_day_raises_nothing() -> None:
    """Steady figures inside every limit: no alert."""
    assert evaluate(inputs(), LIMITS) == []


def test_log_loss_worse_than_the_market_beyond_the_margin_alerts() -> None:
    """Gap above the margin alerts (recurring); within it, or on too few races, it does not."""
    alerts = evaluate(inputs(rolling=rolling(log_loss=1.60)), LIMITS)
    assert rules_of(alerts) == ["log_loss_vs_market"]
    assert alerts[0].value == pytest.approx(0.04) and alerts[0].recurring
    assert evaluate(inputs(rolling=rolling(log_loss=1.575)), LIMITS) == []
    assert evaluate(inputs(rolling=rolling(log_loss=1.70, scored_races=150)), LIMITS) == []


def test_hit_rate_is_judged_against_what_the_top_picks_expect() -> None:
    """JRA-like: the picks expect 31 % and hit 29 % over 500 races, within chance (the fixed
    30 % floor fired on 40 of 171 JRA days); NAR-like: they expect 45 % and hit 36 %, four
    standard deviations below: the predictions or the data are broken."""
    assert evaluate(inputs(rolling=rolling(hit_rate=0.29, expected_hit_rate=0.31)), LIMITS) == []
    alerts = evaluate(inputs(rolling=rolling(hit_rate=0.36, expected_hit_rate=0.45)), LIMITS)
    assert rules_of(alerts) == ["hit_rate_floor"]
    assert alerts[0].threshold == pytest.approx(0.45 - 3 * math.sqrt(0.45 * 0.55 / 500))
    assert "3 σ below the 45.0% its picks' own probabilities expect" in alerts[0].message
    assert evaluate(inputs(rolling=rolling(hit_rate=0.40, expected_hit_rate=0.45)), LIMITS) == []
    # a row recorded before its expectation was (revision 2700): nothing to judge it against
    assert evaluate(inputs(rolling=rolling(hit_rate=0.10)), LIMITS) == []


def test_a_configured_floor_is_fixed_and_the_plans_090_would_always_fire() -> None:
    """``hit_rate_floor`` set: the floor is that figure whatever the picks expect."""
    fixed = replace(LIMITS, hit_rate_floor=0.30)
    assert rules_of(evaluate(inputs(rolling=rolling(hit_rate=0.25)), fixed)) == ["hit_rate_floor"]
    calm = rolling(hit_rate=0.29, expected_hit_rate=0.31)
    assert rules_of(evaluate(inputs(rolling=calm), fixed)) == ["hit_rate_floor"]
    assert evaluate(inputs(rolling=rolling(hit_rate=0.42)), fixed) == []
    plan = replace(LIMITS, hit_rate_floor=0.90)
    good_day = rolling(hit_rate=0.45, expected_hit_rate=0.45)
    assert rules_of(evaluate(inputs(rolling=good_day), plan)) == ["hit_rate_floor"]


def test_drawdown_warns_then_is_critical_at_the_staking_brake() -> None:
    """20% warns; at the 30% brake the alert is critical and says staking stopped."""
    warning = evaluate(inputs(daily=daily(drawdown=0.22)), LIMITS)
    assert [(a.rule, a.severity) for a in warning] == [("drawdown", "warning")]
    braked = evaluate(inputs(daily=daily(drawdown=0.31)), LIMITS)
    assert [(a.rule, a.severity) for a in braked] == [("drawdown", "critical")]
    assert "staking has stopped" in braked[0].message
    # a paper ledger without bets cannot recover: the alert says what resumes it
    assert "RACEDAY_KELLY__DRAWDOWN_BRAKE" in braked[0].message
    assert "RACEDAY_KELLY__POLICY_NAME" in braked[0].message
    assert braked[0].fingerprint != warning[0].fingerprint


def test_quarantine_rate_above_the_limit_alerts_once_per_day() -> None:
    """More than 5% of a day's races set aside alerts, keyed by the day."""
    alerts = evaluate(
        inputs(daily=daily(quarantine_rate=0.12, races_quarantined=24)),
        replace(LIMITS, anomaly_metrics=()),
    )
    assert rules_of(alerts) == ["quarantine_rate"]
    assert alerts[0].key == DAY.isoformat() and not alerts[0].recurring
    assert "24 of 200" in alerts[0].message


def test_every_race_set_aside_is_critical() -> None:
    """A day whose every offered race was set aside (across validation's phases: the card, the
    results, the predictions) priced nothing: critical, so the run exits 6, not 0. One race
    priced stays a warning."""
    limits = replace(LIMITS, anomaly_metrics=())
    every = evaluate(
        inputs(daily=daily(quarantine_rate=1.0, races_offered=36, races_quarantined=36)), limits
    )
    assert [(a.rule, a.severity) for a in every] == [("quarantine_rate", "critical")]
    assert "every race offered (36) was set aside" in every[0].message
    one_priced = evaluate(
        inputs(daily=daily(quarantine_rate=35 / 36, races_offered=36, races_quarantined=35)),
        limits,
    )
    assert [(a.rule, a.severity) for a in one_priced] == [("quarantine_rate", "warning")]
    assert every[0].fingerprint != one_priced[0].fingerprint, "a re-run that escalates pages"


def test_no_races_on_a_scheduled_day_is_critical_and_a_missing_venue_warns() -> None:
    """An empty day the calendar schedules alerts; a day without racing does not."""
    empty = evaluate(inputs(races_by_venue={}), LIMITS)
    assert [(a.rule, a.severity) for a in empty] == [("no_races", "critical")]
    assert evaluate(inputs(races_by_venue={}, racing_expected=False), LIMITS) == []
    missing = evaluate(inputs(expected_venues=frozenset({"44", "45", "50"})), LIMITS)
    assert [(a.rule, a.scope) for a in missing] == [("venue_missing", "50")]


def test_a_race_day_whose_races_were_all_cancelled_is_said_not_paged() -> None:
    """A day whose every race the provider cancelled (a typhoon: its records say 9) stores no
    race, but the source is not empty: an info alert says it was cancelled, never the critical
    ``no_races``; a venue whose races were all cancelled is not ``venue_missing``."""
    off = inputs(races_by_venue={}, races_cancelled_by_venue={"44": 12, "45": 12})
    alerts = evaluate(off, LIMITS)
    assert [(a.rule, a.severity) for a in alerts] == [("day_cancelled", "info")]
    assert "24 races were cancelled (data_kubun 9)" in alerts[0].message
    venue_off = inputs(
        races_by_venue={"44": 100},
        races_cancelled_by_venue={"45": 12},
        expected_venues=frozenset({"44", "45", "50"}),
    )
    assert [(a.rule, a.scope) for a in evaluate(venue_off, LIMITS)] == [("venue_missing", "50")]


def test_calendar_file_decides_which_days_and_venues_race() -> None:
    """Listed days race (at the listed venues); unlisted days do not; no calendar: every day."""
    calendar = pd.DataFrame(
        {"race_date": ["2026-11-20", "2026-11-20"], "keibajo_code": ["44", "5"]}
    )
    assert calendar_expectation(calendar, DAY) == (True, frozenset({"44", "05"}))
    assert calendar_expectation(calendar, DAY + timedelta(days=1)) == (False, frozenset())
    assert calendar_expectation(None, DAY) == (True, frozenset())


def usually_a_race_day(day: date, raced: set[date], first: date | None) -> bool:
    return race_day_by_history(day, raced, first)[0]


def test_without_a_calendar_the_stored_weekdays_say_which_days_race() -> None:
    """A weekday the last eight weeks raced on fewer than half of is no race day (JRA's
    Tuesdays); one raced on half or more is (NAR's every day, JRA's Saturdays). With fewer than
    four of them inside the stored history, two or more never raced on are no race day (a new
    JRA store's weekdays), anything else is, as every day was before."""
    tuesday, first = date(2026, 11, 17), date(2026, 9, 1)
    weekends = {
        first + timedelta(days=n) for n in range(100) if (first + timedelta(days=n)).weekday() >= 5
    }
    assert race_day_by_history(tuesday, weekends, first) == (
        False,
        "0 of the last 8 Tuesdays had races",
    )
    assert usually_a_race_day(date(2026, 11, 21), weekends, first)  # a Saturday
    every_day = {first + timedelta(days=n) for n in range(100)}
    assert usually_a_race_day(tuesday, every_day, first)
    half = {tuesday - timedelta(weeks=week) for week in (1, 3, 5, 7)}
    assert usually_a_race_day(tuesday, half, first)
    assert not usually_a_race_day(tuesday, set(list(half)[:3]), first)
    assert not usually_a_race_day(tuesday, set(), tuesday - timedelta(weeks=2))  # two known
    one_known = race_day_by_history(tuesday, set(), tuesday - timedelta(weeks=1))
    assert one_known == (True, "0 of the last 1 Tuesdays had races: too few to tell, so every "
                         "day is a race day")  # fmt: skip
    raced_once = {tuesday - timedelta(weeks=2)}
    assert usually_a_race_day(tuesday, raced_once, tuesday - timedelta(weeks=3))
    assert usually_a_race_day(tuesday, set(), None)  # an empty store


def test_a_run_over_its_budget_alerts() -> None:
    """Stage time summed per flow beyond its budget alerts; flows without a budget never do."""
    runs = pd.DataFrame(
        {"flow_name": ["settle-day", "settle-day", "other"], "duration_s": [400.0, 300.0, 9e9]}
    )
    alerts = evaluate(inputs(runs=runs), LIMITS)
    assert [(a.rule, a.scope, a.value) for a in alerts] == [("run_budget", "settle-day", 700.0)]


def test_a_model_in_service_too_long_is_stale_but_the_market_never_is() -> None:
    """Past the maximum age a trained model alerts; market-v1 is exempt."""
    old = DAY - timedelta(days=20)
    stale = evaluate(inputs(model_version="win-v3", model_in_service_since=old), LIMITS)
    assert rules_of(stale) == ["model_stale"]
    assert evaluate(inputs(model_version="market-v1", model_in_service_since=old), LIMITS) == []
    fresh = DAY - timedelta(days=3)
    assert evaluate(inputs(model_version="win-v3", model_in_service_since=fresh), LIMITS) == []


def test_a_model_kept_by_a_training_that_did_not_beat_it_is_not_stale() -> None:
    """The weekly training ran (its version trained on data up to 3 days ago) but did not beat
    the model in service, which keeps its place: no alert, though it has predicted for 30 days.
    Once no version has been trained on data of the last 14 days, it is stale, and the message
    says the training has not run."""
    since = DAY - timedelta(days=30)
    kept = inputs(
        model_version="win-v3", model_in_service_since=since, last_trained_until=DAY - timedelta(3)
    )
    assert evaluate(kept, LIMITS) == []
    missed = replace(kept, last_trained_until=DAY - timedelta(days=21))
    stale = evaluate(missed, LIMITS)
    assert rules_of(stale) == ["model_stale"]
    assert f"no version trained on data after {DAY - timedelta(days=21)}" in stale[0].message
    assert stale[0].value == 20.0  # days since the newest training could first have served


def test_robust_z_uses_median_and_mad() -> None:
    """z = (x - median) / (1.4826 MAD); a metric that never moved (MAD 0) is judged on a scale
    of 5% of its median (races capped at 200 falling to 150: z = -5), and a baseline of zeros
    without spread gives no z at all."""
    history = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert robust_z(history, 3.0) == 0.0
    assert robust_z(history, 3.0 + 1.4826) == pytest.approx(1.0)
    assert robust_z(pd.Series([200.0] * 10), 150.0) == pytest.approx(-5.0)
    assert robust_z(pd.Series([200.0] * 10), 200.0) == 0.0
    assert math.isnan(robust_z(pd.Series([], dtype="float64"), 1.0))
    assert math.isnan(robust_z(pd.Series([0.0] * 10), 71_900.0))
    assert math.isnan(robust_z(pd.Series([0.0] * 8 + [70_000.0, 72_000.0]), 71_900.0))


def test_a_first_backfill_whose_first_days_bet_nothing_raises_no_anomaly() -> None:
    """The first days of a first backfill bet nothing (no model yet); the days after bet every
    day. Before, every such day was `staked_yen … median is 0 (robust z +inf)`, and a day with
    a quarantined row `quarantine_rate … median is 0`: a baseline without spread has no z."""
    limits = replace(LIMITS, anomaly_metrics=("staked_yen", "quarantine_rate"))
    days = daily(days=20)
    days["staked_yen"] = [0.0] * 12 + [70_000.0 + 500 * i for i in range(8)]
    days["quarantine_rate"] = [0.0] * 19 + [0.02]
    for last in range(11, 20):
        window = days.iloc[: last + 1]
        day = replace(inputs(daily=window), race_date=window["perf_date"].iloc[-1].date())
        assert [a.message for a in evaluate(day, limits) if a.rule == "anomaly"] == []


def test_an_odd_day_is_an_anomaly_and_a_usual_one_is_not() -> None:
    """A market log loss far outside its trailing spread, or fewer races than ever, alerts."""
    odd = evaluate(inputs(daily=daily(market_log_loss=2.4, races=150)), LIMITS)
    assert sorted(a.scope for a in odd if a.rule == "anomaly") == ["market_log_loss", "races"]
    assert evaluate(inputs(daily=daily(market_log_loss=1.58)), LIMITS) == []


def test_days_without_races_are_neither_judged_nor_judged_against() -> None:
    """A store racing on weekends, run every day (the operators' probe): five dark days a week
    recorded with no race. A race day is judged against the race days before it (before, the
    zeros made every race day +inf unusual, and a 28-day window held 8 race days); a dark day
    is not judged at all."""
    saturday = DAY + timedelta(days=(5 - DAY.weekday()) % 7)
    weeks = daily(days=16 * 7)
    weeks["perf_date"] = weeks["perf_date"] + pd.Timedelta(saturday - DAY)
    dark = weeks["perf_date"].dt.weekday < 5
    weeks.loc[dark, ["races", "races_offered", "races_quarantined"]] = 0
    race_day = replace(inputs(daily=weeks), race_date=saturday)
    assert evaluate(race_day, LIMITS) == []  # 200 races, as every race day before
    fewer = weeks.copy()
    fewer.loc[fewer.index[-1], "races"] = 150
    odd = evaluate(replace(race_day, daily=fewer), LIMITS)
    assert [(a.rule, a.scope) for a in odd] == [("anomaly", "races")]
    assert "the last 28 race days' median is 200" in odd[0].message
    weekday = replace(race_day, race_date=saturday - timedelta(days=1))
    assert [a.rule for a in evaluate(weekday, LIMITS) if a.rule == "anomaly"] == []


@given(usual=st.integers(1, 4), today=st.integers(0, 3), races=st.sampled_from([24, 36, 200]))
def test_fewer_races_set_aside_than_usual_is_no_anomaly(usual: int, today: int, races: int) -> None:
    """A JRA day holds 24 or 36 races: a store that sets one or two aside every day (its
    quarantine rate steady, MAD 0) judged a day with one fewer "unusual" (``quarantine_rate =
    0.02778 … robust z -10.00``), a warning of good news. Fewer rows set aside is never an
    anomaly; more still is."""
    days = daily(days=20, quarantine_rate=min(today, usual - 1) / races)
    days["quarantine_rate"] = days["quarantine_rate"].where(
        days.index == days.index[-1], usual / races
    )
    fewer = evaluate(inputs(daily=days), LIMITS)
    assert [a.scope for a in fewer if a.rule == "anomaly"] == []
    days.loc[days.index[-1], "quarantine_rate"] = (usual + 1) / races
    more = evaluate(inputs(daily=days), LIMITS)
    assert [a.scope for a in more if a.rule == "anomaly"] == ["quarantine_rate"]


def test_no_anomaly_verdict_on_too_little_history() -> None:
    """Below the minimum number of trailing days the check stays silent."""
    assert evaluate(inputs(daily=daily(days=5, market_log_loss=3.0)), LIMITS) == []


def alert(rule: str = "quarantine_rate", *, recurring: bool = False, day: date = DAY) -> Alert:
    return Alert(rule, "warning", "m", day, key="" if recurring else day.isoformat(),
                 recurring=recurring)  # fmt: skip


def stored(a: Alert, delivery: str, raised_at: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": 7, "fingerprint": a.fingerprint, "delivery": delivery, "raised_at": raised_at}]
    )


NOW = datetime(2026, 11, 20, 22, 0)
DAYLY = timedelta(hours=24)


def test_a_new_alert_is_sent_and_a_delivered_one_only_repeats() -> None:
    """First sighting: send. Same one-off condition again: a repeat, never a second page."""
    a = alert()
    empty = pd.DataFrame(columns=["id", "fingerprint", "delivery", "raised_at"])
    assert plan_notifications([a], empty, NOW, DAYLY)[0].action == "send"
    later = NOW + timedelta(days=3)
    decision = plan_notifications([a], stored(a, "sent", NOW), later, DAYLY)[0]
    assert (decision.action, decision.row_id) == ("repeat", 7)


def test_an_undelivered_alert_is_retried() -> None:
    """A failed delivery is tried again at the next evaluation, on the same stored row."""
    a = alert()
    decision = plan_notifications([a], stored(a, "failed", NOW), NOW, DAYLY)[0]
    assert (decision.action, decision.row_id) == ("retry", 7)


def test_an_ongoing_condition_pages_again_after_the_renotify_period() -> None:
    """A recurring alert repeats quietly for a day, then is sent again."""
    a = alert("drawdown", recurring=True)
    soon = plan_notifications([a], stored(a, "sent", NOW), NOW + timedelta(hours=1), DAYLY)
    assert soon[0].action == "repeat"
    later = plan_notifications([a], stored(a, "sent", NOW), NOW + timedelta(hours=25), DAYLY)
    assert later[0].action == "send"


def test_alerts_about_replayed_days_are_stored_quietly() -> None:
    """A backfill of an old day stores its alerts without paging, even for ongoing conditions."""
    old = alert("drawdown", recurring=True, day=DAY - timedelta(days=300))
    empty = pd.DataFrame(columns=["id", "fingerprint", "delivery", "raised_at"])
    quiet_before = DAY - timedelta(days=2)
    assert plan_notifications([old], empty, NOW, DAYLY, quiet_before)[0].action == "quiet"
    again = plan_notifications(
        [old], stored(old, "sent", NOW - timedelta(days=5)), NOW, DAYLY, quiet_before
    )
    assert again[0].action == "repeat"


def test_the_webhook_payload_carries_rule_severity_message_and_date() -> None:
    """The JSON a webhook receives has at least rule, severity, message and date."""
    payload = Alert("drawdown", "critical", "deep", DAY, value=float("inf")).payload()
    assert payload["rule"] == "drawdown" and payload["severity"] == "critical"
    assert payload["message"] == "deep" and payload["date"] == "2026-11-20"
    assert payload["value"] is None, "non-finite numbers are not valid JSON"


def test_a_schedule_s_other_sport_venues_are_neither_expected_nor_a_race_day(
    tmp_path: Path,
) -> None:
    """A published NAR schedule lists 帯広 (83, ban-ei) beside the racing, but the sources
    leave its races out: it is no venue to miss, and a day that lists only it has no racing
    (not ``venue_missing`` every ban-ei day, nor ``no_races`` on a ban-ei-only day)."""
    from sqlalchemy import create_engine

    from config import load_settings
    from tasks.monitor import racing_expected

    path = tmp_path / "calendar.csv"
    path.write_text("race_date,keibajo_code\n2026-11-20,44\n2026-11-20,83\n2026-11-21,83\n")
    settings = load_settings()
    settings = settings.model_copy(
        update={"monitor": settings.monitor.model_copy(update={"racing_calendar": path})}
    )
    with create_engine("sqlite://").connect() as connection:
        both = racing_expected(settings, connection, DAY)
        ban_ei_only = racing_expected(settings, connection, DAY + timedelta(days=1))
    assert (both.expected, both.venues) == (True, frozenset({"44"}))
    assert (ban_ei_only.expected, ban_ei_only.venues) == (False, frozenset())
    assert evaluate(inputs(races_by_venue={}, racing_expected=ban_ei_only.expected), LIMITS) == []
