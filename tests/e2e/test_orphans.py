"""A `kill -9` of `raceday run` leaves nothing behind: the temporary Prefect server it started
(uvicorn, ~250 MB, a port on 127.0.0.1) dies with it (cli/prefect_server.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.cli_process import COMMAND, HANG_LIMIT_S, ROOT, cli_environment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rsplit(")", 1)[1].split()  # after "pid (comm)"
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(root: int) -> dict[int, int]:
    """Every live process below ``root``: pid -> start time (a reused pid is another one)."""
    parents: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) and stat[0] != "Z":
            parents[int(entry)] = (stat[1], stat[2])
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                frontier.append(pid)
    return found


def _alive(pid: int, started: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and stat[2] == started


def _serving_port(pid: int) -> int | None:
    """The port of a descendant running Prefect's server that accepts connections, else None."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return None
    if b"uvicorn" not in argv or b"--port" not in argv:
        return None
    port = int(argv[argv.index(b"--port") + 1])
    with socket.socket() as probe:
        probe.settimeout(1)
        return port if probe.connect_ex(("127.0.0.1", port)) == 0 else None


def test_kill_9_of_a_run_leaves_no_prefect_server_behind(
    tmp_path: Path, prefect_database: Path
) -> None:
    log = (tmp_path / "run.log").open("w")
    run = subprocess.Popen(
        [*COMMAND, "run", "--date", "2026-11-20", "--races", "10"],
        cwd=ROOT, env=cli_environment(tmp_path, prefect_database), stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    before: dict[int, int] = {}
    try:
        deadline = time.monotonic() + HANG_LIMIT_S
        while not any(_serving_port(pid) for pid in _descendants(run.pid)):
            assert run.poll() is None, "the run ended before its Prefect server was up"
            assert time.monotonic() < deadline, "no Prefect server came up"
            time.sleep(0.1)
        before = _descendants(run.pid)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        # bounded; a dead parent's server goes in ~a second (minutes on a loaded machine)
        deadline = time.monotonic() + 600
        while (left := [pid for pid, started in before.items() if _alive(pid, started)]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert left == [], f"left running after kill -9 of the run: {left}"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid, started in before.items():  # never leave them on the machine, even on failure
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
        log.close()
