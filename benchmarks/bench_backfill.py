"""Times a backfill of simulated days on a fresh store (the empty store's 60-day warm-up included).

    .venv/bin/python benchmarks/bench_backfill.py [--days 365] [--races 200] [--chunk-days 28]
        [--db URL] [--direct] [--profile out.prof]

``--direct`` runs the chunks through the stage chain in-process, without Prefect
(``flows.chain.chunk_chain``), which is what ``--profile`` (cProfile) needs. ``--db`` takes
a PostgreSQL URL of an empty database.
Not a test: figures go to docs/PERFORMANCE.md and docs/OPERATIONS.md with the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--chunk-days", type=int, default=28)
    parser.add_argument("--start", default="2025-01-01")
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--direct", action="store_true", help="no Prefect: stage functions only")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output (direct)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    os.environ.setdefault("RACEDAY_VAR_DIR", str(work))
    os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"] = str(args.races)
    db_url = args.db or f"sqlite:///{work / 'raceday.db'}"
    start = date.fromisoformat(args.start)
    end = start + timedelta(days=args.days - 1)
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    store = db_url.split(":")[0]
    print(
        f"{machine}, load {os.getloadavg()[0]:.1f}; {args.days} days x {args.races} races, "
        f"chunks of {args.chunk_days} days, store {store}",
        flush=True,
    )
    clock = time.perf_counter()
    if args.direct or args.profile:
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        totals = _warm_and_direct(start, end, args.races, args.chunk_days, db_url)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        result: dict[str, object] = dict(totals)
    else:
        from config import use_store
        from flows.backfill import backfill

        with use_store(db_url):
            result = backfill(start=start, end=end, races=args.races, chunk_days=args.chunk_days)
    seconds = time.perf_counter() - clock
    print(result)
    print(f"total {seconds:.1f} s = {seconds / 60:.2f} min; load now {os.getloadavg()[0]:.1f}")


def _warm_and_direct(
    start: date, end: date, races: int, chunk_days: int, db_url: str
) -> dict[str, int]:
    """The empty store's warm-up as the flow does it, then the chunks, all without Prefect."""
    from config import load_settings
    from flows.backfill import after_chunk, chunk_grid, warm_up, without_data_docs
    from flows.chain import chunk_chain
    from raceday.store.catalogs.ratings import SettledRuns
    from tasks.common import in_process

    settings = without_data_docs(load_settings(races=races, db_url=db_url))
    clock = time.perf_counter()
    warm_up(settings, start)
    print(f"warm-up {time.perf_counter() - clock:.1f} s", flush=True)
    totals = {"races": 0, "runners": 0, "bets": 0}
    chunks = chunk_grid(start, end, chunk_days)
    settled = SettledRuns()
    for number, chunk in enumerate(chunks, 1):
        clock = time.perf_counter()
        counts = chunk_chain(in_process, settings, chunk.start, chunk.end, chunk.days, settled)
        print(f"chunk {number}/{len(chunks)} {chunk.start}..{chunk.end}: "
              f"{time.perf_counter() - clock:.1f} s", flush=True)  # fmt: skip
        for key in totals:
            totals[key] += counts[key]
        clock = time.perf_counter()
        trained = after_chunk(settings, chunk.end, settled)
        if trained is not None:
            print(f"  trained {trained['version']} ({trained['reason']}): "
                  f"{time.perf_counter() - clock:.1f} s", flush=True)  # fmt: skip
    return totals


if __name__ == "__main__":
    main()
