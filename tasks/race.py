"""Race time: a race decided minutes before its close, and the day's races settled as their
results come out.

A race's decision reads its odds as published by the moment, predicts its runners with the
model promoted for the day, sizes its stakes on what is left of the day's limits
(:func:`raceday.staking.bets.size_race`) and writes its predictions, bet-time odds, bets and its
``race_decisions`` row in one transaction: a race is decided once, whatever is killed when, and
the bet slip of the day is rewritten from the stored bets after each race.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from prefect.artifacts import create_table_artifact
from sqlalchemy import Connection

from config import Settings
from data_checks.derived import check_predictions, check_stakes
from data_checks.validate import ValidatedDay
from raceday.codec import SCRATCHED
from raceday.errors import InputError
from raceday.model.rollout import select_races
from raceday.model.win import MARKET_MODEL_VERSION, WinModel, predictions_or_market
from raceday.monitoring.rules import Alert, drawdown_alerts
from raceday.odds_snapshots import stamp_moments
from raceday.pipeline import races_on_stale_odds
from raceday.racetime import (
    BET,
    MISSED_CLOSE,
    NO_BET,
    NO_ODDS,
    NOT_OFFERED,
    RaceSlot,
    race_day_status,
)
from raceday.sources.base import RawDay
from raceday.sources.timeline import RaceOdds, race_market_at, source_post_moments
from raceday.staking.bets import BET_COLUMNS, DayLimits, day_limits, size_race
from raceday.staking.ledger import (
    cash_flows_yen,
    committed_from_ledger_days,
    daily_pnl_from_ledger_days,
    settle_bets,
)
from raceday.staking.pools import race_pools
from raceday.store import registry
from raceday.store.catalogs.bets import (
    ledger_days,
    read_bets,
    write_race_bets,
    write_settlement,
)
from raceday.store.catalogs.decisions import decided_races, read_decisions, record_decision
from raceday.store.catalogs.predictions import write_predictions
from raceday.store.catalogs.races import write_odds
from tasks.alerts import raise_alerts
from tasks.common import (
    current_run_id,
    engine_for,
    logger,
    publishes_day_artifacts,
    record_checked,
    stage,
    stage_run,
)
from tasks.ingest import configured_source
from tasks.labels import RACE_TIME
from tasks.stake import write_slip


@dataclass(frozen=True)
class RaceCard:
    """What the day's card stages leave for its races: the validated card and its features."""

    card: ValidatedDay
    features: pd.DataFrame | None


def stored_race_card(settings: Settings, race_date: date) -> RaceCard:
    """The day's card as its morning run stored it (a race run in a process of its own)."""
    from raceday.ratings.features import feature_set_name
    from raceday.store.catalogs.races import read_races, read_runners
    from raceday.store.catalogs.ratings import read_features

    feature_set = feature_set_name(settings.features.people_window_days)
    with engine_for(settings).connect() as connection:
        races = read_races(connection, race_date, race_date)
        runners = read_runners(connection, race_date, race_date)
        features = read_features(connection, race_date, race_date, feature_set)
    if races.empty:
        raise InputError(f"no card stored for {race_date}: run the day's race-card first")
    card = ValidatedDay(races, runners, pd.DataFrame(), pd.DataFrame(), ())
    return RaceCard(card, features.drop(columns=["feature_set"]) if not features.empty else None)


@stage("race-odds", io=True)
def read_race_odds(
    settings: Settings, slot: RaceSlot, moment: datetime, raw: RawDay | None = None
) -> RaceOdds:
    """The race's odds as published by ``moment`` (and the horses they say are not sold);
    ``raw``: a replayed day's tables (a replay's source does not change), else the race's
    venue is read from the source now."""
    if raw is None:
        raw = configured_source(settings).read_days(
            slot.race_date, slot.race_date, venues=[slot.venue]
        )
    return race_market_at(raw.nvd_o1, slot.race_id, moment)


