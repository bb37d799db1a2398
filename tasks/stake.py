"""Stake: size the day's win bets with fractional multi-outcome Kelly; write the bet slip."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from prefect.artifacts import create_table_artifact

from config import Settings
from config.reference import venue_names
from data_checks.derived import CheckedFrame, check_stakes
from data_checks.validate import ValidatedDay
from raceday.japan_time import JAPAN_TIME
from raceday.sources.timeline import decision_moments
from raceday.staking.bets import (
    BET_COLUMNS,
    SizedDay,
    bet_slip,
    single_model_version,
    size_on_bankroll,
    staking_candidates,
)
from raceday.staking.kelly import StakingPolicy, kelly_candidates
from raceday.staking.ledger import committed_from_ledger_days, daily_pnl_from_ledger_days
from raceday.staking.pools import race_pools
from raceday.store.catalogs.bets import ledger_days, read_bets, write_bets
from raceday.store.catalogs.decisions import decided_races
from tasks.common import (
    engine_for,
    logger,
    publishes_day_artifacts,
    record_checked,
    stage,
    stage_run,
)
from tasks.labels import BET_SLIP


def morning_decision(settings: Settings, race_date: date) -> datetime:
    """When the daily run's tickets are emitted: now (Japan time) for today's run, the morning
    decision time (``live.morning_odds_at``, whose odds it bets on) for a past day's replay."""
    now = datetime.now(JAPAN_TIME).replace(tzinfo=None)
    return now if race_date >= now.date() else settings.live.morning_moment(race_date)


def size_checked_day(
    settings: Settings,
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    daily_pnl: pd.Series,
    committed_yen: int = 0,
) -> tuple[SizedDay, CheckedFrame]:
    """The day's bets sized on its predictions and bet-time odds (:func:`size_stakes`), checked
    against the policy; ``daily_pnl`` is the settled P&L of every earlier day with bets,
    ``committed_yen`` the stakes of their bets still open."""
    sized = size_stakes(settings, policy, predictions, card, daily_pnl, committed_yen)
    return sized, check_stakes(sized.bets, policy, sized.bankroll_yen)


def size_stakes(
    settings: Settings,
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    daily_pnl: pd.Series,
    committed_yen: int = 0,
) -> SizedDay:
    """The day's bets sized on its predictions and bet-time odds (:func:`size_day`), not yet
    checked; ``daily_pnl`` is the settled P&L of every earlier day with bets, ``committed_yen``
    the stakes of their bets still open."""
    kelly = price_candidates(settings, policy, predictions, card)
    return size_priced(settings, policy, kelly, card, daily_pnl, committed_yen)


def price_candidates(
    settings: Settings, policy: StakingPolicy, predictions: pd.DataFrame, card: ValidatedDay
) -> pd.DataFrame:
    """The card's staking candidates (of one day or several) with their Kelly fractions: what
    sizing needs before the bankroll counts."""
    pools = race_pools(card.races, settings.kelly.win_pools())
    return kelly_candidates(staking_candidates(predictions, card.odds, pools), policy)


def size_priced(
    settings: Settings,
    policy: StakingPolicy,
    kelly: pd.DataFrame,
    card: ValidatedDay,
    daily_pnl: pd.Series,
    committed_yen: int = 0,
) -> SizedDay:
    """:func:`size_stakes` of the day's :func:`price_candidates` (``card``: the day's)."""
    return size_on_bankroll(
        policy,
        kelly,
        daily_pnl,
        committed_yen=committed_yen,
        initial_bankroll_yen=settings.bankroll_yen,
        stake_scale=settings.rollout.stake_scale,
        decided_at=ticket_moments(settings, card),
    )


def ticket_moments(settings: Settings, card: ValidatedDay) -> datetime | pd.Series:
    """When the day's tickets are emitted (each bet's ``decided_at``): now for today's run; for
    a past day's replay each race's decision moment under ``live.odds_at``, whose odds it bets
    on — the morning moment, or its post time less the lead (a race-time backtest)."""
    day = card_day(card)
    if settings.live.odds_at == "morning" or day >= datetime.now(JAPAN_TIME).date():
        return morning_decision(settings, day)
    return decision_moments(card.races, settings.live.card_timing())


def card_day(card: ValidatedDay) -> date:
    """The day of a one-day card (today for an empty one)."""
    days = pd.to_datetime(card.races["race_date"]).dropna()
    return days.min().date() if not days.empty else datetime.now(JAPAN_TIME).date()


