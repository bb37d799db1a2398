"""Exacta (2連単) and trifecta (3連単) from the boat win model, on simulated days (figures in
docs/BOAT.md, "Exacta and trifecta"; not a test).

The held-out days of ``boat_model_eval.py`` (each predicted by a model fitted on the days
before it); the discount exponents (Lo–Bacon-Shone: second place ``p ** second``, third
``p ** third``) are fitted on the first ``--fit-days`` of them and every method is judged on
the rest: log loss of the realised exacta and trifecta (races whose first three are single
boats) under uniform, Harville and the discounted form on ``p_final``, and Harville on the
simulator's true win probabilities for reference. Last, after the fact (the files have no
pre-race exotic odds): what a flat 100 yen on each race's most likely combination returned
at the K payouts.

    PYTHONPATH=. python benchmarks/boat_exotics.py --history 60 --days 30 --venues 6 \
        --seed 20260401 --fit-days 15
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd

# Run as a script: its folder is on the path, and the model benchmark's held-out days with it.
from boat_model_eval import arguments, held_out_predictions, simulated_days

from raceday.boat.exotics import (
    BetType,
    exotic_probabilities,
    fit_exponent,
    most_likely,
    realised_combinations,
    realised_log_loss,
)

BET_TYPES: tuple[BetType, ...] = ("exacta", "trifecta")


def uniform_log_loss(predictions: pd.DataFrame, realised: pd.DataFrame, bet_type: str) -> float:
    """ln of the number of ordered combinations of each realised race's boats, averaged."""
    boats = predictions.groupby("race_id")["boat"].size()
    boats = boats[boats.index.isin(realised["race_id"])]
    places = 2 if bet_type == "exacta" else 3
    counts = boats.map(lambda n: np.prod(range(n - places + 1, n + 1)))
    return float(np.log(counts.astype("float64")).mean())


def flat_return(
    predictions: pd.DataFrame, payouts: pd.DataFrame, bet_type: BetType
) -> dict[str, Any]:
    """100 yen on each race's most likely combination: races, hits, return per yen staked."""
    top = most_likely(exotic_probabilities(predictions, bet_type), top=1)
    paid = payouts[(payouts["bet_type"] == bet_type) & (payouts["kind"] == "paid")]
    paid = paid[["race_id", "combination", "payout_yen"]].astype(
        {"race_id": "string", "combination": "string"}
    )
    hits = top.merge(paid, on=["race_id", "combination"], how="left")
    returned = float(hits["payout_yen"].fillna(0).sum())
    return {"races": len(top), "hits": int(hits["payout_yen"].notna().sum()),
            "return_per_yen": round(returned / (100 * len(top)), 3)}  # fmt: skip


def main() -> None:
    parser = arguments()
    parser.add_argument("--fit-days", type=int, default=15)
    args = parser.parse_args()
    started = time.perf_counter()
    days = simulated_days(args)
    predictions = held_out_predictions(days, args.history, args.days)
    truth = days.truth.astype({"race_id": "string"})
    predictions = predictions.merge(truth, on=["race_id", "boat"], how="left")
    realised = realised_combinations(days.results)
    race_day = pd.to_datetime(predictions["race_id"].str[:8], format="%Y%m%d")
    fit_until = race_day.min() + pd.Timedelta(days=args.fit_days)
    fit, test = predictions[race_day < fit_until], predictions[race_day >= fit_until]
    second = fit_exponent(fit, realised, "exacta")
    third = fit_exponent(fit, realised, "trifecta", second=second)
    one = fit_exponent(fit, realised, "trifecta")
    test_realised = realised[realised["race_id"].isin(test["race_id"])]
    figures: dict[str, Any] = {
        "seed": args.seed, "history_days": args.history, "held_out_days": args.days,
        "fit_days": args.fit_days, "venues": args.venues, "tendencies": args.tendencies,
        "test_races": int(test_realised["race_id"].nunique()),
        "second_exponent": round(second, 3), "third_exponent": round(third, 3),
        "one_exponent_for_both": round(one, 3),
    }  # fmt: skip
    for bet_type in BET_TYPES:
        methods = {
            "harville": exotic_probabilities(test, bet_type),
            "discounted": exotic_probabilities(test, bet_type, second=second, third=third),
            "truth_harville": exotic_probabilities(test, bet_type, probability="p_win"),
        }
        figures[bet_type] = {
            "uniform": uniform_log_loss(test, test_realised, bet_type),
            **{name: realised_log_loss(frame, test_realised, bet_type)
               for name, frame in methods.items()},
            "flat_top1_after_the_fact": flat_return(test, days.payouts, bet_type),
        }  # fmt: skip
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
