"""``flock`` locks on files (Linux): held by an open file, let go when it is closed or its
process dies (``kill -9``, a power cut), so a lock is never left behind by a killed holder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def _opened(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def try_flock(path: Path, mode: int) -> int | None:
    """``path`` opened (made if absent) and ``flock``-ed with ``mode`` (``fcntl.LOCK_SH`` or
    ``LOCK_EX``) without waiting: its file descriptor (closing it lets go); None, nothing left
    open, when another open file holds a conflicting lock."""
    descriptor = _opened(path)
    try:
        fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def flock_waiting(path: Path, mode: int) -> int:
    """``path`` opened (made if absent) and ``flock``-ed with ``mode``, waiting while another
    open file holds a conflicting lock: its file descriptor (closing it lets go)."""
    descriptor = _opened(path)
    try:
        fcntl.flock(descriptor, mode)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def process_ended(pid: int) -> bool:
    """True when no process ``pid`` runs on this machine (a lock holder killed, ``kill -9``);
    a process of another user counts as running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
