"""Monitors: rules over the performance record that raise alerts, and when to notify again.

Each rule is a small pure function of ``MonitorInputs`` and ``Thresholds`` returning alerts.
``plan_notifications`` decides, from the alerts already stored, which alerts are sent now,
which repeat a condition already notified (stored, not sent) and which concern a replayed past
day (stored, never sent). The reasons for every default are in docs/MONITORING.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

Severity = Literal["info", "warning", "critical"]
Action = Literal["send", "retry", "repeat", "quiet"]
SEVERITY_ORDER: Final = {"info": 0, "warning": 1, "critical": 2}
DELIVERED: Final = frozenset({"sent", "partial", "quiet"})


@dataclass(frozen=True)
class Alert:
    """A condition worth telling the operator about.

    ``key`` makes the fingerprint specific (a day, a flow, a metric); ``recurring`` conditions
    (a drawdown, a rolling metric) are notified again after the re-notify period while they
    last, one-off conditions (a day's quarantine rate) only once.
    """

    rule: str
    severity: Severity
    message: str
    race_date: date | None
    scope: str = "all"
    value: float | None = None
    threshold: float | None = None
    key: str = ""
    recurring: bool = False
    url: str | None = None  # the flow run's page, when the alert is about a run

    @property
    def fingerprint(self) -> str:
        """What makes two alerts "the same condition" for de-duplication."""
        return f"{self.rule}|{self.scope}|{self.key}"

    def payload(self) -> dict[str, Any]:
        """The alert as every destination receives it (:func:`alert_payload`)."""
        return alert_payload(
            rule=self.rule,
            severity=self.severity,
            message=self.message,
            race_date=self.race_date,
            scope=self.scope,
            fingerprint=self.fingerprint,
            value=self.value,
            threshold=self.threshold,
            url=self.url,
        )


ALERT_FIELDS: Final = (
    "rule", "severity", "message", "date", "scope", "fingerprint", "value", "threshold", "url",
    "source",
)  # fmt: skip


def alert_payload(
    *,
    rule: str,
    severity: str,
    message: str,
    race_date: date | None,
    scope: str,
    fingerprint: str,
    value: float | None = None,
    threshold: float | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """The one alert payload (``ALERT_FIELDS``, in that order) of every destination: the
    webhook, Apprise, the Prefect event, the automations' webhook and a run's summary;
    ``value``/``threshold`` None when not finite, ``url`` the flow run's page when known."""
    return {
        "rule": rule,
        "severity": severity,
        "message": message,
        "date": race_date.isoformat() if race_date else None,
        "scope": scope,
        "fingerprint": fingerprint,
        "value": _finite_or_none(value),
        "threshold": _finite_or_none(threshold),
        "url": url,
        "source": "raceday",
    }


def stored_alert_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of an alert as the store holds it (a row of ``alerts``)."""
    day = row.get("race_date")
    return alert_payload(
        rule=str(row["rule"]),
        severity=str(row["severity"]),
        message=str(row["message"]),
        race_date=pd.Timestamp(day).date() if day is not None and not pd.isna(day) else None,
        scope=str(row["scope"]),
        fingerprint=str(row["fingerprint"]),
        value=_float_or_none(row.get("value")),
        threshold=_float_or_none(row.get("threshold")),
    )


def _float_or_none(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True)
class Thresholds:
    """The monitor rules' limits (built from ``MonitorSettings`` and the staking policy)."""

    rolling_span: str = "500r"
    min_scored_races: int = 200
    log_loss_margin: float = 0.02
    hit_rate_floor: float | None = None
    hit_rate_z: float = 3.0
    drawdown_warning: float = 0.20
    drawdown_brake: float = 0.30
    quarantine_rate_limit: float = 0.05
    run_budgets_s: dict[str, float] = field(default_factory=dict)
    model_max_age_days: int = 14
    untrained_models: tuple[str, ...] = ("market-v1",)
    anomaly_window_days: int = 28
    anomaly_min_days: int = 10
    anomaly_z: float = 4.0
    anomaly_metrics: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, monitor: Mapping[str, Any], drawdown_brake: float) -> Thresholds:
        """From ``settings.monitor.model_dump()`` and the staking policy's drawdown brake."""
        return cls(
            rolling_span=str(monitor["rolling_window"]),
            min_scored_races=int(monitor["min_scored_races"]),
            log_loss_margin=float(monitor["log_loss_margin"]),
            hit_rate_floor=_float_or_none(monitor["hit_rate_floor"]),
            hit_rate_z=float(monitor["hit_rate_z"]),
            drawdown_warning=float(monitor["drawdown_warning"]),
            drawdown_brake=drawdown_brake,
            quarantine_rate_limit=float(monitor["quarantine_rate_limit"]),
            run_budgets_s={str(k): float(v) for k, v in monitor["run_budgets_s"].items()},
            model_max_age_days=int(monitor["model_max_age_days"]),
            untrained_models=tuple(monitor["untrained_models"]),
            anomaly_window_days=int(monitor["anomaly_window_days"]),
            anomaly_min_days=int(monitor["anomaly_min_days"]),
            anomaly_z=float(monitor["anomaly_z"]),
            anomaly_metrics=tuple(monitor["anomaly_metrics"]),
        )


