"""The decorator of the pipeline's flows: a failed run alerts, a run is named after what it runs,
and a run ends when its body does (see :func:`end_runs_without_waiting_for_heartbeats`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import prefect.flow_engine
from prefect import Flow, flow
from prefect.runtime import flow_run

from raceday.japan_time import today_in_japan
from tasks.alerts import alert_on_flow_failure

Params = ParamSpec("Params")
Returned = TypeVar("Returned")


HeartbeatContext = Callable[..., AbstractContextManager[None]]


def unjoined(send_heartbeats: HeartbeatContext) -> HeartbeatContext:
    """Prefect's flow-run heartbeat context, left without joining its thread on exit."""

    @contextmanager
    def send_heartbeats_unjoined(engine: Any, join_on_exit: bool = True) -> Iterator[None]:
        with send_heartbeats(engine, join_on_exit=False):
            yield

    send_heartbeats_unjoined.unjoined = True  # type: ignore[attr-defined]
    return send_heartbeats_unjoined


def end_runs_without_waiting_for_heartbeats() -> None:
    """A sync flow run's end no longer waits up to a second for its heartbeat thread.

    Prefect 3.8 (3.9 too) sends a flow run's heartbeats (what the crashed-run automation in
    ``deploy/automations.yaml`` watches) from a thread that sleeps in steps of one second; at
    the end of a sync flow run it joins that thread, so every run ends 0-1 s after its body,
    0.5 s on average: a sixth of a 200-race day's 3 s of wall, and as much again for each
    race run of a live day. The async engine leaves the thread to notice the stop by itself
    (``join_on_exit=False``); this makes the sync engine do the same. Heartbeats are sent as
    before; the thread, a daemon, sends none after the stop (it checks before each one) and
    ends within the second. A Prefect whose heartbeat context lacks ``join_on_exit`` is left
    as it is."""
    send_heartbeats = getattr(prefect.flow_engine, "_send_heartbeats", None)
    if send_heartbeats is None or getattr(send_heartbeats, "unjoined", False):
        return
    if "join_on_exit" not in inspect.signature(send_heartbeats).parameters:
        return
    prefect.flow_engine._send_heartbeats = unjoined(send_heartbeats)  # type: ignore[assignment]


def alerting_flow(
    name: str, run_name: Callable[[], str]
) -> Callable[[Callable[Params, Returned]], Flow[Params, Returned]]:
    """A Prefect flow named ``name`` whose runs are named by ``run_name``, alert on failure and
    end when their body does (:func:`end_runs_without_waiting_for_heartbeats`)."""
    end_runs_without_waiting_for_heartbeats()
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
