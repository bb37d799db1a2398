"""Replay: stake, settle and record a run of past days in one pass (the backfill's ledger).

The daily stages do this a day at a time, each reading and writing the store (stake → settle →
record: some 25 round trips a day, ≈ 1 s of small-frame overhead). A backfill knows all of a
chunk's days before it starts, so the replay reads what they need once and runs the daily
stages' own functions in memory. Only the sizing is day by day, in date order: each day is
staked on the bankroll its earlier days left (:func:`tasks.stake.size_priced`; the candidates
and their Kelly fractions, which do not depend on the bankroll, are priced for the chunk at
once) and settled (:func:`raceday.staking.ledger.settle_on_results`, the chunk's results
worked out once). The performance record of every day is then computed in one grouped pass
(:func:`raceday.monitoring.performance.days_record`,
:func:`raceday.monitoring.performance.rolling_performances`: each day's figures its own, its
rolling windows seeing the days before it), and the records are written once. The store ends
as the daily stages run day by day would leave it (tests/integration/test_replay.py compares
the two)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from config import Settings
from data_checks.derived import check_stakes_of_days
from data_checks.records import distinct_quarantine
from data_checks.validate import ValidatedDay
from raceday.day_rows import day_codes, rows_by_day
from raceday.monitoring.performance import (
    days_record,
    rolling_performances,
    rolling_window_start,
)
from raceday.staking.bets import BET_COLUMNS, SizedDay
from raceday.staking.kelly import StakingPolicy
from raceday.staking.ledger import (
    committed_from_ledger_days,
    daily_pnl_from_ledger_days,
    night_set_aside_reasons,
    open_stakes_yen,
    settle_on_results,
    settled_daily_pnl_yen,
    settlement_results,
    void_bets,
)
from raceday.store.catalogs.bets import ledger_days, read_bets, write_bets, write_settlement
from raceday.store.catalogs.performance import (
    as_read_daily,
    as_read_scores,
    first_race_score_date,
    nth_last_race_date,
    read_daily,
    read_race_scores,
    write_day_records,
    write_rolling,
)
from raceday.store.catalogs.predictions import read_predictions
from raceday.store.catalogs.quality import read_quarantine
from raceday.store.catalogs.races import read_races, read_runner_results, read_win_results
from tasks.common import (
    engine_for,
    logger,
    record_checked,
    record_checked_days,
    stage,
    stage_run,
)
from tasks.stake import (
    price_candidates,
    size_checked_day,
    size_priced,
    write_slip,
    write_slips,
)


def day_cards(card: ValidatedDay, days: list[date]) -> dict[date, ValidatedDay]:
    """Each of ``days``' part of a validated card that spans several days (its races dated
    once, their runners and odds found by race: not the whole card searched per day)."""
    race_days = pd.to_datetime(card.races["race_date"]).to_numpy("datetime64[D]")
    last = ~card.races["race_id"].duplicated(keep="last").to_numpy()  # a race id's last date
    races, day_of_race = pd.Index(card.races["race_id"][last]), race_days[last]

    def days_of(race_ids: pd.Series) -> np.ndarray:
        """The day of each row's race (none for a race not on the card)."""
        at = races.get_indexer(race_ids)
        found = at >= 0
        dated = np.full(len(at), np.datetime64("NaT", "D"))
        dated[found] = day_of_race[at[found]]
        return dated

    runner_days, odds_days = days_of(card.runners["race_id"]), days_of(card.odds["race_id"])
    parts: dict[date, ValidatedDay] = {}
    for day in days:
        on = np.datetime64(day, "D")
        parts[day] = ValidatedDay(
            card.races[race_days == on],
            card.runners[runner_days == on],
            card.odds[odds_days == on],
            card.quarantine,
            card.outcomes,
        )
    return parts


def _dates(frame: pd.DataFrame, column: str = "race_date") -> pd.Series:
    return pd.to_datetime(frame[column]).dt.date