@dataclass(frozen=True)
class MonitorInputs:
    """Everything the rules look at for one race day (read from the store by the caller)."""

    race_date: date
    daily: pd.DataFrame  # scope-all performance rows up to and including the day
    rolling: pd.DataFrame  # rolling_performance rows of the day (one per span)
    runs: pd.DataFrame  # pipeline_runs rows of the day
    races_by_venue: dict[str, int]  # stored races of the day per keibajo_code
    racing_expected: bool  # the calendar says the day has racing
    expected_venues: frozenset[str] = frozenset()  # venues the calendar lists (empty: any)
    model_version: str | None = None
    model_in_service_since: date | None = None
    racing_expected_because: str = "the racing calendar lists it"
    # the newest training data of any version of the model's family (promoted or not) before
    # the day: a training that ran and did not beat the model in service leaves it in place
    last_trained_until: date | None = None
    # races of the day the provider cancelled (データ区分 9) per keibajo_code: not stored
    races_cancelled_by_venue: dict[str, int] = field(default_factory=dict)


def _today_row(inputs: MonitorInputs) -> pd.Series | None:
    dates = pd.to_datetime(inputs.daily["perf_date"]) if not inputs.daily.empty else None
    if dates is None:
        return None
    today = inputs.daily[dates == pd.Timestamp(inputs.race_date)]
    return None if today.empty else today.iloc[0]


def _rolling_row(inputs: MonitorInputs, span: str) -> pd.Series | None:
    if inputs.rolling.empty:
        return None
    rows = inputs.rolling[inputs.rolling["span"] == span]
    return None if rows.empty else rows.iloc[0]


def _number(row: pd.Series | None, column: str) -> float | None:
    if row is None or column not in row.index or pd.isna(row[column]):
        return None
    return float(row[column])


def nothing_to_monitor(race_date: date, first_race_day: date | None) -> str | None:
    """Why a day cannot be monitored — the store holds no settled race on or before it
    (``first_race_day``: the earliest stored settled race day up to the day, or None) — or
    None."""
    if first_race_day is not None and first_race_day <= race_date:
        return None
    return (
        f"nothing to monitor for {race_date}: the store holds no settled race on or before "
        "that day "
        "(run or backfill the day first)"
    )


def calendar_expectation(
    calendar: pd.DataFrame | None,
    race_date: date,
    other_sports: Collection[str] = frozenset(),
) -> tuple[bool, frozenset[str]]:
    """Whether the calendar has racing on the day, and which venues it lists (empty: any).

    ``calendar`` has ``race_date`` and optionally ``keibajo_code``; without a calendar every
    day is a race day here (NAR races on nearly every day of the year), and the monitor asks
    the store's history (:func:`race_day_by_history`). ``other_sports``: venue codes of
    another sport that a published schedule lists beside the racing but whose races the
    sources leave out (:func:`raceday.sport.other_sport_venues`): never an expected venue, and
    a day that lists only them has no racing here.
    """
    if calendar is None:
        return True, frozenset()
    days = pd.to_datetime(calendar["race_date"]).dt.date
    on_day = calendar[days == race_date]
    if on_day.empty:
        return False, frozenset()
    if "keibajo_code" not in on_day.columns:
        return True, frozenset()
    codes = on_day["keibajo_code"].dropna().astype(str).str.strip().str.zfill(2)
    listed = frozenset(code for code in codes if code and code != "00")
    racing = listed - frozenset(other_sports)
    if listed and not racing:
        return False, frozenset()
    return True, racing


