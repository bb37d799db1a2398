"""How a day's stages grow with the history stored: for each store length, a fresh SQLite store
warmed with that many simulated days, the day the warm-up serves run once, then the next day
run and measured per stage: stage time (``pipeline_runs.duration_s``), CPU time of the process
inside the stage, and rows fetched from the store while the stage was the last one started.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_day_history.py --days 30 180 [--window-days 90]

The next day is the first to need a reference-time version the warm-up did not learn (its
history ends the day before), as every day of a live store is. Rows are counted at the SQLite
cursor (every fetch), so they do not depend on the machine's load; the times do. A stage's CPU
includes the stages it runs inside it (``screen`` validates the card and the results). Not a
test: figures go to docs/PERFORMANCE.md with the machine and load they came from.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROWS: defaultdict[str, int] = defaultdict(int)
CPU: defaultdict[str, float] = defaultdict(float)


class CountingCursor(sqlite3.Cursor):
    """A cursor that adds every row it fetches to the stage running now."""

    def _count(self, rows: int) -> None:
        from tasks import common

        ROWS[str(common.running_stage()[0] or "-")] += rows

    def fetchall(self) -> list[Any]:
        rows = super().fetchall()
        self._count(len(rows))
        return rows

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = super().fetchmany() if size is None else super().fetchmany(size)
        self._count(len(rows))
        return rows

    def fetchone(self) -> Any:
        row = super().fetchone()
        self._count(row is not None)
        return row


class CountingConnection(sqlite3.Connection):
    def cursor(self, factory: Any = CountingCursor) -> Any:
        return super().cursor(factory)


def _instrument() -> None:
    """Count rows at the SQLite cursor and CPU per stage (before the stages are imported)."""
    import raceday.store.engine as engine
    from tasks import common

    plain_args, plain_stage_run = engine.connect_args, common.stage_run

    def counting_args(url: Any) -> dict[str, Any]:
        args: dict[str, Any] = dict(plain_args(url))
        if url.get_backend_name() == "sqlite":
            args["factory"] = CountingConnection
        return args

    @contextlib.contextmanager
    def cpu_stage_run(settings: Any, stage: str, race_date: date) -> Iterator[Any]:
        clock = time.process_time()
        try:
            with plain_stage_run(settings, stage, race_date) as record:
                yield record
        finally:
            CPU[stage] += time.process_time() - clock

    engine.connect_args = counting_args
    common.stage_run = cpu_stage_run


def measure(days: int, day: date, folder: Path) -> dict[str, Any]:
    """Warm a store with ``days`` days before ``day``, run ``day``, then measure ``day + 1``."""
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_daily
    from sqlalchemy import text

    from raceday.store.engine import make_engine

    os.environ["RACEDAY_HISTORY__WARMUP_DAYS"] = str(days)
    url = f"sqlite:///{folder / f'history-{days}.db'}"
    bench_daily._warm(url, day, 200)
    bench_daily.run_direct(url, day, 200)
    ROWS.clear()
    CPU.clear()
    load = os.getloadavg()[0]
    cpu = time.process_time()
    wall = bench_daily.run_direct(url, day + timedelta(days=1), 200)
    cpu = time.process_time() - cpu
    query = "select stage, duration_s from pipeline_runs where race_date = :d"
    with make_engine(url).connect() as connection:
        rows = connection.execute(text(query), {"d": str(day + timedelta(days=1))}).all()
        stages: dict[str, float] = {str(stage): float(seconds) for stage, seconds in rows}
        version = connection.execute(
            text("select version, history_start, history_end, n_races from reference_versions"
                 " order by history_end desc limit 1")
        ).one()  # fmt: skip
    return {
        "days_stored": days,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "load_at_start": round(load, 1),
        "reference_version": [str(value) for value in version],
        "stages": {
            stage: {
                "duration_s": round(float(seconds), 2),
                "cpu_s": round(CPU.get(stage, 0.0), 2),
                "rows_fetched": ROWS.get(stage, 0),
            }
            for stage, seconds in sorted(stages.items(), key=lambda item: -float(item[1]))
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[30, 180])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--window-days", type=int, default=None, help="reference window")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    if args.window_days is not None:
        os.environ["RACEDAY_HISTORY__REFERENCE_WINDOW_DAYS"] = str(args.window_days)
    _instrument()
    with tempfile.TemporaryDirectory() as folder:
        figures = [measure(days, args.date, Path(folder)) for days in args.days]
    for figure in figures:
        head = f"{figure['days_stored']} days stored: wall {figure['wall_s']} s"
        print(f"{head}, CPU {figure['cpu_s']} s, load {figure['load_at_start']}")
        print(f"  reference version (version, start, end, races): {figure['reference_version']}")
        for stage, row in figure["stages"].items():
            seconds, cpu, rows = row["duration_s"], row["cpu_s"], row["rows_fetched"]
            print(f"  {stage:18} {seconds:7.2f} s  CPU {cpu:6.2f} s  rows {rows:>9,}")
    if args.out is not None:
        args.out.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
