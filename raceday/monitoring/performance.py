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

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from raceday.codec import race_venues, races_abroad
from raceday.day_rows import day_codes, rows_by_day
from raceday.model.calibration import calibration_counts_by_group, calibration_error
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


def judged_runners(predictions: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    """Predictions with each runner's result (``finish_pos``, ``won``) and venue."""
    joined = predictions.merge(
        runners[["race_id", "umaban", "finish_pos"]], on=["race_id", "umaban"], how="inner"
    )
    won = joined["finish_pos"].astype("Float64").eq(1).fillna(False).astype(bool)
    return joined.assign(won=won, keibajo_code=race_venues(joined["race_id"]))


def race_scores(
    predictions: pd.DataFrame, runners: pd.DataFrame, settled_bets: pd.DataFrame
) -> pd.DataFrame:
    """One row per predicted race with a result: what every performance figure sums."""
    return _scores_of_judged(judged_runners(predictions, runners), settled_bets)


def _scores_of_judged(judged: pd.DataFrame, settled_bets: pd.DataFrame) -> pd.DataFrame:
    """:func:`race_scores` of :func:`judged_runners` (races of any days: each race on its own,
    in race id order)."""
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


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _ints(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="int64", na_value=0)  # a missing count adds nothing


def _float_sum(values: np.ndarray) -> float:
    """What ``Series.sum()`` gives for float64 values: missing ones as 0, numpy's (pairwise)
    sum of the rest in order, so a summary of arrays equals the frame's to the last bit."""
    return float(np.where(np.isnan(values), 0.0, values).sum())


@dataclass(frozen=True)
class ScoreArrays:
    """The race-score columns a summary adds up, as plain arrays: a day's scopes and the
    rolling windows select their races by mask or position, without a frame per selection."""

    winners: np.ndarray
    log_loss_final: np.ndarray
    log_loss_market: np.ndarray
    log_loss_uniform: np.ndarray
    top_pick_p: np.ndarray  # NaN: no top pick
    top_pick_finish: np.ndarray  # NaN: no top pick's finish
    bets: np.ndarray
    staked_yen: np.ndarray
    returned_yen: np.ndarray
    priced_runners: np.ndarray

    @classmethod
    def of(cls, scores: pd.DataFrame) -> ScoreArrays:
        """The arrays of race scores (``SCORE_COLUMNS``)."""
        return cls(
            winners=scores["winners"].astype("int64").to_numpy(),
            log_loss_final=_floats(scores["log_loss_final"]),
            log_loss_market=_floats(scores["log_loss_market"]),
            log_loss_uniform=_floats(scores["log_loss_uniform"]),
            top_pick_p=_floats(scores["top_pick_p"].astype("Float64")),
            top_pick_finish=_floats(scores["top_pick_finish"].astype("Float64")),
            bets=_ints(scores["bets"]),
            staked_yen=_ints(scores["staked_yen"]),
            returned_yen=_ints(scores["returned_yen"]),
            priced_runners=_ints(scores["priced_runners"]),
        )

    def rows(self, selected: np.ndarray) -> ScoreArrays:
        """The races ``selected`` (a boolean mask or positions, in their order)."""
        return ScoreArrays(
            **{field.name: getattr(self, field.name)[selected] for field in fields(self)}
        )

    def summary(self) -> dict[str, float | int | None]:
        """:func:`summarise_scores` of these races."""
        scored = self.winners > 0
        scored_races = int(scored.sum())
        winners = float(self.winners[scored].sum())
        ll_final = _float_sum(self.log_loss_final[scored])
        ll_market = _float_sum(self.log_loss_market[scored])
        ll_uniform = _float_sum(self.log_loss_uniform[scored])
        finish = self.top_pick_finish[scored]
        staked = int(self.staked_yen.sum())
        returned = int(self.returned_yen.sum())
        roi = _ratio(returned, staked)
        return {
            "races": len(self.winners),
            "scored_races": scored_races,
            "bets": int(self.bets.sum()),
            "staked_yen": staked,
            "returned_yen": returned,
            "roi": None if roi is None else roi - 1,
            "hit_rate": _share(finish == 1, scored_races),
            "expected_hit_rate": _ratio(_float_sum(self.top_pick_p[scored]), scored_races),
            "top3_rate": _share(finish <= 3, scored_races),
            "log_loss": _ratio(ll_final, winners),
            "market_log_loss": _ratio(ll_market, winners),
            "uniform_log_loss": _ratio(ll_uniform, winners),
            "pseudo_r2": None if not ll_uniform else 1 - ll_final / ll_uniform,
            "market_pseudo_r2": None if not ll_uniform else 1 - ll_market / ll_uniform,
        }


def _share(hits: np.ndarray, count: int) -> float | None:
    """The share of ``count`` races that ``hits`` holds (None without races)."""
    return float(np.count_nonzero(hits)) / count if count else None


def summarise_scores(scores: pd.DataFrame) -> dict[str, float | int | None]:
    """Races, bets, turnover, return, ROI, hit/top-3 rate, the hit rate the top picks' own
    probabilities expect, log losses and pseudo-R² of a set."""
    return ScoreArrays.of(scores).summary()


# A quarantine row of the races table sets its race aside, but for a copy of a race's row (the
# copy is set aside, the race kept); so does one of the predictions (a race whose probabilities
# break a rule is not predicted, so not bet).
_RACE_KEPT_CHECKS: Final = ("row_not_repeated",)
_FIELD_NOT_LISTED: Final = "card_lists_the_field"
_RACE_CANCELLED: Final = "race_not_cancelled"  # データ区分 9 on a race's or runner's record
_SETTING_ASIDE_TABLES: Final = ("races", "predictions")


def races_set_aside(races: pd.DataFrame, quarantine: pd.DataFrame) -> pd.Series:
    """Race ids validation set aside, in the morning or at night: those with a quarantine row of
    the races table (their own failure, or their runners' or odds': ``race_has_invalid_runner``)
    or of the predictions, and any other quarantined and not stored. A race that lost one
    runner row but still runs is not set aside; a race whose card was stored in the morning and
    whose results were set aside at night is. A race not run (:func:`races_not_run`: cancelled,
    or abroad with only part of its field listed) is neither."""
    table = quarantine.get("table_name", pd.Series(pd.NA, index=quarantine.index, dtype=object))
    check = quarantine.get("check_name", pd.Series(pd.NA, index=quarantine.index, dtype=object))
    on_races = table.isin(_SETTING_ASIDE_TABLES) & ~check.isin(_RACE_KEPT_CHECKS)
    judged = set(quarantine.loc[on_races, "race_id"].dropna().astype(str))
    quarantined = set(quarantine["race_id"].dropna().astype(str))
    stored = set(races["race_id"].astype(str))
    aside = (judged | (quarantined - stored)) - races_not_run(quarantine)
    return pd.Series(sorted(aside), dtype="string", name="race_id")


def races_not_run(quarantine: pd.DataFrame) -> set[str]:
    """Races validation set aside for what they are, not for a fault of the feed: cancelled
    (:func:`races_cancelled`) or abroad with only part of their field listed
    (:func:`fields_not_listed_abroad`). Neither offered nor set aside: they do not count in the
    quarantine rate, and a day of only such races is a day without races, not one refused."""
    return races_cancelled(quarantine) | fields_not_listed_abroad(quarantine)


def races_cancelled(quarantine: pd.DataFrame) -> set[str]:
    """Races the provider says were cancelled (データ区分 9 on a record of theirs: a typhoon,
    snow, an accident; ``race_not_cancelled``). Real meetings are cancelled whole every year:
    such a race is not bad data, only not run (its bets refunded)."""
    check = quarantine.get("check_name", pd.Series(pd.NA, index=quarantine.index, dtype=object))
    said = check.eq(_RACE_CANCELLED).fillna(False).astype(bool).to_numpy()
    return set(quarantine.loc[said, "race_id"].dropna().astype(str))


def records_cancelled(quarantine: pd.DataFrame) -> int:
    """How many ``quarantine`` rows are records of races the provider cancelled
    (:func:`races_cancelled`): its word, not faults of the feed."""
    cancelled = races_cancelled(quarantine)
    return int(quarantine["race_id"].astype("string").isin(cancelled).sum()) if cancelled else 0


def races_cancelled_by_venue(quarantine: pd.DataFrame) -> dict[str, int]:
    """:func:`races_cancelled` counted per keibajo_code: what the monitor says of a day (or a
    venue) without races whose races were all cancelled."""
    venues = race_venues(pd.Series(sorted(races_cancelled(quarantine)), dtype="string"))
    return {str(venue): int(count) for venue, count in venues.value_counts().items()}


def fields_not_listed_abroad(quarantine: pd.DataFrame) -> set[str]:
    """Races abroad (a letter-coded venue: ``20251005A608``) set aside for listing only part of
    their field (``card_lists_the_field``): a JRA-VAN database's records of a race abroad hold
    only its Japanese runners, always. Never priceable, and no fault of the feed: neither
    offered nor set aside (a big international day's races abroad would trip the quarantine
    rate, a weekday with only a race abroad read as a day whose every race was set aside)."""
    check = quarantine.get("check_name", pd.Series(pd.NA, index=quarantine.index, dtype=object))
    race_ids = quarantine["race_id"].astype("string")
    partial = check.eq(_FIELD_NOT_LISTED).fillna(False).astype(bool)
    return set(race_ids[races_abroad(race_ids) & partial].astype(str))


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
    not_stored = set_aside[~set_aside.isin(set(races["race_id"].astype(str)))]
    offered_venues = pd.concat(
        [race_venues(races["race_id"]), race_venues(not_stored)], ignore_index=True
    )
    aside_venues = race_venues(set_aside)
    quarantine_venues = race_venues(quarantine["race_id"].fillna(""))
    venues = sorted(set(offered_venues.dropna()) | set(scores["keibajo_code"].dropna()))
    score_codes, offered_codes, aside_codes, quarantine_codes = (
        _venue_codes(frame)
        for frame in (scores["keibajo_code"], offered_venues, aside_venues, quarantine_venues)
    )
    score_arrays = ScoreArrays.of(scores)
    rows = []
    for scope in [ALL_SCOPE, *venues]:
        scope_scores = score_arrays.rows(_in_scope(score_codes, scope))
        offered = int(_in_scope(offered_codes, scope).sum())
        aside = int(_in_scope(aside_codes, scope).sum())
        rows.append(
            {
                "scope": scope,
                **scope_scores.summary(),
                "runners": int(scope_scores.priced_runners.sum()),
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


def _datetimes(values: pd.Series | pd.Index) -> np.ndarray:
    return np.asarray(pd.to_datetime(values), dtype="datetime64[ns]")


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
    return rolling_performances([race_date], scores, daily, curve, [bankroll_yen], spans)


def rolling_performances(
    days: list[date],
    scores: pd.DataFrame,
    daily: pd.DataFrame,
    curve: pd.DataFrame,
    bankrolls_yen: list[int],
    spans: tuple[str, ...] = ROLLING_SPANS,
) -> pd.DataFrame:
    """:func:`rolling_performance` of each of ``days`` (with its bankroll): each day's windows
    see only the rows dated up to it, so ``scores``, ``daily`` and ``curve`` may reach the last
    day; the columns are turned into arrays once for every day."""
    score_dates = _datetimes(scores["race_date"])
    score_arrays = ScoreArrays.of(scores)
    by_race = scores.reset_index(drop=True).sort_values(["race_date", "race_id"]).index
    race_order = by_race.to_numpy()
    ordered_dates = score_dates[race_order]
    daily_dates = _datetimes(daily["perf_date"])
    daily_quarantined = daily["races_quarantined"].to_numpy(dtype="float64", na_value=0.0)
    daily_offered = daily["races_offered"].to_numpy(dtype="float64", na_value=0.0)
    curve_dates = _datetimes(curve.index)
    drawdowns = curve["drawdown"].to_numpy(dtype="float64", na_value=np.nan)
    rows = []
    for race_date, bankroll_yen in zip(days, bankrolls_yen, strict=True):
        end = pd.Timestamp(race_date)
        end64 = end.to_datetime64()
        up_to = int(np.searchsorted(ordered_dates, end64, side="right"))
        for span in spans:
            length = int(span[:-1])
            if span.endswith("r"):
                last_races = race_order[max(0, up_to - length) : up_to]
                start = ordered_dates[max(0, up_to - length)] if up_to else None
                first = pd.Timestamp(start) if start is not None else end
                window = score_arrays.rows(last_races)
            else:
                first = end - pd.Timedelta(days=length - 1)
                start = first
                window = score_arrays.rows(
                    (score_dates >= first.to_datetime64()) & (score_dates <= end64)
                )
            first64 = first.to_datetime64()
            in_days = (daily_dates >= first64) & (daily_dates <= end64)
            before = np.flatnonzero(curve_dates < first64)[-1:]
            in_curve = np.concatenate(
                [drawdowns[before], drawdowns[(curve_dates >= first64) & (curve_dates <= end64)]]
            )
            summary = window.summary()
            summary.pop("uniform_log_loss")
            rows.append(
                {
                    "perf_date": end,
                    "span": span,
                    "first_date": first if start is not None else pd.NaT,
                    "days": len(np.unique(daily_dates[in_days])),
                    **summary,
                    "quarantine_rate": _ratio(
                        float(daily_quarantined[in_days].sum()),
                        float(daily_offered[in_days].sum()),
                    ),
                    "max_drawdown": _max(in_curve) if in_curve.size else 0.0,
                    "bankroll_yen": bankroll_yen,
                }
            )
    return pd.DataFrame(rows)


def _max(values: np.ndarray) -> float:
    """What ``Series.max()`` gives: the largest value not missing (NaN when all are)."""
    present = values[~np.isnan(values)]
    return float(present.max()) if present.size else float("nan")


ROLLING_DAYS: Final = 30  # the longest day window; the 500-race window may reach further back


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
    settled P&L per day up to the day (from ``initial_bankroll_yen``)."""
    return days_record(
        [race_date],
        initial_bankroll_yen=initial_bankroll_yen,
        predictions=predictions,
        runners=runners,
        races=races,
        bets=bets,
        quarantine=quarantine,
        daily_pnl=daily_pnl,
        run_seconds=run_seconds,
    )[0]


def days_record(
    days: list[date],
    *,
    initial_bankroll_yen: int,
    predictions: pd.DataFrame,
    runners: pd.DataFrame,
    races: pd.DataFrame,
    bets: pd.DataFrame,
    quarantine: pd.DataFrame,
    daily_pnl: pd.Series,
    run_seconds: float | None,
) -> list[DayRecord]:
    """:func:`day_record` of each of ``days`` (in date order) from the rows of all of them,
    each row a day's by its ``race_date``: the runners are judged, the races scored and the
    calibration counted once for every day (each race and each day's bins on their own, so
    every figure is the day's own to the last bit); ``quarantine`` is distinct per day,
    ``daily_pnl`` the ledger's settled P&L per day up to the last day."""
    prediction_days = day_codes(predictions["race_date"], days)
    versions = _day_versions(predictions, prediction_days, len(days))
    # Each day's predictions of its version (a race's runners are only ever its day's).
    chosen = np.asarray(versions, dtype=object)[prediction_days]
    kept = (prediction_days >= 0) & (predictions["model_version"].to_numpy(dtype=object) == chosen)
    judged = judged_runners(predictions[kept], runners)
    settled = bets[bets["settled"].fillna(False).astype(bool)]
    scores = _scores_of_judged(judged, settled)
    score_rows = rows_by_day(day_codes(scores["race_date"], days), len(days))
    calibration = _days_calibration(
        judged,
        day_codes(judged["race_date"], days),
        versions,
        np.bincount(prediction_days[kept], minlength=len(days)) > 0,
    )
    race_rows = rows_by_day(day_codes(races["race_date"], days), len(days))
    quarantine_rows = rows_by_day(day_codes(quarantine["race_date"], days), len(days))
    # The settled bankroll: an open bet's stake is committed, not lost (no drawdown from it).
    curve = bankroll_curve(initial_bankroll_yen, daily_pnl)
    pnl_dates = _datetimes(daily_pnl.index)
    curve_dates = _datetimes(curve.index)
    records = []
    for number, race_date in enumerate(days):
        end = pd.Timestamp(race_date).to_datetime64()
        day_curve = curve[curve_dates <= end]
        bankroll_end = int(initial_bankroll_yen + daily_pnl[pnl_dates <= end].sum())
        drawdown = float(day_curve["drawdown"].iloc[-1]) if not day_curve.empty else 0.0
        day_scores = scores.take(score_rows[number]).reset_index(drop=True)
        day_calibration = calibration[number]
        performance = daily_performance(
            race_date,
            day_scores,
            races.take(race_rows[number]),
            quarantine.take(quarantine_rows[number]),
            bankroll_yen=bankroll_end,
            drawdown=drawdown,
            model_version=versions[number],
            run_seconds=run_seconds,
            calibration_error=calibration_error(
                day_calibration[day_calibration["source"] == "final"]
            ),
        )
        records.append(
            DayRecord(
                performance, day_scores, day_calibration, day_curve, bankroll_end, versions[number]
            )
        )
    return records


def _day_versions(predictions: pd.DataFrame, codes: np.ndarray, days: int) -> list[str]:
    """The version each day is judged by: a trained version's over the market's when a day
    has both (the latest name of them)."""
    pairs = pd.DataFrame({"day": codes, "version": predictions["model_version"].to_numpy()})
    by_day: dict[int, set[str]] = {}
    for day, version in pairs.drop_duplicates().itertuples(index=False):
        by_day.setdefault(int(day), set()).add(version)
    chosen = []
    for number in range(days):
        trained = sorted(by_day.get(number, set()) - {MARKET_MODEL_VERSION})
        chosen.append(trained[-1] if trained else MARKET_MODEL_VERSION)
    return chosen


def _days_calibration(
    judged: pd.DataFrame, codes: np.ndarray, versions: list[str], predicted: np.ndarray
) -> list[pd.DataFrame]:
    """Each day's calibration counts of its final and market probabilities (races with a
    winner; ``codes``: each judged runner's day), with the version judged (None for a day
    without predictions of it: ``predicted`` says which have)."""
    with_winner = judged.groupby("race_id")["won"].transform("any").to_numpy(dtype=bool)
    judged, codes = judged[with_winner], codes[with_winner]
    final, market = (
        calibration_counts_by_group(judged[column], judged["won"], codes, len(versions))
        for column in ("p_final", "p_market")
    )
    return [
        pd.concat(
            [final[number].assign(source="final"), market[number].assign(source="market")],
            ignore_index=True,
        ).assign(model_version=version if predicted[number] else None)
        for number, version in enumerate(versions)
    ]


def rolling_window_start(
    race_date: date, nth_last_race: date | None, first_race: date | None
) -> date:
    """The first day the rolling windows ending on ``race_date`` may reach: ``ROLLING_DAYS`` back
    or the day of the 500th-last scored race, whichever is earlier."""
    return min(
        race_date - timedelta(days=ROLLING_DAYS - 1), nth_last_race or first_race or race_date
    )
