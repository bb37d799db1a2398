"""The decorator of the pipeline's flows: a failed run alerts, a run is named after what it runs,
and a run ends when its body does (:mod:`flows.heartbeats`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

from prefect import Flow, flow
from prefect.runtime import flow_run

from flows.heartbeats import end_runs_when_their_body_does
from flows.termination import terminations_outside_imports
from raceday.japan_time import today_in_japan
from tasks.alerts import alert_on_flow_failure

Params = ParamSpec("Params")
Returned = TypeVar("Returned")


def alerting_flow(
    name: str, run_name: Callable[[], str]
) -> Callable[[Callable[Params, Returned]], Flow[Params, Returned]]:
    """A Prefect flow named ``name`` whose runs are named by ``run_name``, alert on failure,
    end when their body does (:func:`flows.heartbeats.end_runs_when_their_body_does`) and
    raise a SIGTERM outside imports (:func:`flows.termination.terminations_outside_imports`)."""
    end_runs_when_their_body_does()
    terminations_outside_imports()
    return flow(
        name=name, flow_run_name=run_name, log_prints=False, on_failure=[alert_on_flow_failure]
    )


def day_run_name() -> str:
    """A day's flow run is named after its flow and day (``daily-run-2026-12-03``), so the
    UI's list of runs reads as a calendar; a scheduled run without a date is today's."""
    day = flow_run.get_parameters().get("race_date") or today_in_japan()
    return f"{flow_run.get_flow_name()}-{day}"


def training_run_name() -> str:
    """A training's flow run is named after its last day of data
    (``train-model-until-2026-12-02``; a scheduled run trains until yesterday in Japan)."""
    until = flow_run.get_parameters().get("until") or today_in_japan() - timedelta(days=1)
    return f"{flow_run.get_flow_name()}-until-{until}"


def today_run_name() -> str:
    """A run about no day in particular is named after the day it ran (``backup-2026-12-03``)."""
    return f"{flow_run.get_flow_name()}-{today_in_japan()}"
