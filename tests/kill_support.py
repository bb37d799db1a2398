"""`kill -9` in tests: run Python code in a child process and SIGKILL it at a chosen point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def kill_once(code: str, reached: Callable[[], bool], what: str, timeout_s: float = 300) -> None:
    """Run ``code`` in a child Python (the repository on its path) and SIGKILL it as soon as
    ``reached()`` is true; fail if the child ends first or ``timeout_s`` passes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.monotonic() + timeout_s
    try:
        while not reached():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the run ended before {what} (exit {child.returncode})")
            time.sleep(0.05)
    finally:
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
