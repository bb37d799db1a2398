"""Times a backfill of simulated days on a fresh store (the empty store's 60-day warm-up included).

    .venv/bin/python benchmarks/bench_backfill.py [--days 365] [--races 200] [--chunk-days K]
        [--start YYYY-MM-DD] [--db URL] [--direct] [--profile out.prof] [--out run.json]
        [--previous run.json]

The days run from ``--start`` (default: ``--days`` days before today in Japan, so the last is
yesterday) and may not end after today: a backfill replays days that have run, and a later
day's card (more than 2 days ahead: ``card_not_too_far_ahead``) or results fail validation.
Give ``--start`` to compare runs made on different days (the simulated days follow their
dates; the figures measured before 2026-12-04 ran from ``--start 2025-01-01``).

Without ``--chunk-days`` the chunks are the command's default (``raceday backfill``'s), and so
is everything else: retraining cadence, the fit's threads (``RACEDAY_*`` settings of the
environment apply, as for the command). ``--direct`` runs the chunks through the stage chain
in-process, without Prefect (``flows.chain.chunk_chain``), which is what ``--profile``
(cProfile) needs; without it the ``backfill`` flow runs, as the command does. ``--db`` takes a
PostgreSQL URL of an empty database.

After the run it prints the wall clock, the peak RSS, the RSS trace (the highest resident set
sampled each second during each phase of the run: the warm-up, each chunk, each chunk's
training; Linux ``/proc/self/status``), and the stage time per stage as recorded in the store
(``pipeline_runs``: every chunk's and training's stages summed). ``--out`` writes
these figures as JSON; ``--previous`` reads such a file (an earlier run, e.g. of the commit
before a change, back to back on the same machine) and prints each figure's ratio to it.
Not a test: figures go to docs/PERFORMANCE.md and docs/OPERATIONS.md with the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--chunk-days", type=int, default=None, help="default: the command's")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day (default: --days days before today in Japan: the last is yesterday)",
    )
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--direct", action="store_true", help="no Prefect: stage functions only")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output (direct)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--previous", type=Path, default=None, help="figures to compare with")
    args = parser.parse_args()

    from flows.backfill import DEFAULT_CHUNK_DAYS
    from raceday.japan_time import today_in_japan

    today = today_in_japan()
    start: date = args.start or today - timedelta(days=args.days)
    end = start + timedelta(days=args.days - 1)
    if end > today:
        parser.error(
            f"--start {start} with --days {args.days} ends {end}, after today in Japan ({today}):"
            " a backfill replays days that have run (give an earlier --start or fewer --days)"
        )
    chunk_days = args.chunk_days or DEFAULT_CHUNK_DAYS
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    os.environ.setdefault("RACEDAY_VAR_DIR", str(work))
    os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"] = str(args.races)
    db_url = args.db or f"sqlite:///{work / 'raceday.db'}"
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    store = db_url.split(":")[0]
    load_before = os.getloadavg()[0]
    print(
        f"{machine}, load {load_before:.1f}; {args.days} days from {start} x {args.races} races, "
        f"chunks of {chunk_days} days, store {store}, {'direct' if args.direct else 'flow'}",
        flush=True,
    )
    trace = RssTrace()
    trace.start()
    clock = time.perf_counter()
    if args.direct or args.profile:
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        totals = _warm_and_direct(start, end, args.races, chunk_days, db_url)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        result: dict[str, object] = dict(totals)
    else:
        from config import use_store
        from flows.backfill import backfill

        with use_store(db_url):
            result = backfill(start=start, end=end, races=args.races, chunk_days=chunk_days)
    seconds = time.perf_counter() - clock
    trace.stop()
    print(result)
    figures = {
        "command": f"--days {args.days} --start {start} --races {args.races} "
        f"--chunk-days {chunk_days}" + (" --direct" if args.direct else ""),
        "store": store,
        "machine": machine,
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "total_s": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_by_phase_mb": trace.peak_by_phase(),
        "stages_s": _stage_seconds(db_url),
        "result": {key: value for key, value in result.items() if isinstance(value, int)},
    }
    previous = json.loads(args.previous.read_text()) if args.previous else None
    _print_figures(figures, previous)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1))


def _resident_mb() -> float:
    """This process's resident set now (MB; 0 where /proc is not there)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kilobytes) / 1024


