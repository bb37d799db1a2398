"""Times the parallel part of a backfill scaled out over a work pool (``raceday backfill
--workers N``): the waves store, derive and features over every chunk, with 1, 2, … workers,
each on a fresh PostgreSQL database after the same warm-up; and, for reference, the same
stages run in this process one chunk after another (no Prefect).

    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python benchmarks/bench_scaleout.py \\
        --pg-admin postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        [--days 56] [--races 100] [--chunk-days 14] [--workers 1,2] [--out run.json]

Needs a running Prefect server (``PREFECT_API_URL``); deploys ``deploy/prefect.yaml``
(``raceday deploy``) and starts ``raceday worker --limit 1`` processes itself, with this
process's ``RACEDAY_*`` settings and the run's database, stopped after each run. The ordered
pass and training are not timed (they do not scale out). The wave-written tables' checksums
of every run are compared with the in-process run's and the result printed. Not a test:
figures go to docs/PERFORMANCE.md with the machine and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKERS_UP_S = 25.0  # workers' start (a Python process each) before the clock starts
# The tables the waves write (the rest are the ordered pass's or records).
WAVE_TABLES = (
    "races", "runners", "odds_snapshots", "reference_times", "reference_versions",
    "first3f_models", "first3f", "indexes", "track_variants", "features",
)  # fmt: skip


@contextmanager
def workers(count: int, db_url: str, logs: Path) -> Iterator[None]:
    """``count`` `raceday worker --limit 1` processes on the run's database, given
    ``WORKERS_UP_S`` to come up."""
    from tests.prefect_server_support import raceday_workers

    env = {**os.environ, "RACEDAY_DB_URL": db_url, "PREFECT_WORKER_QUERY_SECONDS": "2"}
    env["PYTHONPATH"] = str(ROOT)
    with raceday_workers(env, count, logs, f"worker-{count}"):
        time.sleep(WORKERS_UP_S)
        yield


def settings_for(db_url: str, races: int) -> Any:
    from config import load_settings
    from flows.backfill_settings import without_data_docs

    return without_data_docs(load_settings(races=races, db_url=db_url))


def wave_checksums(db_url: str) -> dict[str, str]:
    from raceday.store.models import Base
    from tests.store_support import RECORD_TABLES, TIMING_COLUMNS, data_checksums

    others = {name for name in Base.metadata.tables if name not in WAVE_TABLES}
    # the first-3F ML layer's pickle: its bytes depend on the process (the first 3F it computes
    # are compared), see tests/e2e/test_backfill_scaleout.py
    ignored = {**TIMING_COLUMNS, "first3f_models": ["created_at", "ml_model"]}
    return data_checksums(db_url, exclude=RECORD_TABLES | others, ignore_columns=ignored)


def timed_run(
    admin_url: str, spans: list[tuple[date, date]], races: int, count: int, logs: Path
) -> dict[str, Any]:
    """Warm-up, then the waves: in this process (``count`` 0) or on ``count`` workers."""
    from flows.backfill import warm_up
    from flows.chain import WAVES
    from flows.scaleout import run_waves
    from tasks.common import in_process
    from tests.store_support import fresh_postgres_database

    with fresh_postgres_database(admin_url, "raceday_bench") as db_url:
        settings = settings_for(db_url, races)
        warm_up(settings, spans[0][0])
        waves: dict[str, float] = {}
        load = os.getloadavg()[0]
        if count == 0:
            clock = time.perf_counter()
            for name, wave in WAVES.items():
                started = time.perf_counter()
                for start, end in spans:
                    wave(in_process, settings, start, end)
                waves[name] = round(time.perf_counter() - started, 1)
            seconds = time.perf_counter() - clock
        else:
            from config import use_store

            with workers(count, db_url, logs), use_store(db_url):
                load = os.getloadavg()[0]
                clock = time.perf_counter()
                run_waves(settings, spans, count, races, settings.live.odds_at)
                seconds = time.perf_counter() - clock
        return {
            "workers": count,
            "seconds": round(seconds, 1),
            "waves_s": waves,
            "load": [round(load, 1), round(os.getloadavg()[0], 1)],
            "checksums": wave_checksums(db_url),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--chunk-days", type=int, default=14)
    parser.add_argument("--start", default="2025-01-01")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--pg-admin", required=True, help="PostgreSQL URL to create databases")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    from cli.pool import require_running_server
    from flows.backfill_plan import chunk_grid

    require_running_server()
    work = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    os.environ.setdefault("RACEDAY_VAR_DIR", str(work))
    os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"] = str(args.races)
    os.environ.setdefault("RACEDAY_VALIDATION__DATA_DOCS", "false")
    deployed = subprocess.run(
        [sys.executable, "-m", "cli", "deploy"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    if deployed.returncode != 0:
        sys.exit(f"raceday deploy failed: {deployed.stderr.strip() or deployed.stdout.strip()}")
    first = date.fromisoformat(args.start)
    chunks = chunk_grid(first, first + timedelta(days=args.days - 1), args.chunk_days)
    spans = [(chunk.start, chunk.end) for chunk in chunks]
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"{machine}; {args.days} days x {args.races} races, {len(spans)} chunks", flush=True)
    runs = []
    for count in [0, *(int(n) for n in args.workers.split(","))]:
        run = timed_run(args.pg_admin, spans, args.races, count, work)
        same = run["checksums"] == runs[0]["checksums"] if runs else True
        label = f"{count} worker(s)" if count else "in-process, no Prefect"
        print(
            f"{label}: waves {run['seconds']} s {run['waves_s'] or ''} load {run['load']}; "
            f"wave tables {'equal to the in-process run' if same else 'DIFFER'}",
            flush=True,
        )
        runs.append(run)
    if args.out:
        figures = {"machine": machine, "days": args.days, "races": args.races, "runs": runs}
        args.out.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
