"""The boat win model on simulated days (figures in docs/BOAT.md; not a test).

Simulates ``--history`` + ``--days`` days, then for each of the last ``--days`` days fits the
model on the days before it (point in time, as ``raceday run --sport boat`` does) and scores
that day: winner log loss and pseudo-R² of the lane prior, the morning market (09:00 odds),
the model (conditional logit) and the blend, on the same races. ``--no-tendencies``: the
simulator without its racers' 前付け and start skill (the simulator before the course stage).

    PYTHONPATH=. python benchmarks/boat_model_eval.py --history 60 --days 30 --venues 6 \
        --seed 20260401
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from raceday.boat.evaluate import comparison, scored_boats
from raceday.boat.history import HISTORY_DAYS, day_boats, results_history, training_rows
from raceday.boat.model import fit_boat_model, predict_boats
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import SimulatedBoatDays, simulate_boat_days
from raceday.model.metrics import winner_log_loss

MORNING = pd.Timestamp("09:00").time()
FIRST = date(2026, 1, 1)


def arguments() -> argparse.ArgumentParser:
    """The simulation's and the evaluation's options (shared with ``boat_exotics.py``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=60)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--venues", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20260401)
    parser.add_argument("--no-tendencies", dest="tendencies", action="store_false")
    return parser


def simulated_days(args: argparse.Namespace) -> SimulatedBoatDays:
    """The history and the held-out days, simulated."""
    config = BoatSimulatorConfig(seed=args.seed, venues_per_day=args.venues)
    if not args.tendencies:
        config = replace(config, front_taker_share=0.0, start_skill_sd=0.0)
    last = FIRST + timedelta(days=args.history + args.days - 1)
    return simulate_boat_days(FIRST, last, config)


def held_out_predictions(days: SimulatedBoatDays, history_days: int, held_out: int) -> pd.DataFrame:
    """Each held-out day's predictions from a model fitted on the days before it."""
    dated = pd.to_datetime
    entries = days.entries.assign(race_date=dated(days.entries["race_id"].str[:8]))
    results = days.results.assign(race_date=dated(days.results["race_id"].str[:8]))
    odds = days.odds
    odds_day = dated(odds["race_id"].str[:8])
    predicted = []
    for offset in range(held_out):
        day = FIRST + timedelta(days=history_days + offset)
        start = pd.Timestamp(day - timedelta(days=HISTORY_DAYS))
        cut = pd.Timestamp(day)
        before = (entries["race_date"] >= start) & (entries["race_date"] < cut)
        done = (results["race_date"] >= start) & (results["race_date"] < cut)
        model = fit_boat_model(
            training_rows(entries[before], results[done], odds[odds_day < cut], MORNING),
            day - timedelta(days=1),
        )
        history = results_history(entries[before], results[done])
        boats = day_boats(
            entries[entries["race_date"] == cut], odds[odds_day == cut], history, MORNING
        )
        predicted.append(predict_boats(model, boats))
    return pd.concat(predicted, ignore_index=True)


def main() -> None:
    args = arguments().parse_args()
    started = time.perf_counter()
    days = simulated_days(args)
    predictions = held_out_predictions(days, args.history, args.days)
    frame = scored_boats(predictions, days.results)
    # The simulator's true probabilities (never seen by the model), over the same boats.
    truth = days.truth.astype({"race_id": "string"}).rename(columns={"boat": "umaban"})
    frame = frame.merge(truth, on=["race_id", "umaban"], how="left")
    frame["p_true"] = frame["p_win"] / frame.groupby("race_id")["p_win"].transform("sum")
    figures = {
        "seed": args.seed, "history_days": args.history, "held_out_days": args.days,
        "venues": args.venues, "tendencies": args.tendencies, **comparison(frame),
        "truth_log_loss": winner_log_loss(frame, "p_true"),
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
