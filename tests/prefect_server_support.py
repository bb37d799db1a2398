"""A real `prefect server start` for the tests that need one (the browser checks, the work-pool
path): on a free 127.0.0.1 port, with its own PREFECT_HOME, stopped with its process group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cli.prefect_server import free_port

STARTUP_S = 600.0  # a hang limit: a loaded 2-core machine takes longer, never fails sooner


def api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST ``body`` (GET without one) to the server's ``/api<path>``; the JSON answer."""
    request = urllib.request.Request(
        f"{base}/api{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=STARTUP_S) as response:
        return json.load(response)


@contextmanager
def running_prefect_server(home: Path) -> Iterator[str]:
    """`prefect server start` with ``home`` as its PREFECT_HOME; its base URL while inside."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"{base}/api",  # the UI's browser code calls this
        "PREFECT_UI_URL": base,  # links in notifications
    }
    env.pop("PREFECT_API_URL", None)
    log_path = home / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_for_health(base, server, log_path)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def _wait_for_health(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            if api(base, "/health") is True:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"prefect server did not start: {log_path.read_text()[-3000:]}")
        time.sleep(1)
