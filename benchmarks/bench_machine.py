"""How fast this machine is right now, on the kind of work the suite and the stages do: a fixed
workload, the same every run, timed in CPU seconds of this process (one core). Run it beside a
suite or a benchmark (before and after) to tell the machine's hour from the code's change: the
figures of two runs of the same code differ by about the ratio of their calibrations, and a
figure divided by its calibration compares across hours and machines.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_machine.py [--repeat 3] [--json]

Three parts, each the median of ``--repeat`` runs: pure Python (a loop of dict and string
work, what the interpreter's own speed bounds), pandas (a group-by, a merge and a sort on a
1,000,000-row frame, as the stages do on a backfill chunk's runners) and a cold import of
``pandas`` and ``sqlalchemy`` in a child process (what every subprocess test and command pays
first, disk cache warm). Not a test: figures go to docs/PERFORMANCE.md with the machine they
came from (``lscpu``'s model name, printed too).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def python_work() -> int:
    """Interpreter-bound work: string formatting, dict updates, a sort."""
    counts: dict[str, int] = {}
    for number in range(2_000_000):
        key = f"{number % 997:04d}-{number % 13}"
        counts[key] = counts.get(key, 0) + number
    return len(sorted(counts.items(), key=lambda item: (item[1], item[0])))


def pandas_work() -> int:
    """Frame work of the stages' shape: group-by, merge, sort on 1,000,000 rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(17)
    rows = 1_000_000
    runners = pd.DataFrame(
        {
            "race_id": rng.integers(0, 100_000, rows).astype(str),
            "horse_id": rng.integers(0, 250_000, rows),
            "time_s": rng.normal(80.0, 5.0, rows),
        }
    )
    by_race = runners.groupby("race_id")["time_s"].agg(["mean", "std", "count"]).reset_index()
    merged = runners.merge(by_race, on="race_id").sort_values(["race_id", "time_s"])
    merged["z"] = (merged["time_s"] - merged["mean"]) / merged["std"]
    return int(merged.groupby("horse_id")["z"].mean().notna().sum())


def cold_imports() -> float:
    """CPU seconds of a child process that imports pandas and SQLAlchemy."""
    code = (
        "import resource, pandas, sqlalchemy; u = resource.getrusage(resource.RUSAGE_SELF); "
        "print(u.ru_utime + u.ru_stime)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def cpu_seconds(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    loadavg = Path("/proc/loadavg")
    return float(loadavg.read_text().split()[0]) if loadavg.exists() else None


def calibrate(repeat: int) -> dict[str, object]:
    pandas_work()  # imports pandas and NumPy outside the timing
    parts = {
        "python_s": statistics.median(cpu_seconds(python_work) for _ in range(repeat)),
        "pandas_s": statistics.median(cpu_seconds(pandas_work) for _ in range(repeat)),
        "imports_s": statistics.median(cold_imports() for _ in range(repeat)),
    }
    rounded = {name: round(value, 3) for name, value in parts.items()}
    return {
        **rounded,
        "total_s": round(sum(parts.values()), 3),
        "cpu": cpu_model(),
        "load_before": load_average(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = calibrate(max(1, args.repeat))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"python {figures['python_s']:.3f} s | pandas {figures['pandas_s']:.3f} s | "
        f"imports {figures['imports_s']:.3f} s | total {figures['total_s']:.3f} s CPU "
        f"({figures['cpu']}, load {figures['load_before']}, Python {figures['python']})"
    )


if __name__ == "__main__":
    main()
