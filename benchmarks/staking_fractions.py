"""Why fractional Kelly: replay the staking policy on simulated days with models of known error.

The stand-in "models" know part of the simulator's truth beyond the market, with noise: noise
makes the edges a model bets on larger than they are, which is what makes full Kelly dangerous
(Benter staked 1/2 to 1/3 Kelly for that reason). Each cell replays the same days from the same
bankroll through the pipeline's own sizing and settlement (raceday.staking.evaluate.replay), once
with Kelly alone (no caps) and once with the policy's default limits.

    .venv/bin/python benchmarks/staking_fractions.py --days 60 --races 100

Prints a Markdown table (copied into docs/STAKING.md with the command and the machine).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from config.reference import load_win_pools
from raceday.codec import decode_races, decode_runners
from raceday.model.win import normalise_per_race
from raceday.odds_snapshots import decode_odds_snapshot
from raceday.pipeline import betting_odds
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import card_only
from raceday.sources.timeline import CardTiming, card_odds
from raceday.staking.evaluate import (
    PolicyResult,
    favourite_sizer,
    flat_sizer,
    flat_stake_yen,
    kelly_sizer,
    replay,
    summarise,
)
from raceday.staking.kelly import StakingPolicy
from raceday.staking.pools import race_pools

BANKROLL_YEN = 1_000_000


def world(start: date, days: int, races: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates (bet-time odds, expected pools, true probabilities) and results."""
    simulated = simulate_days(
        start, start + timedelta(days=days - 1), SimulatorConfig(seed=seed, races_per_day=races)
    )
    card = card_only(simulated.raw)
    race_frame = decode_races(simulated.raw.nvd_ra)
    results = decode_runners(simulated.raw.nvd_se)
    odds = betting_odds(decode_odds_snapshot(card_odds(card, CardTiming()).nvd_o1), results)
    truth = simulated.truth.astype({"race_id": "string"})[["race_id", "umaban", "true_win_prob"]]
    candidates = (
        odds[["race_id", "umaban", "win_odds"]]
        .rename(columns={"win_odds": "odds"})
        .merge(results[["race_id", "umaban", "race_date"]], on=["race_id", "umaban"])
        .merge(race_frame[["race_id", "post_time"]], on="race_id")
        .merge(race_pools(race_frame, load_win_pools()), on="race_id")
        .merge(truth, on=["race_id", "umaban"])
    )
    return candidates, results


MODELS = (  # (weight on the truth, noise sd): what each stand-in model knows
    (1.0, 0.0),  # the oracle
    (0.3, 0.0),  # a modest real edge, honestly estimated
    (0.3, 0.15),  # the same edge plus noise: the edges it bets on are overestimated
    (0.15, 0.15),  # a thin edge plus noise
)
FRACTIONS = (1.0, 0.5, 0.25)


def stand_in_model(candidates: pd.DataFrame, weight: float, sigma: float, seed: int) -> pd.Series:
    """``log p = log p_market + weight * (log p_true - log p_market) + N(0, sigma)``, per race.

    ``weight`` is how much of the truth the model knows beyond the market; ``sigma`` is its error.
    Selecting runners whose estimated edge is large selects the noise too, so the edge acted on
    is overestimated, as with any fitted model.
    """
    market = normalise_per_race(candidates["race_id"], 1.0 / candidates["odds"])
    logp_true = np.log(candidates["true_win_prob"].clip(lower=1e-6))
    noise = np.random.default_rng(seed).normal(0.0, sigma, len(candidates)) if sigma else 0.0
    logp = np.log(market) + weight * (logp_true - np.log(market)) + noise
    return normalise_per_race(candidates["race_id"], pd.Series(np.exp(logp), candidates.index))


def growth(bets: pd.DataFrame, days: list[date]) -> str:
    """``mean daily log growth / max drawdown`` of a replay."""
    result = summarise(bets, BANKROLL_YEN, days)
    final = max(result.final_bankroll_yen, 1)
    return f"{np.log(final / BANKROLL_YEN) / len(days):+.4f} / {result.max_drawdown:.0%}"


def table_row(label: str, name: str, result: PolicyResult) -> str:
    """One Markdown row of a policy's figures."""
    roi = "–" if result.roi is None else f"{result.roi:+.1%}"
    return (
        f"| {label} | {name} | {result.bets:,} | {result.turnover_yen:,} | {roi} | "
        f"{result.max_drawdown:.1%} | {result.final_bankroll_yen:,} |"
    )


def main() -> None:
    """Replay the policies on the simulated days; print two Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    clock = time.perf_counter()
    candidates, results = world(date(2026, 1, 1), args.days, args.races, args.seed)
    days = sorted(pd.to_datetime(candidates["race_date"]).dt.date.unique())
    print(f"{args.days} days x {args.races} races, {len(candidates):,} priced runners, seed "
          f"{args.seed}\n")  # fmt: skip
    default = StakingPolicy()
    alone = replace(
        default, min_edge=1.0, max_bet_fraction=1, max_race_fraction=1, max_day_fraction=1,
        drawdown_soft=1, drawdown_brake=1, max_pool_share=1,
    )  # fmt: skip
    print("Mean daily log growth / max drawdown, by Kelly fraction\n")
    header = [f"alone x{f:g}" for f in FRACTIONS] + [f"limits x{f:g}" for f in FRACTIONS]
    print("| model (truth weight, noise sd) | " + " | ".join(header) + " |")
    print("|---|" + "---|" * len(header))
    for weight, sigma in MODELS:
        frame = candidates.assign(p_final=stand_in_model(candidates, weight, sigma, args.seed))
        cells = [
            growth(replay(frame, results, kelly_sizer(replace(policy, fraction=f), 1.0),
                          BANKROLL_YEN, default.takeout), days)
            for policy in (alone, default)
            for f in FRACTIONS
        ]  # fmt: skip
        print(f"| {weight:g}, {sigma:g} | " + " | ".join(cells) + " |")

    stake = flat_stake_yen(BANKROLL_YEN)
    print("\nThe default policy next to the baselines\n")
    print("| model (truth weight, noise sd) | policy | bets | turnover (yen) | ROI | max drawdown "
          "| final bankroll (yen) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for weight, sigma in MODELS:
        frame = candidates.assign(p_final=stand_in_model(candidates, weight, sigma, args.seed))
        for name, sizer in (("Kelly x0.25", kelly_sizer(default, 1.0)),
                            ("flat 1%", flat_sizer(default, stake))):  # fmt: skip
            result = summarise(replay(frame, results, sizer, BANKROLL_YEN, 0.2), BANKROLL_YEN, days)
            print(table_row(f"{weight:g}, {sigma:g}", name, result))
    favourite = replay(candidates, results, favourite_sizer(stake), BANKROLL_YEN, 0.2)
    print(table_row("–", "favourite 1%", summarise(favourite, BANKROLL_YEN, days)))
    print(f"\n({time.perf_counter() - clock:.0f} s)")


if __name__ == "__main__":
    main()
