"""Times validation: a simulated day through every input suite, whole-frame suites at scale,
and building the Data Docs pages of a stage.

    .venv/bin/python benchmarks/bench_validation.py [--races 200] [--days 100] [--rows 1000000]
        [--day-only]

Each figure is the median of ``--repeat`` runs after one warm-up run (Great Expectations' first
use in a process costs its import and context, reported apart), as wall time and as the
process's CPU time (user + sys: the steadier of the two on a shared machine). ``--day-only``
stops after a day's two validations (card, results). Not a test: figures go to
docs/VALIDATION.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

DAY = date(2026, 11, 20)


def _median_seconds(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``repeat`` runs of ``action`` after a warm-up run."""
    action()  # warm-up: suites registered, caches filled
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=200, help="races per simulated day")
    parser.add_argument("--days", type=int, default=100, help="days of a backfill chunk")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large frame")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--day-only", action="store_true", help="only a day's card and results validations"
    )
    args = parser.parse_args()

    started, cpu_started = time.perf_counter(), time.process_time()
    import great_expectations  # noqa: F401 - timed: the lazy import every process pays once

    import_s = (time.perf_counter() - started, time.process_time() - cpu_started)

    import numpy as np

    from config.reference import circuit_venue_codes
    from data_checks.derived import check_first3f, check_predictions
    from data_checks.docs import publish
    from data_checks.frames import runner_check_frame
    from data_checks.gx_runner import run_suite
    from data_checks.suites import runner_checks
    from data_checks.validate import validate_day
    from raceday.codec import decode_races, decode_runners
    from raceday.first3f.layers import estimate_first3f
    from raceday.model.win import market_predictions
    from raceday.odds_snapshots import decode_odds_snapshot
    from raceday.pipeline import runner_view
    from raceday.ratings.standards import learn_reference_times
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.base import card_only

    config = SimulatorConfig(races_per_day=args.races)
    raw = simulate_days(DAY, DAY, config).raw
    venues = circuit_venue_codes("nar")
    rows: list[tuple[str, tuple[float, float]]] = [
        ("import great_expectations (once per process)", import_s)
    ]

    def day(phase: str) -> Callable[[], object]:
        view = card_only(raw) if phase == "card" else raw
        return lambda: validate_day(view, phase=phase, venue_codes=venues)  # type: ignore[arg-type]

    first, cpu_first = time.perf_counter(), time.process_time()
    day("results")()
    first_s = (time.perf_counter() - first, time.process_time() - cpu_first)
    rows.append(("first validate_day in a process (context, suites)", first_s))
    for phase in ("card", "results"):
        seconds = _median_seconds(day(phase), args.repeat)
        label = f"validate_day {phase}: {len(raw.nvd_ra)} races, {len(raw.nvd_se)} runners"
        rows.append((label, seconds))
    if args.day_only:
        _report(rows)
        return

    chunk = simulate_days(DAY - timedelta(days=args.days - 1), DAY, config).raw
    seconds = _median_seconds(
        lambda: validate_day(chunk, phase="results", venue_codes=venues), max(1, args.repeat - 2)
    )
    rows.append((f"validate_day results: {args.days} days, {len(chunk.nvd_se):,} runners", seconds))

    races, runners = decode_races(raw.nvd_ra), decode_runners(raw.nvd_se)
    frame = runner_check_frame(runners, raw.nvd_se, races, decode_odds_snapshot(raw.nvd_o1[:0]))
    copies = -(-args.rows // len(frame))
    large = frame.loc[np.tile(frame.index.to_numpy(), copies)[: args.rows]].reset_index(drop=True)
    copy_number = (np.arange(len(large)) // len(frame)).astype(str)
    large["race_id_if_first_copy"] = large["race_id_if_first_copy"] + copy_number
    large["row_id"] = np.arange(len(large))
    checks = runner_checks("results")
    seconds = _median_seconds(
        lambda: run_suite("runners_results", large, checks), max(1, args.repeat - 2)
    )
    rows.append((f"run_suite runners_results: {len(large):,} rows x {len(checks)}", seconds))

    valid = validate_day(raw, phase="results", venue_codes=venues)
    view = runner_view(valid.races, valid.runners)
    estimates = estimate_first3f(view, learn_reference_times(view))
    seconds = _median_seconds(lambda: check_first3f(estimates), args.repeat)
    rows.append((f"check_first3f: {len(estimates):,} estimates", seconds))
    predictions = market_predictions(
        valid.runners, valid.runners[["race_id", "umaban", "win_odds"]]
    )
    seconds = _median_seconds(lambda: check_predictions(predictions), args.repeat)
    rows.append((f"check_predictions: {len(predictions):,} probabilities", seconds))

    outcomes = valid.outcomes
    with tempfile.TemporaryDirectory(prefix="raceday-docs-") as folder:
        counter = iter(range(10_000))
        seconds = _median_seconds(
            lambda: publish(outcomes, Path(folder), "bench", f"run-{next(counter)}"), args.repeat
        )
    rows.append((f"Data Docs for one stage ({len(outcomes)} validation pages + index)", seconds))
    _report(rows)


def _report(rows: list[tuple[str, tuple[float, float]]]) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    width = max(len(label) for label, _seconds in rows)
    print(f"{'':<{width}}     wall      cpu")
    for label, (wall, cpu) in rows:
        print(f"{label:<{width}}  {wall:7.2f}  {cpu:7.2f} s")


if __name__ == "__main__":
    main()
