"""A raising signal handler raises only outside Python's import machinery
(:mod:`raceday.interrupts`): raised inside an import it could leave the import lock held and
hang the process (stop 56: a SIGTERM-killed `raceday run` that never ended)."""

from __future__ import annotations

import _imp
import signal
import threading
import time
from types import FrameType

import pytest

from raceday.interrupts import outside_imports

HANG_LIMIT_S = 60.0  # a hang limit on a loaded machine, not a timing


class Raised(Exception):
    """What the test's handler raises."""


def raising(_signum: int, _frame: FrameType | None) -> None:
    raise Raised


def test_while_the_import_lock_is_held_the_signal_is_sent_again_not_raised() -> None:
    called: list[int] = []
    resent: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        called.append(signum)

    wrapped = outside_imports(handler, lock_held=lambda: True, resend=resent.append)
    wrapped(signal.SIGTERM, None)
    assert (called, resent) == ([], [signal.SIGTERM])

    free = outside_imports(handler, lock_held=lambda: False, resend=resent.append)
    free(signal.SIGINT, None)
    assert (called, resent) == ([signal.SIGINT], [signal.SIGTERM])


def test_a_signal_landing_during_an_import_raises_once_the_import_is_done() -> None:
    """A real signal while another thread holds the import lock: nothing is raised then (a
    plain raising handler would raise at once); once the lock is free it raises."""
    held, release = threading.Event(), threading.Event()

    def hold_the_import_lock() -> None:
        _imp.acquire_lock()
        try:
            held.set()
            release.wait(HANG_LIMIT_S)
        finally:
            _imp.release_lock()

    holder = threading.Thread(target=hold_the_import_lock, daemon=True)
    holder.start()
    assert held.wait(HANG_LIMIT_S)
    previous = signal.signal(signal.SIGUSR1, outside_imports(raising))
    try:
        try:
            signal.raise_signal(signal.SIGUSR1)  # handled here: the lock is held
            raised_while_held = False
        except Raised:
            raised_while_held = True
        finally:
            release.set()
            holder.join(HANG_LIMIT_S)
        assert not raised_while_held, "raised while an import held the lock"
        deadline = time.monotonic() + HANG_LIMIT_S
        with pytest.raises(Raised):
            while time.monotonic() < deadline:
                time.sleep(0.01)  # the signal sent again lands here
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_prefects_flow_engine_installs_and_recognises_the_wrapped_sigterm_handler() -> None:
    from prefect.exceptions import TerminationSignal
    from prefect.utilities.engine import capture_sigterm, is_prefect_sigterm_handler_installed

    from flows.termination import terminations_outside_imports

    terminations_outside_imports()
    terminations_outside_imports()  # once: not wrapped twice
    with capture_sigterm():
        installed = signal.getsignal(signal.SIGTERM)
        assert is_prefect_sigterm_handler_installed()
    assert callable(installed) and getattr(installed, "__wrapped__", None) is not None
    assert getattr(installed.__wrapped__, "__wrapped__", None) is None
    with pytest.raises(TerminationSignal):  # called outside any import: Prefect's own raise
        installed(signal.SIGTERM, None)