@stage("stake")
def stake(
    settings: Settings,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    race_date: date,
) -> pd.DataFrame:
    """Bets for the day, sized on the bankroll derived from every earlier bet.

    Idempotent: a re-run replaces the day's bets; once any of them is settled the day is closed
    and its bets stay as placed.
    """
    policy = settings.kelly.policy()
    log = logger()
    with stage_run(settings, "stake", race_date) as record:
        model_version = single_model_version(predictions)
        with engine_for(settings).begin() as connection:
            history = ledger_days(connection, policy.name, before=race_date)
            stored = read_bets(connection, race_date, race_date, policy=policy.name)
            sized, checked = size_checked_day(
                settings, policy, predictions, card, daily_pnl_from_ledger_days(history),
                committed_from_ledger_days(history),
            )  # fmt: skip
            bankroll, drawdown = sized.bankroll_yen, sized.drawdown
            if stored["settled"].fillna(False).astype(bool).any():
                bets = stored[BET_COLUMNS]
                record.message = "day already settled: bets kept as placed"
            elif decided_races(connection, policy.name, race_date):
                bets = stored[BET_COLUMNS]
                record.message = "day decided at race time (raceday live): bets kept as placed"
            else:
                bets = record_checked(settings, connection, checked, "stake", race_date)
                write_bets(connection, bets, policy.name, race_date)
                record.message = (
                    f"model {model_version}, bankroll {bankroll} yen, drawdown {drawdown:.1%}"
                )
        record.rows_in, record.rows_out = sized.candidates, len(bets)
    outstanding = history[history["open_bets"] > 0]
    if not outstanding.empty:
        days = outstanding["race_date"].dt.date
        log.warning(
            "%d earlier bets (%s..%s) are not settled: their stakes are out of the cash staked "
            "on (not losses: the drawdown does not count them) until settle-day runs for those "
            "dates",
            int(outstanding["open_bets"].sum()),
            days.min(),
            days.max(),
        )
    if drawdown >= policy.drawdown_brake:
        log.warning(
            "drawdown %.1f%% from the peak is past the brake (%.0f%%): nothing staked",
            drawdown * 100,
            policy.drawdown_brake * 100,
        )
    write_slip(settings, bets, card, race_date)
    log.info(
        "staked %d bets, %d yen (bankroll %d yen)", len(bets), bets["stake_yen"].sum(), bankroll
    )
    return bets


def write_slip(settings: Settings, bets: pd.DataFrame, card: ValidatedDay, race_date: date) -> None:
    """The bet slip as CSV and, inside a flow run, as a table artifact."""
    slip = bet_slip(bets, card.races, card.runners, venue_names(), settings.kelly.takeout)
    _write_slip_csv(settings, slip, race_date)
    _publish_slip(slip, bets, race_date)


def write_slips(settings: Settings, days: list[tuple[date, pd.DataFrame, ValidatedDay]]) -> None:
    """The bet slips of several days (a replay's: each day's bets and its card), made in one
    pass, each day's bets matched against its own card, and written day by day as
    :func:`write_slip` writes each (the same files and artifacts)."""
    if not days:
        return
    dates, bets, cards = zip(*days, strict=True)
    slips = bet_slip(
        _numbered_by_day(list(bets)),
        _numbered_by_day([card.races for card in cards]),
        _numbered_by_day([card.runners for card in cards]),
        venue_names(),
        settings.kelly.takeout,
        keys=("_day",),
    )
    day_of_slip = slips.pop("_day").to_numpy()
    for number, (race_date, day_bets) in enumerate(zip(dates, bets, strict=True)):
        slip = slips[day_of_slip == number].reset_index(drop=True)
        _write_slip_csv(settings, slip, race_date)
        _publish_slip(slip, day_bets, race_date)


def _numbered_by_day(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Each day's frame with its day's number (``_day``), as one frame (the empty ones left
    out unless all are)."""
    numbered = [frame.assign(_day=number) for number, frame in enumerate(frames)]
    return pd.concat([frame for frame in numbered if len(frame)] or numbered[:1], ignore_index=True)


def _write_slip_csv(settings: Settings, slip: pd.DataFrame, race_date: date) -> None:
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    slip.to_csv(settings.reports_dir / f"bet-slip-{race_date:%Y-%m-%d}.csv", index=False)


def _publish_slip(slip: pd.DataFrame, bets: pd.DataFrame, race_date: date) -> None:
    """The day's slip as a table artifact, inside a flow run that publishes a day's."""
    if publishes_day_artifacts():
        final = int((bets["odds_source"] == "final").sum()) if not bets.empty else 0
        note = f"; {final} sized on FINAL odds (optimistic)" if final else ""
        create_table_artifact(
            key=BET_SLIP,
            table=[
                {str(key): value for key, value in row.items()}
                for row in slip.astype(object).where(slip.notna(), None).to_dict("records")
            ],
            description=(
                f"Bets for {race_date}: {len(slip)} bets, {int(bets['stake_yen'].sum())} yen{note}"
            ),
        )