USUAL_DAY_WEEKS: Final = 8  # same weekdays looked back on without a calendar
USUAL_DAY_MIN_KNOWN: Final = 4  # of them inside the stored history to judge by their share
SHORT_HISTORY_MIN_KNOWN: Final = 2  # fewer known: a weekday never raced on is still no race day


def race_day_by_history(
    race_date: date, raced_days: Collection[date], first_stored_day: date | None
) -> tuple[bool, str]:
    """Without a racing calendar: whether the store's history makes ``race_date`` a race day,
    and why, in words for the ``no_races`` alert.

    Judged on the last ``USUAL_DAY_WEEKS`` same weekdays inside the stored history (on or
    after ``first_stored_day``): with at least ``USUAL_DAY_MIN_KNOWN`` of them, a race day when
    half or more had races (a JRA store's Saturdays, NAR's every day), else not (its Tuesdays).
    A shorter history: not a race day when at least ``SHORT_HISTORY_MIN_KNOWN`` of them are
    known and none had races (a new JRA store's weekdays), else one, as every day was before."""
    weekday = f"{race_date:%A}s"
    if first_stored_day is None:
        return True, "the store holds no race day yet"
    same_weekdays = [race_date - timedelta(weeks=week) for week in range(1, USUAL_DAY_WEEKS + 1)]
    known = [day for day in same_weekdays if day >= first_stored_day]
    raced = sum(day in raced_days for day in known)
    share = f"{raced} of the last {len(known)} {weekday} had races"
    if len(known) >= USUAL_DAY_MIN_KNOWN:
        return 2 * raced >= len(known), share
    if len(known) >= SHORT_HISTORY_MIN_KNOWN and raced == 0:
        return False, share
    return True, f"{share}: too few to tell, so every day is a race day"


def _recurring_warning(
    inputs: MonitorInputs, rule: str, message: str, value: float, threshold: float, key: str = ""
) -> list[Alert]:
    """One warning of the day, notified again while its condition lasts."""
    return [
        Alert(
            rule=rule,
            severity="warning",
            message=message,
            race_date=inputs.race_date,
            value=value,
            threshold=threshold,
            key=key,
            recurring=True,
        )
    ]


