"""A backfill gives what each chunk frees back to the system (raceday.memory): glibc's malloc
keeps large blocks mapped, so freed frames do not stay resident as holes in the heap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from raceday.memory import map_large_blocks

ROOT = Path(__file__).resolve().parents[2]

# Half of forty 8 MB arrays freed, every other one (holes the heap cannot give back by
# shrinking), after a 32 MB one freed first (which raises glibc's own threshold to 32 MB).
HOLES = """
import sys
import numpy as np
from raceday.memory import map_large_blocks
if sys.argv[1] == "mapped":
    assert map_large_blocks()
warm = np.ones(4_000_000)
del warm
arrays = [np.ones(1_000_000) for _ in range(40)]
del arrays[::2]
status = open("/proc/self/status").read().split("VmRSS:")[1].split()[0]
print(int(status) // 1024)
"""


def resident_mb_after_holes(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", HOLES, mode], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc, /proc")
def test_freed_large_blocks_leave_the_process_once_they_are_mapped() -> None:
    """The same frees leave ≈ 160 MB fewer resident with large blocks mapped than with glibc's
    rising threshold (memory, not time: the figure does not depend on the machine's speed)."""
    if not map_large_blocks():
        pytest.skip("not glibc: nothing to set")
    held_in_holes = resident_mb_after_holes("default")
    mapped = resident_mb_after_holes("mapped")
    assert held_in_holes - mapped > 100, (held_in_holes, mapped)
