"""Pure glue between stages: which odds a bet uses, what a day's summary says."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from raceday.arrow_text import text_isin
from raceday.odds_snapshots import stamp_moments

FINAL_ODDS_SNAPSHOT = "final"  # snapshot_at of odds taken from final results (replays)


def betting_odds(snapshot: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Odds a bet is sized on: the race's bet-time snapshot, else its final odds (replays).

    Final odds are only used for races without any snapshot and are marked
    ``snapshot_at == "final"``: backtests on final odds are optimistic.
    """
    columns = ["race_id", "umaban", "snapshot_at", "win_odds", "popularity"]
    with_snapshot = text_isin(final["race_id"], snapshot["race_id"])
    fallback = final[~with_snapshot & final["win_odds"].notna()]
    fallback = fallback.assign(snapshot_at=FINAL_ODDS_SNAPSHOT)[columns]
    odds = pd.concat([snapshot[columns], fallback], ignore_index=True)
    return odds[odds["win_odds"] >= 1.0].reset_index(drop=True)


def races_on_final_odds(odds: pd.DataFrame) -> list[str]:
    """The ids of the races whose bet-time ``odds`` (:func:`betting_odds`) are their final odds
    (``snapshot_at == "final"``): the source held no snapshot of theirs it could date."""
    if odds.empty:
        return []
    final = odds.loc[odds["snapshot_at"].astype("string") == FINAL_ODDS_SNAPSHOT, "race_id"]
    return final.astype(str).drop_duplicates().tolist()


def odds_moments(odds: pd.DataFrame, deadlines: pd.Series) -> pd.DataFrame:
    """Per race of the bet-time ``odds`` (:func:`betting_odds`: ``race_id``, ``snapshot_at``
    MMDDhhmm), ``odds_at`` when its snapshot was published (NaT for its final odds, or a stamp
    it cannot read) and ``decided_at``, its decision moment (``deadlines``, by ``race_id``:
    :func:`raceday.sources.timeline.card_deadlines`; NaT when it has none): what
    :func:`races_on_stale_odds` judges, as ``race_decisions`` rows say it of race time."""
    first = odds.drop_duplicates("race_id")
    race_id = first["race_id"].astype("string")
    race_day = pd.to_datetime(race_id.str.slice(0, 8), format="%Y%m%d", errors="coerce")
    unique = pd.to_datetime(deadlines[~deadlines.index.duplicated()], errors="coerce")
    return pd.DataFrame(
        {
            "race_id": race_id.to_numpy(),
            "odds_at": stamp_moments(first["snapshot_at"], race_day).to_numpy(),
            "decided_at": unique.reindex(race_id.to_numpy()).to_numpy(),
        }
    )


def races_on_stale_odds(decisions: pd.DataFrame, stale_minutes: int) -> list[str]:
    """The ids of the races decided (``decided_at``) on a snapshot published (``odds_at``)
    more than ``stale_minutes`` before: the source had no later one by then (sampled hours
    apart, or not updated), and the market may have moved since. A race without either moment
    (final odds, no odds, an unreadable stamp) is not judged here."""
    if decisions.empty:
        return []
    age = pd.to_datetime(decisions["decided_at"]) - pd.to_datetime(decisions["odds_at"])
    stale = (age > pd.Timedelta(minutes=stale_minutes)).to_numpy(bool)
    return decisions.loc[stale, "race_id"].astype(str).drop_duplicates().tolist()


def races_without_odds(races: pd.DataFrame, odds: pd.DataFrame) -> list[str]:
    """The ids of the card's ``races`` the bet-time ``odds`` (:func:`betting_odds`) price no
    runner of: stored, but neither predicted nor bet."""
    return races.loc[~text_isin(races["race_id"], odds["race_id"]), "race_id"].astype(str).tolist()


def runner_view(races: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    """Runner rows with the race columns every stage needs."""
    race_columns = [
        "race_id", "class_code", "distance_m", "going_code", "field_size", "entries",
        "leader_first3f_s", "race_last3f_s", "post_time", "race_bango", "track_code",
    ]  # fmt: skip
    return runners.merge(races[race_columns], on="race_id", how="inner")


@dataclass(frozen=True)
class ReferencePlan:
    """Which history a stage's reference times are learned from."""

    version: str
    history_start: date
    history_end: date
    bootstrap: bool
    # The window's runner rows when the reference-times stage read them to learn a new version:
    # the first-3F model of the same window learns from them without reading them again.
    window: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    # The first-3F model of the same window when it was fitted beside other stages (a
    # backfill's chunk: ``tasks.derive.learn_beside``): the first-3F stage stores it, unfitted.
    first3f_model: Any = field(default=None, compare=False, repr=False)


def reference_plan(
    start: date, end: date, last_history_day: date | None, window_days: int
) -> ReferencePlan:
    """Learn from the window before ``start``; with no history at all, from the chunk itself.

    The bootstrap case (an empty store's warm-up) is the only one where a day's reference times
    include that day; it is flagged so reports can say so.
    """
    from raceday.ratings.standards import reference_version

    if last_history_day is None:
        return ReferencePlan(reference_version(end), start, end, bootstrap=True)
    history_end = start - timedelta(days=1)
    history_start = history_end - timedelta(days=window_days - 1)
    return ReferencePlan(reference_version(history_end), history_start, history_end, False)


@dataclass(frozen=True)
class DaySummary:
    """What a day's record and report say (a run's ``--json`` prints it with the run's status,
    which the flow adds); ``odds_source`` and ``report`` are set by the report."""

    date: str
    races: int
    races_offered: int
    runners: int
    quarantined: int
    bets: int
    staked_yen: int
    returned_yen: int
    bankroll_yen: int
    hit_rate: float | None
    top3_rate: float | None
    log_loss: float | None
    market_log_loss: float | None
    pseudo_r2: float | None
    market_pseudo_r2: float | None
    model_version: str
    odds_source: str | None = None
    report: str | None = None
    database: str | None = None
    races_quarantined: int = 0  # of races_offered, set aside by validation
    races_cancelled: int = 0  # said cancelled by the provider (データ区分 9): not offered
    quarantined_cancelled: int = 0  # of quarantined, the records of the races cancelled

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)
