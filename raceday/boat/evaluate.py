"""How boat win probabilities are judged: log loss of the winner and pseudo-R² against the
uniform six-boat baseline (``raceday.model.metrics``), for the prior, the market, the model and
the blend, on the same races: races with one winner among the predicted boats."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.model.metrics import pseudo_r2, uniform_log_loss, winner_log_loss

PROBABILITIES: Final = {"log_loss": "p_final", "model_log_loss": "p_model",
                        "market_log_loss": "p_market", "prior_log_loss": "p_prior"}  # fmt: skip


def scored_boats(predictions: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Predicted boats with ``finish_pos`` (1 for a winner) of races with exactly one winner,
    keyed as the metrics want (``umaban`` = boat)."""
    finish = results[["race_id", "boat", "position"]].astype({"race_id": "string"})
    frame = predictions.astype({"race_id": "string"}).merge(
        finish, on=["race_id", "boat"], how="inner"
    )
    won = frame["position"].astype("Float64").eq(1).fillna(False).astype(bool)
    winners = won.groupby(frame["race_id"].to_numpy()).transform("sum")
    frame = frame[(winners == 1).to_numpy()]
    return frame.rename(columns={"boat": "umaban", "position": "finish_pos"}).reset_index(drop=True)


def log_losses(scored: pd.DataFrame) -> dict[str, Any]:
    """Each probability's winner log loss over the scored races where it exists for every boat,
    the uniform baseline's, the blend's pseudo-R² and the count of races."""
    out: dict[str, Any] = {"scored_races": int(scored["race_id"].nunique())}
    for name, column in PROBABILITIES.items():
        present = scored[column].notna().groupby(scored["race_id"].to_numpy()).transform("all")
        subset = scored[present.to_numpy(dtype=bool)]
        value = winner_log_loss(subset, column) if not subset.empty else float("nan")
        out[name] = None if np.isnan(value) else value
    uniform = uniform_log_loss(scored) if not scored.empty else float("nan")
    out["uniform_log_loss"] = None if np.isnan(uniform) else uniform
    r2 = pseudo_r2(scored, "p_final") if not scored.empty else float("nan")
    out["pseudo_r2"] = None if np.isnan(r2) else r2
    return out


SOURCES: Final = {"prior": "p_prior", "market": "p_market", "model": "p_model",
                  "blend": "p_final"}  # fmt: skip


def comparison(scored: pd.DataFrame) -> dict[str, Any]:
    """Prior, market, model and blend judged on the same races: those where each of them
    prices every boat. Log loss and pseudo-R² of each, the uniform baseline, race count."""
    present = scored[list(SOURCES.values())].notna().groupby(scored["race_id"].to_numpy())
    whole = present.transform("all").all(axis=1).to_numpy(dtype=bool)
    common = scored[whole]
    out: dict[str, Any] = {"races": int(common["race_id"].nunique())}
    if common.empty:
        return out
    out["uniform_log_loss"] = uniform_log_loss(common)
    for name, column in SOURCES.items():
        out[f"{name}_log_loss"] = winner_log_loss(common, column)
        out[f"{name}_pseudo_r2"] = pseudo_r2(common, column)
    return out


def day_performance(
    race_date: date,
    predictions: pd.DataFrame,
    results: pd.DataFrame,
    settled: pd.DataFrame,
    *,
    bankroll_yen: int,
    quarantined: int,
    races_left_out: int,
) -> dict[str, Any]:
    """The day's ``boat_performance`` row: races and boats predicted, rows quarantined and races
    left out by validation, bets, yen staked and returned (payouts and refunds), the bankroll
    after the day, each probability's winner log loss (:func:`log_losses`), the model version."""
    versions = sorted(set(predictions["model_version"]))
    returned = settled["payout_yen"].fillna(0).sum() + settled["refund_yen"].fillna(0).sum()
    return {
        "perf_date": race_date,
        "races": int(predictions["race_id"].nunique()),
        "boats": len(predictions),
        "quarantined": quarantined,
        "races_left_out": races_left_out,
        "bets": len(settled),
        "staked_yen": int(settled["stake_yen"].sum()),
        "returned_yen": int(returned),
        "bankroll_yen": bankroll_yen,
        **log_losses(scored_boats(predictions, results)),
        "model_version": versions[0] if versions else None,
    }


def no_race_judged(predictions: pd.DataFrame, races: int, first: date, last: date) -> str | None:
    """Why the comparison judged no race of ``first``..``last``, in one line (None when it
    judged some): no prediction stored, none by a model (the days a backfill ran before any
    boat version existed are predicted by the market and the lane prior alone), or no result
    stored for the predicted races."""
    if races:
        return None
    period = f"{first}..{last}"
    if predictions.empty:
        return f"no race judged: no boat prediction is stored for {period}"
    if predictions["p_model"].isna().all():
        days = int(predictions["race_date"].nunique())
        return (
            f"no race judged: no day of {period} was predicted by a trained boat version "
            f"({days} day{'s' if days != 1 else ''} by the market and the lane prior alone); "
            "train one with `raceday train --sport boat`"
        )
    return f"no race judged: no single-winner result is stored for the races predicted in {period}"
