"""The boat win model on simulated days (figures in docs/BOAT.md; not a test).

Simulates ``--history`` + ``--days`` days, then for each of the last ``--days`` days fits the
model on the days before it (point in time, as ``raceday run --sport boat`` does) and scores
that day: winner log loss and pseudo-R² of the lane prior, the morning market (09:00 odds),
the model (conditional logit) and the blend, on the same races.

    PYTHONPATH=. python benchmarks/boat_model_eval.py --history 60 --days 30 --venues 6 \
        --seed 20260401
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import pandas as pd

from raceday.boat.evaluate import comparison, scored_boats
from raceday.boat.history import HISTORY_DAYS, day_boats, results_history, training_rows
from raceday.boat.model import fit_boat_model, predict_boats
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days
from raceday.model.metrics import winner_log_loss

MORNING = pd.Timestamp("09:00").time()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=60)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--venues", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args()
    first = date(2026, 1, 1)
    last = first + timedelta(days=args.history + args.days - 1)
    started = time.perf_counter()
    days = simulate_boat_days(
        first, last, BoatSimulatorConfig(seed=args.seed, venues_per_day=args.venues)
    )
    dated = pd.to_datetime
    entries = days.entries.assign(race_date=dated(days.entries["race_id"].str[:8]))
    results = days.results.assign(race_date=dated(days.results["race_id"].str[:8]))
    odds = days.odds
    scored = []
    for offset in range(args.days):
        day = first + timedelta(days=args.history + offset)
        start = pd.Timestamp(day - timedelta(days=HISTORY_DAYS))
        cut = pd.Timestamp(day)
        before = (entries["race_date"] >= start) & (entries["race_date"] < cut)
        done = (results["race_date"] >= start) & (results["race_date"] < cut)
        odds_day = dated(odds["race_id"].str[:8])
        model = fit_boat_model(
            training_rows(entries[before], results[done], odds[odds_day < cut], MORNING),
            day - timedelta(days=1),
        )
        history = results_history(entries[before], results[done])
        boats = day_boats(
            entries[entries["race_date"] == cut], odds[odds_day == cut], history, MORNING
        )
        predictions = predict_boats(model, boats)
        scored.append(scored_boats(predictions, results[results["race_date"] == cut]))
    frame = pd.concat(scored, ignore_index=True)
    # The simulator's true probabilities (never seen by the model), over the same boats.
    truth = days.truth.astype({"race_id": "string"}).rename(columns={"boat": "umaban"})
    frame = frame.merge(truth, on=["race_id", "umaban"], how="left")
    frame["p_true"] = frame["p_win"] / frame.groupby("race_id")["p_win"].transform("sum")
    figures = {
        "seed": args.seed, "history_days": args.history, "held_out_days": args.days,
        "venues": args.venues, **comparison(frame),
        "truth_log_loss": winner_log_loss(frame, "p_true"),
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
