"""How a long-running process gives freed memory back to the system (glibc's malloc on Linux).

A backfill builds and drops frames of a few to a few tens of MB chunk after chunk for hours.
glibc serves a block of 128 KiB or more by a mapping of its own, returned to the system when
freed, but raises that threshold to the size of each such block freed (up to 32 MiB), so after
the first chunk most columns are carved from the heap, and the heap's freed pages stay
resident between chunks: the process's RSS grew chunk after chunk while what it held did not.
A fixed threshold keeps large blocks mapped, so what a chunk frees leaves the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
LARGE_BLOCK_BYTES = 1 << 20  # blocks of 1 MiB or more are mapped, and unmapped when freed


@cache
def map_large_blocks(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """Ask glibc's malloc to serve blocks of ``threshold`` bytes or more by mappings of their
    own, always (a fixed threshold: it no longer rises as blocks are freed). Once per process;
    True when set, False where the C library is not glibc (nothing to do there)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None:
        return False
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    logger.debug("malloc: blocks of %d bytes or more mapped: %s", threshold, done)
    return done
