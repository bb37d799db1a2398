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


# A fresh process: the modules a day imports, frozen once; later objects are not.
FREEZE = """
import gc
import flows.daily
from raceday.memory import freeze_long_lived
assert gc.get_freeze_count() == 0
frozen = freeze_long_lived()
assert frozen == gc.get_freeze_count() > 100_000, frozen
made_after = [[index] for index in range(10_000)]
assert freeze_long_lived() == frozen == gc.get_freeze_count()
assert any(gc.is_tracked(item) for item in made_after[-1:])
print(frozen)
"""


def test_what_the_process_imported_is_frozen_once() -> None:
    """The day's modules go to the collector's permanent generation once per process: full
    collections walk only what is made after (objects made later are not frozen by a second
    day's call)."""
    done = subprocess.run(
        [sys.executable, "-c", FREEZE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) > 100_000


class Stop(Exception):
    """Raised by a stand-in to end a day right after its first step."""


def test_a_days_run_freezes_before_its_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way into a day (a day's flow run, the chain in-process, a race-time day's card)
    freezes first."""
    import flows.chain
    import flows.daily
    import flows.live

    frozen: list[str] = []
    monkeypatch.setattr(flows.daily, "freeze_long_lived", lambda: frozen.append("flow"))
    monkeypatch.setattr(flows.chain, "freeze_long_lived", lambda: frozen.append("chain"))
    monkeypatch.setattr(flows.live, "freeze_long_lived", lambda: frozen.append("race time"))

    def stop(*args: object, **kwargs: object) -> None:
        raise Stop

    monkeypatch.setattr(flows.daily, "load_settings", stop)
    monkeypatch.setattr(flows.live, "day_lock", stop)
    with pytest.raises(Stop), flows.daily.day_run(None, None, None):
        pass
    with pytest.raises(Stop):
        flows.chain.daily_chain(stop, None, None, None)  # type: ignore[arg-type]
    with pytest.raises(Stop):
        flows.live.card_stages(stop, None, None, by_venue=False)  # type: ignore[arg-type]
    assert frozen == ["flow", "chain", "race time"]
