"""Exacta (2連単) and trifecta (3連単) probabilities from win probabilities.

Harville: the winner by its win probability, then each next place among the boats left in
proportion to their win probabilities (``P(i, j) = p_i p_j / (1 - p_i)``). The discounted
variant (Lo and Bacon-Shone's power form) weighs the boats left by ``p ** second`` for the
second place and ``p ** third`` for the third: an exponent below 1 flattens the later places
(the favourite-longshot pattern of real second and third places), 1 is Harville. Every race's
probabilities over all ordered combinations of the boats that run (30 exacta and 120 trifecta
with six, 20 and 60 with five) sum to 1. Pure functions, per race, vectorised over the races of
one field size.
"""

from __future__ import annotations

from itertools import permutations
from typing import Final, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from raceday.model.condlogit import FloatArray

BetType = Literal["exacta", "trifecta"]
PLACES: Final[dict[str, int]] = {"exacta": 2, "trifecta": 3}
EXOTIC_COLUMNS: Final = ["race_id", "bet_type", "combination", "probability"]
DAY_TOP: Final = 10  # the combinations per race and bet type a day keeps (boat_exotics)
EXPONENT_BOUNDS: Final = (0.2, 2.0)  # where a fitted exponent is looked for
SMALLEST_P: Final = 1e-12  # a boat priced at 0 still takes a place behind the others


def ordered_combinations(boats: int, places: int) -> np.ndarray:
    """Every ordered choice of ``places`` of ``boats`` (indices; boats!/(boats-places)! rows)."""
    return np.asarray(list(permutations(range(boats), places)), dtype=np.int64).reshape(-1, places)


def order_probabilities(
    p_win: FloatArray, places: int, second: float = 1.0, third: float = 1.0
) -> FloatArray:
    """For races × boats win probabilities (each row summing to 1), the probability of every
    :func:`ordered_combinations` of ``places`` (rows sum to 1): the winner by ``p_win``, each
    later place among the boats left by ``p_win ** exponent`` (``second``, ``third``)."""
    p = np.clip(np.asarray(p_win, dtype=np.float64), SMALLEST_P, None)
    p = p / p.sum(axis=1, keepdims=True)
    combos = ordered_combinations(p.shape[1], places)
    probability = p[:, combos[:, 0]]
    for place, exponent in zip(range(1, places), (second, third), strict=False):
        weight = p**exponent
        # The boats still left, summed directly (a difference of sums loses a longshot's weight).
        left_mask = np.ones((len(combos), p.shape[1]))
        np.put_along_axis(left_mask, combos[:, :place], 0.0, axis=1)
        left = weight @ left_mask.T
        probability = probability * weight[:, combos[:, place]] / left
    return np.asarray(probability, dtype=np.float64)


def _combination_labels(boats: np.ndarray, combos: np.ndarray) -> np.ndarray:
    """``1-2-3`` labels of each race's combinations (races × combinations)."""
    labels = boats[:, combos].astype(str)  # races × combinations × places
    joined = labels[:, :, 0]
    for place in range(1, combos.shape[1]):
        joined = np.char.add(np.char.add(joined, "-"), labels[:, :, place])
    return np.asarray(joined)


def exotic_probabilities(
    predictions: pd.DataFrame,
    bet_type: BetType,
    probability: str = "p_final",
    second: float = 1.0,
    third: float = 1.0,
) -> pd.DataFrame:
    """``EXOTIC_COLUMNS`` for every race of ``predictions`` (``race_id``, ``boat`` and the win
    probability column): all ordered combinations of its boats (a withdrawn boat has no row and
    takes no part; a boat without a finite probability neither). Races with fewer boats than
    places give none."""
    places = PLACES[bet_type]
    frame = predictions[["race_id", "boat", probability]].rename(columns={probability: "p"})
    frame = frame.assign(
        race_id=frame["race_id"].astype("string"),
        boat=pd.to_numeric(frame["boat"], errors="coerce"),
        p=pd.to_numeric(frame["p"], errors="coerce").astype("float64"),
    )
    frame = frame[np.isfinite(frame["p"]) & frame["boat"].notna() & frame["race_id"].notna()]
    frame = frame.drop_duplicates(["race_id", "boat"]).sort_values(["race_id", "boat"])
    size = frame.groupby("race_id")["boat"].transform("size")
    parts = [_field_size_exotics(frame[size == boats], boats, places, bet_type, second, third)
             for boats in sorted(size.unique()) if boats >= places]  # fmt: skip
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in EXOTIC_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def _field_size_exotics(
    frame: pd.DataFrame, boats: int, places: int, bet_type: str, second: float, third: float
) -> pd.DataFrame:
    """The races of ``boats`` boats each (sorted by race and boat), as one matrix."""
    race_ids = frame["race_id"].to_numpy()[::boats]
    p = frame["p"].to_numpy(dtype=np.float64).reshape(-1, boats)
    numbers = frame["boat"].to_numpy(dtype=np.int64).reshape(-1, boats)
    combos = ordered_combinations(boats, places)
    probability = order_probabilities(p, places, second, third)
    return pd.DataFrame(
        {
            "race_id": np.repeat(race_ids, len(combos)),
            "bet_type": bet_type,
            "combination": _combination_labels(numbers, combos).ravel(),
            "probability": probability.ravel(),
        }
    ).astype({"race_id": "string", "combination": "string"})


