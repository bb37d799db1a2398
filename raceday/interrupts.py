"""Signal handlers that raise only outside Python's import machinery.

A handler that raises (Ctrl-C's ``KeyboardInterrupt``, Prefect's ``TerminationSignal`` on a
SIGTERM) raises wherever the main thread is. Landing inside the import system it can leave the
global import lock held for good: between ``_imp.acquire_lock()`` and the ``try`` that releases
it (``importlib._bootstrap._get_module_lock``), or in the weakref callback that drops a module's
lock after its import, where the exception is swallowed ("Exception ignored in ...") and the
signal lost. The main thread goes on, every other thread's next import waits for ever, and the
process hangs instead of ending (stop 56: a `raceday run` killed by SIGTERM at its start, its
event-loop threads stuck in ``_get_module_lock``, the main thread waiting on them).

:func:`outside_imports` wraps such a handler: while the import lock is held (by any thread) the
signal is sent again a moment later instead of raising now, so it raises once the import is done.
"""

from __future__ import annotations

import _imp
import os
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

Handler = Callable[[int, FrameType | None], Any]

RESEND_AFTER_S: Final = 0.05  # an import holds the lock for micro- to milliseconds


def resend_soon(signum: int) -> None:
    """Send ``signum`` to this process again after :data:`RESEND_AFTER_S`."""
    timer = threading.Timer(RESEND_AFTER_S, os.kill, (os.getpid(), signum))
    timer.daemon = True
    timer.start()


def outside_imports(
    handler: Handler,
    *,
    lock_held: Callable[[], bool] = _imp.lock_held,
    resend: Callable[[int], None] = resend_soon,
) -> Handler:
    """``handler``, run when the global import lock is free; while it is held the signal is
    ``resend`` (again a moment later) and nothing is raised now."""

    def handle(signum: int, frame: FrameType | None) -> Any:
        if lock_held():
            resend(signum)
            return None
        return handler(signum, frame)

    handle.__wrapped__ = handler  # type: ignore[attr-defined]
    return handle
