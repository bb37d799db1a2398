"""A boat racing day end to end: ``raceday run --sport boat --date D --source files:DIR``.

    warm-up:  prepare store → boat history (earlier days of the source the store lacks)
    day:      ingest → card (validate, store) → predict → stake
              → results (validate, store) → settle → record                (boat day chain)

The chain is written once here (:func:`boat_day_chain`) and run as task runs of the
``boat-day`` flow (:class:`tasks.common.AsTasks`). The store comes from the settings, never a
flow parameter (docs/ARCHITECTURE.md). The day's decision sees only the odds published by the
morning decision time and a model fitted on earlier days.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from config import Settings, load_settings
from flows.alerting import alerting_flow
from flows.daily import day_run_name
from raceday.boat.source import boat_directory
from tasks.boat import (
    boat_card,
    boat_history,
    boat_ingest,
    boat_predict,
    boat_record,
    boat_results,
    boat_settle,
    boat_stake,
)
from tasks.common import AsTasks, StageRunner
from tasks.store import prepare_store


def boat_day_chain(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any]:
    """The boat day: history made ready, the morning (card → predict → stake), the night
    (results → settle) and the record; returns the day's summary."""
    run(prepare_store, settings)
    run(boat_history, settings, directory, race_date)
    day = run(boat_ingest, settings, directory, race_date)
    card = run(boat_card, settings, day)
    predictions = run(boat_predict, settings, card, race_date)
    run(boat_stake, settings, predictions, race_date)
    night = run(boat_results, settings, day)
    settled = run(boat_settle, settings, night, race_date)
    return run(boat_record, settings, card, predictions, night, settled, race_date)


@alerting_flow("boat-day", day_run_name)
def boat_day_run(race_date: date, source: str) -> dict[str, Any]:
    """A whole boat racing day from the day files of ``source`` (``files:DIR``)."""
    settings = load_settings(source=source)
    return boat_day_chain(AsTasks(settings), settings, boat_directory(source), race_date)
