"""Pools and payouts: the public stakes on each combination in proportion to its chance under
its own (noisy) win probabilities (Harville), a quarter of every pool is taken out, and the rest
is shared among the winning combinations (dead heats split it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations, permutations
from typing import Any, Final

import numpy as np

from raceday.boat.codes import BET_NAMES

ORDERED: Final = {"win": 1, "exacta": 2, "trifecta": 3}
UNORDERED: Final = {"quinella": 2, "trio": 3}
TOP_SETS: Final = {"place": (1, 2), "wide": (2, 3)}  # boats per combination, top places covered
FINISHERS_NEEDED: Final = {
    "win": 1, "place": 2, "exacta": 2, "quinella": 2, "wide": 3, "trifecta": 3, "trio": 3,
}  # fmt: skip  # the simulator's rule: fewer finishers, the bet type is not established (不成立)


def harville(q: dict[int, float], order: Sequence[int]) -> float:
    """The chance of ``order`` being the first places, each next chosen in proportion to ``q``."""
    chance, left = 1.0, 1.0
    for boat in order:
        chance *= q[boat] / left if left > 0 else 0.0
        left -= q[boat]
    return chance


def stake_shares(q: dict[int, float], bet_type: str) -> dict[str, float]:
    """The share of a bet type's pool on each combination (they sum to 1)."""
    boats = sorted(q)
    if bet_type in ORDERED:
        return {
            "-".join(map(str, o)): harville(q, o) for o in permutations(boats, ORDERED[bet_type])
        }
    if bet_type in UNORDERED:
        size = UNORDERED[bet_type]
        return {
            "-".join(map(str, c)): sum(harville(q, o) for o in permutations(c))
            for c in combinations(boats, size)
        }
    size, top = TOP_SETS[bet_type]
    shares: dict[str, float] = {}
    for order in permutations(boats, top):
        chance = harville(q, order)
        for combo in combinations(sorted(order), size):
            key = "-".join(map(str, combo))
            shares[key] = shares.get(key, 0.0) + chance / math.comb(top, size)
    return shares


def winning_combinations(tiers: Sequence[Sequence[int]], bet_type: str) -> set[str]:
    """The winning combinations when the finishers come in ``tiers`` (boats tied in a tier)."""
    orders: list[list[int]] = [[]]
    for tier in tiers:
        orders = [order + list(p) for order in orders for p in permutations(tier)]
    found: set[str] = set()
    for order in orders:
        if bet_type in ORDERED:
            found.add("-".join(map(str, order[: ORDERED[bet_type]])))
        elif bet_type in UNORDERED:
            found.add("-".join(map(str, sorted(order[: UNORDERED[bet_type]]))))
        else:
            size, top = TOP_SETS[bet_type]
            found.update("-".join(map(str, c)) for c in combinations(sorted(order[:top]), size))
    return found


def payout_yen(share: float, winning_total: float, winners: int, takeout: float) -> int:
    """Per 100 yen: the stake back plus an equal part of what is left after the takeout and the
    winning stakes, floored to 10 yen; never below 100 (元返し)."""
    if share <= 0:
        return 100
    profit = max(0.0, (1 - takeout - winning_total) / winners / share)
    return max(100, math.floor(100 * (1 + profit) / 10 + 1e-9) * 10)


def race_payouts(
    q_active: dict[int, float], tiers: Sequence[Sequence[int]], takeout: float
) -> list[dict[str, Any]]:
    """Every bet type's payout rows for a race: kind paid (with 人気) or void (不成立)."""
    finishers = sum(len(tier) for tier in tiers)
    rows: list[dict[str, Any]] = []
    for bet_type in BET_NAMES:
        if finishers < FINISHERS_NEEDED[bet_type]:
            rows.append({"bet_type": bet_type, "combination": None, "payout_yen": None,
                         "popularity": None, "kind": "void"})  # fmt: skip
            continue
        shares = stake_shares(q_active, bet_type)
        ranked = sorted(shares.values(), reverse=True)
        winners = sorted(winning_combinations(tiers, bet_type), key=_combination_order)
        total = sum(shares[w] for w in winners)
        for combination in winners:
            share = shares[combination]
            rows.append({
                "bet_type": bet_type, "combination": combination,
                "payout_yen": payout_yen(share, total, len(winners), takeout),
                "popularity": None if bet_type in {"win", "place"} else ranked.index(share) + 1,
                "kind": "paid",
            })  # fmt: skip
    return rows


def _combination_order(combination: str) -> tuple[int, ...]:
    return tuple(int(boat) for boat in combination.split("-"))


def softmax(values: np.ndarray) -> np.ndarray:
    """Probabilities proportional to ``exp(values)``."""
    shifted = np.exp(values - values.max())
    return np.asarray(shifted / shifted.sum())
