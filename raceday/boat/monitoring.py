"""The monitor rules on boat days: the boat performance record (``boat_performance``, one row a
day) shaped as the horse days' (:class:`raceday.monitoring.rules.MonitorInputs`), so that the
same rules judge it — races set aside (``quarantine_rate``), the drawdown and the staking
brake, the blend's log loss against the market's over the rolling window, a race day without
races, anomalies of the day's figures. The rules boat days have no figure for stay silent: the
top-pick hit rate (not recorded) and the model's age (boat versions are trained by the backfill
and ``raceday train --sport boat``, not on a schedule: a weekly-training alarm would fire on
every day)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from raceday.monitoring.rules import Alert, MonitorInputs

# The boat alerts' scope: a horse day and a boat day of one date raise their own alerts.
BOAT_SCOPE = "boat"


def as_boat_alert(alert: Alert) -> Alert:
    """A rule's alert about a boat day: scope ``boat`` (``boat <metric>`` for an anomaly), its
    message saying so; its fingerprint is then no horse day's."""
    scope = BOAT_SCOPE if alert.scope == "all" else f"{BOAT_SCOPE} {alert.scope}"
    return replace(alert, scope=scope, message=f"boat racing: {alert.message}")


def boat_daily(performance: pd.DataFrame, initial_bankroll_yen: int) -> pd.DataFrame:
    """Each recorded boat day as a horse day's scope-``all`` row: races offered (kept and left
    out) and set aside, the quarantine rate, the drawdown from the bankroll's peak (the initial
    bankroll the first peak), in date order."""
    rows = performance.sort_values("perf_date").reset_index(drop=True)
    left_out = rows["races_left_out"].astype("float64")
    offered = rows["races"].astype("float64") + left_out
    bankroll = rows["bankroll_yen"].astype("float64")
    peak = np.maximum(bankroll.cummax(), float(initial_bankroll_yen))
    return rows.assign(
        scope="all",
        races_offered=offered.astype("int64"),
        races_quarantined=left_out.astype("int64"),
        quarantine_rate=(left_out / offered).where(offered > 0),
        drawdown=((peak - bankroll) / peak).where(peak > 0, 0.0),
    )


def boat_rolling(daily: pd.DataFrame, race_date: date, span: str) -> pd.DataFrame:
    """The rolling row of ``span`` ending on ``race_date``: its last N days (``30d``) or the
    latest days whose scored races reach N (``500r``: whole days, so at least N races when the
    history has them), the log losses averaged over their scored races. Boat days record each
    probability's mean over the day's scored races, so the window's is their weighted mean."""
    up_to = daily[pd.to_datetime(daily["perf_date"]) <= pd.Timestamp(race_date)]
    length = int(span[:-1])
    if span.endswith("d"):
        first = pd.Timestamp(race_date) - pd.Timedelta(days=length - 1)
        window = up_to[pd.to_datetime(up_to["perf_date"]) >= first]
    else:
        scored_back = up_to["scored_races"].astype("float64")[::-1].cumsum()
        reached = int(np.searchsorted(scored_back.to_numpy(), length)) + 1
        window = up_to.iloc[max(0, len(up_to) - reached) :]
    scored = window["scored_races"].astype("float64")
    row: dict[str, object] = {"span": span, "scored_races": int(scored.sum())}
    for column in ("log_loss", "market_log_loss"):
        values = window[column].astype("float64")
        known = values.notna() & (scored > 0)
        weight = float(scored[known].sum())
        row[column] = float((values[known] * scored[known]).sum() / weight) if weight else None
    return pd.DataFrame([row])


def boat_monitor_inputs(
    race_date: date,
    performance: pd.DataFrame,
    *,
    span: str,
    initial_bankroll_yen: int,
    runs: pd.DataFrame,
    races_by_venue: dict[str, int],
    racing_expected: bool,
) -> MonitorInputs:
    """The rules' inputs of a boat day from its recorded days up to it (``performance``:
    ``boat_performance`` rows)."""
    daily = boat_daily(performance, initial_bankroll_yen)
    return MonitorInputs(
        race_date=race_date,
        daily=daily,
        rolling=boat_rolling(daily, race_date, span),
        runs=runs,
        races_by_venue=races_by_venue,
        racing_expected=racing_expected,
    )
