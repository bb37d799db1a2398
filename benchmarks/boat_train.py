"""One boat training on simulated days, as ``raceday train --sport boat`` does it in-process
(figures in docs/BOAT.md "Training"; not a test): the training rows of the split (features and
morning market of each row's own day), the fit, the held-out judgement against the baseline.

    PYTHONPATH=. python benchmarks/boat_train.py --days 194 --venues 13 --evaluate-days 14
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import pandas as pd

from raceday.boat.history import training_rows
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days
from raceday.boat.training import boat_split, fit_boat_version, held_out_evaluation

MORNING = pd.Timestamp("09:00").time()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=194)
    parser.add_argument("--venues", type=int, default=13)
    parser.add_argument("--evaluate-days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args()
    first = date(2026, 1, 1)
    until = first + timedelta(days=args.days - 1)
    clock = time.perf_counter()
    days = simulate_boat_days(
        first, until, BoatSimulatorConfig(seed=args.seed, venues_per_day=args.venues)
    )
    entries = days.entries.assign(race_date=pd.to_datetime(days.entries["race_id"].str[:8]))
    results = days.results.assign(race_date=pd.to_datetime(days.results["race_id"].str[:8]))
    simulated = time.perf_counter() - clock
    clock = time.perf_counter()
    rows = training_rows(entries, results, days.odds, MORNING)
    loaded = time.perf_counter() - clock
    clock = time.perf_counter()
    split = boat_split(until, args.days - args.evaluate_days, args.evaluate_days)
    fitted = fit_boat_version(rows, split, min_races=300)
    evaluation = held_out_evaluation(fitted.held_out)
    fit = time.perf_counter() - clock
    figures = {
        "days": args.days, "venues": args.venues, "seed": args.seed, "rows": len(rows),
        "fit_races": fitted.fit_races, "split": split.to_dict(),
        **{key: value for key, value in evaluation.items() if key != "priced"},
        "seconds": {"simulate": round(simulated, 1), "training_rows": round(loaded, 1),
                    "fit_and_judge": round(fit, 1)},
    }  # fmt: skip
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
