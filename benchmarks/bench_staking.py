"""Timings of the staking and settlement functions on synthetic frames (no store, no Prefect).

    .venv/bin/python benchmarks/bench_staking.py

A 200-race day (~2,000 runners) and a 1,000,000-runner frame (a long backfill in one call):
Kelly fractions, the full sizing with every limit, and settlement. Best of five runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from raceday.staking.kelly import StakingPolicy, kelly_fractions, size_stakes
from raceday.staking.ledger import settle_bets


def runners(races: int, field: int = 10, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates with an edge here and there, and results (one winner a race)."""
    rng = np.random.default_rng(seed)
    n = races * field
    race_id = pd.array([f"2026112044{i:06d}" for i in np.repeat(np.arange(races), field)], "string")
    strength = rng.gumbel(size=n)
    p = np.exp(strength) / np.repeat(
        np.add.reduceat(np.exp(strength), np.arange(0, n, field)), field
    )
    odds = np.floor(0.8 / np.clip(p * np.exp(rng.normal(0, 0.3, n)), 1e-3, None) * 10) / 10
    candidates = pd.DataFrame(
        {
            "race_id": race_id,
            "umaban": np.tile(np.arange(1, field + 1), races),
            "p_final": p,
            "odds": np.clip(odds, 1.0, 999.9),
            "win_pool_yen": 3e6,
        }
    )
    winner = np.repeat(np.arange(races) * field, 1) + rng.integers(0, field, races)
    finish = np.full(n, 2)
    finish[winner] = 1
    results = candidates[["race_id", "umaban"]].assign(
        finish_pos=pd.array(finish, dtype="Int64"), abnormal_code=0, win_odds=candidates["odds"]
    )
    return candidates, results


def best_of(action: Callable[[], object], repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        clock = time.perf_counter()
        action()
        times.append(time.perf_counter() - clock)
    return min(times)


def main() -> None:
    """Print one Markdown row per size and function."""
    policy = StakingPolicy()
    print("| runners | kelly_fractions (s) | size_stakes (s) | bets | settle_bets (s) |")
    print("|---|---|---|---|---|")
    for races in (200, 100_000):
        candidates, results = runners(races)
        fractions = best_of(
            lambda c=candidates: kelly_fractions(c["race_id"], c["p_final"], c["odds"], 1.05)
        )
        sizing = best_of(lambda c=candidates: size_stakes(c, 10**12, policy))
        bets = size_stakes(candidates, 10**12, policy)
        settling = best_of(lambda b=bets, r=results: settle_bets(b, r))
        print(f"| {len(candidates):,} | {fractions:.3f} | {sizing:.3f} | {len(bets):,} | "
              f"{settling:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
