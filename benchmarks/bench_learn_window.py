"""Times what a backfill's learning thread does for each chunk (:func:`tasks.derive.learn_beside`):
the reference times and the first-3F model learned from the history window before a day, on a
stored year. The window is read once (not timed); the learning is timed ``--repeat`` times and
the fastest and every run printed.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_learn_window.py --db sqlite:///F.db
        [--before 2025-12-01] [--days 365] [--repeat 3]

``--db``: a store a backfill filled (``bench_backfill.py --days 365 ... --db``). Run it from
two checkouts one after the other (main, branch, branch, main) to compare them: the window
and the learning are the same code paths as the backfill's. Not a test: figures go to
docs/PERFORMANCE.md with the machine and its load.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from config import Settings
from raceday.first3f.model import FitOptions, fit_first3f_model
from raceday.ratings.standards import learn_reference_times
from raceday.store.catalogs.races import runner_history
from raceday.store.engine import make_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a filled store's URL")
    parser.add_argument("--before", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--days", type=int, default=365, help="the window's days")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    end = args.before - timedelta(days=1)
    with make_engine(args.db).connect() as connection:
        history = runner_history(connection, end - timedelta(days=args.days - 1), end)
    print(f"window: {len(history)} runner rows, {end - timedelta(days=args.days - 1)}..{end}")
    options = FitOptions(**Settings().first3f.model_dump())  # as the backfill fits it
    runs = []
    for _ in range(args.repeat):
        clock = time.perf_counter()
        references = learn_reference_times(history)
        learned = time.perf_counter()
        fit_first3f_model(history, references, "bench", options)
        done = time.perf_counter()
        runs.append((learned - clock, done - learned, done - clock))
        print(
            f"reference times {runs[-1][0]:.2f} s, first-3F model {runs[-1][1]:.2f} s, "
            f"together {runs[-1][2]:.2f} s"
        )
    print(f"fastest: {min(run[2] for run in runs):.2f} s")


if __name__ == "__main__":
    main()
