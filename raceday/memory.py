"""How a process keeps memory cheap: freed memory given back to the system (glibc's malloc on
Linux), and what it imported kept out of Python's full garbage collections.

A backfill builds and drops frames of a few to a few tens of MB chunk after chunk for hours.
glibc serves a block of 128 KiB or more by a mapping of its own, returned to the system when
freed, but raises that threshold to the size of each such block freed (up to 32 MiB), so after
the first chunk most columns are carved from the heap, and the heap's freed pages stay
resident between chunks: the process's RSS grew chunk after chunk while what it held did not.
A fixed threshold keeps large blocks mapped, so what a chunk frees leaves the process.

A day's run allocates a few hundred thousand Python objects (frames, GX's expectation and
metric objects, SQLAlchemy rows), so Python's cyclic collector runs a full collection about once
a day, and a full collection walks every object the process holds, most of them the modules it
imported (pandas, Great Expectations, Prefect, SQLAlchemy: ≈ 480,000 objects): 0.3-0.8 s of
CPU each, more than any stage but screening. Frozen once those are loaded
(:func:`freeze_long_lived`), the collector walks only what was made after (≈ 60,000).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
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


@cache
def freeze_long_lived() -> int:
    """Move every object the process holds now into the collector's permanent generation
    (``gc.freeze``), once per process: full collections no longer walk what is imported and
    kept for the process's life. The young generations are collected first, so their cyclic
    garbage is freed, not frozen; what later frees a frozen object by reference counting frees
    it as before, and only cyclic garbage already in the old generation now (what the next full
    collection would have found) is kept. Returns how many objects were frozen."""
    gc.collect(1)
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.debug("garbage collector: %d objects frozen", frozen)
    return frozen
