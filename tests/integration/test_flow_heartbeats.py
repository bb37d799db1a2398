"""A pipeline flow's run ends when its body does: Prefect's heartbeat thread (what the crashed-run
automation watches) still runs and sends heartbeats, but the run no longer waits up to a second
for it to wake from its sleep (flows/alerting.py)."""

from __future__ import annotations

import threading
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
    sent: list[threading.Thread] = []
    first = threading.Event()

    def emit(_engine: Any, *_args: Any, **_kwargs: Any) -> None:
        sent.append(threading.current_thread())
        first.set()

    monkeypatch.setattr(prefect.flow_engine.FlowRunEngine, "_emit_flow_run_heartbeat", emit)

    @alerting_flow("heartbeat-check", lambda: "heartbeat-check")
    def beating() -> bool:
        return first.wait(HEARTBEAT_WAIT_S)

    assert getattr(prefect.flow_engine._send_heartbeats, "unjoined", False)
    assert beating() is True
    (thread,) = set(sent)
    assert thread is not threading.current_thread()
    thread.join(HEARTBEAT_WAIT_S)
    assert not thread.is_alive() and len(sent) == 1
