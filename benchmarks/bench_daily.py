"""Times one simulated 200-race day through the Prefect daily flow and the same stage chain
called directly (no Prefect), and prints both, their ratio and the stage time per stage.

    .venv/bin/python benchmarks/bench_daily.py [--races 200] [--date 2026-11-20] [--repeat 1]
        [--profile direct.prof] [--out run.json] [--previous run.json] [--no-flow]

Each variant runs on a fresh SQLite store that is already warmed up with history, so the figure
is the day itself. The direct variant is ``flows.chain.daily_chain`` in-process (the stages the
flow runs as task runs, in the same order, with the same screening); the flow variant is
``flows.daily.daily_run``. Each runs the day once to pay one-off costs (imports, GX suites,
Prefect's temporary server), then ``--repeat`` times more; with more than one, the run of median
stage time is reported (on a shared machine a single run can be off by half).

After the runs it prints the stage time per stage of the reported run as the store recorded it
(``pipeline_runs``, as ``bench_backfill.py`` does) and their totals. ``--profile``
writes a cProfile of the direct variant's second run; ``--out`` writes the figures as JSON;
``--previous`` reads such a file (an earlier run, e.g. of the commit before a change, side by
side on the same machine) and prints each figure's ratio to it.
Not a test: figures go to docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def _settings(db_url: str, races: int):  # type: ignore[no-untyped-def]
    from config import load_settings

    return load_settings(db_url=db_url, races=races)


def _warm(db_url: str, day: date, races: int) -> None:
    """Warm-up history (not timed): the stages a first run performs before the day."""
    from flows.chain import settle_chain
    from raceday.store.engine import upgrade_schema
    from tasks.common import engine_for, in_process
    from tasks.ingest import ingest

    settings = _settings(db_url, races)
    upgrade_schema(engine_for(settings))
    start, end = day - timedelta(days=settings.history.warmup_days), day - timedelta(days=1)
    settle_chain(in_process, settings, ingest(settings, start, end), start, end)


def run_direct(db_url: str, day: date, races: int) -> float:
    """The daily run's stage chain in-process (``daily_chain``: no Prefect)."""
    from flows.chain import daily_chain
    from tasks.common import in_process
    from tasks.ingest import ingest

    settings = _settings(db_url, races)
    clock = time.perf_counter()
    daily_chain(in_process, settings, ingest(settings, day, day), day)
    return time.perf_counter() - clock


def run_flow(db_url: str, day: date, races: int) -> float:
    """The same day through ``flows.daily.daily_run`` (a Prefect flow with stage tasks)."""
    from config import use_store
    from flows.daily import daily_run

    clock = time.perf_counter()
    with use_store(db_url):
        daily_run(race_date=day, races=races)
    return time.perf_counter() - clock


def _stage_seconds(db_url: str, day: date) -> dict[str, float]:
    """Stage time per stage of the day's latest run, as the store recorded it."""
    from sqlalchemy import select

    from raceday.store.catalogs.runs import RUNS
    from raceday.store.engine import make_engine

    query = (
        select(RUNS.c.stage, RUNS.c.duration_s)
        .where(RUNS.c.race_date == day)
        .order_by(RUNS.c.duration_s.desc())
    )
    with make_engine(db_url).connect() as connection:
        rows = connection.execute(query)
        return {str(stage): round(float(seconds), 3) for stage, seconds in rows}


def _ratio(now: float, before: Any) -> str:
    return f"  ({now / before:.2f}x the previous {before})" if before else ""


def _print_variant(name: str, figures: dict[str, Any], before: dict[str, Any]) -> None:
    stages = figures["stages_s"]
    earlier = before.get("stages_s", {})
    print(
        f"{name}: wall {figures['wall_s']:.2f} s{_ratio(figures['wall_s'], before.get('wall_s'))} "
        f"(first call {figures['first_call_s']:.2f} s)"
    )
    total = figures["stage_total_s"]
    every = ", ".join(f"{seconds:.2f}" for seconds in figures["stage_totals_s"])
    print(f"  stage time {total:.2f} s{_ratio(total, before.get('stage_total_s'))}; runs: {every}")
    for stage, seconds in stages.items():
        print(f"    {stage:<20} {seconds:7.3f}{_ratio(seconds, earlier.get(stage))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--profile", type=Path, default=None, help="cProfile of direct run 2")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--previous", type=Path, default=None, help="figures to compare with")
    parser.add_argument("--no-flow", action="store_true", help="the direct variant only")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs after the first")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    work = Path(tempfile.mkdtemp(prefix="raceday-bench-"))
    os.environ["RACEDAY_VAR_DIR"] = str(work / "var")
    load_before = os.getloadavg()[0]

    import data_checks.gx_runner as gx_runner

    gx_runner.gx_context()  # import Great Expectations once, outside both timings

    variants = {"direct": f"sqlite:///{work / 'direct.db'}"}
    if not args.no_flow:
        variants["flow"] = f"sqlite:///{work / 'flow.db'}"
    for db in variants.values():
        _warm(db, args.date, args.races)
    figures: dict[str, Any] = {
        "command": f"--races {args.races} --date {args.date} --repeat {args.repeat}",
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
        f"python {platform.python_version()}",
    }
    for name, db in variants.items():
        run = run_direct if name == "direct" else run_flow
        first = run(db, args.date, args.races)
        profiler = cProfile.Profile() if args.profile and name == "direct" else None
        runs = []
        for _ in range(max(args.repeat, 1)):
            if profiler:
                profiler.enable()
            wall = run(db, args.date, args.races)
            if profiler:
                profiler.disable()
            stages = _stage_seconds(db, args.date)
            total = round(sum(stages.values()), 3)
            runs.append({"wall_s": round(wall, 3), "stage_total_s": total, "stages_s": stages})
        if profiler:
            profiler.dump_stats(args.profile)
        median = sorted(runs, key=lambda one: one["stage_total_s"])[(len(runs) - 1) // 2]
        figures[name] = {
            "first_call_s": round(first, 3),
            **median,
            "stage_totals_s": [one["stage_total_s"] for one in runs],
        }
    figures["load"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]

    previous = json.loads(args.previous.read_text()) if args.previous else {}
    print(figures["machine"])
    print(f"races per day: {args.races}; load {figures['load'][0]} → {figures['load'][1]}")
    for name in variants:
        _print_variant(name, figures[name], previous.get(name, {}))
    if "flow" in figures:
        direct, flow = figures["direct"], figures["flow"]
        print(f"flow / direct: wall {flow['wall_s'] / direct['wall_s']:.2f}x, "
              f"stage time {flow['stage_total_s'] / direct['stage_total_s']:.2f}x")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
