"""The scheduled deployments, in one place: ``raceday serve`` builds them from here and
``deploy/prefect.yaml`` declares the same ones for work pools (a test keeps the two equal).

Schedules are in Asia/Tokyo, where NAR races: predict at 09:00 (cards and the morning odds),
settle at 23:30 (after the last race), monitor at 23:55 (after settle: the day's rules again, and
``no_races`` when nothing ran), train weekly (Monday 06:00), back up daily (04:00); backfill runs
only when started with its dates. Race time (``raceday serve --race-time``; docs/OPERATIONS.md
"Race time") swaps the morning's predict for ``race-card`` at 08:30 (the card, then one ``race``
run scheduled per race at its post time less the lead) and ``settle-races`` every ten minutes
from 10:00 to 23:50 (results settled as they come out); the other mode's schedules are served
paused, so an operator switches in the UI. No parameter names the store (it may hold a
password, and parameters are shown in the UI): each process reads ``RACEDAY_DB_URL``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import Settings

TIMEZONE = "Asia/Tokyo"
WORK_POOL = "raceday"
PROJECT_TAG = "raceday"  # on every raceday flow run (deployments, commands): automations match it


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: its name, the flow it runs (``path/to/file.py:function``) and schedule."""

    name: str
    entrypoint: str
    cron: str | None
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    mode: str = "both"  # "daily", "race-time" (its schedule active only in that mode) or both
    # its runs at once capped by ``live.race_runs_at_once`` (a Prefect deployment concurrency
    # limit; runs past it wait for a slot): a card made late starts many race runs at once
    capped: bool = False

    def active(self, race_time: bool) -> bool:
        """Whether its schedule runs when the day is operated at race time or not."""
        return self.mode == "both" or (self.mode == "race-time") == race_time

    @property
    def module_and_function(self) -> tuple[str, str]:
        path, function = self.entrypoint.split(":")
        return path.removesuffix(".py").replace("/", "."), function


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "predict", "flows/daily.py:predict_day", "0 9 * * *",
        "Morning: race cards and the odds snapshot → predictions, bets and the bet slip.",
        mode="daily",
    ),
    DeploymentSpec(
        "race-card", "flows/live.py:race_card", "30 8 * * *",
        "Race time, morning: the card, then one race run scheduled per race before its close.",
        mode="race-time",
    ),
    DeploymentSpec(
        "race", "flows/live.py:race", None,
        "Race time: one race on the odds of its moment (scheduled by race-card).",
        capped=True,
    ),
    DeploymentSpec(
        "settle-races", "flows/live.py:settle_races_flow", "*/10 10-23 * * *",
        "Race time, every ten minutes: settle the races whose results are out.",
        mode="race-time",
    ),
    DeploymentSpec(
        "settle", "flows/daily.py:settle_day", "30 23 * * *",
        "Night: results → settlement, performance record and the daily report.",
    ),
    DeploymentSpec(
        "monitor", "flows/monitor.py:monitor_day_flow", "55 23 * * *",
        "Late evening, after settle: the monitor rules for the day; no_races when nothing ran.",
    ),
    DeploymentSpec(
        "train", "flows/train.py:train_model", "0 6 * * 1",
        "Weekly: retrain the win model on everything settled; promote it if it beats the market.",
    ),
    DeploymentSpec(
        "backfill", "flows/backfill.py:backfill", None,
        "Manual: replay past days (parameters start, end), chunked and resumable.",
    ),
    DeploymentSpec(
        "backfill-wave", "flows/scaleout.py:backfill_wave", None,
        "Manual (started by `raceday backfill --workers N`): one wave of a backfill's chunks.",
    ),
    DeploymentSpec(
        "backup", "flows/backup.py:backup", "0 4 * * *",
        "Daily: back up the store and keep the newest backup.keep copies.",
    ),
)  # fmt: skip


