"""The decorator of the pipeline's flows: a failed run alerts, a run is named after what it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Flow, flow

from tasks.alerts import alert_on_flow_failure

Params = ParamSpec("Params")
Returned = TypeVar("Returned")


def alerting_flow(
    name: str, run_name: Callable[[], str]
) -> Callable[[Callable[Params, Returned]], Flow[Params, Returned]]:
    """A Prefect flow named ``name`` whose runs are named by ``run_name`` and alert on failure."""
    return flow(
        name=name, flow_run_name=run_name, log_prints=False, on_failure=[alert_on_flow_failure]
    )
