"""The conditional logit of a race (Bolton & Chapman 1986) and Benter's two-stage market blend.

A race is one multinomial choice among its runners: ``p_i = exp(u_i) / sum_j exp(u_j)`` over the
runners ``j`` of the race. Everything here works on flat arrays with one race code per runner
(any order): per-race sums are ``np.bincount``, per-race maxima ``np.maximum.at`` — no loop over
races, so a year of runners is scored in one pass.

- :func:`fit_temperature`: one scale ``kappa`` so that ``softmax(kappa * score)`` maximises the
  winners' log-likelihood (the fundamental model's calibration).
- :func:`fit_blend`: Benter (1994): ``c_i ∝ exp(alpha ln f_i + beta ln pi_i)``, ``f`` the
  fundamental model's probability, ``pi`` the market's (takeout removed), fitted by maximum
  likelihood on races the fundamental model did not train on.
- :func:`apply_blend`: the blend on rated runners; runners the model cannot rate (no past run)
  keep their market probability and the rated ones share the rest of the race's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

PROBABILITY_FLOOR: Final = 1e-9  # ln of a probability never sees 0
KAPPA_BOUNDS: Final = (1e-3, 20.0)


@dataclass(frozen=True)
class RaceGroups:
    """Which race each runner belongs to: ``codes[i]`` in ``0..n_races-1``."""

    codes: IntArray
    n_races: int

    @classmethod
    def of(cls, race_id: pd.Series | NDArray[np.generic]) -> RaceGroups:
        """Groups from a column of race ids (any order)."""
        codes, uniques = pd.factorize(pd.Series(np.asarray(race_id)), sort=False)
        return cls(codes.astype(np.int64), len(uniques))

    def subset(self, keep: BoolArray) -> RaceGroups:
        """The groups of the kept runners (race codes renumbered densely)."""
        codes, uniques = pd.factorize(self.codes[keep], sort=False)
        return RaceGroups(codes.astype(np.int64), len(uniques))

    def sum(self, values: FloatArray) -> FloatArray:
        """Per-race sums."""
        return np.bincount(self.codes, weights=values, minlength=self.n_races).astype(np.float64)

    def max(self, values: FloatArray) -> FloatArray:
        """Per-race maxima."""
        out = np.full(self.n_races, -np.inf)
        np.maximum.at(out, self.codes, values)
        return out


def log_softmax(utility: FloatArray, groups: RaceGroups) -> FloatArray:
    """``ln p_i`` of the per-race softmax of ``utility`` (stable: the race's max is taken out)."""
    shifted = utility - groups.max(utility)[groups.codes]
    return shifted - np.log(groups.sum(np.exp(shifted)))[groups.codes]


def softmax(utility: FloatArray, groups: RaceGroups) -> FloatArray:
    """Per-race softmax: probabilities that sum to 1 within every race."""
    return np.exp(log_softmax(utility, groups))


def races_with_one_winner(groups: RaceGroups, won: BoolArray) -> BoolArray:
    """Per runner: its race has exactly one winner (dead heats and void races are left out)."""
    winners = groups.sum(won.astype(np.float64))
    return np.asarray(winners[groups.codes] == 1.0)


def _neg_log_likelihood(
    coefficients: FloatArray, design: FloatArray, groups: RaceGroups, won: BoolArray
) -> tuple[float, FloatArray]:
    """Minus the winners' log-likelihood of ``softmax(design @ coefficients)`` and its gradient."""
    log_p = log_softmax(design @ coefficients, groups)
    p = np.exp(log_p)
    expected = np.stack([groups.sum(p * column) for column in design.T], axis=1)  # (races, k)
    gradient = design[won].sum(axis=0) - expected[groups.codes[won]].sum(axis=0)
    return float(-log_p[won].sum()), -gradient


def fit_conditional_logit(
    design: FloatArray, groups: RaceGroups, won: BoolArray, start: FloatArray | None = None
) -> FloatArray:
    """Coefficients maximising the winners' log-likelihood of ``softmax(design @ b)`` per race.

    The likelihood is concave in ``b``: L-BFGS with the analytic gradient finds the optimum.
    Only races with exactly one winner are used.
    """
    from scipy.optimize import minimize  # only when fitting: SciPy is ~0.4 s of a process's start

    design = np.asarray(design, dtype=np.float64).reshape(len(won), -1)
    keep = races_with_one_winner(groups, won)
    if not keep.any():
        raise ValueError("no race with a single winner to fit on")
    kept_groups, kept_design, kept_won = groups.subset(keep), design[keep], won[keep]
    scale = np.abs(kept_design).mean(axis=0) + 1e-12  # conditioning: columns of unit size
    initial = (np.ones(design.shape[1]) if start is None else np.asarray(start)) * scale
    result = minimize(
        lambda b: _neg_log_likelihood(b, kept_design / scale, kept_groups, kept_won),
        initial,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 500, "gtol": 1e-8},
    )
    return np.asarray(result.x / scale, dtype=np.float64)