@dataclass(frozen=True)
class _Ledger:
    """What staking, settling and recording a run of days reads from the store, read once."""

    policy: str  # the staking policy's name: whose bets and ledger these are
    first_day: date  # the run's first day
    pnl: pd.Series  # the settled P&L of every day with bets before ``first_day``
    committed_yen: int  # the stakes of their bets still open
    stored: pd.DataFrame  # the days' bets already stored
    results: pd.DataFrame  # the days' results, worked out for settling once (all days' bets)
    set_aside: pd.DataFrame  # races the night's validation set aside: their bets are voided

    @cached_property
    def _results_by_race(self) -> tuple[np.ndarray, pd.Index]:
        """Each result's race as a code, and the races' ids by code."""
        codes, races = pd.factorize(self.results["race_id"])
        return codes, pd.Index(races)

    @classmethod
    def read(cls, connection: Connection, policy: StakingPolicy, days: list[date]) -> _Ledger:
        """The ledger before ``days[0]`` and the days' stored bets, results and quarantine."""
        earlier = ledger_days(connection, policy.name, before=days[0])
        return cls(
            policy.name,
            days[0],
            daily_pnl_from_ledger_days(earlier),
            committed_from_ledger_days(earlier),
            read_bets(connection, days[0], days[-1], policy=policy.name),
            settlement_results(read_win_results(connection, days[0], days[-1]), policy.takeout),
            # as the settle stage: bets on a race the night's validation set aside are voided
            night_set_aside_reasons(read_quarantine(connection, days[0], days[-1])),
        )

    def pnl_through(self, connection: Connection, end: date) -> pd.Series:
        """The settled P&L of every day up to ``end``: the earlier days' as read, the run's days'
        as stored since (what ``ledger_days(end=end)`` sums, without summing the years of
        earlier days a second time)."""
        written = ledger_days(connection, self.policy, since=self.first_day, end=end)
        return pd.concat([self.pnl, daily_pnl_from_ledger_days(written)])

    def kept_bets(self, day: date) -> pd.DataFrame | None:
        """The day's bets as placed when it is closed (a settled bet stored), else None."""
        kept = self.stored[_dates(self.stored) == day]
        return kept[BET_COLUMNS] if kept["settled"].fillna(False).astype(bool).any() else None

    def settle(self, bets: pd.DataFrame) -> pd.DataFrame:
        """A day's bets settled against the stored results (voided where set aside); the
        results of the bets' races only are searched."""
        race_of_result, races = self._results_by_race
        wanted = races.get_indexer(bets["race_id"].unique())
        results = self.results[np.isin(race_of_result, wanted[wanted >= 0])]
        return void_bets(settle_on_results(bets, results), self.set_aside).assign(
            policy=self.policy
        )


@dataclass(frozen=True)
class _StakedDay:
    """A day sized on the bankroll its earlier days left (before any check)."""

    day: date
    card: ValidatedDay
    sized: SizedDay
    kept: pd.DataFrame | None  # the day's bets as placed when it is closed


def _size_days(
    settings: Settings,
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    days: list[date],
    ledger: _Ledger,
) -> tuple[list[_StakedDay], list[pd.DataFrame]]:
    """Each day with races sized in date order, every open day's bets taken as sized (what a
    day whose stake checks all hold keeps), and settled; the days and their settled bets."""
    cards = day_cards(card, days)
    # What sizing needs before the bankroll counts, for every day at once.
    kelly = price_candidates(settings, policy, predictions, card)
    kelly_rows = rows_by_day(day_codes(kelly["race_date"], days), len(days))
    pnl, committed, staked, settled_days = ledger.pnl, ledger.committed_yen, [], []
    for number, day in enumerate(days):
        todays_card = cards[day]
        if todays_card.races.empty:
            continue
        sized = size_priced(
            settings, policy, kelly.take(kelly_rows[number]), todays_card, pnl, committed
        )
        kept = ledger.kept_bets(day)
        staked.append(_StakedDay(day, todays_card, sized, kept))
        bets = kept if kept is not None else sized.bets.reset_index(drop=True)
        if bets.empty:
            continue
        settled = ledger.settle(bets)
        settled_days.append(settled)
        pnl = pd.concat([pnl, settled_daily_pnl_yen(settled)])  # as ledger_days sums the day
        committed += open_stakes_yen(settled)
    return staked, settled_days


def stake_and_settle_checked_at_once(
    settings: Settings,
    connection: Connection,
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    days: list[date],
    ledger: _Ledger,
) -> tuple[list[date], int] | None:
    """:func:`stake_and_settle` with the stake checks of every open day in one suite run
    (:func:`data_checks.derived.check_stakes_of_days`, each day against its own bankroll's
    caps). When they all hold, each day keeps its bets as sized — what the day-by-day checks
    keep — and the store is written as they write it; when any fails, nothing is written and
    None says to stake the days one by one (whose quarantine names the failing rows)."""
    staked, settled_days = _size_days(settings, policy, predictions, card, days, ledger)
    open_days = [day for day in staked if day.kept is None]
    checked = check_stakes_of_days(
        [(day.sized.bets, day.sized.bankroll_yen) for day in open_days], policy
    )
    if checked is None:
        return None
    placed = 0
    days_checked = [(day.day, frame) for day, frame in zip(open_days, checked, strict=True)]
    valid = record_checked_days(settings, connection, days_checked, "stake")
    by_day = dict(zip([day.day for day in open_days], valid, strict=True))
    slips = []
    for day in staked:
        if day.kept is not None:
            bets = day.kept
        else:
            bets = by_day[day.day]
            write_bets(connection, bets, policy.name, day.day)
        slips.append((day.day, bets, day.card))
        placed += len(bets)
    write_slips(settings, slips)
    if settled_days:
        write_settlement(connection, pd.concat(settled_days, ignore_index=True))
    return [day.day for day in staked], placed


