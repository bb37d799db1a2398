"""A flow run in the test process leaves no Prefect events worker (nor its websocket) running
into the next test: its keepalive pings drew from the global ``random`` on a background thread
under later property tests' draws (tests/conftest.py, ``_prefect_workers_stopped_after_the_test``).

The two tests run in this order, in one process (``--dist loadfile`` keeps a file on one
worker): the first starts the worker, the second sees what the first left."""

from __future__ import annotations

import gc

import pytest
from prefect import flow
from prefect.events.worker import EventsWorker
from websockets.asyncio.client import ClientConnection
from websockets.protocol import State


@flow
def _one_flow_run() -> int:
    return 1


def _events_workers() -> list[EventsWorker]:
    return list(EventsWorker._instances.values())  # Prefect keeps its running workers here


def _open_websockets() -> list[ClientConnection]:
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, ClientConnection) and obj.protocol.state is State.OPEN
    ]


@pytest.mark.usefixtures("prefect_harness")
def test_a_flow_run_in_the_test_process_starts_prefects_events_worker() -> None:
    assert _one_flow_run() == 1
    assert _events_workers()  # what the next test must not find


def test_the_test_before_left_no_events_worker_nor_its_websocket_open() -> None:
    assert not _events_workers()
    assert not _open_websockets()
