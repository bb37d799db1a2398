"""A simulated year through the real settle stages, then ``raceday train`` and ``raceday eval
model`` on it: the figures of docs/MODEL.md.

    .venv/bin/python benchmarks/model_year.py --db var/model_year.db [--start 2025-11-01]
        [--days 365] [--races 100] [--skip-build]

The store is built the way a backfill settles history: the simulated days go in two weeks at a
time (races, runners and the morning odds snapshot), then the real ``reference_times``,
``first3f`` and ``indexes`` task bodies run on each chunk (point in time: each chunk's reference
times are learned from the days before it). Then ``raceday train --until LAST --json`` and
``raceday eval model --start --end --json`` run as a user runs them; their JSON and timings are
written next to the store. Not a test: the figures go to docs/MODEL.md with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

CHUNK_DAYS = 14


def build_store(db_url: str, start: date, end: date, races: int) -> None:
    """Simulate ``start..end`` and settle it chunk by chunk into a fresh store."""
    from config import load_settings
    from raceday import codec, odds_snapshots
    from raceday.pipeline import runner_view
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.timeline import CardTiming, card_odds
    from raceday.store.catalogs.races import write_odds, write_races_and_runners
    from raceday.store.engine import make_engine, upgrade_schema
    from tasks.derive import first3f, indexes, reference_times

    settings = load_settings(db_url=db_url)
    engine = make_engine(db_url)
    upgrade_schema(engine)
    config = SimulatorConfig(races_per_day=races)
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS - 1), end)
        clock = time.perf_counter()
        raw = simulate_days(chunk_start, chunk_end, config).raw
        races_frame, runners = codec.decode_races(raw.nvd_ra), codec.decode_runners(raw.nvd_se)
        snapshot = odds_snapshots.decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
        snapshot = snapshot[snapshot["win_odds"] >= 1.0]
        with engine.begin() as connection:
            write_races_and_runners(
                connection, races_frame, runners, has_results=True, source="sim"
            )
            write_odds(connection, snapshot, runners)
        plan, references = reference_times(settings, chunk_start, chunk_end)
        view = runner_view(races_frame, runners)
        estimates = first3f(settings, view, chunk_end, references, plan)
        indexes(settings, view, chunk_end, references, plan, estimates)
        print(
            f"settled {chunk_start}..{chunk_end}: {len(races_frame)} races "
            f"({time.perf_counter() - clock:.1f} s)",
            flush=True,
        )
        chunk_start = chunk_end + timedelta(days=1)


def raceday(*args: str, env: dict[str, str]) -> tuple[dict[str, object], float]:
    """Run the ``raceday`` command with ``--json``; its JSON and wall time."""
    clock = time.perf_counter()
    command = [str(Path(sys.executable).with_name("raceday")), *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - clock
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("var/model_year.db"))
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 11, 1))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--skip-build", action="store_true", help="reuse the store at --db")
    args = parser.parse_args()
    end = args.start + timedelta(days=args.days - 1)
    db_url = f"sqlite:///{args.db.resolve()}"
    build_seconds = None
    if not args.skip_build:
        args.db.parent.mkdir(parents=True, exist_ok=True)
        args.db.unlink(missing_ok=True)
        clock = time.perf_counter()
        build_store(db_url, args.start, end, args.races)
        build_seconds = time.perf_counter() - clock
    env = {**os.environ, "RACEDAY_SIMULATOR__RACES_PER_DAY": str(args.races)}
    trained, train_seconds = raceday("train", "--until", end.isoformat(), "--db", db_url, env=env)
    split = trained["split"]
    assert isinstance(split, dict)
    evaluated, eval_seconds = raceday(
        "eval", "model", "--start", str(split["eval_start"]), "--end", end.isoformat(),
        "--version", str(trained["version"]), "--db", db_url, env=env,
    )  # fmt: skip
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "simulated": {
            "start": args.start.isoformat(),
            "end": end.isoformat(),
            "races_per_day": args.races,
        },
        "build_seconds": build_seconds,
        "train_seconds": round(train_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "train": trained,
        "eval": evaluated,
    }
    out = args.db.with_suffix(".json")
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("machine", "simulated", "build_seconds",
                      "train_seconds", "eval_seconds")}, default=str))  # fmt: skip
    print(f"written {out}")


if __name__ == "__main__":
    main()
