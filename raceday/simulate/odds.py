"""The market: parimutuel odds from a noisy public view of strength, and its timeline.

The public's view is final when the pool closes; a snapshot published earlier shows a pool that
is partly filled by less informed money: the final view plus noise. The morning snapshot's noise
is drawn as it always was; the later snapshots' noise is a Brownian bridge from the morning's to
0 at the close, in a clock that runs with the share of the pool still to come (its variance
falls as ``((1 - share) / share) ** drift_exponent``, Mori and Hisakado's power law for JRA
pools; docs/PIPELINE.md "The odds timeline"). Those draws come from a stream of their own, so
every other draw of a day (and the morning snapshot, final odds and results) is as before.
"""

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
    """Each runner's final odds and popularity, the morning snapshot's, and the timeline's."""

    win_odds: FloatArray  # NaN when not on sale
    popularity: IntArray  # 0 when not a starter
    snapshot_odds: FloatArray
    snapshot_popularity: IntArray
    # One row per ``config.snapshot_minutes`` (before post), one column per runner.
    timeline_odds: FloatArray
    timeline_popularity: IntArray
    final_popularity: IntArray  # the final odds ranked among the runners on sale


def drift_clock(shares: FloatArray, morning_share: float, exponent: float) -> FloatArray:
    """Each snapshot's remaining noise variance as a share of the morning's: 1 at the morning's
    pool share, falling to 0 at the close as ``((1 - share) / share) ** exponent``."""

    def scale(share: FloatArray | float) -> FloatArray:
        return np.power((1.0 - np.asarray(share, np.float64)) / np.asarray(share), exponent)

    return np.clip(scale(shares) / scale(morning_share), 0.0, 1.0)


def bridge_noise(
    morning_noise: FloatArray, clock: FloatArray, morning_sd: float, normals: FloatArray
) -> FloatArray:
    """The public's error at each later snapshot (rows, by ``clock`` falling from 1 towards 0):
    a Brownian bridge from ``morning_noise`` (clock 1) to 0 (clock 0), variance ``sd^2 clock``."""
    noise = np.empty_like(normals)
    previous_noise, previous_clock = morning_noise, 1.0
    for row, now in enumerate(clock.tolist()):
        mean = previous_noise * (now / previous_clock)
        spread = morning_sd * np.sqrt(max(now * (previous_clock - now) / previous_clock, 0.0))
        noise[row] = mean + spread * normals[row]
        previous_noise, previous_clock = noise[row], max(now, 1e-12)
    return noise


def _popularity(odds: FloatArray, ranked: BoolArray, card: Card) -> IntArray:
    return np.where(ranked, rank_within(card.race, np.where(ranked, odds, np.inf)), 0).astype(
        np.int64
    )


def market(
    config: SimulatorConfig,
    card: Card,
    strength: FloatArray,
    cancelled: BoolArray,
    excluded: BoolArray,
    started: BoolArray,
    rng: np.random.Generator,
    timeline_rng: np.random.Generator,
) -> Market:
    """A noisy public view of strength with a favourite-longshot bias, priced as parimutuel odds;
    the morning snapshot's view is noisier still, the later snapshots' less and less so
    (cancelled runners are not on sale, excluded refunded). ``timeline_rng`` draws the later
    snapshots only."""
    n = strength.size
    public = strength + rng.normal(0.0, config.market_noise_sd, n)
    morning_noise = rng.normal(0.0, config.snapshot_noise_sd, n)
    snapshot = public + morning_noise
    on_sale, not_refunded = ~cancelled, np.zeros(n, bool)
    win_odds = _win_odds(config.market_gamma * public, on_sale, excluded, card, config.takeout)
    snapshot_odds = _win_odds(
        config.market_gamma * snapshot, on_sale, not_refunded, card, config.takeout
    )
    clock = drift_clock(
        np.array(config.snapshot_pool_shares), config.morning_pool_share, config.drift_exponent
    )
    normals = timeline_rng.standard_normal((clock.size, n))
    views = public + bridge_noise(morning_noise, clock, config.snapshot_noise_sd, normals)
    timeline_odds = np.array(
        [_win_odds(config.market_gamma * view, on_sale, not_refunded, card, config.takeout)
         for view in views]
    ).reshape(clock.size, n)  # fmt: skip
    timeline_popularity = np.array(
        [_popularity(odds, on_sale, card) for odds in timeline_odds], np.int64
    ).reshape(clock.size, n)
    return Market(
        win_odds=win_odds,
        popularity=_popularity(win_odds, started, card),
        snapshot_odds=snapshot_odds,
        snapshot_popularity=_popularity(snapshot_odds, on_sale, card),
        timeline_odds=timeline_odds,
        timeline_popularity=timeline_popularity,
        final_popularity=_popularity(win_odds, on_sale, card),
    )
