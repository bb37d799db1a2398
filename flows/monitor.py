"""The monitor on its own: evaluate the rules for a day and deliver the alerts.

Scheduled late in the evening after ``settle-day`` (deployment ``monitor``, 23:55 Asia/Tokyo), it
also catches the day nothing ran: no races stored on a scheduled race day raises ``no_races``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from config import load_settings
from raceday.pipeline import today_in_japan
from tasks.alerts import alert_on_flow_failure
from tasks.common import AsTasks
from tasks.monitor import monitor_day
from tasks.store import prepare_store


@flow(name="monitor-day", log_prints=False, on_failure=[alert_on_flow_failure])
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
