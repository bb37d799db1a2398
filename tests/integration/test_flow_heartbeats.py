"""A pipeline flow's run ends when its body does: its heartbeats (what the silent-run automation
watches) come from a thread that waits on the run's stop instead of sleeping in one-second steps,
and the run still joins that thread before its end (flows/heartbeats.py)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import prefect.flow_engine
import pytest

from flows.alerting import alerting_flow
from flows.heartbeats import heartbeats_waking_on_stop

WAIT_S = 120.0  # a loaded machine may be slow to start a thread; nothing here is timed


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that call ``time.sleep`` (which still sleeps)."""
    sleepers: list[str] = []
    sleep = time.sleep

    def recorded(seconds: float) -> None:
        sleepers.append(threading.current_thread().name)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", recorded)
    return sleepers


def heartbeat_thread() -> threading.Thread:
    (thread,) = [t for t in threading.enumerate() if t.name == "flow-run-heartbeats"]
    return thread


class FakeEngine:
    """What the heartbeat context reads of Prefect's flow run engine."""

    def __init__(self, heartbeat_seconds: int | None, final: bool = False) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.flow_run = SimpleNamespace(state=SimpleNamespace(is_final=lambda: final))
        self.logger = SimpleNamespace(debug=lambda *_args, **_kwargs: None)
        self.sent = threading.Event()
        self.heartbeats = 0

    def _build_heartbeat_event_template(self) -> tuple[str, list[str]]:
        return "resource", ["related"]

    def _emit_flow_run_heartbeat(self, resource: str, related: list[str]) -> None:
        assert (resource, related) == ("resource", ["related"])
        self.heartbeats += 1
        self.sent.set()


@pytest.mark.parametrize("join_on_exit", [True, False])
def test_the_thread_sends_a_heartbeat_and_ends_with_the_run_without_sleeping(
    monkeypatch: pytest.MonkeyPatch, join_on_exit: bool
) -> None:
    sleepers = record_sleeps(monkeypatch)
    engine = FakeEngine(heartbeat_seconds=1)  # Prefect's shortest interval (30 s) applies
    with heartbeats_waking_on_stop(engine, join_on_exit=join_on_exit):
        assert engine.sent.wait(WAIT_S)
        thread = heartbeat_thread()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert engine.heartbeats == 1  # the next one was 30 s away: the stop ended the wait
    assert "flow-run-heartbeats" not in sleepers


def test_no_heartbeat_is_sent_for_a_final_run_or_without_an_interval() -> None:
    final = FakeEngine(heartbeat_seconds=30, final=True)
    with heartbeats_waking_on_stop(final):
        pass
    assert final.heartbeats == 0
    off = FakeEngine(heartbeat_seconds=None)
    with heartbeats_waking_on_stop(off):
        assert not [t for t in threading.enumerate() if t.name == "flow-run-heartbeats"]
    assert off.heartbeats == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_pipeline_flow_run_sends_heartbeats_and_joins_a_thread_that_never_slept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body waits for the first heartbeat, so the thread is waiting when the run ends: with
    Prefect's own thread it would be asleep, for up to a second of the run's end."""
    sent: list[str] = []
    first = threading.Event()

    def emit(_engine: Any, *_args: Any, **_kwargs: Any) -> None:
        sent.append(threading.current_thread().name)
        first.set()

    monkeypatch.setattr(prefect.flow_engine.FlowRunEngine, "_emit_flow_run_heartbeat", emit)
    threads: list[threading.Thread] = []

    @alerting_flow("heartbeat-check", lambda: "heartbeat-check")
    def beating() -> bool:
        arrived = first.wait(WAIT_S)
        threads.append(heartbeat_thread())
        return arrived

    assert prefect.flow_engine._send_heartbeats is heartbeats_waking_on_stop
    sleepers = record_sleeps(monkeypatch)
    assert beating() is True
    (thread,) = threads
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert sent == ["flow-run-heartbeats"]
    assert "flow-run-heartbeats" not in sleepers
