"""Times what monitoring adds to a settled day: the performance record (race scores, per-day and
per-venue rows, calibration, rolling windows), the monitor rules with alert storage, and the
HTML + Markdown report with its four figures.

    .venv/bin/python benchmarks/bench_monitoring.py [--races 200] [--days 14] [--repeat 3]

A fresh SQLite store is warmed with history and then ``--days`` days are run through the daily
stages (not timed), so rolling windows, the anomaly check and the bankroll curve have data.
Then the last day's record, monitor and report stages are timed ``--repeat`` times (median).
Not a test: figures go to docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clock = time.perf_counter()
        action()
        times.append(time.perf_counter() - clock)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--date", default="2026-11-20")
    args = parser.parse_args()
    last = date.fromisoformat(args.date)
    first = last - timedelta(days=args.days - 1)

    with tempfile.TemporaryDirectory(prefix="raceday-bench-") as work:
        os.environ["RACEDAY_VAR_DIR"] = str(Path(work) / "var")
        os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"] = str(args.races)
        db_url = f"sqlite:///{Path(work) / 'bench.db'}"

        from bench_daily import _settings, _warm, run_direct

        from raceday.monitoring.report_html import render_html
        from tasks.monitor import monitor_day
        from tasks.record import build_report, record_day

        print(f"setup: warm-up and {args.days} settled days of {args.races} races (not timed)")
        _warm(db_url, first, args.races)
        for offset in range(args.days):
            run_direct(db_url, first + timedelta(days=offset), args.races)
        settings = _settings(db_url, args.races)

        record_s = _timed(lambda: record_day(settings, last), args.repeat)
        monitor_s = _timed(lambda: monitor_day(settings, last), args.repeat)
        report_s = _timed(lambda: build_report(settings, last), args.repeat)
        inputs = build_report(settings, last)[2]
        render_s = _timed(lambda: render_html(inputs), args.repeat)

    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"{args.races} races/day, {args.days} settled days, median of {args.repeat}")
    print(f"record (performance, race scores, calibration, rolling): {record_s:6.2f} s")
    print(f"monitor (rules, de-duplication, alert storage):           {monitor_s:6.2f} s")
    print(f"report (read store, render HTML + Markdown, write):       {report_s:6.2f} s")
    print(f"  of which rendering the page and its four SVG figures:   {render_s:6.2f} s")


if __name__ == "__main__":
    main()
