"""The performance record: each predicted race judged, then per day, per venue and rolling.

Everything is built from additive per-race figures (``race_scores``: the winner's probability,
log-loss terms, the top pick's finish, stakes and returns), so a day, a venue, the last 7 or 30
days and the last 500 races are all exact sums of the same rows — never means of means.

Log loss is ``-ln p(winner)`` per winner (a dead heat counts each winner), as in
``raceday.model.metrics``; pseudo-R² is ``1 - L / L_uniform`` over the same races. The hit rate is
the share of races with a winner whose most probable runner won; a top pick that did not
finish (scratched late, fell) counts as a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from raceday.model.calibration import calibration_counts, calibration_error
from raceday.model.metrics import EPSILON
from raceday.model.win import MARKET_MODEL_VERSION
from raceday.staking.ledger import bankroll_curve_yen

ALL_SCOPE: Final = "all"
ROLLING_SPANS: Final = ("7d", "30d", "500r")
SCORE_COLUMNS: Final = [
    "race_id", "race_date", "keibajo_code", "model_version", "priced_runners", "winners",
    "winner_umaban", "p_final_winner", "p_market_winner", "log_loss_final", "log_loss_market",
    "log_loss_uniform", "top_pick_umaban", "top_pick_p", "top_pick_finish", "bets",
    "staked_yen", "returned_yen",
]  # fmt: skip


def venue_of_race(race_id: pd.Series) -> pd.Series:
    """The keibajo_code inside a 12-digit race id (YYYY MMDD venue race)."""
    return race_id.astype("string").str.slice(8, 10)


def judged_runners(predictions: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    """Predictions with each runner's result (``finish_pos``, ``won``) and venue."""
    joined = predictions.merge(
        runners[["race_id", "umaban", "finish_pos"]], on=["race_id", "umaban"], how="inner"
    )
    won = joined["finish_pos"].astype("Float64").eq(1).fillna(False).astype(bool)
    return joined.assign(won=won, keibajo_code=venue_of_race(joined["race_id"]))


def race_scores(
    predictions: pd.DataFrame, runners: pd.DataFrame, settled_bets: pd.DataFrame
) -> pd.DataFrame:
    """One row per predicted race with a result: what every performance figure sums."""
    judged = judged_runners(predictions, runners)
    if judged.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    by_race = judged.groupby("race_id", sort=True)
    p_final = judged["p_final"].astype("float64").clip(EPSILON, 1.0)
    p_market = judged["p_market"].astype("float64").clip(EPSILON, 1.0)
    priced = by_race.size()
    winner_terms = (
        pd.DataFrame(
            {
                "race_id": judged["race_id"],
                "won": judged["won"].astype("int64"),
                "ll_final": np.where(judged["won"], -np.log(p_final), 0.0),
                "ll_market": np.where(judged["won"], -np.log(p_market), 0.0),
            }
        )
        .groupby("race_id", sort=True)[["won", "ll_final", "ll_market"]]
        .sum()
    )
    winners = winner_terms["won"]
    first_winner = (
        judged[judged["won"]].sort_values(["race_id", "umaban"]).drop_duplicates("race_id")
    ).set_index("race_id")
    top_pick = (
        judged.sort_values(["race_id", "p_final", "umaban"], ascending=[True, False, True])
        .drop_duplicates("race_id")
        .set_index("race_id")
    )
    first = by_race.first()
    scores = pd.DataFrame(
        {
            "race_date": first["race_date"],
            "keibajo_code": first["keibajo_code"],
            "model_version": first["model_version"],
            "priced_runners": priced,
            "winners": winners,
            "winner_umaban": first_winner["umaban"].reindex(priced.index),
            "p_final_winner": first_winner["p_final"].reindex(priced.index),
            "p_market_winner": first_winner["p_market"].reindex(priced.index),
            "log_loss_final": winner_terms["ll_final"].where(winners > 0),
            "log_loss_market": winner_terms["ll_market"].where(winners > 0),
            "log_loss_uniform": (winners * np.log(priced.astype("float64"))).where(winners > 0),
            "top_pick_umaban": top_pick["umaban"],
            "top_pick_p": top_pick["p_final"],
            "top_pick_finish": top_pick["finish_pos"],
        }
    ).rename_axis("race_id")
    stakes = _bets_by_race(settled_bets).reindex(scores.index, fill_value=0)
    return scores.join(stakes).reset_index()[SCORE_COLUMNS]