class RssTrace(threading.Thread):
    """Samples the resident set each ``every`` seconds and keeps the highest of each phase of
    the backfill (``flows.backfill.PHASE``: the warm-up, chunk k/n, after chunk k/n)."""

    def __init__(self, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.peaks: dict[str, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        from flows.backfill import PHASE

        while not self._done.wait(self.every):
            phase, resident = PHASE["now"], _resident_mb()
            self.peaks[phase] = max(self.peaks.get(phase, 0.0), resident)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def peak_by_phase(self) -> dict[str, int]:
        return {phase: round(peak) for phase, peak in self.peaks.items()}


def _stage_seconds(db_url: str) -> dict[str, float]:
    """Stage time per stage as the store recorded it (every day, chunk and training summed)."""
    from sqlalchemy import func, select

    from raceday.store.catalogs.runs import RUNS
    from raceday.store.engine import make_engine

    query = (
        select(RUNS.c.stage, func.sum(RUNS.c.duration_s))
        .group_by(RUNS.c.stage)
        .order_by(func.sum(RUNS.c.duration_s).desc())
    )
    with make_engine(db_url).connect() as connection:
        return {str(stage): round(float(total), 1) for stage, total in connection.execute(query)}


def _ratio(now: float, before: Any) -> str:
    return f" ({now / before:.2f}x the previous {before})" if before else ""


def _print_figures(figures: dict[str, Any], previous: dict[str, Any] | None) -> None:
    before = previous or {}
    total = figures["total_s"]
    print(
        f"total {total:.1f} s = {total / 60:.2f} min{_ratio(total, before.get('total_s'))}; "
        f"load now {figures['load'][1]}; peak RSS {figures['peak_rss_mb']} MB"
        f"{_ratio(figures['peak_rss_mb'], before.get('peak_rss_mb'))}"
    )
    print("highest RSS by phase (MB): " + ", ".join(
        f"{phase} {peak}" for phase, peak in figures.get("rss_by_phase_mb", {}).items()
    ))  # fmt: skip
    print("stage time recorded in pipeline_runs (s):")
    earlier = before.get("stages_s", {})
    for stage, stage_seconds in figures["stages_s"].items():
        print(f"  {stage:<22} {stage_seconds:8.1f}{_ratio(stage_seconds, earlier.get(stage))}")


def _warm_and_direct(
    start: date, end: date, races: int, chunk_days: int, db_url: str
) -> dict[str, int]:
    """The empty store's warm-up as the flow does it, then the chunks, all without Prefect."""
    from config import load_settings
    from flows.backfill import PHASE, chunk_preparer, run_chunks, warm_up
    from flows.backfill_plan import Chunk, chunk_grid
    from flows.backfill_settings import without_data_docs
    from flows.chain import PreparedChunk, chunk_chain
    from raceday.store.catalogs.ratings import SettledRuns
    from tasks.common import in_process

    settings = without_data_docs(load_settings(races=races, db_url=db_url))
    clock = time.perf_counter()
    PHASE["now"] = "warm-up"
    warm_up(settings, start)
    print(f"warm-up {time.perf_counter() - clock:.1f} s", flush=True)
    chunks = chunk_grid(start, end, chunk_days)
    settled = SettledRuns.for_training(
        settings.train.window_days(), settings.features.backfill_held_days
    )

    def run_chunk(
        chunk: Chunk, model_ready: Callable[[], object], prepared: Future[PreparedChunk] | None
    ) -> dict[str, int]:
        clock = time.perf_counter()
        days = (chunk.start, chunk.end, chunk.days)
        counts = chunk_chain(in_process, settings, *days, settled, model_ready, prepared)
        print(f"chunk {chunk.start}..{chunk.end}: {time.perf_counter() - clock:.1f} s "
              "(the training before it and the next chunk prepared beside it included)",
              flush=True)  # fmt: skip
        return counts

    # trainings overlapped, and the chunks prepared ahead, as the flow does
    done = run_chunks(settings, chunks, settled, run_chunk, chunk_preparer(settings, settled))
    print(f"trained {', '.join(done.versions) or 'nothing'}", flush=True)
    return {key: done.totals[key] for key in ("races", "runners", "bets")}


if __name__ == "__main__":
    main()
