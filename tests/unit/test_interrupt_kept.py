"""A Ctrl-C or SIGTERM `raceday live` receives is kept: Prefect's flow engine swallows a
KeyboardInterrupt that lands after a flow run's state is final (a race run finishing), and the
day's run raises it again after that race (flows.live.stop_if_interrupted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

from cli.shared import interrupts_kept
from flows.live import stop_if_interrupted


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupt_swallowed_on_the_way_is_raised_again(signum: signal.Signals) -> None:
    with interrupts_kept():
        with suppress(KeyboardInterrupt):  # as Prefect's engine does after a run's final state
            os.kill(os.getpid(), signum)
        with pytest.raises(KeyboardInterrupt):
            stop_if_interrupted()
    stop_if_interrupted()  # outside the command: nothing kept


# A command guarded as every command is, stopped by a service manager (SIGTERM) mid-work: it
# ends as interrupted (exit 130, its one line), as a Ctrl-C does, not killed by the signal (-15).
_GUARDED_COMMAND = """
import os, signal, time
import typer
from cli.shared import guard
try:
    guard(False, lambda: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(60)))
except typer.Exit as ended:
    raise SystemExit(ended.exit_code)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_every_guarded_command_ends_interrupted_on_a_signal(signum: signal.Signals) -> None:
    script = _GUARDED_COMMAND.replace("SIGTERM", signum.name)
    ended = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert ended.returncode == 130, (ended.returncode, ended.stderr[-2000:])
    assert ended.stderr.strip().splitlines()[-1] == "interrupted"