def _bets_by_race(settled_bets: pd.DataFrame) -> pd.DataFrame:
    returned = settled_bets["payout_yen"].fillna(0).astype("int64") + settled_bets[
        "refund_yen"
    ].fillna(0).astype("int64")
    frame = pd.DataFrame(
        {
            "race_id": settled_bets["race_id"],
            "bets": 1,
            "staked_yen": settled_bets["stake_yen"].astype("int64"),
            "returned_yen": returned,
        }
    )
    return frame.groupby("race_id")[["bets", "staked_yen", "returned_yen"]].sum()


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 or not np.isfinite(denominator) else numerator / denominator


def summarise_scores(scores: pd.DataFrame) -> dict[str, float | int | None]:
    """Races, bets, turnover, return, ROI, hit/top-3 rate, log losses and pseudo-R² of a set."""
    scored = scores[scores["winners"].astype("int64") > 0]
    winners = float(scored["winners"].sum())
    ll_final = float(scored["log_loss_final"].sum())
    ll_market = float(scored["log_loss_market"].sum())
    ll_uniform = float(scored["log_loss_uniform"].sum())
    finish = scored["top_pick_finish"].astype("Float64")
    staked = int(scores["staked_yen"].sum())
    returned = int(scores["returned_yen"].sum())
    roi = _ratio(returned, staked)
    return {
        "races": len(scores),
        "scored_races": len(scored),
        "bets": int(scores["bets"].sum()),
        "staked_yen": staked,
        "returned_yen": returned,
        "roi": None if roi is None else roi - 1,
        "hit_rate": float(finish.eq(1).fillna(False).mean()) if len(scored) else None,
        "top3_rate": float(finish.le(3).fillna(False).mean()) if len(scored) else None,
        "log_loss": _ratio(ll_final, winners),
        "market_log_loss": _ratio(ll_market, winners),
        "uniform_log_loss": _ratio(ll_uniform, winners),
        "pseudo_r2": None if not ll_uniform else 1 - ll_final / ll_uniform,
        "market_pseudo_r2": None if not ll_uniform else 1 - ll_market / ll_uniform,
    }


def races_set_aside(races: pd.DataFrame, quarantine: pd.DataFrame) -> pd.Series:
    """Race ids validation set aside: quarantined and not stored (a race that lost one runner
    row but still runs is not set aside)."""
    quarantined = quarantine["race_id"].dropna().astype("string").unique()
    stored = set(races["race_id"].astype("string"))
    return pd.Series(sorted(set(quarantined) - stored), dtype="string", name="race_id")


def _venue_codes(venues: pd.Series) -> np.ndarray:
    """Venue codes as a plain array (missing: None) for :func:`_in_scope`."""
    return venues.to_numpy(dtype=object, na_value=None)


def _in_scope(codes: np.ndarray, scope: str) -> np.ndarray:
    """Which of :func:`_venue_codes` a scope covers (a day's venues are tested once per
    scope: plain arrays, not string Series)."""
    if scope == ALL_SCOPE:
        return np.ones(len(codes), dtype=bool)
    return np.asarray(codes == scope, dtype=bool)


