"""Race time's latency: from reading a race's odds to its ticket written, one race at a time in
a warm process, without Prefect and inside a ``race`` flow run; and Prefect's own share.

    .venv/bin/python benchmarks/bench_race_latency.py [--races 40] [--seed 20261121]

A simulated NAR circuit (``--races`` a day) is written as files; 60 days are stored as history
and a model is trained on them (short windows: 14/7/7 days) and promoted by the benchmark even
when it does not beat the market on so short a history (its predictions' cost is measured, not
their quality). Then one day is replayed race by race in-process (every stage a function call)
and the next one with each race as its own ``race`` flow run (a temporary Prefect server, as the
CLI starts). Figures: each race's ``race_decisions.latency_s`` (odds read → ticket written: the
odds read, prediction, staking, checks and the one transaction), and for the flow runs the wall
time of each ``race(...)`` call (Prefect's flow run and two task runs included).
Not a test: the figures go to docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HISTORY_DAYS = 60
SHORT_WINDOWS = {
    "RACEDAY_HISTORY__WARMUP_DAYS": str(HISTORY_DAYS),
    "RACEDAY_TRAIN__TRAIN_DAYS": "14",
    "RACEDAY_TRAIN__BLEND_DAYS": "7",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "7",
    "RACEDAY_TRAIN__MIN_RACES": "60",
    "RACEDAY_TRAIN__MAX_ITER": "30",
    "RACEDAY_VALIDATION__DATA_DOCS": "false",
}


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def _latencies(db_url: str, day: date) -> list[float]:
    from sqlalchemy import select

    from raceday.store.catalogs.decisions import DECISIONS
    from raceday.store.engine import make_engine

    with make_engine(db_url).connect() as connection:
        rows = connection.execute(
            select(DECISIONS.c.latency_s).where(DECISIONS.c.race_date == day)
        ).all()
    return [float(value) for (value,) in rows if value is not None]


def _promote_newest(db_url: str) -> str:
    """Promote the version just trained whether or not it beat the market on its held-out
    days (on this short history it may not): the latency of a model's predictions is measured
    here, not its quality."""
    from datetime import datetime

    from sqlalchemy import select, update

    from raceday.store.engine import make_engine
    from raceday.store.registry import MODEL_VERSIONS

    with make_engine(db_url).begin() as connection:
        name = connection.execute(
            select(MODEL_VERSIONS.c.name).order_by(MODEL_VERSIONS.c.trained_until.desc())
        ).scalar_one()
        connection.execute(
            update(MODEL_VERSIONS)
            .where(MODEL_VERSIONS.c.name == name)
            .values(promoted=True, promoted_at=datetime.now())
        )
    return str(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    os.environ.update(SHORT_WINDOWS)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    from cli.prefect_server import prefect_api
    from config import load_settings, use_store
    from flows.live import _REPLAYS, card_stages, live_day_in_process, race
    from raceday.racetime import timetable
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.files import write_tables
    from tasks.common import in_process

    work = Path(tempfile.mkdtemp(prefix="bench-race-latency-"))
    first = date(2025, 6, 1)
    model_day, direct_day, flow_day = (first + timedelta(days=HISTORY_DAYS + k) for k in range(3))
    simulated = simulate_days(
        first, flow_day, SimulatorConfig(seed=args.seed, races_per_day=args.races)
    )
    write_tables(simulated.raw, work / "files", "csv")
    db_url = f"sqlite:///{work / 'bench.db'}"
    settings = load_settings(db_url=db_url, source=f"files:{work / 'files'}")

    with use_store(db_url):
        started = time.perf_counter()
        live_day_in_process(settings, model_day, replay=True)  # history stored, no model yet
        # Trained in a process of its own: the booster's worker threads keep spinning for a
        # while after a fit and would slow the races measured next in this process.
        train = [sys.executable, "-m", "cli", "train", "--until", model_day.isoformat()]
        subprocess.run([*train, "--db", db_url, "--json"], check=True, capture_output=True)
        version = _promote_newest(db_url)
        print(f"history and model: {time.perf_counter() - started:.0f} s, {version}")

        live_day_in_process(settings, direct_day, replay=True)
        direct = _latencies(db_url, direct_day)

        day, raw = card_stages(in_process, settings, flow_day, by_venue=False)
        _REPLAYS[(settings.database_url, flow_day)] = raw
        slots = timetable(day.card.races, settings.live.lead_minutes, 2).slots
        walls = []
        with prefect_api():
            for slot in slots:
                began = time.perf_counter()
                race(slot.race_id, flow_day, replay_at=slot.decide_at)
                walls.append(time.perf_counter() - began)
        in_flow = _latencies(db_url, flow_day)

    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores")
    print(f"{args.races} races a day, seed {args.seed}, model {version}")
    print(f"in-process, odds read -> ticket written: {_quantiles(direct)} ({len(direct)} races)")
    print(f"in a race flow run, odds read -> ticket written: {_quantiles(in_flow)}")
    print(f"race flow run, whole call: {_quantiles(walls)}")
    share = 1 - statistics.median(direct) / statistics.median(walls)
    print(f"Prefect's share of a race flow run (median): {share:.0%}")


if __name__ == "__main__":
    main()
