"""Times boat backfills of growing length on fresh stores: wall and CPU per length, and ratios.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_boat_backfill.py [--days 10 20 40]
        [--races 36] [--start 2026-04-01] [--seed 11] [--no-retrain] [--keep DIR]
        [--out run.json]

Simulates the boat day files once (``raceday simulate --sport boat``: the warm-up's 60 days
before ``--start`` and the longest backfill's days), then for each length runs
``raceday backfill --sport boat --start S --end S+N-1 --source files:DIR --json`` in a
subprocess on a fresh SQLite store, each with its own ``PREFECT_HOME`` and ``RACEDAY_VAR_DIR``
(the command's defaults otherwise: chunks of 28 days, its warm-up, the retraining cadence;
``--no-retrain``: no version trained, so every day predicts with a model fitted that morning on
the days before it, ``…-fresh``, as a store whose versions are not promoted does).
CPU is the subprocess's user + system time and that of the children it waited for
(``os.wait4``). Prints one line per length (wall, CPU, per day) and the ratios of each length
to the first: linear cost per day gives CPU ratios near the length ratios, a cost per day
growing with the days done before gives more. ``--keep DIR`` keeps each store as
``DIR/boat-N.db`` (for checksums: ``tests.store_support.data_checksums``).
Not a test: figures go to docs/PERFORMANCE.md with the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

WARMUP_DAYS = 60  # history.warmup_days' default: the files the first chunk's warm-up reads


def _raceday(*args: str, env: dict[str, str]) -> tuple[float, float, str]:
    """Runs the command: wall seconds, CPU seconds (its own and its waited-for children's),
    standard output."""
    begun = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", *args], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - begun
    if os.waitstatus_to_exitcode(status) not in (0, 1, 6):  # 1, 6: warnings or alerts, ran
        raise SystemExit(f"raceday {' '.join(args)} failed ({status}):\n{out[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--races", type=int, default=36, help="races a day (3 venues: 36)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 4, 1))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--no-retrain",
        action="store_true",
        help="RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS=0: no version trained, every day fits fresh",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the stores here")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-boat-backfill-"))
    base = {**os.environ, "PYTHONPATH": os.getcwd(), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if args.no_retrain:
        base["RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS"] = "0"
    files = work / "files"
    first = args.start - timedelta(days=WARMUP_DAYS)
    last = args.start + timedelta(days=max(args.days) - 1)
    env = {**base, "PREFECT_HOME": str(work / "prefect-sim"), "RACEDAY_VAR_DIR": str(work)}
    _raceday(
        "simulate", "--sport", "boat", "--start", str(first), "--end", str(last),
        "--races-per-day", str(args.races), "--seed", str(args.seed), "--out", str(files),
        env=env,
    )  # fmt: skip
    figures: list[dict[str, Any]] = []
    try:
        for days in args.days:
            run = work / f"run-{days}"
            run.mkdir()
            db = run / "boat.db"
            env = {**base, "PREFECT_HOME": str(run / "prefect"), "RACEDAY_VAR_DIR": str(run)}
            with open("/proc/loadavg") as load:
                before = load.read().split()[0]
            end = args.start + timedelta(days=days - 1)
            wall, cpu, out = _raceday(
                "backfill", "--sport", "boat", "--start", str(args.start), "--end", str(end),
                "--source", f"files:{files}", "--db", f"sqlite:///{db}", "--json", env=env,
            )  # fmt: skip
            summary = json.loads(out)
            figures.append(
                {"days": days, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                 "days_run": summary.get("days_run"), "trained": summary.get("trained"),
                 "load_before": before, "at": time.strftime("%H:%M:%SZ", time.gmtime())}
            )  # fmt: skip
            row = figures[-1]
            print(
                f"{days:4d} days: wall {wall:7.1f} s, cpu {cpu:7.1f} s, "
                f"cpu/day {cpu / days:6.2f} s, ran {row['days_run']}, trained {row['trained']}, "
                f"load {before}, {row['at']}",
                flush=True,
            )
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(db, args.keep / f"boat-{days}.db")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    head = figures[0]
    for row in figures[1:]:
        print(
            f"{row['days']} / {head['days']} days: length x{row['days'] / head['days']:.1f}, "
            f"wall x{row['wall_s'] / head['wall_s']:.2f}, cpu x{row['cpu_s'] / head['cpu_s']:.2f}"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
