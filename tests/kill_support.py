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