def load_flow(spec: DeploymentSpec) -> Any:
    """The spec's flow object."""
    module_name, function = spec.module_and_function
    return getattr(importlib.import_module(module_name), function)


def runner_deployments(
    specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS,
    race_time: bool = False,
    tags: list[str] | None = None,
    runs_at_once: int | None = None,
) -> list[Any]:
    """Prefect runner deployments for ``prefect.serve`` (``race_time``: which mode's schedules
    are active; the other's are served paused; ``tags``: their runs', default ``raceday``;
    ``runs_at_once``: the concurrency limit of the capped ones, ``live.race_runs_at_once``)."""
    from prefect.schedules import Cron

    return [
        load_flow(spec).to_deployment(
            name=spec.name,
            schedules=[Cron(spec.cron, timezone=TIMEZONE, active=spec.active(race_time))]
            if spec.cron
            else None,
            parameters=spec.parameters or None,
            description=spec.description,
            tags=tags or [PROJECT_TAG],
            concurrency_limit=runs_at_once if spec.capped else None,
        )
        for spec in specs
    ]


def api_url_configured() -> bool:
    """Whether Prefect talks to a running server (PREFECT_API_URL), not a temporary one."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def serve_deployments(limit: int | None = None, race_time: bool = False) -> None:
    """Serve every deployment with its schedule from this process until it is stopped."""
    from prefect import serve

    from config import load_settings
    from tasks.labels import run_tags

    settings = load_settings()
    tags = run_tags(settings_circuit(settings), settings.stage, "schedule")
    at_once = settings.live.race_runs_at_once
    serve(*runner_deployments(race_time=race_time, tags=tags, runs_at_once=at_once), limit=limit)


def settings_circuit(settings: Settings) -> str:
    """The circuit a scheduled run reads: PC-KEIBA's (``nar+jra`` when both), else ``nar``
    (the simulator and files sources default to NAR)."""
    return "+".join(settings.pckeiba.circuits) if settings.source == "pckeiba" else "nar"


@dataclass(frozen=True)
class Deployed:
    """A deployment as the Prefect server has it: ``flow/name`` and its work pool (``None``:
    served by a process, ``raceday serve``)."""

    full_name: str
    work_pool: str | None


def full_names(specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS) -> set[str]:
    """``flow-name/deployment-name`` of every spec, as the server names them."""
    return {f"{load_flow(spec).name}/{spec.name}" for spec in specs}


def taken_over(deployed: list[Deployed], ours: set[str], to_pool: bool) -> list[str]:
    """Our deployments the server already has the other way: served ones when deploying to the
    work pool (``to_pool``), pool ones when serving. Deploying or serving them again would
    quietly take them over (one name, one deployment), so the command refuses unless told."""
    return sorted(
        item.full_name
        for item in deployed
        if item.full_name in ours and (item.work_pool is None) == to_pool
    )


async def read_deployed() -> list[Deployed]:
    """Every deployment on the server (``PREFECT_API_URL``) with its flow's name and pool."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        flows = {flow.id: flow.name for flow in await client.read_flows()}
        return [
            Deployed(f"{flows.get(item.flow_id, '?')}/{item.name}", item.work_pool_name)
            for item in await client.read_deployments()
        ]


async def ensure_work_pool(name: str = WORK_POOL) -> bool:
    """Create the process work pool ``name`` unless it exists; whether it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            await client.read_work_pool(name)
            return False
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True


async def cap_runs_at_once(
    runs_at_once: int, specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS
) -> None:
    """Set the concurrency limit of the capped deployments the server has (``race``) to
    ``runs_at_once`` (``live.race_runs_at_once``); the yaml's collision strategy stays."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate

    async with get_client() as client:
        for spec in specs:
            if spec.capped:
                name = f"{load_flow(spec).name}/{spec.name}"
                deployment = await client.read_deployment_by_name(name)
                update = DeploymentUpdate(concurrency_limit=runs_at_once)
                await client.update_deployment(deployment.id, update)