def daily_performance(
    race_date: date,
    scores: pd.DataFrame,
    races: pd.DataFrame,
    quarantine: pd.DataFrame,
    *,
    bankroll_yen: int,
    drawdown: float,
    model_version: str,
    run_seconds: float | None = None,
    calibration_error: float | None = None,
) -> pd.DataFrame:
    """One row for the whole day (scope ``all``) and one per venue.

    ``races`` are the day's stored races (offered and valid), ``quarantine`` its quarantined
    rows; bankroll, drawdown, run time and calibration error are whole-day figures.
    """
    set_aside = races_set_aside(races, quarantine)
    offered_venues = pd.concat(
        [venue_of_race(races["race_id"]), venue_of_race(set_aside)], ignore_index=True
    )
    aside_venues = venue_of_race(set_aside)
    quarantine_venues = venue_of_race(quarantine["race_id"].fillna(""))
    venues = sorted(set(offered_venues.dropna()) | set(scores["keibajo_code"].dropna()))
    score_codes, offered_codes, aside_codes, quarantine_codes = (
        _venue_codes(frame)
        for frame in (scores["keibajo_code"], offered_venues, aside_venues, quarantine_venues)
    )
    rows = []
    for scope in [ALL_SCOPE, *venues]:
        scope_scores = scores[_in_scope(score_codes, scope)]
        offered = int(_in_scope(offered_codes, scope).sum())
        aside = int(_in_scope(aside_codes, scope).sum())
        rows.append(
            {
                "scope": scope,
                **summarise_scores(scope_scores),
                "runners": int(scope_scores["priced_runners"].sum()),
                "quarantined": int(_in_scope(quarantine_codes, scope).sum()),
                "races_offered": offered,
                "races_quarantined": aside,
                "quarantine_rate": _ratio(aside, offered),
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(0, "perf_date", pd.Timestamp(race_date))
    frame["bankroll_yen"] = bankroll_yen
    frame["drawdown"] = drawdown
    frame["model_version"] = model_version
    whole_day = frame["scope"] == ALL_SCOPE
    frame["run_seconds"] = pd.Series(run_seconds, index=frame.index, dtype="float64").where(
        whole_day
    )
    frame["calibration_error"] = pd.Series(
        calibration_error, index=frame.index, dtype="float64"
    ).where(whole_day)
    return frame


def bankroll_curve(initial_yen: int, daily_pnl_yen: pd.Series) -> pd.DataFrame:
    """Bankroll, running peak and drawdown from the peak after each day with settled bets."""
    bankroll = bankroll_curve_yen(initial_yen, daily_pnl_yen.sort_index())
    peak = np.maximum(bankroll.cummax(), initial_yen)
    drawdown = ((peak - bankroll) / peak).where(peak > 0, 0.0)
    return pd.DataFrame(
        {"bankroll_yen": bankroll, "peak_yen": peak, "drawdown": drawdown.astype("float64")}
    )


def window_start(span: str, race_date: date, scores: pd.DataFrame) -> date | None:
    """First day of a trailing span ending on ``race_date``: ``Nd`` days or ``Nr`` races."""
    if span.endswith("d"):
        return race_date - timedelta(days=int(span[:-1]) - 1)
    count = int(span[:-1])
    upto = scores[pd.to_datetime(scores["race_date"]) <= pd.Timestamp(race_date)]
    if upto.empty:
        return None
    ordered = upto.sort_values(["race_date", "race_id"])
    return pd.Timestamp(ordered["race_date"].iloc[max(0, len(ordered) - count)]).date()


def rolling_performance(
    race_date: date,
    scores: pd.DataFrame,
    daily: pd.DataFrame,
    curve: pd.DataFrame,
    bankroll_yen: int,
    spans: tuple[str, ...] = ROLLING_SPANS,
) -> pd.DataFrame:
    """The trailing windows ending on ``race_date`` (``7d``, ``30d``, ``500r`` = 500 races).

    ``scores`` are race scores up to the day (at least the longest window), ``daily`` the
    scope-``all`` performance rows up to the day, ``curve`` the bankroll curve by date.
    A race window takes exactly the last N races, ordered by date and race id.
    """
    end = pd.Timestamp(race_date)
    score_dates = pd.to_datetime(scores["race_date"])
    daily_dates = pd.to_datetime(daily["perf_date"])
    curve_dates = pd.to_datetime(pd.Series(curve.index, index=curve.index))
    rows = []
    for span in spans:
        start = window_start(span, race_date, scores)
        first = pd.Timestamp(start) if start is not None else end
        if span.endswith("r"):
            upto = scores[score_dates <= end].sort_values(["race_date", "race_id"])
            window_scores = upto.tail(int(span[:-1]))
        else:
            window_scores = scores[(score_dates >= first) & (score_dates <= end)]
        days = daily[(daily_dates >= first) & (daily_dates <= end)]
        # The drawdown carried into the window counts too: the last day before it, then its days.
        before = curve[curve_dates < first].tail(1)
        in_curve = pd.concat([before, curve[(curve_dates >= first) & (curve_dates <= end)]])
        summary = summarise_scores(window_scores)
        summary.pop("uniform_log_loss")
        rows.append(
            {
                "perf_date": end,
                "span": span,
                "first_date": first if start is not None else pd.NaT,
                "days": int(days["perf_date"].nunique()),
                **summary,
                "quarantine_rate": _ratio(
                    float(days["races_quarantined"].fillna(0).sum()),
                    float(days["races_offered"].fillna(0).sum()),
                ),
                "max_drawdown": float(in_curve["drawdown"].max()) if not in_curve.empty else 0.0,
                "bankroll_yen": bankroll_yen,
            }
        )
    return pd.DataFrame(rows)


ROLLING_DAYS: Final = 30  # the longest day window; the 500-race window may reach further back


def _day_calibration(predictions: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    judged = judged_runners(predictions, runners)
    with_winner = judged[judged.groupby("race_id")["won"].transform("any")]
    frames = [
        calibration_counts(with_winner[column], with_winner["won"]).assign(source=source)
        for column, source in (("p_final", "final"), ("p_market", "market"))
    ]
    model = str(predictions["model_version"].iloc[0]) if not predictions.empty else None
    return pd.concat(frames, ignore_index=True).assign(model_version=model)


@dataclass(frozen=True)
class DayRecord:
    """A day's performance record as computed from its stored rows (written by the caller)."""

    performance: pd.DataFrame  # one row for scope "all", one per venue
    scores: pd.DataFrame  # one row per race
    calibration: pd.DataFrame
    curve: pd.DataFrame  # the bankroll curve up to the day
    bankroll_yen: int
    model_version: str


def day_record(
    race_date: date,
    *,
    initial_bankroll_yen: int,
    predictions: pd.DataFrame,
    runners: pd.DataFrame,
    races: pd.DataFrame,
    bets: pd.DataFrame,
    quarantine: pd.DataFrame,
    daily_pnl: pd.Series,
    run_seconds: float,
) -> DayRecord:
    """Race scores, per-day/venue performance and calibration of one day from its stored
    predictions, runners, races, bets and (distinct) quarantine; ``daily_pnl`` is the ledger's
    cash flow per day up to the day (from ``initial_bankroll_yen``)."""
    settled_today = bets[bets["settled"].fillna(False).astype(bool)]
    # Cash: every stake placed up to today is out, every settlement back in.
    curve = bankroll_curve(initial_bankroll_yen, daily_pnl)
    bankroll_end = int(initial_bankroll_yen + daily_pnl.sum())
    drawdown = float(curve["drawdown"].iloc[-1]) if not curve.empty else 0.0
    # A trained version's predictions over the market's when a day has both.
    versions = sorted(set(predictions["model_version"]) - {MARKET_MODEL_VERSION})
    model_version = versions[-1] if versions else MARKET_MODEL_VERSION
    predictions = predictions[predictions["model_version"] == model_version]
    scores = race_scores(predictions, runners, settled_today)
    calibration = _day_calibration(predictions, runners)
    performance = daily_performance(
        race_date,
        scores,
        races,
        quarantine,
        bankroll_yen=bankroll_end,
        drawdown=drawdown,
        model_version=model_version,
        run_seconds=run_seconds,
        calibration_error=calibration_error(calibration[calibration["source"] == "final"]),
    )
    return DayRecord(performance, scores, calibration, curve, bankroll_end, model_version)


def rolling_window_start(
    race_date: date, nth_last_race: date | None, first_race: date | None
) -> date:
    """The first day the rolling windows ending on ``race_date`` may reach: ``ROLLING_DAYS`` back
    or the day of the 500th-last scored race, whichever is earlier."""
    return min(
        race_date - timedelta(days=ROLLING_DAYS - 1), nth_last_race or first_race or race_date
    )
