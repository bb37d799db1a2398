"""deploy/prefect.yaml declares exactly the deployments `raceday serve` serves."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows.deployments import DEPLOYMENTS, TIMEZONE, WORK_POOL, load_flow

PREFECT_YAML = Path(__file__).resolve().parents[2] / "deploy" / "prefect.yaml"


def test_prefect_yaml_matches_the_deployment_specs() -> None:
    declared = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    as_yaml = {
        item["name"]: (
            item["entrypoint"],
            [(s["cron"], s["timezone"]) for s in item.get("schedules") or []],
            item["work_pool"]["name"],
        )
        for item in declared
    }
    as_specs = {
        spec.name: (spec.entrypoint, [(spec.cron, TIMEZONE)] if spec.cron else [], WORK_POOL)
        for spec in DEPLOYMENTS
    }
    assert as_yaml == as_specs


def test_every_deployment_has_its_flow_here() -> None:
    for spec in DEPLOYMENTS:
        assert load_flow(spec).name  # a Prefect flow: its module imports and the name resolves
