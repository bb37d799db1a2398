"""What a command does while its temporary Prefect server starts (``prefect_api(meanwhile)``):
its work that needs no Prefect runs once, after the server was started and before the command
waits for it to answer, so the 10–18 s of a start are not spent waiting (`make run`'s warm-up,
cli/demo.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import cli.prefect_server as prefect_server
from cli.prefect_server import prefect_api

STARTING_SERVER = "import time; time.sleep(600)"  # a server that never answers by itself


@pytest.fixture
def prefect_home(tmp_path: Path) -> Iterator[None]:
    """A Prefect home of the test's and no API configured: the command starts its server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings(updates={PREFECT_HOME: str(tmp_path), PREFECT_API_URL: None}):
        yield


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Each server process the command starts (a Python that sleeps, never the real one)."""
    processes: list[subprocess.Popen[bytes]] = []
    start = prefect_server._start_uvicorn
    monkeypatch.setattr(
        prefect_server, "_server_command", lambda port: [sys.executable, "-c", STARTING_SERVER]
    )

    def recorded_start(port: int, output: object) -> subprocess.Popen[bytes]:
        server = start(port, output)  # type: ignore[arg-type]
        processes.append(server)
        return server

    monkeypatch.setattr(prefect_server, "_start_uvicorn", recorded_start)
    return processes


def _answers(
    monkeypatch: pytest.MonkeyPatch, events: list[str], answers: list[bool]
) -> Callable[..., bool]:
    """The health wait replaced: it records itself and answers ``answers`` in turn (False: the
    port was taken)."""

    def wait_healthy(server: subprocess.Popen[bytes], *_args: object) -> bool:
        events.append("wait" if server.poll() is None else "wait on a dead server")
        return answers.pop(0)

    monkeypatch.setattr(prefect_server, "_wait_healthy", wait_healthy)
    return wait_healthy


@pytest.mark.usefixtures("prefect_home")
def test_the_command_s_work_runs_once_the_server_started_before_waiting_for_it(
    monkeypatch: pytest.MonkeyPatch, started: list[subprocess.Popen[bytes]]
) -> None:
    events: list[str] = []
    _answers(monkeypatch, events, [True])

    def meanwhile() -> None:
        assert started and started[-1].poll() is None, "the server is starting meanwhile"
        events.append("meanwhile")

    with prefect_api(meanwhile) as url:
        assert url is not None and url.startswith("http://127.0.0.1:")
        events.append("inside")
    assert events == ["meanwhile", "wait", "inside"]
    assert started[0].poll() is not None, "the server is stopped when the command ends"


@pytest.mark.usefixtures("prefect_home")
def test_a_server_started_again_on_another_port_does_not_run_the_work_again(
    monkeypatch: pytest.MonkeyPatch, started: list[subprocess.Popen[bytes]]
) -> None:
    events: list[str] = []
    _answers(monkeypatch, events, [False, True])  # the first port was taken meanwhile
    with prefect_api(lambda: events.append("meanwhile")):
        events.append("inside")
    assert events == ["meanwhile", "wait", "wait", "inside"]
    assert len(started) == 2


@pytest.mark.usefixtures("prefect_home")
def test_work_that_fails_stops_the_server_and_nothing_runs_inside(
    monkeypatch: pytest.MonkeyPatch, started: list[subprocess.Popen[bytes]]
) -> None:
    events: list[str] = []
    _answers(monkeypatch, events, [True])

    def failing() -> None:
        raise RuntimeError("the warm-up failed")

    with pytest.raises(RuntimeError, match="the warm-up failed"), prefect_api(failing):
        events.append("inside")
    assert events == []
    assert len(started) == 1 and started[0].poll() is not None, "the server was stopped"


def test_with_a_server_configured_the_work_runs_first_and_nothing_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list[subprocess.Popen[bytes]]
) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    events: list[str] = []
    configured = {PREFECT_HOME: str(tmp_path), PREFECT_API_URL: "http://127.0.0.1:9/api"}
    with temporary_settings(updates=configured), prefect_api(lambda: events.append("meanwhile")):
        events.append("inside")
    assert events == ["meanwhile", "inside"]
    assert started == []