@stage("post-times", io=True)
def read_post_times(settings: Settings, race_date: date) -> pd.Series:
    """The day's post times as the source gives them now, by ``race_id`` (a post time changed
    after the morning card moves its race: :func:`raceday.racetime.retimed`)."""
    raw = configured_source(settings).read_days(race_date, race_date)
    return source_post_moments(raw.nvd_ra)


_MODELS: dict[tuple[str, date], tuple[WinModel | None, str]] = {}


def _model_for_day(
    settings: Settings, connection: Connection, race_date: date
) -> tuple[WinModel | None, str]:
    """The day's promoted model, loaded once per process and day (a race must not pay for it)."""
    key = (settings.database_url, race_date)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = registry.model_for_day(connection, race_date)
    return _MODELS[key]


def _race_card(day: RaceCard, race_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    races = day.card.races[day.card.races["race_id"] == race_id]
    return races, race_runners(day, race_id)


def race_runners(day: RaceCard, race_id: str) -> pd.DataFrame:
    """The race's runners on the day's card."""
    return day.card.runners[day.card.runners["race_id"] == race_id]


def scratched_since_card(runners: pd.DataFrame, unsold: tuple[int, ...]) -> list[int]:
    """The horses of ``runners`` (a race's card) its snapshot says are not sold (``unsold``)
    though the card has them running: withdrawn since the card (a late 取消), left out of the
    market and the bets."""
    running = runners.loc[runners["abnormal_code"].ne(SCRATCHED).fillna(True), "umaban"]
    return sorted({int(umaban) for umaban in running.dropna()} & set(unsold))


def withdrawn_note(withdrawn: list[int]) -> str:
    """What a decision says of the horses withdrawn at race time; blank when none."""
    if not withdrawn:
        return ""
    numbers = ", ".join(str(umaban) for umaban in withdrawn)
    return f"; withdrawn at race time (not sold in its snapshot): {numbers}"


def _decision_row(
    settings: Settings,
    slot: RaceSlot,
    outcome: str,
    decided_at: datetime,
    **details: Any,
) -> dict[str, Any]:
    return {
        "policy": settings.kelly.policy().name,
        "race_id": slot.race_id,
        "race_date": pd.Timestamp(slot.race_date),
        "outcome": outcome,
        "post_at": pd.Timestamp(slot.post_at),
        "odds_at": details.get("odds_at"),
        "decided_at": pd.Timestamp(decided_at),
        "bets": int(details.get("bets", 0)),
        "staked_yen": int(details.get("staked_yen", 0)),
        "model_version": details.get("model_version"),
        "run_id": current_run_id(),
        "latency_s": details.get("latency_s"),
        "message": details.get("message"),
    }


@stage("decide-race")
def decide_race(
    settings: Settings,
    slot: RaceSlot,
    day: RaceCard,
    odds: pd.DataFrame,
    decided_at: datetime,
    read_started: float | None = None,
    unsold: tuple[int, ...] = (),
) -> dict[str, Any]:
    """Predict and stake one race on ``odds`` (its snapshot at the moment), on what is left of
    the day's limits; its bets and its decision are written together. A race decided before
    (a restarted day) is left as it was. ``read_started``: ``time.perf_counter()`` when its
    odds were read (the decision's latency is measured from there to the ticket written).
    ``unsold``: the horses the snapshot says are not sold; those the card has running are
    withdrawn at race time (priced by nobody, predicted and bet on by nobody), said in the
    decision's message and the log."""
    policy = settings.kelly.policy()
    races, runners = _race_card(day, slot.race_id)
    withdrawn = scratched_since_card(runners, unsold)
    if withdrawn:
        logger().warning("%s%s", slot.run_name, withdrawn_note(withdrawn))
    offered = select_races(day.card.races, settings.races_per_day)
    with stage_run(settings, "decide-race", slot.race_date) as record:
        record.race_id = slot.race_id
        with engine_for(settings).begin() as connection:
            if slot.race_id in decided_races(connection, policy.name, slot.race_date):
                record.message = f"{slot.race_id} already decided"
                return {"race_id": slot.race_id, "outcome": "already_decided"}
            if slot.race_id not in set(offered["race_id"]):
                row = _decision_row(settings, slot, NOT_OFFERED, decided_at)
                record_decision(connection, row)
                return row
            model, why = _model_for_day(settings, connection, slot.race_date)
            predictions, fallback = predictions_or_market(model, why, runners, odds, day.features)
            if fallback is not None:
                logger().warning("predicting with %s: %s", MARKET_MODEL_VERSION, fallback)
            predictions = record_checked(
                settings,
                connection,
                check_predictions(predictions),
                "predict",
                slot.race_date,
                race_ids=[slot.race_id],
            )
            write_predictions(connection, predictions)
            limits = current_limits(settings, connection, slot.race_date)
            sized = size_race(
                policy,
                predictions,
                odds,
                race_pools(races, settings.kelly.win_pools()),
                limits,
                stake_scale=settings.rollout.stake_scale,
                decided_at=decided_at,
            )
            bets = record_checked(
                settings,
                connection,
                check_stakes(sized.bets, policy, sized.bankroll_yen),
                "stake",
                slot.race_date,
                race_ids=[slot.race_id],
            )[BET_COLUMNS]
            write_race_bets(connection, bets, policy.name, slot.race_id)
            write_odds(connection, odds, runners)
            versions = predictions["model_version"].dropna().unique()
            row = _decision_row(
                settings,
                slot,
                BET if not bets.empty else NO_BET,
                decided_at,
                odds_at=odds_published(odds, slot),
                bets=len(bets),
                staked_yen=int(bets["stake_yen"].sum()) if not bets.empty else 0,
                model_version=str(versions[0]) if len(versions) else None,
                latency_s=None if read_started is None else time.perf_counter() - read_started,
                message=f"drawdown {limits.drawdown:.1%}, "
                f"{max(limits.remaining_day_yen(policy), 0):.0f} yen left of the day's cap"
                + withdrawn_note(withdrawn),
            )
            record_decision(connection, row)
            day_bets = read_bets(connection, slot.race_date, slot.race_date, policy=policy.name)
        record.rows_in, record.rows_out = len(runners), len(bets)
        record.message = f"{slot.run_name}: {row['outcome']}, {row['staked_yen']} yen"
    write_slip(settings, day_bets[BET_COLUMNS], day.card, slot.race_date)
    publish_day_status(settings, slot.race_date)
    logger().info(
        "%s: %d bets, %d yen on odds of %s (decided %s)",
        slot.run_name,
        row["bets"],
        row["staked_yen"],
        row["odds_at"],
        decided_at,
    )
    return row


def realized_pnl_yen(bets: pd.DataFrame) -> int:
    """What the day's settled bets have won or lost so far (open bets are not losses yet)."""
    if bets.empty:
        return 0
    settled = bets[bets["settled"].fillna(False).astype(bool)]
    return int(cash_flows_yen(settled).sum())


def odds_published(odds: pd.DataFrame, slot: RaceSlot) -> pd.Timestamp | None:
    """When the race's snapshot in ``odds`` was published."""
    stamps = odds["snapshot_at"].dropna().astype("string")
    if stamps.empty:
        return None
    moment = stamp_moments(stamps.iloc[:1], pd.Series([pd.Timestamp(slot.race_date)]))
    return None if pd.isna(moment.iloc[0]) else pd.Timestamp(moment.iloc[0])


@stage("skip-race")
def skip_race(
    settings: Settings, slot: RaceSlot, outcome: str, decided_at: datetime, reason: str
) -> dict[str, Any]:
    """Record a race left out at race time (``missed_close``, ``no_odds``, ``odds_set_aside``)
    and alert at once;
    a race decided before is left as it was."""
    policy = settings.kelly.policy()
    with stage_run(settings, "skip-race", slot.race_date) as record:
        record.race_id = slot.race_id
        with engine_for(settings).begin() as connection:
            if slot.race_id in decided_races(connection, policy.name, slot.race_date):
                return {"race_id": slot.race_id, "outcome": "already_decided"}
            row = _decision_row(settings, slot, outcome, decided_at, message=reason)
            record_decision(connection, row)
        record.message = f"{slot.run_name}: {outcome}"
    rule = {MISSED_CLOSE: "missed_close", NO_ODDS: "odds_missing"}.get(outcome, outcome)
    alert = Alert(  # one notification a day per rule: later races repeat it (race_decisions
        # and the race-time artifact list them all); a day without odds would page per race
        rule=rule,
        severity="warning",
        message=f"{slot.run_name} (post {slot.post_at:%H:%M}) not bet: {reason} (later races "
        f"of the day with the same fault repeat this alert: see the race-time artifact)",
        race_date=slot.race_date,
        scope="race-time",
        key=slot.race_date.isoformat(),
    )
    raise_alerts(settings, [alert], now=datetime.now(), quiet_before=None)
    logger().warning("%s not bet: %s", slot.run_name, reason)
    publish_day_status(settings, slot.race_date)
    return row


@stage("skip-closed")
def skip_closed_races(
    settings: Settings, slots: list[RaceSlot], now: datetime
) -> list[dict[str, Any]]:
    """Races whose close had passed when the day's race time began (a late start, a restart
    after hours down): recorded ``missed_close`` together, with one alert naming them (not one
    per race: a day started at 18:00 would page the operator 25 times)."""
    if not slots:
        return []
    policy = settings.kelly.policy()
    race_date = slots[0].race_date
    reason = f"race time began at {now:%H:%M:%S}, after its close"
    with stage_run(settings, "skip-closed", race_date) as record:
        with engine_for(settings).begin() as connection:
            decided = decided_races(connection, policy.name, race_date)
            rows = [
                _decision_row(settings, slot, MISSED_CLOSE, now, message=reason)
                for slot in slots
                if slot.race_id not in decided
            ]
            for row in rows:
                record_decision(connection, row)
        record.rows_out = len(rows)
        record.message = f"{len(rows)} races closed before race time began"
    if rows:
        names = [slot.run_name for slot in slots if slot.race_id in {r["race_id"] for r in rows}]
        alert = Alert(
            rule="missed_close",
            severity="warning",
            message=f"race time for {race_date} began at {now:%H:%M}: {len(rows)} races had "
            f"closed already and are not bet ({names[0]} .. {names[-1]})",
            race_date=race_date,
            scope="race-time",
            key=f"{race_date}|began-late",
        )
        raise_alerts(settings, [alert], now=datetime.now(), quiet_before=None)
        logger().warning("%s", alert.message)
        publish_day_status(settings, race_date)
    return rows


@stage("settle-races", io=True)
def settle_races(
    settings: Settings, race_date: date, race_ids: list[str], raw: RawDay | None = None
) -> int:
    """Settle the bets of ``race_ids`` whose results are out (provisional: the night's
    ``settle-day`` validates the results and settles the day again, idempotently). ``raw``:
    a replayed day's tables, else the day is read from the source now. Returns the races
    settled."""
    if not race_ids:
        return 0
    policy = settings.kelly.policy()
    with stage_run(settings, "settle-races", race_date) as record:
        if raw is None:
            raw = configured_source(settings).read_days(race_date, race_date)
        results = raw.runners  # decoded once per day, however many races it settles
        results = results[results["race_id"].isin(race_ids)]
        with engine_for(settings).begin() as connection:
            bets = read_bets(connection, race_date, race_date, policy=policy.name)
            open_bets = bets[
                bets["race_id"].isin(race_ids) & ~bets["settled"].fillna(False).astype(bool)
            ]
            settled = settle_bets(open_bets, results, takeout=policy.takeout)
            settled = settled[settled["settled"].fillna(False).astype(bool)]
            write_settlement(connection, settled)
            limits = current_limits(settings, connection, race_date)
        record.rows_in, record.rows_out = len(open_bets), len(settled)
        done = int(settled["race_id"].nunique()) if not settled.empty else 0
        record.message = f"{done} races settled, drawdown {limits.drawdown:.1%}"
    alerts = drawdown_alerts(race_date, limits.drawdown, settings.monitor_thresholds())
    if alerts:
        raise_alerts(settings, alerts, now=datetime.now(), quiet_before=None)
    publish_day_status(settings, race_date)
    return done


def current_limits(settings: Settings, connection: Connection, race_date: date) -> DayLimits:
    """The day's limits now: its bankroll, what it has staked and the drawdown counting the
    races settled so far."""
    policy = settings.kelly.policy()
    today = read_bets(connection, race_date, race_date, policy=policy.name)
    earlier = ledger_days(connection, policy.name, before=race_date)
    return day_limits(
        settings.bankroll_yen,
        daily_pnl_from_ledger_days(earlier),
        realized_pnl_yen(today),
        int(today["stake_yen"].sum()) if not today.empty else 0,
        committed_from_ledger_days(earlier),
    )


def publish_day_status(settings: Settings, race_date: date) -> None:
    """Inside a flow run, the day's races so far as a table artifact (``race-time``, a new
    version after every race and settlement): what the operator watches in the UI."""
    if not publishes_day_artifacts():
        return
    policy = settings.kelly.policy()
    with engine_for(settings).connect() as connection:
        decisions = read_decisions(connection, race_date, policy.name)
        bets = read_bets(connection, race_date, race_date, policy=policy.name)
    status = race_day_status(decisions, bets)
    create_table_artifact(
        key=RACE_TIME,
        table=[
            {str(key): value for key, value in row.items()}
            for row in status.astype(object).where(status.notna(), None).to_dict("records")
        ],
        description=f"Race time {race_date}: {len(status)} races decided",
    )


def races_with_open_bets(settings: Settings, race_date: date) -> set[str]:
    """The day's races with a bet not settled yet."""
    policy = settings.kelly.policy()
    with engine_for(settings).connect() as connection:
        bets = read_bets(connection, race_date, race_date, policy=policy.name)
    if bets.empty:
        return set()
    open_bets = bets[~bets["settled"].fillna(False).astype(bool)]
    return set(open_bets["race_id"].astype(str))


def races_not_bet(settings: Settings, race_date: date) -> list[str]:
    """The day's races recorded as not bet at race time (the close missed, no odds), by race:
    ``"<race id> <outcome>"``, whichever run of the day decided them."""
    with engine_for(settings).connect() as connection:
        decisions = read_decisions(connection, race_date, settings.kelly.policy().name)
    skipped = decisions[decisions["outcome"].isin([MISSED_CLOSE, NO_ODDS])].sort_values("race_id")
    return [str(said) for said in skipped["race_id"] + " " + skipped["outcome"]]


def races_on_stale_odds_decided(settings: Settings, race_date: date) -> list[str]:
    """The day's races decided at race time on a snapshot published more than
    ``live.stale_odds_minutes`` before their decision (:func:`raceday.pipeline.races_on_stale_odds`
    over their ``race_decisions`` rows), whichever run of the day decided them."""
    with engine_for(settings).connect() as connection:
        decisions = read_decisions(connection, race_date, settings.kelly.policy().name)
    return races_on_stale_odds(decisions.sort_values("race_id"), settings.live.stale_odds_minutes)


def races_decided(settings: Settings, race_date: date) -> set[str]:
    """The day's races decided so far (a restarted day goes on from there)."""
    with engine_for(settings).connect() as connection:
        return decided_races(connection, settings.kelly.policy().name, race_date)
