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


def harville_orders(q: dict[int, float]) -> tuple[list[int], np.ndarray]:
    """The boats, and the chance of each ordered first three ``[i, j, k]`` (Harville: each next
    place goes in proportion to ``q`` among the boats left); zero where a boat repeats."""
    boats = sorted(q)
    p = np.array([q[b] for b in boats])
    first = p[:, None, None]
    second = p[None, :, None] / np.clip(1 - p[:, None, None], 1e-12, None)
    third = p[None, None, :] / np.clip(1 - p[:, None, None] - p[None, :, None], 1e-12, None)
    n = len(boats)
    distinct = (
        (np.arange(n)[:, None, None] != np.arange(n)[None, :, None])
        & (np.arange(n)[:, None, None] != np.arange(n)[None, None, :])
        & (np.arange(n)[None, :, None] != np.arange(n)[None, None, :])
    )
    return boats, np.where(distinct, first * second * third, 0.0)


def stake_shares(q: dict[int, float], bet_type: str) -> dict[str, float]:
    """The share of a bet type's pool on each combination (they sum to 1)."""
    boats, trifecta = harville_orders(q)
    if len(boats) < 3:  # too few boats for a third place: the first two decide
        exacta = np.array([[q[a] * q[b] / max(1e-12, 1 - q[a]) if a != b else 0.0
                            for b in boats] for a in boats])  # fmt: skip
    else:
        exacta = trifecta.sum(axis=2)
    names = [str(b) for b in boats]
    index = range(len(boats))
    if bet_type == "win":
        return {names[i]: q[boats[i]] for i in index}
    if bet_type == "exacta":
        return {f"{names[i]}-{names[j]}": exacta[i, j] for i, j in permutations(index, 2)}
    if bet_type == "quinella":
        return {f"{names[i]}-{names[j]}": exacta[i, j] + exacta[j, i]
                for i, j in combinations(index, 2)}  # fmt: skip
    if bet_type == "place":
        return {names[i]: (exacta[i, :].sum() + exacta[:, i].sum()) / 2 for i in index}
    if bet_type == "trifecta":
        return {f"{names[i]}-{names[j]}-{names[k]}": trifecta[i, j, k]
                for i, j, k in permutations(index, 3)}  # fmt: skip
    trio = {c: sum(trifecta[o] for o in permutations(c)) for c in combinations(index, 3)}
    if bet_type == "trio":
        return {"-".join(names[i] for i in c): chance for c, chance in trio.items()}
    wide: dict[str, float] = {}  # a pair wins when both are in the first three
    for c, chance in trio.items():
        for i, j in combinations(c, 2):
            key = f"{names[i]}-{names[j]}"
            wide[key] = wide.get(key, 0.0) + chance / 3
    return wide


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
