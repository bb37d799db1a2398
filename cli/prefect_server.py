"""The temporary Prefect server of a CLI run: started and owned by the CLI, never left behind.

Without ``PREFECT_API_URL`` Prefect 3.8.8 starts a temporary API server for the process
(``prefect.server.api.server.SubprocessASGIServer``: ``python -m uvicorn --factory
prefect.server.api.server:create_app`` on a port of 127.0.0.1, ~250 MB) and stops it from an
``atexit`` hook, which a ``kill -9`` (or the OOM killer) never runs: the server then lives on
for good. So the commands that run flows start that server themselves, the same way, with a
parent-death signal (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child before it runs
uvicorn): the kernel kills the server when the CLI ends, however it ends. ``PREFECT_API_URL``
points at it (``temporary_settings``) for the command's flows, so Prefect starts none of its own.
The server runs in a session of its own: a terminal's Ctrl-C (sent to the foreground process
group) reaches the command alone, which stops the server as it ends. In the command's group it
died with the Ctrl-C, and the command, left without a server, retried its API calls for minutes
instead of ending (``raceday live`` needed ``kill -9``).

With ``PREFECT_API_URL`` set (production: a long-lived ``prefect server start``) nothing is
started. Linux sends the signal when the *thread* that started the child ends: enter
``prefect_api`` from the command's main thread. On a system without ``prctl`` the server is
started without the guard (as Prefect does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from raceday.errors import RacedayError

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ADDRESS_IN_USE = 3  # uvicorn's exit code when its port is taken: try another port
MIN_STARTUP_S = 120.0
SERVER_LOG_NAME = "temporary-server.log"  # in PREFECT_HOME: the temporary servers' output
# Over this size the log is moved to ``temporary-server.log.1`` (the one before it dropped) and
# a new one begun: a machine running commands without a server for months keeps at most about
# twice this. A start is a line; a server's traceback a few KB.
SERVER_LOG_MAX_BYTES = 1 << 20


class PrefectServerError(RacedayError):
    """The temporary Prefect server did not start."""

    exit_code = 3


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when this process dies (Linux), or
    ``None`` where ``prctl`` does not exist. Resolved here, so the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def die_with_parent() -> None:
        if prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(1)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return die_with_parent


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_command(port: int) -> list[str]:
    """Prefect's own temporary-server command (UI off) on ``port`` of 127.0.0.1."""
    import prefect

    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(prefect.__module_path__.parent),
        "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _start_uvicorn(port: int, output: IO[bytes]) -> subprocess.Popen[bytes]:
    """The temporary server, guarded by the parent-death signal, its output (stdout and
    stderr) written to ``output``: what the server logs is not the command's output (a
    request cut short when the server stops prints a traceback there, more so on a busy
    machine), and is kept for when it does not start."""
    from prefect.settings import get_current_settings

    environment = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        **get_current_settings().to_environment_variables(exclude_unset=True),
    }
    # preexec_fn and threads: the child only calls prctl and getppid (resolved beforehand).
    return subprocess.Popen(
        _server_command(port), env=environment, stdout=output, stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent_hook(),
        start_new_session=True,  # out of the command's process group: a Ctrl-C is the command's
    )  # fmt: skip


def server_log_path() -> Path:
    """Where the temporary servers of the commands write their output: PREFECT_HOME's
    ``temporary-server.log`` (appended to, a line with the time and port before each start;
    moved to ``temporary-server.log.1`` once over :data:`SERVER_LOG_MAX_BYTES`)."""
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()) / SERVER_LOG_NAME


def rotate_if_large(log: Path, max_bytes: int) -> None:
    """Move ``log`` to ``<log>.1`` (replacing it) when it holds more than ``max_bytes``. Two
    commands rotating at once lose at most the older ``.1``: its content is old output."""
    with suppress(FileNotFoundError):  # no log yet, or another command moved it just now
        if log.stat().st_size > max_bytes:
            log.replace(log.with_name(f"{log.name}.1"))


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_healthy(server: subprocess.Popen[bytes], port: int, timeout_s: float, log: Path) -> bool:
    """True once the server answers /api/health; False when its port was taken. A server that
    exits or does not answer is one error naming ``log``, where its output went."""
    import httpx

    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            code = server.poll()
            if code == ADDRESS_IN_USE:
                return False
            if code is not None:
                raise PrefectServerError(
                    f"the temporary Prefect server exited with code {code} (its output: {log})"
                )
            try:
                if client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise PrefectServerError(
        f"the temporary Prefect server did not answer within {timeout_s:.0f} s (its output: "
        f"{log}): raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start `prefect "
        "server start` and set PREFECT_API_URL"
    )


@contextmanager
def prefect_api(meanwhile: Callable[[], object] | None = None) -> Iterator[str | None]:
    """The Prefect API for the command's flows: ``PREFECT_API_URL`` when set, else a temporary
    server this process owns (killed with it); yields the temporary server's API URL or None.
    ``meanwhile``: the command's work that needs no Prefect, run once (on this thread) while
    the temporary server starts — a start is 10–18 s of one core of the 2-core machine (a new
    Prefect home is migrated first), which the command otherwise spent waiting; run first
    when there is no server to start. The server is stopped when it fails."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    if PREFECT_API_URL.value():
        if meanwhile is not None:
            meanwhile()
        yield None
        return
    # Prefect's default (20 s) is too short for a first start (it migrates a new database) on a
    # busy machine: wait at least MIN_STARTUP_S.
    timeout_s = max(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()), MIN_STARTUP_S)
    log = server_log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    rotate_if_large(log, SERVER_LOG_MAX_BYTES)
    with log.open("ab") as output:
        for _attempt in range(5):
            port = free_port()
            started_at = datetime.now().isoformat(timespec="seconds")
            output.write(f"--- {started_at} port {port}\n".encode())
            output.flush()
            server = _start_uvicorn(port, output)
            try:
                if meanwhile is not None:  # once: not again on another port
                    work, meanwhile = meanwhile, None
                    work()
                started = _wait_healthy(server, port, timeout_s, log)
            except BaseException:
                _stop(server)
                raise
            if started:
                break
        else:
            raise PrefectServerError("no free port for the temporary Prefect server")
    api_url = f"http://127.0.0.1:{port}/api"
    updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
    try:
        with temporary_settings(updates=updates), _as_global_settings():
            try:
                yield api_url
            finally:
                drain_prefect_workers()
    finally:
        _stop(server)


@contextmanager
def _as_global_settings() -> Iterator[None]:
    """The current settings for threads that start without a context too (Prefect's log and
    event workers): else they would find no API URL and start a server of their own. What
    ``prefect.testing.utilities.prefect_test_harness`` does in Prefect 3.8.8."""
    import prefect.context

    global_context = getattr(prefect.context, "_temporary_global_settings_context", None)
    if global_context is None:
        yield
        return
    with global_context(prefect.context.get_settings_context()):
        yield


def drain_prefect_workers() -> None:
    """Send the logs and events still queued before the server stops (else they are lost with
    'Error logging to API' at exit), as Prefect's test harness does, and stop the workers: the
    events worker's websocket closes with it (a flow run after this starts new ones)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    with suppress(RuntimeError):  # a worker that never started
        APILogWorker.drain_all(timeout=10)
    with suppress(RuntimeError):
        EventsWorker.drain_all(timeout=10)
