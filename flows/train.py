"""Weekly: train the win model on stored history, judge it on the newest days, register it
and promote it when it beats the market and the version in use (docs/MODEL.md); and the same
for boat racing's model (``train-boat-model``, docs/BOAT.md "Training")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from config import Settings, load_settings
from flows.alerting import alerting_flow, training_run_name
from flows.chain import train_chain
from raceday.japan_time import today_in_japan
from tasks.boat_train import (
    boat_training_summary,
    fit_boat_training,
    load_boat_training,
    register_boat_training,
)
from tasks.common import AsTasks, StageRunner
from tasks.locks import store_in_use
from tasks.publish import publish_model_card
from tasks.store import prepare_store


@alerting_flow("train-model", training_run_name)
def train_model(until: date | None = None) -> dict[str, Any]:
    """Train the version of ``until`` (data up to and including that day; the weekly schedule
    leaves it out: yesterday in Japan, the last settled day) and decide its promotion; returns
    what ``raceday train --json`` prints. The store is the settings', held from restores
    (:func:`tasks.locks.store_in_use`) while it is read and the version registered."""
    settings = load_settings()
    until = until or today_in_japan() - timedelta(days=1)
    run = AsTasks(settings)
    with store_in_use(settings):
        run(prepare_store, settings)
        summary = train_chain(run, settings, until)
    publish_model_card(summary)
    return summary


def boat_train_chain(run: StageRunner, settings: Settings, until: date) -> dict[str, Any]:
    """Load, fit, judge and register the boat version of ``until``; returns what
    ``raceday train --sport boat --json`` prints."""
    split, rows = run(load_boat_training, settings, until)
    fitted, evaluation = run(fit_boat_training, settings, split, rows)
    registered = run(register_boat_training, settings, fitted, evaluation)
    return boat_training_summary(fitted, evaluation, registered)


@alerting_flow("train-boat-model", training_run_name)
def train_boat_model(until: date | None = None) -> dict[str, Any]:
    """Train the boat version of ``until`` (data up to and including that day; default
    yesterday in Japan) and decide its promotion. The store is the settings', held from
    restores meanwhile (:func:`tasks.locks.store_in_use`)."""
    settings = load_settings()
    until = until or today_in_japan() - timedelta(days=1)
    run = AsTasks(settings)
    with store_in_use(settings):
        run(prepare_store, settings)
        return boat_train_chain(run, settings, until)