def most_likely(exotics: pd.DataFrame, top: int) -> pd.DataFrame:
    """Each race's and bet type's ``top`` combinations, most likely first, with ``rank``."""
    ordered = exotics.sort_values(
        ["race_id", "bet_type", "probability", "combination"],
        ascending=[True, True, False, True],
    )
    rank = ordered.groupby(["race_id", "bet_type"]).cumcount() + 1
    return ordered.assign(rank=rank)[rank <= top].reset_index(drop=True)


def day_exotics(predictions: pd.DataFrame, top: int = DAY_TOP) -> pd.DataFrame:
    """The day's ``top`` most likely exacta and trifecta per race by Harville on ``p_final``,
    with ``rank``, ``race_date``, ``method`` and ``model_version`` (boat_exotics' rows)."""
    both = pd.concat(
        [exotic_probabilities(predictions, bet_type) for bet_type in ("exacta", "trifecta")],
        ignore_index=True,
    )
    races = predictions[["race_id", "race_date", "model_version"]].astype({"race_id": "string"})
    ranked = most_likely(both, top).merge(races.drop_duplicates("race_id"), on="race_id")
    return ranked.assign(method="harville")


def realised_combinations(results: pd.DataFrame) -> pd.DataFrame:
    """Each race's first three in order (``exacta`` ``1-2``, ``trifecta`` ``1-2-3``) where
    places 1, 2 and 3 each went to one boat (a dead heat or fewer finishers: no row)."""
    placed = results[["race_id", "boat", "position"]].astype({"race_id": "string"})
    placed = placed.assign(position=pd.to_numeric(placed["position"], errors="coerce"))
    placed = placed[placed["position"].isin([1, 2, 3])]
    wide = placed.pivot_table(
        index="race_id", columns="position", values="boat", aggfunc=["first", "size"]
    )
    if wide.empty or len(wide["size"].columns) < 3:
        return pd.DataFrame(columns=["race_id", "exacta", "trifecta"])
    single = (wide["size"].reindex(columns=[1, 2, 3]) == 1).all(axis=1)
    first = wide["first"].reindex(columns=[1, 2, 3])[single].astype("int64").astype(str)
    exacta = first[1] + "-" + first[2]
    return pd.DataFrame(
        {"race_id": first.index.astype("string"), "exacta": exacta.to_numpy(),
         "trifecta": (exacta + "-" + first[3]).to_numpy()}
    ).reset_index(drop=True)  # fmt: skip


def realised_log_loss(exotics: pd.DataFrame, realised: pd.DataFrame, bet_type: BetType) -> float:
    """Mean −ln probability of each race's realised combination (races priced and realised)."""
    outcome = realised[["race_id", bet_type]].rename(columns={bet_type: "combination"})
    outcome = outcome.astype({"race_id": "string", "combination": "string"})
    priced = exotics[exotics["bet_type"] == bet_type]
    hit = priced.merge(outcome, on=["race_id", "combination"], how="inner")
    if hit.empty:
        return float("nan")
    return float(-np.log(hit["probability"].clip(lower=SMALLEST_P)).mean())


def fit_exponent(
    predictions: pd.DataFrame,
    realised: pd.DataFrame,
    bet_type: BetType,
    probability: str = "p_final",
    second: float | None = None,
) -> float:
    """The exponent minimising the realised log loss on ``predictions``' races: for an exacta
    the second place's; for a trifecta the third place's, ``second`` held (None: one exponent
    for both places)."""

    def loss(exponent: float) -> float:
        later = (exponent if second is None else second, exponent)
        exotics = exotic_probabilities(predictions, bet_type, probability, *later)
        return realised_log_loss(exotics, realised, bet_type)

    fitted = minimize_scalar(loss, bounds=EXPONENT_BOUNDS, method="bounded",
                             options={"xatol": 1e-3})  # fmt: skip
    return float(fitted.x)
