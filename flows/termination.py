"""A flow run's SIGTERM raised outside Python's import machinery.

Prefect 3.8 turns a SIGTERM during a flow run into ``TerminationSignal``, raised by its handler
(``prefect.utilities.engine._prefect_sigterm_handler``) wherever the main thread is. Raised
inside an import it can leave the global import lock held and be swallowed: the run goes on and
hangs on its own threads' next import instead of ending Crashed (stop 56,
:mod:`raceday.interrupts`). Here that handler is wrapped by
:func:`raceday.interrupts.outside_imports`; everything else is Prefect's: its engine installs,
recognises (by identity, through the module's global) and restores the wrapped handler as it
would its own.
"""

from __future__ import annotations

import prefect.utilities.engine as prefect_engine

from raceday.interrupts import outside_imports


def terminations_outside_imports() -> None:
    """Flow runs in this process raise their SIGTERM outside imports (once per process)."""
    handler = getattr(prefect_engine, "_prefect_sigterm_handler", None)
    if handler is None or hasattr(handler, "__wrapped__"):
        return  # another Prefect (left as it is), or wrapped already
    prefect_engine._prefect_sigterm_handler = outside_imports(handler)  # type: ignore[assignment]
