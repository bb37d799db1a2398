"""The boat racing stages: history, ingest, card, course, predict, exotics, stake, results,
settle, record.

Each is a small body (catalog reads → domain → checks → catalog writes) recorded in
``pipeline_runs`` under its ``boat-`` name; ``flows/boat.py`` orders them once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from config import Settings, mask_url
from data_checks.boat import (
    ValidCard,
    ValidResults,
    rejected_lines,
    validate_card,
    validate_results,
)
from data_checks.derived import CheckedFrame, check_predictions, check_stakes
from data_checks.records import validation_rows
from raceday.boat.course import course_features
from raceday.boat.evaluate import day_performance
from raceday.boat.exotics import day_exotics
from raceday.boat.files import cut_races
from raceday.boat.history import HISTORY_DAYS, day_boats, day_card, history_window, results_history
from raceday.boat.model import MIN_PRICED_BOATS, model_source, predict_boats
from raceday.boat.settle import SET_ASIDE, settle_boat_bets
from raceday.boat.source import (
    BoatDay,
    no_odds_file_warning,
    program_days,
    read_boat_days,
    readable_days,
)
from raceday.boat.stake import boat_policy, size_boat_day
from raceday.errors import InputError, NothingValid
from raceday.japan_time import today_in_japan
from raceday.run_status import outcome, quarantine_warning
from raceday.sources.timeline import at_time
from raceday.staking.bets import BET_COLUMNS
from raceday.staking.ledger import (
    committed_from_ledger_days,
    daily_pnl_from_ledger_days,
    open_stakes_yen,
    settled_flows_yen,
)
from raceday.store.catalogs import boat as catalog
from raceday.store.catalogs.quality import (
    read_quarantine,
    write_quarantine,
    write_validation_results,
)
from tasks.boat_train import model_of_day
from tasks.common import (
    current_run_id,
    engine_for,
    logger,
    publish_docs,
    publishes_day_artifacts,
    stage,
    stage_run,
)
from tasks.stake import morning_decision

DAY_STAGES = ("boat-card", "boat-predict", "boat-stake", "boat-results")  # what a day sets aside
BET_KEY_COLUMNS = [column if column != "umaban" else "boat" for column in BET_COLUMNS]


@dataclass(frozen=True)
class BoatNight:
    """What the results stage leaves: the valid results and the races set aside."""

    results: ValidResults


def _record_checks(
    settings: Settings,
    connection: Connection,
    checked: tuple[CheckedFrame, ...],
    stage_name: str,
    start: date,
    end: date,
    unreadable: pd.DataFrame | None = None,
) -> int:
    """Store a stage's quarantine (every suite's and the lines the parser could not read,
    replacing the stage's rows for the days) and its suites' outcomes; returns the rows."""
    frames = [item.quarantine for item in checked if not item.quarantine.empty]
    if unreadable is not None and not unreadable.empty:
        frames.append(unreadable)
    quarantine = pd.concat(frames, ignore_index=True) if frames else checked[0].quarantine
    run_id = current_run_id()
    write_quarantine(connection, quarantine, start, end, stage_name, run_id)
    outcomes = tuple(item.outcome for item in checked)
    write_validation_results(connection, validation_rows(outcomes, run_id, end))
    if not quarantine.empty:
        logger().warning("%s: %d rows set aside", stage_name, len(quarantine))
    return len(quarantine)


def _day_frames(days: list[BoatDay]) -> dict[str, pd.DataFrame]:
    """The days' frames, one concatenation each (entries dated by their race id). Results of a
    race the program lacks (a venue missing from the B file) are set aside as unreadable, with
    the reason: nothing could be settled or learned against them."""

    def joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(frames, ignore_index=True)

    def of_program(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["race_id"].isin(programmed)].reset_index(drop=True)

    races = joined([day.program.races for day in days])
    programmed = set(races["race_id"].dropna())
    entries = joined([day.program.entries for day in days])
    results = of_program(joined([day.results.results for day in days]))
    result_races = joined([day.results.races for day in days])
    return {
        "races": races,
        "entries": entries.assign(race_date=_id_dates(entries)),
        "odds": joined([day.odds for day in days]),
        "result_races": of_program(result_races),
        "results": results.assign(race_date=_id_dates(results)),
        "payouts": of_program(joined([day.results.payouts for day in days])),
        "program_rejected": joined(
            [rejected_lines(day.program.rejected, "boat_program", day.race_date) for day in days]
        ),
        "results_rejected": joined(
            [
                *(
                    rejected_lines(day.results.rejected, "boat_results", day.race_date)
                    for day in days
                ),
                _results_without_program(result_races, programmed),
            ]
        ),
        "program_cut": pd.DataFrame(
            {"race_id": sorted(set().union(*(cut_races(day.program.rejected) for day in days)))},
            dtype="string",
        ),
        "results_cut": pd.DataFrame(
            {"race_id": sorted(set().union(*(cut_races(day.results.rejected) for day in days)))},
            dtype="string",
        ),
    }


def _results_without_program(result_races: pd.DataFrame, programmed: set[str]) -> pd.DataFrame:
    """Quarantine rows for the K races that ran but are not in the program, each dated and
    named by its race id (a cancelled race beyond the program's, named by ``NR以降 中止``, is
    no race: nothing to say)."""
    return _results_not_kept(
        result_races[~result_races["race_id"].isin(programmed)],
        "results of a race that is not in the program (B file)",
        "its results are in the K file, the race is not in the B file",
    )


def _results_not_kept(result_races: pd.DataFrame, reason: str, why: str) -> pd.DataFrame:
    """A quarantine row (``reason``; detail ``race <id>: <why>``) for each K race that ran of
    ``result_races``, whose results are not stored."""
    orphans = result_races[result_races["status"].ne("cancelled")].reset_index(drop=True)
    race_ids = orphans["race_id"].astype("string")
    rejected = pd.DataFrame(
        {
            "line_number": pd.Series(pd.NA, index=orphans.index, dtype="Int64"),
            "line": race_ids,
            "reason": reason,
        }
    )
    rows = rejected_lines(rejected, "boat_results", date(2000, 1, 1))
    detail = "race " + race_ids + f": {why}"
    return rows.assign(race_date=_id_dates(orphans), race_id=race_ids, detail=detail)


def _results_on_card(frames: dict[str, pd.DataFrame], card: ValidCard) -> dict[str, pd.DataFrame]:
    """``frames`` with the K results and payouts of the card's races only: a race the card set
    aside (a boat's line lost, a class blank) stores nothing of its results, each such race
    run said once in the quarantine (its results were stored with no race to join them)."""
    on_card = set(card.races["race_id"].astype(str))

    def of_card(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["race_id"].astype(str).isin(on_card)].reset_index(drop=True)

    result_races = frames["result_races"]
    off_card = result_races[~result_races["race_id"].astype(str).isin(on_card)]
    said = _results_not_kept(
        off_card,
        "results of a race the card set aside (boat-card): not stored",
        "its results are in the K file, the card set the race aside (see boat-card)",
    )
    return frames | {
        "result_races": of_card(result_races),
        "results": of_card(frames["results"]),
        "payouts": of_card(frames["payouts"]),
        "results_rejected": pd.concat([frames["results_rejected"], said], ignore_index=True),
        "results_cut": of_card(frames["results_cut"]),
    }


def _cut(frames: dict[str, pd.DataFrame], file: str = "results") -> frozenset[str]:
    """The races whose block the K file (``results``; the card's races only) or the B file
    (``program``) cut: set aside, counted as left out."""
    return frozenset(frames[f"{file}_cut"]["race_id"].astype(str))


def _id_dates(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(
        frame["race_id"].astype("string").str[:8], format="%Y%m%d", errors="coerce"
    )


def _store_card(connection: Connection, card: ValidCard) -> None:
    races = card.races.assign(venue_code=card.races["race_id"].astype("string").str[8:10])
    entries = card.entries.assign(
        race_date=_id_dates(card.entries), venue_code=card.entries["race_id"].str[8:10]
    )
    catalog.write_card(connection, races, entries, card.odds.assign(race_date=_id_dates(card.odds)))


def _store_results(connection: Connection, valid: ValidResults) -> None:
    catalog.write_results(
        connection,
        valid.races,
        valid.results.assign(race_date=_id_dates(valid.results)),
        valid.payouts.assign(race_date=_id_dates(valid.payouts)),
    )


@stage("boat-history", io=True)
def boat_history(settings: Settings, directory: Path, race_date: date) -> int:
    """Warm the store up: the source's days before ``race_date`` (up to ``history.warmup_days``)
    whose results it lacks, validated and stored (card and results; no bets). Returns days."""
    start = race_date - timedelta(days=settings.history.warmup_days)
    with stage_run(settings, "boat-history", race_date) as record:
        with engine_for(settings).connect() as connection:
            have = catalog.days_with_results(connection, start, race_date - timedelta(days=1))
        wanted = [d for d in program_days(directory) if start <= d < race_date and d not in have]
        days, refused = readable_days(directory, wanted)
        if refused:
            logger().warning(
                "boat history: %d day(s) left out, their files refused (first: %s)",
                len(refused), refused[0],
            )  # fmt: skip
        wanted = [day.race_date for day in days]
        if wanted:
            frames = _day_frames(days)
            first = pd.Timestamp(wanted[0])
            today = today_in_japan()
            card = validate_card(
                frames["races"], frames["entries"], frames["odds"], first,
                _cut(frames, "program"), as_of=today,
            )  # fmt: skip
            frames = _results_on_card(frames, card)
            night = validate_results(
                frames["result_races"], frames["results"], frames["payouts"], first,
                _cut(frames), as_of=today,
            )  # fmt: skip
            with engine_for(settings).begin() as connection:
                _store_card(connection, card)
                _store_results(connection, night)
                record.rows_in = len(frames["entries"])
                unreadable = pd.concat([frames["program_rejected"], frames["results_rejected"]])
                quarantined = _record_checks(
                    settings, connection, (*card.checked, *night.checked), "boat-history",
                    wanted[0], wanted[-1], unreadable,
                )  # fmt: skip
            record.rows_out = len(card.entries)
            record.message = (
                f"{len(wanted)} days, {quarantined} rows set aside, {len(refused)} days refused"
            )
    return len(wanted)


@stage("boat-ingest", io=True)
def boat_ingest(settings: Settings, directory: Path, race_date: date) -> BoatDay:
    """Read the day's program, results (when published) and odds timeline."""
    with stage_run(settings, "boat-ingest", race_date) as record:
        (day,) = read_boat_days(directory, [race_date])
        record.rows_out = len(day.program.entries)
        record.message = f"{len(day.program.races)} races, results: {day.has_results}"
    return day


@stage("boat-card")
def boat_card(settings: Settings, day: BoatDay) -> ValidCard:
    """Validate and store the day's program and odds; a race with a broken boat is left out."""
    with stage_run(settings, "boat-card", day.race_date) as record:
        frames = _day_frames([day])
        card = validate_card(
            frames["races"], frames["entries"], frames["odds"], pd.Timestamp(day.race_date),
            _cut(frames, "program"), as_of=today_in_japan(),
        )  # fmt: skip
        with engine_for(settings).begin() as connection:
            _store_card(connection, card)
            quarantined = _record_checks(
                settings,
                connection,
                card.checked,
                "boat-card",
                day.race_date,
                day.race_date,
                frames["program_rejected"],
            )
        record.message = f"{quarantined} rows set aside"
        publish_docs(settings, tuple(c.outcome for c in card.checked), "boat-card",
                     day.race_date, day.race_date)  # fmt: skip
        record.rows_in, record.rows_out = len(frames["entries"]), len(card.entries)
    _refuse_an_empty_card(frames, card, day.race_date)
    return card


def _refuse_an_empty_card(frames: dict[str, pd.DataFrame], card: ValidCard, day: date) -> None:
    """A program that had races or lines to judge and left none valid (every line rejected: a
    B file holding another day's program; every race left out) ends the day as nothing valid
    (exit 4; its quarantine is recorded), as a horse day's card does; it completed with 0 races."""
    rejected, offered = frames["program_rejected"], len(frames["races"])
    if card.races.empty and (offered or len(rejected)):
        first = f" (first: {rejected['check_name'].iloc[0]})" if len(rejected) else ""
        raise NothingValid(
            f"nothing valid left for {day}: {offered} race(s) read, none valid; "
            f"{len(rejected)} program line(s) rejected{first}"
        )


@stage("boat-course")
def boat_course(settings: Settings, card: ValidCard, race_date: date) -> pd.DataFrame:
    """Each boat's start and course from the days before (point in time): expected course
    (進入), 前付け rate, course prior, ST and exhibition indexes; stored in boat_course."""
    at = at_time(settings.live.morning_odds_at)
    with stage_run(settings, "boat-course", race_date) as record:
        start = history_window(race_date, HISTORY_DAYS)
        with engine_for(settings).connect() as connection:
            entries, results = catalog.read_results_history(connection, start, race_date)
        boats = day_card(card.entries, card.odds, at)
        course = course_features(boats, results_history(entries, results))
        with engine_for(settings).begin() as connection:
            catalog.write_course(connection, course, race_date)
        record.rows_in, record.rows_out = len(boats), len(course)
        moving = int((course["expected_course"] < course["boat"] - 0.05).sum())
        record.message = f"{course['race_id'].nunique()} races, {moving} boats expected inside"
    return course


@stage("boat-predict")
def boat_predict(
    settings: Settings, card: ValidCard, race_date: date, course: pd.DataFrame
) -> pd.DataFrame:
    """Six probabilities per race from the boat version promoted before the day, else a model
    fitted on the days before (point in time: history read strictly before the day), with the
    odds known at the morning decision and the boat-course stage's rows of the day."""
    at = at_time(settings.live.morning_odds_at)
    with stage_run(settings, "boat-predict", race_date) as record:
        start = history_window(race_date, HISTORY_DAYS)
        with engine_for(settings).connect() as connection:
            entries, results, odds = catalog.read_history(connection, start, race_date)
            model, why = model_of_day(connection, race_date, (entries, results, odds), at)
        history = results_history(entries, results)
        boats = day_boats(card.entries, card.odds, history, at, course)
        predicted = predict_boats(model, boats)
        checked = check_predictions(predicted.rename(columns={"boat": "umaban"}))
        valid = checked.valid.rename(columns={"umaban": "boat"})
        with engine_for(settings).begin() as connection:
            _record_checks(settings, connection, (checked,), "boat-predict", race_date, race_date)
            catalog.write_predictions(connection, valid, race_date)
        record.rows_in, record.rows_out = len(boats), len(valid)
        record.message = f"{valid['race_id'].nunique()} races, {model.version} ({why})"
    logger().info("boat model %s: %s", model.version, why)
    return valid


@stage("boat-exotics")
def boat_exotics(settings: Settings, predictions: pd.DataFrame, race_date: date) -> pd.DataFrame:
    """Each race's most likely exacta and trifecta (Harville on ``p_final``), stored in
    boat_exotics for the report; nothing is staked on them."""
    with stage_run(settings, "boat-exotics", race_date) as record:
        exotics = day_exotics(predictions)
        with engine_for(settings).begin() as connection:
            catalog.write_exotics(connection, exotics, race_date)
        record.rows_in, record.rows_out = len(predictions), len(exotics)
    return exotics


@stage("boat-stake")
def boat_stake(settings: Settings, predictions: pd.DataFrame, race_date: date) -> pd.DataFrame:
    """Win bets sized with the horses' Kelly policy and limits at the 25% takeout, on the boat
    ledger's own bankroll; a day already settled keeps its bets as placed."""
    policy = boat_policy(settings.kelly.policy())
    with stage_run(settings, "boat-stake", race_date) as record:
        with engine_for(settings).begin() as connection:
            history = catalog.ledger_days(connection, policy.name, before=race_date)
            sized = size_boat_day(
                policy,
                predictions,
                daily_pnl_from_ledger_days(history),
                committed_yen=committed_from_ledger_days(history),
                initial_bankroll_yen=settings.bankroll_yen,
                stake_scale=settings.rollout.stake_scale,
                decided_at=morning_decision(settings, race_date),
            )
            keyed = sized.bets.rename(columns={"boat": "umaban"})
            checked = check_stakes(keyed, policy, sized.bankroll_yen)
            bets = checked.valid.rename(columns={"umaban": "boat"})
            _record_checks(settings, connection, (checked,), "boat-stake", race_date, race_date)
            if catalog.write_bets(connection, bets, policy.name, race_date) == 0 and len(bets):
                record.message = "day already settled: bets kept as placed"
                bets = catalog.read_bets(connection, race_date, policy.name)[BET_KEY_COLUMNS]
        record.rows_in, record.rows_out = sized.candidates, len(bets)
    return bets


@stage("boat-decision")
def boat_decision(settings: Settings, race_date: date) -> pd.DataFrame:
    """The day's decision as an earlier run stored it, for a run that only settles the day:
    its predictions (its bets stay as placed). InputError when none is stored: the day was
    never decided, so there is nothing placed to settle."""
    with engine_for(settings).connect() as connection:
        predictions = catalog.read_predictions(connection, race_date, race_date)
    if predictions.empty:
        raise InputError(
            f"boat day {race_date} was not decided (no predictions stored): nothing placed to "
            "settle; run the day without --settle"
        )
    logger().info("boat day %s: %d predictions as decided", race_date, len(predictions))
    return predictions


@stage("boat-results")
def boat_results(settings: Settings, day: BoatDay, card: ValidCard) -> BoatNight:
    """Validate and store the day's results and payouts of the races on its ``card`` (a race
    the card set aside stores none); a race with a broken line is set aside (its bets
    refunded)."""
    with stage_run(settings, "boat-results", day.race_date) as record:
        frames = _results_on_card(_day_frames([day]), card)
        valid = validate_results(
            frames["result_races"], frames["results"], frames["payouts"],
            pd.Timestamp(day.race_date), _cut(frames), as_of=today_in_japan(),
        )  # fmt: skip
        with engine_for(settings).begin() as connection:
            _store_results(connection, valid)
            _record_checks(settings, connection, valid.checked, "boat-results",
                           day.race_date, day.race_date, frames["results_rejected"])  # fmt: skip
        record.rows_in, record.rows_out = len(frames["results"]), len(valid.results)
    return BoatNight(valid)


@stage("boat-settle")
def boat_settle(settings: Settings, night: BoatNight, race_date: date) -> pd.DataFrame:
    """Settle the day's bets from the K payouts (refunds, dead heats, 特払い, cancelled)."""
    policy = settings.kelly.policy()
    with stage_run(settings, "boat-settle", race_date) as record:
        with engine_for(settings).begin() as connection:
            bets = catalog.read_bets(connection, race_date, policy.name)
            valid = night.results
            settled = settle_boat_bets(
                bets, valid.races, valid.results, valid.payouts, valid.set_aside
            )
            catalog.write_settlement(connection, settled)
        record.rows_in, record.rows_out = len(bets), int(settled["settled"].sum())
    return settled


@stage("boat-record")
def boat_record(
    settings: Settings,
    card: ValidCard,
    predictions: pd.DataFrame,
    night: BoatNight,
    settled: pd.DataFrame,
    race_date: date,
    missing_odds_file: Path | None = None,
) -> dict[str, Any]:
    """The day's performance row (counts, money, log loss of blend / model / market / prior)
    stored, and the run's summary returned (``missing_odds_file``: the source's odds file, when
    it is not there)."""
    policy = settings.kelly.policy()
    with stage_run(settings, "boat-record", race_date) as record:
        with engine_for(settings).begin() as connection:
            ledger = catalog.ledger_days(connection, policy.name, before=race_date)
            # The settled bankroll (what the drawdown judges): open stakes are committed, not lost.
            earlier = daily_pnl_from_ledger_days(ledger)
            today = int(settled_flows_yen(settled).sum()) if len(settled) else 0
            committed = open_stakes_yen(settled) + committed_from_ledger_days(ledger)
            stored = read_quarantine(connection, race_date, race_date)
            row = day_performance(
                race_date, predictions, night.results.results, settled,
                bankroll_yen=settings.bankroll_yen + today + int(earlier.sum()),
                quarantined=int(stored["stage"].isin(DAY_STAGES).sum()),
                races_left_out=len(races_left_out(card, night.results)),
            )  # fmt: skip
            catalog.write_performance(connection, pd.DataFrame([row]))
        record.rows_out = 1
    open_bets = int((~settled["settled"].astype(bool)).sum()) if len(settled) else 0
    unpriced = races_not_priced(predictions, night.results.races)
    offered = len(card.races) + len(_left_out_races(card))
    return {
        "date": race_date.isoformat(),
        "sport": "boat",
        **boat_day_outcome(
            row,
            open_bets,
            offered=offered,
            unpriced=unpriced,
            missing_odds_file=missing_odds_file,
            provisional=provisional_refunds(settled),
        ),
        **{
            key: (value.isoformat() if isinstance(value, date) else value)
            for key, value in row.items()
            if key != "perf_date"
        },
        "model_source": model_source(row["model_version"]),
        "open_bets": open_bets,
        "open_stakes_yen": committed,
        "races_unpriced": unpriced,
        "outcomes": settled["outcome"].value_counts().to_dict() if len(settled) else {},
        "database": mask_url(settings.database_url),
    }


def boat_day_outcome(
    row: Mapping[str, Any], open_bets: int, *, offered: int, unpriced: int,
    missing_odds_file: Path | None = None, provisional: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """The boat day's ``status`` and ``warnings`` as a horse day's (:mod:`raceday.run_status`):
    races left out or rows quarantined by validation (of the ``offered`` program races), races
    not bet for missing odds (``unpriced``; a source without its odds file, ``missing_odds_file``,
    says that instead: its quarantine has nothing to show), bets still open, bets refunded
    provisionally (``provisional``: their races set aside at night). A day that set races aside
    said ``completed`` before."""
    races_left_out, quarantined = int(row["races_left_out"]), int(row["quarantined"])
    warnings = quarantine_warning(races_left_out, offered, quarantined)
    if missing_odds_file is not None:
        warnings.append(no_odds_file_warning(missing_odds_file, unpriced))
    elif unpriced:
        warnings.append(
            f"{unpriced} races not bet for missing odds: fewer than {MIN_PRICED_BOATS} boats "
            "with readable odds, or boats that sell missing from the market (see the "
            "quarantine of boat_odds)"
        )
    if open_bets:
        warnings.append(
            f"{open_bets} bets open: their races have no result stored yet; they settle when "
            "it arrives"
        )
    if provisional:
        warnings.append(
            f"{provisional} bets refunded provisionally: their races were set aside at night "
            "(results unreadable or contradicting themselves); run the day again with "
            "--settle once a good K file is in to settle them from it"
        )
    return outcome([], warnings)


def provisional_refunds(settled: pd.DataFrame) -> int:
    """The day's bets refunded provisionally: their races set aside at night (``set aside``)."""
    return int(settled["outcome"].eq(SET_ASIDE).sum()) if len(settled) else 0


def races_not_priced(predictions: pd.DataFrame, result_races: pd.DataFrame) -> int:
    """The day's predicted races the market did not price (``p_market`` missing: not bet), but
    those the K file says were cancelled (no odds are sold for them)."""
    unpriced = set(predictions.loc[predictions["p_market"].isna(), "race_id"].astype(str))
    cancelled = result_races.loc[result_races["status"].eq("cancelled"), "race_id"]
    return len(unpriced - set(cancelled.astype(str)))


def races_left_out(card: ValidCard, night: ValidResults) -> frozenset[str]:
    """The day's races the card left out or the results set aside, each once (a race both
    broke is one race left out: it was counted twice)."""
    return night.set_aside | _left_out_races(card)


def _left_out_races(card: ValidCard) -> frozenset[str]:
    """Races of the program the card validation left out, and those the B file cut."""
    quarantine = card.quarantine
    entries = quarantine[quarantine["table_name"] == "boat_entries"]
    return frozenset(entries["race_id"].dropna().astype(str)) | card.set_aside_before


BOAT_DAILY_REPORT = "boat-daily-report"  # a stable artifact key: its history is the days'


@stage("boat-report", io=True)
def boat_report(
    settings: Settings, summary: dict[str, Any], predictions: pd.DataFrame,
    settled: pd.DataFrame, race_date: date,
) -> dict[str, Any]:  # fmt: skip
    """The day's report (``var/reports/boat-YYYY-MM-DD.md`` and ``.html``, and the
    ``boat-daily-report`` artifact outside backfills); the summary with its path."""
    from raceday.boat import report

    with stage_run(settings, "boat-report", race_date) as record:
        with engine_for(settings).connect() as connection:
            exotics = catalog.read_exotics(connection, race_date, race_date)
        frames = (
            report.venue_table(predictions, settled),
            report.bet_table(settled),
            report.exotics_table(exotics),
        )
        markdown = report.report_markdown(race_date, summary, *frames)
        settings.reports_dir.mkdir(parents=True, exist_ok=True)
        stem = settings.reports_dir / f"boat-{race_date:%Y-%m-%d}"
        stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
        html_path = stem.with_suffix(".html")
        html_path.write_text(report.report_html(race_date, summary, *frames), encoding="utf-8")
        if publishes_day_artifacts():
            from prefect.artifacts import create_markdown_artifact

            create_markdown_artifact(
                key=BOAT_DAILY_REPORT, markdown=markdown, description=f"boat day {race_date}"
            )
        record.rows_out = 2
    return {**summary, "report": str(html_path)}
