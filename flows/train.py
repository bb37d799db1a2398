"""Weekly: train the win model on stored history, judge it on the newest days, register it
and promote it when it beats the market and the version in use (docs/MODEL.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import flow

from config import load_settings
from flows.chain import train_chain
from raceday.pipeline import today_in_japan
from tasks.alerts import alert_on_flow_failure
from tasks.common import AsTasks
from tasks.store import prepare_store


@flow(name="train-model", log_prints=False, on_failure=[alert_on_flow_failure])
def train_model(until: date | None = None) -> dict[str, Any]:
    """Train the version of ``until`` (data up to and including that day; the weekly schedule
    leaves it out: yesterday in Japan, the last settled day) and decide its promotion; returns
    what ``raceday train --json`` prints. The store is the settings'."""
    settings = load_settings()
    until = until or today_in_japan() - timedelta(days=1)
    run = AsTasks(settings)
    run(prepare_store, settings)
    return train_chain(run, settings, until)
