"""The Prefect UI as the control room: a day's run from the command is tagged with its circuit,
rollout stage and trigger, its task runs say what they do and which venue they read, and its
artifacts keep stable keys; a backfill publishes one ``backfill-summary`` and nothing per day."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from config.reference import venue_names, venue_romanised_names

DAY = "2026-11-20"
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness", "small_days")]


@pytest.fixture
def small_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", "12")
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")


def flow_run_named(name: str) -> Any:
    """The newest flow run of that name (the session's Prefect harness is shared by the test
    files of an xdist worker: another file may have run the same day)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        (found,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
    return found


def task_run_names(flow_run_id: Any) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {run.name for run in runs}


def artifact_keys(flow_run_id: Any) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {str(artifact.key) for artifact in artifacts}


def test_a_days_run_and_a_backfill_read_well_in_the_prefect_ui(sqlite_url: str) -> None:
    ran = CliRunner().invoke(app, ["run", "--date", DAY, "--db", sqlite_url, "--json"])
    assert ran.exit_code == 0, ran.stderr
    run = flow_run_named(f"daily-run-{DAY}")
    assert {"raceday", "circuit:nar", "stage:full", "trigger:cli"} <= set(run.tags)
    names = task_run_names(run.id)
    assert {"validate-card", "validate-results", "predict", "stake", "record"} <= names
    lanes = {name for name in names if name.startswith("ingest-") and name != "ingest-day"}
    known = {f"ingest-{name}" for name in venue_romanised_names().values()}
    assert lanes and lanes <= known, lanes  # named after the venues, not their codes
    assert set(venue_names()) and not any(name[7:].isdigit() for name in lanes)
    assert artifact_keys(run.id) == {"daily-report", "rolling-metrics", "venues", "alerts",
                                     "bet-slip"}  # fmt: skip

    backfilled = CliRunner().invoke(
        app,
        ["backfill", "--start", "2026-11-10", "--end", "2026-11-11", "--db", sqlite_url,
         "--json"],
    )  # fmt: skip
    assert backfilled.exit_code == 0, backfilled.stderr
    summary = json.loads(backfilled.stdout)
    backfill = flow_run_named("backfill-2026-11-10..2026-11-11")
    assert {"circuit:nar", "trigger:backfill"} <= set(backfill.tags)
    assert artifact_keys(backfill.id) == {"backfill-summary"}
    assert summary["status"] == "completed"
