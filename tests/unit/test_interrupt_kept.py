"""A Ctrl-C or SIGTERM `raceday live` receives is kept: Prefect's flow engine swallows a
KeyboardInterrupt that lands after a flow run's state is final (a race run finishing), and the
day's run raises it again after that race (flows.live.stop_if_interrupted)."""

from __future__ import annotations

import os
import signal
from contextlib import suppress

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