def log_loss_vs_market(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """Rolling log loss of p_final worse than the market's by more than the margin."""
    row = _rolling_row(inputs, limits.rolling_span)
    ours, market = _number(row, "log_loss"), _number(row, "market_log_loss")
    scored = _number(row, "scored_races") or 0
    if ours is None or market is None or scored < limits.min_scored_races:
        return []
    gap = ours - market
    if gap <= limits.log_loss_margin:
        return []
    message = (
        f"log loss over the last {limits.rolling_span} ({int(scored)} races) is {ours:.4f}, "
        f"worse than the market's {market:.4f} by {gap:.4f} (margin {limits.log_loss_margin}): "
        "the model is hurting the blend"
    )
    return _recurring_warning(inputs, "log_loss_vs_market", message, gap, limits.log_loss_margin)


def hit_rate_limit(expected: float | None, scored: float, limits: Thresholds) -> float | None:
    """The top-pick hit rate below which ``hit_rate_floor`` fires over ``scored`` races: the
    configured floor, or else ``hit_rate_z`` binomial standard deviations below ``expected``,
    the rate the top picks' own probabilities expect (None without one: nothing to judge).

    The expectation is what makes one rule fit every circuit: favourites win about 31 % of JRA
    races and 37-58 % of NAR's by venue."""
    if limits.hit_rate_floor is not None:
        return limits.hit_rate_floor
    if expected is None or not math.isfinite(expected) or scored <= 0:
        return None
    spread = math.sqrt(max(expected * (1 - expected), 0.0) / scored)
    return expected - limits.hit_rate_z * spread


def hit_rate_limits(rolling: pd.DataFrame, limits: Thresholds) -> pd.Series:
    """:func:`hit_rate_limit` of each rolling row (NaN where there is none), by its index."""
    if rolling.empty:
        return pd.Series(dtype="float64", index=rolling.index)
    floors = [
        hit_rate_limit(_number(row, "expected_hit_rate"), _number(row, "scored_races") or 0, limits)
        for _, row in rolling.iterrows()
    ]
    return pd.Series(floors, index=rolling.index, dtype="float64")


def hit_rate_floor(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """Rolling top-pick hit rate below its floor (:func:`hit_rate_limit`)."""
    row = _rolling_row(inputs, limits.rolling_span)
    hit = _number(row, "hit_rate")
    scored = _number(row, "scored_races") or 0
    expected = _number(row, "expected_hit_rate")
    floor = hit_rate_limit(expected, scored, limits)
    if hit is None or floor is None or scored < limits.min_scored_races or hit >= floor:
        return []
    because = (
        ""
        if limits.hit_rate_floor is not None
        else f" ({limits.hit_rate_z:g} σ below the {expected:.1%} its picks' own "
        "probabilities expect)"
    )
    message = (
        f"top-pick hit rate over the last {limits.rolling_span} ({int(scored)} races) is "
        f"{hit:.1%}, below the floor {floor:.1%}{because}"
    )
    return _recurring_warning(inputs, "hit_rate_floor", message, hit, floor)


def drawdown(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """Drawdown from the bankroll's peak: a warning, then critical at the staking brake."""
    return drawdown_alerts(inputs.race_date, _number(_today_row(inputs), "drawdown"), limits)


def drawdown_alerts(race_date: date, current: float | None, limits: Thresholds) -> list[Alert]:
    """The drawdown rule on a drawdown figure (the night's record, or race time's as the day's
    races settle: the same alert, de-duplicated by its fingerprint)."""
    if current is None or current < limits.drawdown_warning:
        return []
    braked = current >= limits.drawdown_brake
    message = (
        f"drawdown {current:.1%} from the bankroll's peak is beyond the brake "
        f"{limits.drawdown_brake:.0%}: staking has stopped; a ledger without bets cannot "
        "recover, so it resumes when the brake is raised (RACEDAY_KELLY__DRAWDOWN_BRAKE) or a "
        "fresh ledger started (RACEDAY_KELLY__POLICY_NAME)"
        if braked
        else f"drawdown {current:.1%} from the bankroll's peak is beyond "
        f"{limits.drawdown_warning:.0%} (the staking brake engages at "
        f"{limits.drawdown_brake:.0%})"
    )
    return [
        Alert(
            rule="drawdown",
            severity="critical" if braked else "warning",
            message=message,
            race_date=race_date,
            value=current,
            threshold=limits.drawdown_brake if braked else limits.drawdown_warning,
            key="brake" if braked else "warning",
            recurring=True,
        )
    ]


def quarantine_rate(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """The share of the day's races set aside by validation above the limit: a warning, and
    critical when every race offered was set aside (across validation's phases: nothing was
    priced, though the run completed), keyed apart so that a re-run that escalates pages."""
    row = _today_row(inputs)
    rate = _number(row, "quarantine_rate")
    if rate is None or rate <= limits.quarantine_rate_limit:
        return []
    aside, offered = (
        int(_number(row, "races_quarantined") or 0),
        int(_number(row, "races_offered") or 0),
    )
    day = inputs.race_date.isoformat()
    every = offered > 0 and aside >= offered
    message = (
        f"every race offered ({offered}) was set aside by validation: nothing was predicted or "
        "bet; check the feed and the Data Docs"
        if every
        else f"{rate:.1%} of the day's races were set aside by validation ({aside} of {offered}; "
        f"limit {limits.quarantine_rate_limit:.0%}): check the feed and the Data Docs"
    )
    return [
        Alert(
            rule="quarantine_rate",
            severity="critical" if every else "warning",
            message=message,
            race_date=inputs.race_date,
            value=rate,
            threshold=limits.quarantine_rate_limit,
            key=f"{day}|every race" if every else day,
        )
    ]


def no_races(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """No races stored on a day the calendar says has racing (or a scheduled venue missing); a
    day (a venue) whose races were all cancelled is said so (:func:`day_cancelled`), not paged."""
    if not inputs.racing_expected:
        return []
    day = inputs.race_date.isoformat()
    total = sum(inputs.races_by_venue.values())
    cancelled = sum(inputs.races_cancelled_by_venue.values())
    if total == 0 and cancelled:
        return [day_cancelled(inputs, cancelled)]
    if total == 0:
        return [
            Alert(
                rule="no_races",
                severity="critical",
                message=f"no races ingested for {day}, a race day ("
                f"{inputs.racing_expected_because}): the source is empty or the day's runs did "
                "not happen",
                race_date=inputs.race_date,
                value=0.0,
                key=day,
            )
        ]
    # a venue whose races were all cancelled is not missing: its feed said so
    held = {**inputs.races_cancelled_by_venue, **inputs.races_by_venue}
    missing = sorted(inputs.expected_venues - {venue for venue, n in held.items() if n})
    return [
        Alert(
            rule="venue_missing",
            severity="warning",
            message=f"no races ingested from venue {venue} on {day}, a scheduled race day there",
            race_date=inputs.race_date,
            scope=venue,
            value=0.0,
            key=day,
        )
        for venue in missing
    ]


def day_cancelled(inputs: MonitorInputs, cancelled: int) -> Alert:
    """A race day without races because the provider cancelled every one (データ区分 9: a
    typhoon, snow): said, not paged (the source is not empty, the day is)."""
    return Alert(
        rule="day_cancelled",
        severity="info",
        message=f"no race run on {inputs.race_date}, a race day: its {cancelled} races were "
        "cancelled (data_kubun 9); nothing was predicted or bet",
        race_date=inputs.race_date,
        value=float(cancelled),
        key=inputs.race_date.isoformat(),
    )


def run_budget(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """A flow whose stages took longer in all than its budget."""
    if inputs.runs.empty:
        return []
    totals = inputs.runs.groupby("flow_name")["duration_s"].sum()
    alerts = []
    for flow_name, seconds in totals.items():
        budget = limits.run_budgets_s.get(str(flow_name))
        if budget is None or float(seconds) <= budget:
            continue
        alerts.append(
            Alert(
                rule="run_budget",
                severity="warning",
                message=f"{flow_name} for {inputs.race_date} took {float(seconds):.0f} s of "
                f"stage time, over its budget of {budget:.0f} s",
                race_date=inputs.race_date,
                scope=str(flow_name),
                value=float(seconds),
                threshold=budget,
                key=inputs.race_date.isoformat(),
            )
        )
    return alerts


def model_age(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """No model has been trained for longer than the maximum age: the model in service has
    predicted that long, and no version trained since (promoted or not: a training that did not
    beat it keeps it in place) was trained on data that recent."""
    version, since = inputs.model_version, inputs.model_in_service_since
    if version is None or since is None or version in limits.untrained_models:
        return []
    trained = inputs.last_trained_until
    freshest = since if trained is None else max(since, trained + timedelta(days=1))
    age = (inputs.race_date - freshest).days
    if age <= limits.model_max_age_days:
        return []
    limit = limits.model_max_age_days
    message = (
        f"model {version} has predicted since {since} ({age} days, limit {limit}): the weekly "
        "training has not replaced it"
        if trained is None or freshest == since
        else f"model {version} has predicted since {since}, and no version trained on data after "
        f"{trained} ({age} days, limit {limit}): the weekly training has not run"
    )
    return _recurring_warning(inputs, "model_stale", message, float(age), float(limit), key=version)


# The scale a metric that never moved (MAD 0) is judged on, as a share of its median: races
# capped at 200 falling to 150 is z = -5; a baseline of zeros has no scale, and no z.
FLAT_BASELINE_SCALE: Final = 0.05


def robust_z(trailing: pd.Series, value: float) -> float:
    """How unusual ``value`` is against ``trailing``: (value - median) / (1.4826 * MAD).

    A baseline without spread (MAD 0: a metric that never moved) is judged on a scale of
    ``FLAT_BASELINE_SCALE`` of its median; one of zeros has none and gives no z (NaN): the
    first days of a first backfill bet nothing, and every staking day after them was +inf.
    """
    history = trailing.astype("float64").dropna().to_numpy()
    if history.size == 0 or not math.isfinite(value):
        return float("nan")
    median = float(np.median(history))
    scale = 1.4826 * float(np.median(np.abs(history - median)))
    if scale == 0:
        scale = FLAT_BASELINE_SCALE * abs(median)
    if scale == 0:
        return float("nan")
    return (value - median) / scale


def _raced(daily: pd.DataFrame) -> pd.Series:
    """Which performance rows are of days that offered races (a dark day's run records one with
    none: a JRA store's weekdays, run by a daily schedule)."""
    offered = daily.get("races_offered", daily.get("races"))
    if offered is None:
        return pd.Series(True, index=daily.index)
    return pd.to_numeric(offered, errors="coerce").fillna(0) > 0


# Metrics whose fall is good news, never an anomaly: fewer rows set aside than usual (at 24 or
# 36 races a day, a store that sets one aside every day judged a day of none z = -20).
RISE_ONLY_METRICS: Final = frozenset({"quarantine_rate"})


# How far back the monitor reads days for the anomaly rule's window of race days: a store that
# races two days a week needs 14 weeks for 28 of them.
ANOMALY_LOOKBACK_FACTOR: Final = 4


def anomalies(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """A race day's metrics far from those of the ``anomaly_window_days`` race days before it
    (robust z-score beyond the limit; a fall of :data:`RISE_ONLY_METRICS` is not judged). Days
    without races are neither judged nor judged against: on a store that races on weekends, the
    weekdays' zeros made every race day an "unusual" 24 races (a zero median and spread: z =
    inf), and a missing race day is ``no_races``' to tell."""
    today = _today_row(inputs)
    raced = _raced(inputs.daily)
    if today is None or not raced.loc[today.name]:
        return []
    dates = pd.to_datetime(inputs.daily["perf_date"])
    earlier = (dates < pd.Timestamp(inputs.race_date)) & raced
    trailing = inputs.daily[earlier].sort_values("perf_date").tail(limits.anomaly_window_days)
    if len(trailing) < limits.anomaly_min_days:
        return []
    alerts = []
    for metric in limits.anomaly_metrics:
        value = _number(today, metric)
        if value is None or metric not in trailing.columns:
            continue
        history = trailing[metric].astype("float64").dropna()
        if len(history) < limits.anomaly_min_days:
            continue
        z = robust_z(history, value)
        if not abs(z) > limits.anomaly_z or (metric in RISE_ONLY_METRICS and z < 0):
            continue
        alerts.append(
            Alert(
                rule="anomaly",
                severity="warning",
                message=f"{metric} = {value:.4g} on {inputs.race_date} is unusual: the last "
                f"{len(history)} race days' median is {float(history.median()):.4g} "
                f"(robust z {z:+.2f}, limit ±{limits.anomaly_z:g})",
                race_date=inputs.race_date,
                scope=metric,
                value=value,
                threshold=limits.anomaly_z,
                key=inputs.race_date.isoformat(),
            )
        )
    return alerts


RULES: Final = (
    log_loss_vs_market,
    hit_rate_floor,
    drawdown,
    quarantine_rate,
    no_races,
    run_budget,
    model_age,
    anomalies,
)


def evaluate(inputs: MonitorInputs, limits: Thresholds) -> list[Alert]:
    """Every rule's alerts for the day, most severe first."""
    alerts = [alert for rule in RULES for alert in rule(inputs, limits)]
    return sorted(alerts, key=lambda alert: -SEVERITY_ORDER[alert.severity])


@dataclass(frozen=True)
class Decision:
    """What to do with an alert: send it, retry an undelivered one, count a repeat, or keep it
    quiet (a replayed past day); ``row_id`` is the stored alert it updates, if any."""

    alert: Alert
    action: Action
    row_id: int | None = None


def plan_notifications(
    alerts: list[Alert],
    previous: pd.DataFrame,
    now: datetime,
    renotify_after: timedelta,
    quiet_before: date | None = None,
) -> list[Decision]:
    """De-duplicate against the latest stored alert of each fingerprint.

    ``previous`` has one row per fingerprint (``id``, ``fingerprint``, ``delivery``,
    ``raised_at``). An undelivered alert is retried; a delivered one-off alert is never sent
    again; a delivered recurring alert is sent again once ``renotify_after`` has passed.
    Alerts about days before ``quiet_before`` are stored but not sent.
    """
    latest = {row.fingerprint: row for row in previous.itertuples(index=False)}
    decisions = []
    for alert in alerts:
        before = latest.get(alert.fingerprint)
        replayed = (
            quiet_before is not None
            and alert.race_date is not None
            and alert.race_date < quiet_before
        )
        if before is None:
            decisions.append(Decision(alert, "quiet" if replayed else "send"))
        elif replayed:
            decisions.append(Decision(alert, "repeat", int(before.id)))
        elif before.delivery not in DELIVERED:
            decisions.append(Decision(alert, "retry", int(before.id)))
        elif alert.recurring and now - pd.Timestamp(before.raised_at) >= renotify_after:
            decisions.append(Decision(alert, "send"))
        else:
            decisions.append(Decision(alert, "repeat", int(before.id)))
    return decisions