def fit_temperature(score: FloatArray, groups: RaceGroups, won: BoolArray) -> float:
    """The scale ``kappa`` (1 / temperature) maximising the winners' likelihood of
    ``softmax(kappa * score)``: a one-dimensional concave problem, solved on a bounded interval."""
    keep = races_with_one_winner(groups, won)
    if not keep.any():
        raise ValueError("no race with a single winner to fit the temperature on")
    from scipy.optimize import minimize_scalar  # only when fitting (as fit_conditional_logit)

    kept_groups, kept_score, kept_won = groups.subset(keep), score[keep], won[keep]

    def loss(kappa: float) -> float:
        return -float(log_softmax(kappa * kept_score, kept_groups)[kept_won].sum())

    result = minimize_scalar(loss, bounds=KAPPA_BOUNDS, method="bounded",
                             options={"xatol": 1e-5})  # fmt: skip
    return float(result.x)


@dataclass(frozen=True)
class BlendParameters:
    """Benter's blend ``c ∝ exp(alpha ln f + beta ln pi)`` with the races it was fitted on."""

    alpha: float
    beta: float
    races: int


def blend_design(p_model: FloatArray, p_market: FloatArray) -> FloatArray:
    """The (runners, 2) design ``[ln f, ln pi]`` (probabilities floored away from 0)."""
    return np.column_stack(
        [
            np.log(np.clip(p_model, PROBABILITY_FLOOR, 1.0)),
            np.log(np.clip(p_market, PROBABILITY_FLOOR, 1.0)),
        ]
    )


def fit_blend(
    p_model: FloatArray, p_market: FloatArray, groups: RaceGroups, won: BoolArray, rated: BoolArray
) -> BlendParameters:
    """alpha, beta by maximum likelihood over the rated runners of races a rated runner won.

    With unrated runners fixed at their market probability, the rated runners of a race share
    a fixed mass, so a race's likelihood in (alpha, beta) is the conditional logit over its rated
    runners when one of them won, and a constant otherwise.
    """
    rated_groups = groups.subset(rated)
    rated_won = won[rated]
    coefficients = fit_conditional_logit(
        blend_design(p_model[rated], p_market[rated]), rated_groups, rated_won,
        start=np.array([0.5, 0.5]),
    )  # fmt: skip
    used = races_with_one_winner(rated_groups, rated_won)
    return BlendParameters(
        alpha=float(coefficients[0]),
        beta=float(coefficients[1]),
        races=int(np.unique(rated_groups.codes[used]).size),
    )


def apply_blend(
    p_model: FloatArray,
    p_market: FloatArray,
    groups: RaceGroups,
    rated: BoolArray,
    parameters: BlendParameters,
) -> FloatArray:
    """Blended probabilities: rated runners ``∝ exp(alpha ln f + beta ln pi)`` scaled to the mass
    the unrated runners' market probabilities leave; unrated runners keep ``pi``. Sums to 1 per
    race whenever ``p_market`` does."""
    utility = blend_design(p_model, p_market) @ np.array([parameters.alpha, parameters.beta])
    utility = np.where(rated, utility, -np.inf)
    race_max = groups.max(utility)
    has_rated = np.isfinite(race_max)
    shifted = np.where(rated, utility - np.where(has_rated, race_max, 0.0)[groups.codes], -np.inf)
    weight = np.exp(shifted)
    weight_sum = groups.sum(weight)
    unrated_mass = groups.sum(np.where(rated, 0.0, p_market))
    share = weight / np.where(weight_sum > 0, weight_sum, 1.0)[groups.codes]
    rated_mass = (groups.sum(p_market) - unrated_mass)[groups.codes]
    return np.where(rated, share * rated_mass, p_market)