def stake_and_settle(
    settings: Settings,
    connection: Connection,
    policy: StakingPolicy,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    days: list[date],
    ledger: _Ledger,
) -> tuple[list[date], int]:
    """Stake each day of ``card`` on the bankroll the earlier days left and settle it against
    the stored results; returns the days that had races and the bets they hold. A day with a
    settled bet stored is closed: its bets stay as placed (as the stake stage does). Each
    day's stakes are checked on their own (:func:`tasks.stake.size_checked_day`)."""
    prediction_days, cards = _dates(predictions), day_cards(card, days)
    pnl, committed, raced, settled_days, placed = ledger.pnl, ledger.committed_yen, [], [], 0
    for day in days:
        todays_card = cards[day]
        if todays_card.races.empty:
            continue
        raced.append(day)
        _sized, checked = size_checked_day(
            settings, policy, predictions[prediction_days == day], todays_card, pnl, committed
        )
        bets = ledger.kept_bets(day)
        if bets is None:
            bets = record_checked(settings, connection, checked, "stake", day)
            write_bets(connection, bets, policy.name, day)
        write_slip(settings, bets, todays_card, day)
        placed += len(bets)
        if bets.empty:
            continue
        settled = ledger.settle(bets)
        settled_days.append(settled)
        pnl = pd.concat([pnl, settled_daily_pnl_yen(settled)])  # as ledger_days sums the day
        committed += open_stakes_yen(settled)
    if settled_days:
        write_settlement(connection, pd.concat(settled_days, ignore_index=True))
    return raced, placed


def record_days(
    settings: Settings,
    connection: Connection,
    policy: StakingPolicy,
    days: list[date],
    ledger: _Ledger,
) -> int:
    """The performance record and rolling windows of ``days`` (staked and settled, in date
    order) from one read of their stored rows, computed for all of them in one grouped pass
    (:func:`raceday.monitoring.performance.days_record`, each day's windows seeing the days
    before it) and written in one pass; the bankroll from ``ledger``'s earlier days and the
    days' stored bets. Returns rows written."""
    first, last = days[0], days[-1]
    quarantine = read_quarantine(connection, first, last)
    records = days_record(
        days,
        initial_bankroll_yen=settings.bankroll_yen,
        predictions=read_predictions(connection, first, last),
        runners=read_runner_results(connection, first, last),  # what the record judges with
        races=read_races(connection, first, last),
        bets=read_bets(connection, first, last, policy=policy.name),
        quarantine=pd.concat(
            [distinct_quarantine(part) for _, part in quarantine.groupby(_dates(quarantine))]
            or [quarantine],
            ignore_index=True,
        ),
        daily_pnl=ledger.pnl_through(connection, last),
        # A replayed day has no run time of its own (its share of the replay's, a twentieth of
        # a daily run's, made the first daily run after a backfill a run_seconds anomaly).
        run_seconds=None,
    )
    before = first - timedelta(days=1)
    start = rolling_window_start(
        first,
        nth_last_race_date(connection, before, 500),
        first_race_score_date(connection),
    )
    performance = pd.concat([record.performance for record in records], ignore_index=True)
    scores = pd.concat([record.scores for record in records], ignore_index=True)
    rolling = rolling_performances(
        days,
        pd.concat(
            [read_race_scores(connection, start, before), as_read_scores(scores)], ignore_index=True
        ),
        pd.concat(
            [read_daily(connection, start, before), as_read_daily(performance)], ignore_index=True
        ),
        records[-1].curve,
        [record.bankroll_yen for record in records],
    )
    written = write_day_records(
        connection,
        days,
        performance,
        scores,
        pd.concat(
            [
                record.calibration.assign(perf_date=pd.Timestamp(day))
                for day, record in zip(days, records, strict=True)
            ],
            ignore_index=True,
        ),
    )
    return written + write_rolling(connection, rolling)


@stage("replay")
def replay_days(
    settings: Settings,
    predictions: pd.DataFrame,
    card: ValidatedDay,
    days: list[date],
) -> int:
    """Stake, settle and record ``days`` (settled, predicted, in date order) in one
    transaction; returns the bets placed."""
    policy = settings.kelly.policy()
    with stage_run(settings, "replay", days[-1]) as record:
        with engine_for(settings).begin() as connection:
            ledger = _Ledger.read(connection, policy, days)
            # One suite run checks every day's stakes; day by day only when a check fails, or
            # when Data Docs pages (one per day's validation) are wanted.
            at_once = (
                None
                if settings.validation.data_docs
                else stake_and_settle_checked_at_once(
                    settings, connection, policy, predictions, card, days, ledger
                )
            )  # writes nothing when a check fails: the ledger read holds for the day by day
            raced, placed = at_once or stake_and_settle(
                settings, connection, policy, predictions, card, days, ledger
            )
            written = record_days(settings, connection, policy, raced, ledger) if raced else 0
        record.rows_in, record.rows_out = len(predictions), written
        record.message = f"{len(raced)} days, {placed} bets"
    logger().info("replayed %d days: %d bets", len(raced), placed)
    return placed
