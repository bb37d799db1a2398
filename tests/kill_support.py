"""`kill -9` in tests: run Python code in a child process and SIGKILL it at a chosen point."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parents[1]
HANG_LIMIT_S = 3600.0  # a child that neither stops nor ends: a hang, not a slow machine


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


def stop_after_stage(stage: str, day: str) -> None:
    """In the child: stop once ``stage`` of ``day`` (ISO date) is recorded completed."""
    done = (stage, date.fromisoformat(day), "completed")
    stop_after(
        "tasks.common",
        "record_stage_run",
        lambda row: (row["stage"], row["race_date"], row["status"]) == done,
    )


def stage_stop_code(stage: str, day: date) -> str:
    """The child's first line for :func:`stop_after_stage`."""
    return (
        f"from tests.kill_support import stop_after_stage; "
        f"stop_after_stage({stage!r}, {day.isoformat()!r})\n"
    )


def kill_once(code: str, reached: Callable[[], bool], what: str) -> None:
    """Run ``code`` in a child Python (the repository on its path) and SIGKILL it as soon as
    ``reached()`` is true; fail if the child ends first (or, a hang, after
    :data:`HANG_LIMIT_S`). ``code`` stops itself where it is to be killed (:func:`stop_after`),
    so that a slow parent never finds it further on."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.monotonic() + HANG_LIMIT_S
    try:
        while not reached():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the run ended before {what} (exit {child.returncode})")
            time.sleep(0.05)
    finally:
        if child.poll() is None:  # not reaped yet, so the pid is still the child's
            os.kill(child.pid, signal.SIGKILL)
        child.wait()


def run_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, races: int, run: Callable[[str], None]
) -> tuple[str, str]:
    """A short simulated run of ``races`` a day: ``run`` uninterrupted into a reference SQLite
    store; that store's URL and the URL of a second, empty one for the run to be killed."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "5")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(races))
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    run(reference)
    return reference, f"sqlite:///{tmp_path / 'killed.db'}"
