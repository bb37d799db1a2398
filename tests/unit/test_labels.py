"""How runs read in the Prefect UI: tags, task-run names and artifact keys (tasks/labels.py)."""

from __future__ import annotations

from config import load_settings
from config.reference import venue_names, venue_romanised_names
from flows.deployments import DEPLOYMENTS, runner_deployments, settings_circuit
from tasks.common import Stage
from tasks.labels import (
    BACKFILL_FLOWS,
    key_value_markdown,
    lane_task_run_name,
    publishes_artifacts,
    run_tags,
)


def test_a_flow_run_is_tagged_with_its_circuit_stage_and_trigger() -> None:
    assert run_tags("nar", "full", "cli") == [
        "raceday", "circuit:nar", "stage:full", "trigger:cli",
    ]  # fmt: skip
    assert run_tags("boat", "pilot", "backfill")[-1] == "trigger:backfill"


def test_served_deployments_tag_their_runs_as_scheduled() -> None:
    tags = run_tags(settings_circuit(load_settings()), "full", "schedule")
    deployments = runner_deployments(DEPLOYMENTS[:2], tags=tags)
    assert all(deployment.tags == tags for deployment in deployments)
    assert "trigger:schedule" in tags and "circuit:nar" in tags
    pckeiba = load_settings(source="pckeiba", pckeiba={"circuits": "nar,jra"})
    assert settings_circuit(pckeiba) == "nar+jra"


def test_a_venue_lane_is_named_after_its_venue() -> None:
    romanised, japanese = venue_romanised_names(), venue_names()
    assert lane_task_run_name("44", romanised, japanese) == "ingest-Oi"
    assert lane_task_run_name("42", romanised, japanese) == "ingest-Urawa"
    assert lane_task_run_name("44", {}, japanese) == "ingest-大井"
    assert lane_task_run_name("99", romanised, japanese) == "ingest-venue-99"  # unknown code
    assert lane_task_run_name("", romanised, japanese) == "ingest-venue-blank"
    assert lane_task_run_name(None, romanised, japanese) == "ingest-day"


def test_every_venue_of_the_reference_has_a_romanised_name() -> None:
    assert set(venue_romanised_names()) == set(venue_names())


def test_a_stages_task_runs_say_what_they_do() -> None:
    """Not Prefect's ``validate-abc`` twice: the card's and the results' validation apart."""
    from tasks.validate import validate_and_store

    assert validate_and_store.task.task_run_name == "validate-{phase}"
    assert "validate-{phase}".format(phase="results") == "validate-results"

    def body() -> None:
        return None

    assert Stage("predict", body).task.task_run_name == "predict"


def test_artifacts_come_from_day_runs_not_from_a_backfill_or_outside_a_flow() -> None:
    assert publishes_artifacts("daily-run") and publishes_artifacts("train-model")
    assert not any(publishes_artifacts(name) for name in BACKFILL_FLOWS)
    assert not publishes_artifacts(None)


def test_an_artifacts_table_flattens_what_a_run_returns() -> None:
    markdown = key_value_markdown(
        "Model v1 (promoted)",
        {"version": "v1", "evaluation": {"log_loss": 0.5}, "trained": ["a", "b"], "x": None},
    )
    assert markdown.splitlines() == [
        "# Model v1 (promoted)",
        "",
        "| | |",
        "|---|---|",
        "| version | v1 |",
        "| evaluation.log_loss | 0.5 |",
        "| trained | a, b |",
        "| x | – |",
    ]
