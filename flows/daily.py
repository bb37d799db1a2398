"""The race day: ``predict_day`` in the morning, ``settle_day`` at night, ``daily_run`` both.

predict: ingest → validate card → features → predict → stake (bet slip)
settle:  ingest → validate results → reference times → first 3F → indexes → settle → record
         → monitor (alerts) → report
daily:   ingest → screen (card and results validated before any write: a day with nothing
         valid in either is refused with nothing stored) → predict's stages → settle's stages
The day is ingested venue by venue (lanes: one ``ingest-<venue name>`` task run each, read at
once, retried on its own); a venue still down is quarantined and alerted (critical), the others
go on and the run ends ``completed-with-alerts`` (:mod:`raceday.run_status`). Everything after
ingest is joint across venues.
A failed run alerts at once through its ``on_failure`` hook. Without a date (a scheduled run),
the day is today in Asia/Tokyo. A day is run by one run at a time (a run lock in the store).
Each stage runs as a task run (``flows/chain.py`` orders them); a flow run is named after
its day (``daily-run-2026-12-03``). The store is the settings' (``RACEDAY_DB_URL`` on a
worker, ``config.use_store`` for the CLI's ``--db``), never a parameter: flow-run
parameters are stored in Prefect's database and shown in its UI, and a store URL may hold
a password.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from config import Settings, load_settings
from config.reference import circuits
from data_checks.validate import ValidatedDay
from flows.alerting import alerting_flow, day_run_name
from flows.chain import (
    card_counts,
    daily_chain,
    predict_chain,
    prepare_history,
    record_chain,
    settle_chain,
)
from raceday.japan_time import today_in_japan
from raceday.memory import freeze_long_lived
from raceday.pipeline import DaySummary, races_on_final_odds
from raceday.run_status import (
    dropped_races_warning,
    final_odds_races_warning,
    outcome,
    outside_source_days_warning,
    unknown_class_warning,
    unpriced_warning,
    untimed_warning,
)
from raceday.sources.base import RawDay, venues_down
from raceday.sources.timeline import unpriced_by_cause
from raceday.staking.ledger import open_bet_count, void_summary
from raceday.store.catalogs.races import read_odds
from tasks.alerts import alerts_raised_since
from tasks.common import AsTasks, engine_for, log_status, logged
from tasks.ingest import days_the_source_holds, ingest_by_venue
from tasks.locks import day_lock
from tasks.monitor import racing_expected


@dataclass(frozen=True)
class DayRun:
    """A day's run under way: its settings, day, stage runner, ingested day and start."""

    settings: Settings
    day: date
    run: AsTasks
    raw: RawDay
    started: datetime


@contextmanager
def day_run(race_date: date | None, races: int | None, source: str | None) -> Iterator[DayRun]:
    """Every day's run begins alike: its settings, its day (today in Japan when scheduled),
    the day's run lock, the store's schema and history made ready, and the day ingested."""
    started = datetime.now()  # the alerts raised from here on are this run's
    freeze_long_lived()  # the day's full collections skip what the process imported
    settings = load_settings(races=races, source=source)
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    with day_lock(settings, race_date):
        prepare_history(run, settings, race_date)
        raw = ingest_by_venue(settings, race_date, race_date)
        yield DayRun(settings, race_date, run, raw, started)


