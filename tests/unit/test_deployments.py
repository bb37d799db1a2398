"""deploy/prefect.yaml declares exactly the deployments `raceday serve` serves."""

from __future__ import annotations

import inspect
import json
import uuid
from pathlib import Path

import yaml

from flows.deployments import (
    DEPLOYMENTS,
    PROJECT_TAG,
    TIMEZONE,
    WORK_POOL,
    Deployed,
    load_flow,
    taken_over,
)

PREFECT_YAML = Path(__file__).resolve().parents[2] / "deploy" / "prefect.yaml"


def test_prefect_yaml_matches_the_deployment_specs() -> None:
    declared = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    as_yaml = {
        item["name"]: (
            item["entrypoint"],
            [
                (s["cron"], s["timezone"], s.get("active", True))
                for s in item.get("schedules") or []
            ],
            item["work_pool"]["name"],
        )
        for item in declared
    }
    as_specs = {
        spec.name: (
            spec.entrypoint,
            [(spec.cron, TIMEZONE, spec.active(race_time=False))] if spec.cron else [],
            WORK_POOL,
        )
        for spec in DEPLOYMENTS
    }
    assert as_yaml == as_specs


def test_every_deployment_has_its_flow_here() -> None:
    for spec in DEPLOYMENTS:
        assert load_flow(spec).name  # a Prefect flow: its module imports and the name resolves


def _daily_time(cron: str | None) -> tuple[int, int]:
    """(hour, minute) of a once-a-day cron ``M H * * *``."""
    assert cron is not None
    minute, hour, *every_day = cron.split()
    assert every_day == ["*", "*", "*"], cron
    return int(hour), int(minute)


def test_the_monitor_runs_every_day_after_settle() -> None:
    """The monitor flow is scheduled, after settle on the same day, so ``no_races`` can fire on
    a day nothing ran."""
    specs = {spec.name: spec for spec in DEPLOYMENTS}
    monitor = specs["monitor"]
    assert monitor.entrypoint == "flows/monitor.py:monitor_day_flow"
    assert _daily_time(specs["settle"].cron) < _daily_time(monitor.cron)


def test_every_scheduled_flow_runs_without_parameters() -> None:
    """A scheduled run passes only the spec's parameters: every other one has a default."""
    for spec in DEPLOYMENTS:
        if spec.cron is None:
            continue
        signature = inspect.signature(load_flow(spec).fn)
        required = {
            name
            for name, parameter in signature.parameters.items()
            if parameter.default is inspect.Parameter.empty
        }
        assert required <= set(spec.parameters), (spec.name, required)


def test_race_time_swaps_the_morning_predict_for_the_race_card() -> None:
    """Served for race time, predict's schedule is paused and race-card's and settle-races'
    run; served for the daily run, the other way round (never both: both would stake)."""
    specs = {spec.name: spec for spec in DEPLOYMENTS}
    for race_time in (False, True):
        assert specs["predict"].active(race_time) is not race_time
        assert specs["race-card"].active(race_time) is race_time
        assert specs["settle-races"].active(race_time) is race_time
        assert specs["settle"].active(race_time)
    assert specs["race"].cron is None  # started by race-card at each race's moment


def test_serve_and_deploy_see_each_others_deployments_as_taken() -> None:
    ours = {"predict-day/predict", "backup/backup"}
    deployed = [
        Deployed("predict-day/predict", None),  # served
        Deployed("backup/backup", WORK_POOL),  # in the pool
        Deployed("someone-else/flow", None),
    ]
    assert taken_over(deployed, ours, to_pool=True) == ["predict-day/predict"]
    assert taken_over(deployed, ours, to_pool=False) == ["backup/backup"]
    assert taken_over([], ours, to_pool=True) == []


def test_every_automation_is_valid_follows_the_project_tag_and_posts_the_payload() -> None:
    """Each automation validates as Prefect's; those about runs match the `raceday` tag (not a
    list of flow names); each notifying one renders, with Prefect's own template engine, the
    one alert payload with its rule."""
    from prefect.events.schemas.automations import AutomationCore
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.utilities.user_templates import (
        register_user_template_filters,
        render_user_template_sync,
    )

    from cli.report import AUTOMATIONS_FILE
    from raceday.monitoring.rules import ALERT_FIELDS

    register_user_template_filters(all_filters)
    text = AUTOMATIONS_FILE.read_text(encoding="utf-8")
    specs = yaml.safe_load(text.replace("${RACEDAY_ALERTS_BLOCK_ID}", str(uuid.uuid4())))
    context = {
        "flow": {"name": "predict-day"},
        "flow_run": {"name": "predict-day-2026-11-20", "parameters": {}, "state": {}},
        "event": {"resource": {"prefect.resource.name": WORK_POOL}},
    }
    rules = []
    for spec in specs["automations"]:
        automation = AutomationCore.model_validate(spec)
        trigger = spec["trigger"]
        if str(trigger["match"]["prefect.resource.id"]).startswith("prefect.flow-run"):
            assert trigger["match_related"] == {
                "prefect.resource.role": "tag",
                "prefect.resource.id": f"prefect.tag.{PROJECT_TAG}",
            }
        for action in spec["actions"]:
            if action["type"] == "send-notification":
                payload = json.loads(render_user_template_sync(action["body"], context))
                assert tuple(payload) == ALERT_FIELDS, automation.name
                rules.append(payload["rule"])
    assert rules == ["flow_run_crashed", "flow_run_late", "work_pool_not_ready"]


def test_only_the_race_runs_are_capped_in_the_pool_and_when_served() -> None:
    """A card made late schedules its races' runs at once: the `race` deployment (and only it:
    a pool-wide limit would hold races back behind a backfill) has a concurrency limit, runs
    past it waiting for a slot (ENQUEUE), not cancelled; served, it is live.race_runs_at_once."""
    from flows.deployments import runner_deployments

    declared = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    limits = {item["name"]: item.get("concurrency_limit") for item in declared}
    assert {name for name, limit in limits.items() if limit} == {"race"}
    assert limits["race"] == {"limit": 2, "collision_strategy": "ENQUEUE"}  # `raceday deploy`
    # then sets live.race_runs_at_once (tests/e2e/test_work_pool.py)
    assert {spec.name for spec in DEPLOYMENTS if spec.capped} == {"race"}
    served = runner_deployments(runs_at_once=3)
    assert {item.name: item.concurrency_limit for item in served if item.concurrency_limit} == {
        "race": 3
    }


def test_race_runs_at_once_defaults_to_the_cores_and_refuses_zero(monkeypatch) -> None:
    import os

    import pytest

    from config import load_settings
    from raceday.errors import InvalidSettings

    monkeypatch.delenv("RACEDAY_LIVE__RACE_RUNS_AT_ONCE", raising=False)
    assert load_settings().live.race_runs_at_once == (os.cpu_count() or 1)
    monkeypatch.setenv("RACEDAY_LIVE__RACE_RUNS_AT_ONCE", "0")
    with pytest.raises(InvalidSettings, match="race_runs_at_once"):
        load_settings()
