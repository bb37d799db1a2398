"""The run-level Prefect artifacts, each under one stable key (:mod:`tasks.labels`): a training
run's ``model-card`` and a backfill's ``backfill-summary``. (The day's report, bet slip and
race-time table are published by their stages.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from tasks.common import publishes_day_artifacts
from tasks.labels import BACKFILL_SUMMARY, MODEL_CARD, key_value_markdown


def publish_model_card(summary: Mapping[str, Any]) -> None:
    """The trained version's card (what ``raceday train --json`` prints), inside a flow run
    that is not a backfill (its retrained versions are listed in its summary)."""
    if not publishes_day_artifacts():
        return
    verdict = "promoted" if summary.get("promoted") else "not promoted"
    create_markdown_artifact(
        key=MODEL_CARD,
        markdown=key_value_markdown(f"Model {summary.get('version')} ({verdict})", summary),
        description=f"Model {summary.get('version')}: {verdict} — {summary.get('reason')}",
    )


def publish_backfill_summary(summary: Mapping[str, Any]) -> None:
    """A backfill's one artifact: its summary (days, chunks run and skipped, counts, versions
    trained, status and warnings)."""
    if flow_run.get_id() is None:
        return
    create_markdown_artifact(
        key=BACKFILL_SUMMARY,
        markdown=key_value_markdown(
            f"Backfill {summary.get('start')}..{summary.get('end')}", summary
        ),
        description=f"Backfill {summary.get('start')}..{summary.get('end')}: "
        f"{summary.get('status')}",
    )
