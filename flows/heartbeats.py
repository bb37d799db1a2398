"""A flow run's heartbeats, from a thread that wakes when the run ends.

Prefect 3.8 sends a flow run's heartbeats (what the silent-run automation in
``deploy/automations.yaml`` watches) from a daemon thread that sleeps in steps of one second
between them, and a sync flow run joins that thread at its end: every run ends 0-1 s after its
body (0.5 s on average), a sixth of a 200-race day's wall and as much again for each race's run
of a live day. Here the thread waits on the run's stop event instead of sleeping, so the join
returns as soon as the thread has seen the stop. Everything else is as Prefect does it: the same
heartbeats at the same interval, none once the run's state is final, the thread joined (for
at most 2 s) before the run goes on to its end, so no heartbeat follows the run's last state.

Leaving the thread unjoined (``join_on_exit=False``, as Prefect's async engine does) saved the
same second but let a SIGTERM-killed run post its crash alert twice (stop 28): the join stays.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prefect.flow_engine

JOIN_TIMEOUT_S = 2.0  # Prefect's own: a heartbeat being sent when the run ends may finish


@contextmanager
def heartbeats_waking_on_stop(engine: Any, join_on_exit: bool = True) -> Iterator[None]:
    """Prefect's ``_send_heartbeats`` context, with a thread that waits on the stop event."""
    interval = engine.heartbeat_seconds
    if interval is None:
        yield
        return
    interval = max(interval, prefect.flow_engine.MINIMUM_HEARTBEAT_INTERVAL)
    resource, related = engine._build_heartbeat_event_template()
    stopped = threading.Event()

    def send_until_stopped() -> None:
        while not stopped.is_set():
            state = engine.flow_run.state if engine.flow_run else None
            if state is not None and state.is_final():
                return
            try:
                engine._emit_flow_run_heartbeat(resource, related)
            except Exception:
                engine.logger.debug("Failed to emit heartbeat", exc_info=True)
            if stopped.wait(interval):
                return

    # the thread sees the run's settings (its API URL) as Prefect's does: a copy of the context
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(send_until_stopped,), daemon=True, name="flow-run-heartbeats"
    )
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        if join_on_exit:
            thread.join(timeout=JOIN_TIMEOUT_S)


def _prefect_has_the_heartbeat_hooks() -> bool:
    """The Prefect internals this relies on are there (3.8's); another Prefect is left as is."""
    sender = getattr(prefect.flow_engine, "_send_heartbeats", None)
    engine = getattr(prefect.flow_engine, "FlowRunEngine", None)
    return (
        sender is not None
        and "join_on_exit" in inspect.signature(sender).parameters
        and hasattr(prefect.flow_engine, "MINIMUM_HEARTBEAT_INTERVAL")
        and all(
            hasattr(engine, method)
            for method in ("_build_heartbeat_event_template", "_emit_flow_run_heartbeat")
        )
    )


def end_runs_when_their_body_does() -> None:
    """Flow runs in this process send their heartbeats with :func:`heartbeats_waking_on_stop`."""
    if prefect.flow_engine._send_heartbeats is heartbeats_waking_on_stop:
        return
    if _prefect_has_the_heartbeat_hooks():
        prefect.flow_engine._send_heartbeats = heartbeats_waking_on_stop
