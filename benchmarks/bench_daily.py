"""Times one simulated 200-race day through the Prefect daily flow and the same stages called
directly (no Prefect), and prints both and their ratio.

    .venv/bin/python benchmarks/bench_daily.py [--races 200] [--date 2026-11-20]

Each variant runs on a fresh SQLite store that is already warmed up with history, so the figure
is the day itself. Not a test: figures go to docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def _settings(db_url: str, races: int):  # type: ignore[no-untyped-def]
    from config import load_settings

    return load_settings(db_url=db_url, races=races)


def _warm(db_url: str, day: date, races: int) -> None:
    """Warm-up history (not timed): the stages a first run performs before the day."""
    from raceday.store.engine import upgrade_schema
    from tasks.common import engine_for
    from tasks.ingest import ingest

    settings = _settings(db_url, races)
    upgrade_schema(engine_for(settings))
    start, end = day - timedelta(days=settings.history.warmup_days), day - timedelta(days=1)
    raw = ingest(settings, start, end)
    _settle_stages_direct(settings, raw, start, end)


def _settle_stages_direct(settings, raw, start, end):  # type: ignore[no-untyped-def]
    from raceday.pipeline import runner_view
    from tasks.derive import first3f, indexes, reference_times
    from tasks.validate import validate_and_store

    valid = validate_and_store(settings, raw, start, end, "results")
    plan, references = reference_times(settings, start, end)
    view = runner_view(valid.races, valid.runners)
    estimates = first3f(settings, view, end, references, plan)
    indexes(settings, view, end, references, plan, estimates)
    return valid


def run_direct(db_url: str, day: date, races: int) -> float:
    """The daily run's stages as plain functions (task bodies through ``.fn``)."""
    from tasks.features import day_features
    from tasks.ingest import ingest
    from tasks.monitor import monitor_day
    from tasks.predict import predict
    from tasks.record import record_day, report_day, settle
    from tasks.stake import stake
    from tasks.validate import validate_and_store

    settings = _settings(db_url, races)
    clock = time.perf_counter()
    raw = ingest(settings, day, day)
    card = validate_and_store(settings, raw, day, day, "card")
    day_features(settings, card, day)
    predictions = predict(settings, card, day)
    stake(settings, predictions, card, day)
    _settle_stages_direct(settings, raw, day, day)
    settle(settings, day)
    summary = record_day(settings, day)
    monitor_day(settings, day)
    report_day(settings, day, summary)
    return time.perf_counter() - clock


def run_flow(db_url: str, day: date, races: int) -> float:
    """The same day through ``flows.daily.daily_run`` (a Prefect flow with stage tasks)."""
    from config import use_store
    from flows.daily import daily_run

    clock = time.perf_counter()
    with use_store(db_url):
        daily_run(race_date=day, races=races)
    return time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 20))
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    work = Path(tempfile.mkdtemp(prefix="raceday-bench-"))
    os.environ["RACEDAY_VAR_DIR"] = str(work / "var")

    import data_checks.gx_runner as gx_runner

    gx_runner.gx_context()  # import Great Expectations once, outside both timings

    direct_db, flow_db = f"sqlite:///{work / 'direct.db'}", f"sqlite:///{work / 'flow.db'}"
    for db in (direct_db, flow_db):
        _warm(db, args.date, args.races)
    # The first call of each pays one-off costs (imports, Prefect's temporary server: 8-15 s),
    # so each variant runs the day twice; the second run is the steady-state figure.
    direct = [run_direct(direct_db, args.date, args.races) for _ in range(2)]
    flow = [run_flow(flow_db, args.date, args.races) for _ in range(2)]
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
        f"python {platform.python_version()}"
    )
    print(f"races per day:             {args.races}")
    print(f"stages called directly:    {direct[1]:6.2f} s  (first call {direct[0]:.2f} s)")
    print(
        f"daily_run Prefect flow:    {flow[1]:6.2f} s  (first call {flow[0]:.2f} s, "
        "includes starting Prefect's temporary server)"
    )
    print(f"flow / direct:             {flow[1] / direct[1]:6.2f}x")


if __name__ == "__main__":
    main()
