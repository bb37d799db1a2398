"""The monitor on its own: evaluate the rules for a day and deliver the alerts.

Scheduled late in the evening after ``settle-day`` (deployment ``monitor``, 23:55 Asia/Tokyo), it
also catches the day nothing ran: no races stored on a scheduled race day raises ``no_races``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from config import load_settings
from flows.alerting import alerting_flow, day_run_name
from raceday.pipeline import today_in_japan
from tasks.common import AsTasks
from tasks.monitor import monitor_day
from tasks.store import prepare_store


@alerting_flow("monitor-day", day_run_name)
def monitor_day_flow(race_date: date | None = None) -> dict[str, Any]:
    """Evaluate every monitor rule for the day (default today, JST) and deliver the alerts
    (de-duplicated)."""
    settings = load_settings()
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    run(prepare_store, settings)
    alerts = run(monitor_day, settings, race_date)
    return {
        "date": race_date.isoformat(),
        "alerts": [alert.payload() for alert in alerts],
        "status": "completed",
    }