def day_outcome(
    raw: RawDay,
    counts: Mapping[str, int],
    settled: pd.DataFrame | None,
    alerts: Sequence[Mapping[str, Any]],
    *,
    night: bool = True,
    race_day: bool = True,
    unpriced: Sequence[str] = (),
    final_odds: Sequence[str] = (),
    outside_source: Sequence[str] = (),
    untimed: Sequence[str] = (),
) -> dict[str, Any]:
    """The run's status (:func:`raceday.run_status.run_status`) from the alerts it raised and
    its warnings: venues left out, races cancelled, no races (on a ``race_day``: a JRA store's
    weekday is none; said as cancelled when they were), races quarantined, races without odds
    (``unpriced``: their ids; ``untimed``: at race time, those without a readable post time,
    so without a deadline), a day without races outside the days the source holds
    (``outside_source``: its warning), races sized on their final odds (``final_odds``: their
    ids, :func:`raceday.pipeline.races_on_final_odds`; the source held no snapshot of theirs),
    most of a circuit's races of no known class (logged too),
    bets voided at night, bets still open, and (``night``: a run that reads results) results not
    published yet. The warnings and the status are logged too: a deployment's run prints no
    summary, and its log (the Prefect UI) is where the operator reads them."""
    down = venues_down(raw)
    voided = void_summary(settled)
    warnings = [f"venues down (quarantined, alerted): {', '.join(down)}"] if down else []
    warnings += dropped_races_warning(counts, race_day, outside_source)
    warnings += unpriced_warning(unpriced)
    warnings += untimed_warning(untimed)
    warnings += final_odds_races_warning(final_odds)
    warnings += unknown_class_warning(raw.races, circuits())
    if voided["voided_bets"]:
        warnings.append(
            f"{voided['voided_bets']} bets voided (refunded) on {voided['voided_races']} "
            "races set aside at night or void (nobody finished)"
        )
    if still_open := open_bet_count(settled):
        warnings.append(
            f"{still_open} bets open: their races have no result stored yet (results not "
            "published, or a winner without final odds); they settle when it arrives"
        )
    if night and (pending := len(raw.pending_results)):
        warnings.append(
            f"results of {pending} race(s) not published yet: not judged, settled or learned "
            "from; run the day again when they are"
        )
    said = outcome(alerts, logged(warnings))
    log_status("the day's run", said)
    return {"venues_down": down, **voided, **said}


def _outcome(
    this: DayRun,
    counts: Mapping[str, int],
    settled: pd.DataFrame | None = None,
    *,
    night: bool = True,
    card: ValidatedDay | None = None,
) -> dict[str, Any]:
    alerts = alerts_raised_since(this.settings, this.day, this.started)
    race_day, outside_source = True, []
    if not counts["races_offered"]:  # a day without races: was it one to race on?
        with engine_for(this.settings).connect() as connection:
            race_day = racing_expected(this.settings, connection, this.day).expected
        held = days_the_source_holds(this.settings)  # is the day outside what it holds?
        outside_source = outside_source_days_warning(this.day, held, this.settings.source)
    late, untimed = (
        unpriced_by_cause(card.unpriced, card.races, this.settings.live.card_timing())
        if card is not None
        else ([], [])
    )
    final_odds = races_on_final_odds(card.odds if card is not None else stored_odds(this))
    return day_outcome(
        this.raw,
        counts,
        settled,
        alerts,
        night=night,
        race_day=race_day,
        unpriced=late,
        final_odds=final_odds,
        outside_source=outside_source,
        untimed=untimed,
    )


def stored_odds(this: DayRun) -> pd.DataFrame:
    """The day's bet-time odds as stored by its morning (:func:`raceday.pipeline.betting_odds`):
    a night's run reads its card no more."""
    with engine_for(this.settings).connect() as connection:
        return read_odds(connection, this.day, this.day)


def _counts(summary: DaySummary) -> dict[str, int]:
    return {
        "races_offered": summary.races_offered,
        "races_quarantined": summary.races_quarantined,
        "quarantined": summary.quarantined,
        "races_cancelled": summary.races_cancelled,
        "quarantined_cancelled": summary.quarantined_cancelled,
    }


@alerting_flow("predict-day", day_run_name)
def predict_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Morning: the race card and odds snapshot → predictions, bets and the bet slip."""
    with day_run(race_date, races, source) as this:
        card = predict_chain(this.run, this.settings, this.raw, this.day).card
        counts = card_counts(card)
        outcome = _outcome(this, counts, night=False, card=card)
        return {"date": this.day.isoformat(), **counts, **outcome}


@alerting_flow("settle-day", day_run_name)
def settle_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Night: results → first 3F, indexes, settlement, performance and the daily report; the
    bets its morning placed settled as placed (``raceday run --settle``, the settle deployment)."""
    with day_run(race_date, races, source) as this:
        settle_chain(this.run, this.settings, this.raw, this.day, this.day)
        summary, settled = record_chain(this.run, this.settings, this.day)
        outcome = _outcome(this, _counts(summary), settled)
        return {**summary.to_dict(), **outcome}


@alerting_flow("daily-run", day_run_name)
def daily_run(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """A whole race day in one run: predict and stake on the card, then settle and record."""
    with day_run(race_date, races, source) as this:
        summary, settled, card = daily_chain(this.run, this.settings, this.raw, this.day)
        outcome = _outcome(this, _counts(summary), settled, card=card)
        return {**summary.to_dict(), **outcome}
