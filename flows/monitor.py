"""The monitor on its own: evaluate the rules for a day and deliver the alerts.

Scheduled late in the evening after ``settle-day`` (deployment ``monitor``, 23:55 Asia/Tokyo), it
also catches the day nothing ran: no races stored on a scheduled race day raises ``no_races``.
A day before the store's first race is not monitored (a warning, nothing stored); critical
alerts end the run ``completed-with-alerts`` (:mod:`raceday.run_status`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from config import load_settings
from flows.alerting import alerting_flow, day_run_name
from raceday.japan_time import today_in_japan
from raceday.run_status import outcome
from tasks.common import AsTasks
from tasks.locks import store_in_use
from tasks.monitor import monitor_day, unmonitorable
from tasks.store import prepare_store


@alerting_flow("monitor-day", day_run_name)
def monitor_day_flow(race_date: date | None = None) -> dict[str, Any]:
    """Evaluate every monitor rule for the day (default today, JST) and deliver the alerts
    (de-duplicated); the store held from restores meanwhile (:func:`tasks.locks.store_in_use`)."""
    settings = load_settings()
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    with store_in_use(settings):
        run(prepare_store, settings)
        reason = unmonitorable(settings, race_date)
        if reason is not None:  # a store that begins later: nothing to say, nothing stored
            return {"date": race_date.isoformat(), **outcome([], [reason])}
        alerts = run(monitor_day, settings, race_date)
    return {"date": race_date.isoformat(), **outcome([alert.payload() for alert in alerts], [])}
