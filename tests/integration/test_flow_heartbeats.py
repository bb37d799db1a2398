"""A pipeline flow's run ends when its body does: Prefect's heartbeat thread (what the crashed-run
automation watches) still runs and sends heartbeats, but the run no longer waits up to a second
for it to wake from its sleep (flows/alerting.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prefect.flow_engine
import pytest

from flows.alerting import alerting_flow, unjoined

HEARTBEAT_WAIT_S = 120.0  # a loaded machine may be slow to start the thread; nothing is timed


def test_the_heartbeat_context_is_entered_without_joining_its_thread() -> None:
    entered: list[bool] = []

    @contextmanager
    def send_heartbeats(_engine: Any, join_on_exit: bool = True) -> Iterator[None]:
        entered.append(join_on_exit)
        yield

    with unjoined(send_heartbeats)(object()):
        pass
    with unjoined(send_heartbeats)(object(), join_on_exit=True):
        pass
    assert entered == [False, False]


@pytest.mark.usefixtures("prefect_harness")
def test_a_flow_run_still_sends_heartbeats_and_its_thread_stops_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body waits for the first heartbeat, so the thread is sleeping when the run ends; the
    thread then ends on its own, with no heartbeat after the run's."""
    sent: list[tuple[threading.Thread, float]] = []
    first = threading.Event()

    def emit(_engine: Any, *_args: Any, **_kwargs: Any) -> None:
        sent.append((threading.current_thread(), time.monotonic()))
        first.set()

    monkeypatch.setattr(prefect.flow_engine.FlowRunEngine, "_emit_flow_run_heartbeat", emit)

    @alerting_flow("heartbeat-check", lambda: "heartbeat-check")
    def beating() -> bool:
        return first.wait(HEARTBEAT_WAIT_S)

    assert getattr(prefect.flow_engine._send_heartbeats, "unjoined", False)
    assert beating() is True
    ended = time.monotonic()
    (thread,) = {sender for sender, _ in sent}
    assert thread is not threading.current_thread()
    thread.join(HEARTBEAT_WAIT_S)
    # One heartbeat, or more on a machine slow enough to take 30 s (Prefect's shortest interval)
    # to end the run; never one after the run has ended.
    assert not thread.is_alive() and all(at <= ended for _, at in sent)
