"""The simulator alone: ``simulate_days`` over a range of days, wall clock and CPU.

    .venv/bin/python benchmarks/bench_simulate.py [--start 2025-01-01] [--days 28]
        [--races 200] [--repeats 3] [--circuit nar] [--profile clean]

One warm-up call first (the population and the calendar are cached per process, as in a
backfill), then ``--repeats`` timed runs of the whole range; prints the minimum and every
run's wall clock, the minimum CPU time of the process, and the load average (on a shared
machine CPU time is the steadier figure). Not a test: the figures go to commit messages
and docs/PERFORMANCE.md with the machine.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--circuit", default="nar")
    parser.add_argument("--profile", default="clean")
    arguments = parser.parse_args()

    config = SimulatorConfig(
        races_per_day=arguments.races, circuit=arguments.circuit, profile=arguments.profile
    )
    end = arguments.start + timedelta(days=arguments.days - 1)
    simulate_days(arguments.start, arguments.start + timedelta(days=1), config)  # warm caches
    walls, cpus = [], []
    for _ in range(arguments.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        simulated = simulate_days(arguments.start, end, config)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        f"simulate_days {arguments.start}..{end} ({arguments.days} days x {arguments.races} "
        f"races, {arguments.circuit}/{arguments.profile}): {len(simulated.raw.nvd_se):,} runners; "
        f"wall min {min(walls):.2f} s ({', '.join(f'{w:.2f}' for w in walls)}), "
        f"CPU min {min(cpus):.2f} s; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
