"""The market: parimutuel odds from a noisy public view of strength, and the morning snapshot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raceday.simulate.arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    group_max,
    group_sum,
    rank_within,
)
from raceday.simulate.card import Card
from raceday.simulate.config import SimulatorConfig


def _win_odds(
    public: FloatArray,
    on_sale: BoolArray,
    refunded: BoolArray,
    card: Card,
    takeout: float,
) -> FloatArray:
    """Parimutuel odds from pool shares ~ exp(public view): rounded down to 0.1, at least 1.0."""
    z = np.where(on_sale, public, -np.inf)
    z = z - group_max(z, card.starts)[card.race]
    weight = np.where(on_sale, np.exp(z), 0.0)
    share = weight / group_sum(weight, card.starts)[card.race]
    refund = group_sum(np.where(refunded, share, 0.0), card.starts)[card.race]
    raw = (1.0 - takeout) * (1.0 - refund) / np.where(on_sale, share, 1.0)
    odds = np.clip(np.floor(raw * 10.0 + 1e-6) / 10.0, 1.0, 999.9)
    return np.where(on_sale, odds, np.nan)


@dataclass(frozen=True)
class Market:
    """Each runner's final odds and popularity, and the morning snapshot's."""

    win_odds: FloatArray  # NaN when not on sale
    popularity: IntArray  # 0 when not a starter
    snapshot_odds: FloatArray
    snapshot_popularity: IntArray


def market(
    config: SimulatorConfig,
    card: Card,
    strength: FloatArray,
    cancelled: BoolArray,
    excluded: BoolArray,
    started: BoolArray,
    rng: np.random.Generator,
) -> Market:
    """A noisy public view of strength with a favourite-longshot bias, priced as parimutuel odds;
    the snapshot's view is noisier still (cancelled runners are not on sale, excluded refunded)."""
    race, n = card.race, strength.size
    public = strength + rng.normal(0.0, config.market_noise_sd, n)
    snapshot = public + rng.normal(0.0, config.snapshot_noise_sd, n)
    on_sale = ~cancelled
    win_odds = _win_odds(config.market_gamma * public, on_sale, excluded, card, config.takeout)
    snapshot_odds = _win_odds(
        config.market_gamma * snapshot, on_sale, np.zeros(n, bool), card, config.takeout
    )
    popularity = np.where(started, rank_within(race, np.where(started, win_odds, np.inf)), 0)
    snapshot_popularity = np.where(
        on_sale, rank_within(race, np.where(on_sale, snapshot_odds, np.inf)), 0
    )
    return Market(
        win_odds=win_odds,
        popularity=popularity.astype(np.int64),
        snapshot_odds=snapshot_odds,
        snapshot_popularity=snapshot_popularity.astype(np.int64),
    )
