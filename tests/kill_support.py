"""`kill -9` in tests: run Python code in a child process and SIGKILL it at a chosen point.

The children are forked from a fork server (``multiprocessing``'s ``forkserver``) that has
imported the pipeline's modules once: a child starts with Prefect, pandas, scikit-learn and
Great Expectations already imported (3-4 s of CPU a child when each was a fresh interpreter)
and is still a process of its own, killed with SIGKILL and never cleaned up after. The fork
server is a fresh single-threaded interpreter, not the test process (whose threads a fork
would copy mid-lock)."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from tests.store_support import copy_store

HANG_LIMIT_S = 3600.0  # a child that neither stops nor ends: a hang, not a slow machine
# Imported once by the fork server, so that each child starts with them (what the kill tests'
# children run: the daily and backfill chains, the race-time day).
PRELOADED = ["flows.backfill", "flows.chain", "flows.live", "tasks.ingest", "tests.kill_support"]
_CHILDREN = multiprocessing.get_context("forkserver")
_CHILDREN.set_forkserver_preload(PRELOADED)


def stop_after(module: str, writer: str, matches: Callable[[dict[str, Any]], bool]) -> None:
    """Call first in the child: once ``module.writer(connection, row)`` has written a row that
    ``matches``, the write is committed (the parent sees it) and the child waits to be killed.
    The kill lands exactly there, however slow the machine or late the parent's next look."""
    target = importlib.import_module(module)
    write = getattr(target, writer)

    def write_then_wait(connection: Connection, row: dict[str, Any]) -> None:
        write(connection, row)
        if matches(row):
            connection.commit()
            threading.Event().wait()  # never set: the parent's SIGKILL ends the process

    setattr(target, writer, write_then_wait)


def stop_after_stage(stage: str, day: date) -> None:
    """In the child: stop once ``stage`` of ``day`` is recorded completed."""
    done = (stage, day, "completed")
    stop_after(
        "tasks.common",
        "record_stage_run",
        lambda row: (row["stage"], row["race_date"], row["status"]) == done,
    )


def _child(
    environment: dict[str, str], log: str, run: Callable[..., None], args: tuple[Any, ...]
) -> None:
    """The child's body: its output into ``log`` (the fork server's own output is whatever
    test's it started in), the parent's environment as it is now (the fork server keeps the
    one it started with; settings are read from it), then ``run(*args)``."""
    with open(log, "ab", buffering=0) as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    os.environ.clear()
    os.environ.update(environment)
    run(*args)


def kill_once(
    run: Callable[..., None], args: tuple[Any, ...], reached: Callable[[], bool], what: str
) -> None:
    """Run ``run(*args)`` in a child process and SIGKILL it as soon as ``reached()`` is true;
    fail if the child ends first (or, a hang, after :data:`HANG_LIMIT_S`). ``run`` (a
    module-level function, passed by name) stops itself where it is to be killed
    (:func:`stop_after`), so that a slow parent never finds it further on."""
    with tempfile.NamedTemporaryFile(prefix="kill-child-", suffix=".log") as log:
        child = _CHILDREN.Process(target=_child, args=(dict(os.environ), log.name, run, args))
        child.start()
        deadline = time.monotonic() + HANG_LIMIT_S
        try:
            while not reached():
                if not child.is_alive() or time.monotonic() > deadline:
                    output = Path(log.name).read_text(errors="replace")[-3000:]
                    pytest.fail(f"the run ended before {what} (exit {child.exitcode}):\n{output}")
                time.sleep(0.05)
        finally:
            if child.exitcode is None:  # not ended: its pid is still the child's
                child.kill()
            child.join()


def run_reference(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    races: int,
    warm_up: Callable[[str], None],
    run: Callable[[str], None],
) -> tuple[str, str]:
    """A short simulated run of ``races`` a day: a store warmed up once by ``warm_up`` (the
    days before the run: history, not what is killed), copied twice; ``run`` uninterrupted on
    the first copy (the reference). The reference's URL and the URL of the second copy, for
    the run to be killed."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "5")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(races))
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    warmed = tmp_path / "warmed.db"
    warm_up(f"sqlite:///{warmed}")
    reference = copy_store(warmed, tmp_path / "reference.db")
    killed = copy_store(warmed, tmp_path / "killed.db")
    run(reference)
    return reference, killed


def dead_pid() -> int:
    """The pid of a process that has ended (as a ``kill -9``'d run's): a lock holder on this
    machine whose process is gone."""
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(ended.stdout.strip())
