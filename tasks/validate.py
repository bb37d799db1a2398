"""Validate: Great Expectations suites split the input into stored rows and quarantine.

Every validation leaves a record: the quarantined rows with the check that failed (table
``quarantine``), the outcome per day and suite (``validation_results``) and Data Docs pages
(``var/data_docs/index.html``). Stages that derive frames (first 3F, predictions, stakes) check
them with :func:`record_checked`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection

from config import Settings
from config.reference import circuits
from data_checks.records import quarantine_summary, retracted_races, validation_rows
from data_checks.suites import venue_codes_for
from data_checks.validate import Phase, ValidatedDay, validate_day
from raceday.arrow_text import text_isin
from raceday.codec import decode_races, race_ids, races_abroad
from raceday.errors import NothingValid
from raceday.japan_time import today_in_japan
from raceday.monitoring.performance import races_not_run
from raceday.pipeline import betting_odds, races_without_odds
from raceday.run_status import DayRefusal
from raceday.sources.base import (
    RawDay,
    card_only,
    days_with_races,
    published_results,
    rows_of_days,
)
from raceday.sources.timeline import CardTiming, card_odds, timed_races, unpriced_by_cause
from raceday.store.catalogs.decisions import races_decided_between
from raceday.store.catalogs.quality import write_quarantine, write_validation_results
from raceday.store.catalogs.races import withdraw_results, write_odds, write_races_and_runners
from raceday.store.catalogs.ratings import indexed_days_after
from raceday.store.learned import LearnedFrom
from tasks.common import (
    current_run_id,
    engine_for,
    logger,
    period_label,
    publish_docs,
    stage,
    stage_run,
)

SOURCE_WIDTH = 40  # races.source is VARCHAR(40); PostgreSQL refuses longer values


def source_label(spec: str) -> str:
    """The source spec as stored on each race: a long files path keeps its end (``files:…/day``)."""
    if len(spec) <= SOURCE_WIDTH:
        return spec
    kind = spec.split(":", 1)[0]
    return f"{kind}:…{spec[-(SOURCE_WIDTH - len(kind) - 2) :]}"


def _store_valid(
    connection: Connection, settings: Settings, raw: RawDay, valid: ValidatedDay, phase: Phase
) -> ValidatedDay:
    write_races_and_runners(
        connection,
        valid.races,
        valid.runners,
        has_results=phase == "results",
        source=source_label(settings.source),
    )
    if phase != "card":
        return valid
    card = with_betting_odds(raw, valid)
    write_odds(connection, _odds_not_decided_on(connection, card), card.runners)
    late, no_post = unpriced_by_cause(card.unpriced, card.races, settings.live.card_timing())
    if late:
        logger().warning(
            "%d race(s) without odds published by their deadline so far (e.g. %s): "
            "this card bets none of them",
            len(late),
            late[0],
        )
    if no_post:
        logger().warning(
            "%d race(s) without a readable post time (e.g. %s): no deadline to read their odds "
            "by (live.odds_at lead); this card bets none of them",
            len(no_post),
            no_post[0],
        )
    return card


def _odds_not_decided_on(connection: Connection, card: ValidatedDay) -> pd.DataFrame:
    """The card's odds but those of races already decided at race time: a race's stored odds
    are then the snapshot its decision read (``live`` writes it), and a card stored again (a
    re-run of ``live``, a ``run`` of the same day) must not put the morning's back."""
    if card.races.empty:
        return card.odds
    dates = card.races["race_date"]
    decided = races_decided_between(connection, dates.min().date(), dates.max().date())
    if not decided:
        return card.odds
    return card.odds[~card.odds["race_id"].astype("string").isin(decided).to_numpy(bool)]


def with_betting_odds(raw: RawDay, card: ValidatedDay) -> ValidatedDay:
    """The validated card with the odds bets are placed on: each race's snapshot published by
    its deadline, else, for a race the source has no timed snapshot of at all (a replay of
    history from final odds only), its final odds in ``raw``. A race whose snapshots were all
    published after its deadline had no odds then: it gets none, as at that moment. The races
    left without (:func:`raceday.pipeline.races_without_odds`) are found here, once: the
    card's ``unpriced``, which its log line and the run's summary read."""
    final = raw.runners
    untimed = text_isin(final["race_id"], card.races["race_id"]) & ~text_isin(
        final["race_id"], timed_races(raw.nvd_o1)
    )
    odds = betting_odds(card.odds, final[untimed])
    unpriced = tuple(races_without_odds(card.races, odds))
    return ValidatedDay(card.races, card.runners, odds, card.quarantine, card.outcomes, unpriced)


def validate_phase(
    raw: RawDay, phase: Phase, timing: CardTiming, gx_result: bool = True
) -> ValidatedDay:
    """Validate a card (the view of ``raw`` at its decision moments: result fields blanked, only
    the odds published by then, :func:`card_view`) or results (of the races whose results are
    published: :func:`raceday.sources.base.published_results`); nothing is written.
    ``gx_result``: whether the outcomes must carry GX's results (Data Docs pages are wanted);
    without, clean suites are passed by pandas alone (``data_checks.validate.validate_day``)."""
    return validate_day(
        card_view(raw, timing) if phase == "card" else published_results(raw),
        phase=phase,
        venue_codes=venue_codes_for(circuits()),
        as_of=today_in_japan(),
        results=raw if phase == "card" else None,
        gx_result=gx_result,
    )


def validated_phase(settings: Settings, raw: RawDay, phase: Phase) -> ValidatedDay:
    """:func:`validate_phase` as the settings want it: GX's results only for Data Docs."""
    return validate_phase(
        raw, phase, settings.live.card_timing(), gx_result=settings.validation.data_docs
    )


def card_view(raw: RawDay, timing: CardTiming) -> RawDay:
    """The card as known when it is decided: every card validation goes through here, so no
    stage sees odds published after its race's deadline (``settings.live.odds_at``). The
    result fields are blanked first (none of them is read for a deadline: the day, the race
    and its post time), so the card's decoded tables are ``raw``'s with those fields decoded
    again (:func:`raceday.sources.base.card_only`), ``raw``'s decode shared with its results'
    validation, not done twice."""
    return card_odds(card_only(raw), timing)


def _nothing_valid(raw: RawDay, valid: ValidatedDay, phase: Phase) -> bool:
    """Whether a phase left nothing valid of an input that had something to judge. A night
    with races still awaiting their results is not refused for those it judged and set aside
    (two broken races must not stop ten whose results are still to come)."""
    if phase == "results" and not raw.pending_results.empty:
        return False
    return valid.races.empty and not raw.is_empty and not _only_races_not_run(raw, valid)


def _only_races_not_run(raw: RawDay, valid: ValidatedDay) -> bool:
    """Whether every race of the input is a race not run (:func:`races_not_run`): cancelled
    (a typhoon, snow: a meeting is cancelled whole every year, its records say 9), or abroad
    with only part of its field listed (:func:`_fields_not_listed_abroad`). A day of only
    those is a day without races that says so, not an input with nothing valid (and they are
    not counted as offered or set aside)."""
    races = decode_races(raw.nvd_ra).drop_duplicates("race_id").set_index("race_id")
    listed = race_ids(raw.nvd_se).value_counts()
    offered = set(races.index.dropna()) | set(listed.index.dropna())
    not_run = _fields_not_listed_abroad(races, listed) | races_not_run(valid.quarantine)
    return bool(offered) and offered <= not_run


def _fields_not_listed_abroad(races: pd.DataFrame, listed: pd.Series) -> set[str]:
    """The races (decoded, by race id) abroad (a letter-coded venue) whose card lists
    (``listed``: runners by race id) fewer runners than their field: what a home database always
    holds of a race abroad (its home runners only; ``card_lists_the_field`` sets it aside in the
    morning, its finishing order at night)."""
    field = pd.to_numeric(races["field_size"], errors="coerce")
    partial = field.gt(listed.reindex(races.index).fillna(0)).fillna(False)
    abroad = races_abroad(races.index.to_series())
    return set(races.index[(partial & abroad).to_numpy(bool)])


def _warn_pending(raw: RawDay) -> None:
    pending = raw.pending_results
    if len(pending):
        logger().warning(
            "results of %d race(s) not published yet (e.g. %s): not judged, their bets stay open",
            len(pending),
            pending.iloc[0],
        )


def _withdraw_retracted(connection: Connection, quarantine: pd.DataFrame) -> None:
    """Results stored earlier for a race the provider now says was cancelled or withdrew are
    taken back (a re-run after settlement): its bets then settle as voided, its history goes."""
    withdrawn = withdraw_results(connection, retracted_races(quarantine))
    if withdrawn:
        logger().warning(
            "results of %d race(s) taken back: the provider now says they were cancelled or "
            "withdrew them",
            withdrawn,
        )


def _forget_stale_versions(
    connection: Connection, settings: Settings, learned_from: LearnedFrom
) -> None:
    """Forget the versions learned from the days being rewritten when they changed; the warning
    names the later days already run (their indexes stored), which keep what they derived from
    the old history, and the command that derives them again."""
    forgotten = learned_from.forget_if_changed(connection)
    if not forgotten:
        return
    later = indexed_days_after(connection, learned_from.end)
    logger().warning(
        "the history of %s changed: %d version(s) learned from it are learned again when "
        "next needed (%s)%s",
        period_label(learned_from.start, learned_from.end),
        len(forgotten),
        ", ".join(forgotten[:6]) + (", …" if len(forgotten) > 6 else ""),
        "" if later is None else _later_days_note(settings, *later),
    )


def _later_days_note(settings: Settings, first: date, last: date) -> str:
    """What the days after a changed history that already ran keep, and the command that runs
    them again (a backfill over them, forced: they may be days a backfill completed)."""
    command = shlex.join(
        [
            "raceday", "backfill", "--start", f"{first}", "--end", f"{last}", "--force",
            "--source", settings.source,
        ]
    )  # fmt: skip
    return (
        f"; the later days already run, {period_label(first, last)}, keep what they derived "
        f"from the old history (first 3F, indexes, features, predictions) until run again: "
        f"{command}"
    )


def _write_records(
    connection: Connection, valid: ValidatedDay, start: date, end: date, phase: Phase
) -> None:
    run_id = current_run_id()
    write_quarantine(connection, valid.quarantine, start, end, phase, run_id)
    write_validation_results(connection, validation_rows(valid.outcomes, run_id, end))


@stage("validate", run_name="validate-{phase}")
def validate_and_store(
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    phase: Phase,
    screened: ValidatedDay | None = None,
) -> ValidatedDay:
    """Validate a card (morning) or results (night) and store what is valid, in one transaction.

    The card phase stores the bet-time odds: the latest snapshot published by each race's
    deadline (``settings.live.odds_at``), else final odds for replays. When
    nothing valid is left of a non-empty input, only the quarantine and the validation results
    are written and the stage fails with :class:`NothingValid` saying why in one line.
    ``screened`` is this phase's validation by :func:`screen_day` (not repeated).
    """
    stage = f"validate_{phase}"
    with stage_run(settings, stage, end) as record:
        valid = screened if screened is not None else validated_phase(settings, raw, phase)
        record.rows_in, record.rows_out = len(raw.nvd_se), len(valid.runners)
        nothing_valid = _nothing_valid(raw, valid, phase)
        with engine_for(settings).begin() as connection:
            # the results phase: what was learned from these days, read before they are rewritten
            learned_from = (
                LearnedFrom.before(connection, start, end) if phase == "results" else None
            )
            if not nothing_valid:
                valid = _store_valid(connection, settings, raw, valid, phase)
            if learned_from is not None:
                _withdraw_retracted(connection, valid.quarantine)
                _warn_pending(raw)
                _forget_stale_versions(connection, settings, learned_from)
            _write_records(connection, valid, start, end, phase)
        publish_docs(settings, valid.outcomes, stage, start, end)
        summary = quarantine_summary(valid.quarantine)
        if nothing_valid:
            raise NothingValid(f"nothing valid left for {period_label(start, end)}: {summary}")
        record.message = summary
    logger().info("%s: %d races valid; %s", stage, len(valid.races), summary)
    return valid


def _validated(
    settings: Settings, raw: RawDay, phases: tuple[Phase, ...]
) -> dict[Phase, ValidatedDay]:
    return {phase: validated_phase(settings, raw, phase) for phase in phases}


def _refused_phases(raw: RawDay, validated: dict[Phase, ValidatedDay]) -> list[Phase]:
    return [phase for phase, valid in validated.items() if _nothing_valid(raw, valid, phase)]


def _refusal(
    validated: dict[Phase, ValidatedDay], refused: list[Phase], start: date, end: date
) -> NothingValid:
    """What a screen refusing ``refused`` says, in one line (the first phase refused)."""
    phase = refused[0]
    summary = quarantine_summary(validated[phase].quarantine)
    return NothingValid(f"nothing valid left for {period_label(start, end)} ({phase}): {summary}")


def _write_refused(
    settings: Settings, validated: dict[Phase, ValidatedDay], start: date, end: date
) -> None:
    """A refusal's records: the refused phases' quarantine and validation results (all it
    stores) and their Data Docs."""
    with engine_for(settings).begin() as connection:
        for phase, valid in validated.items():
            _write_records(connection, valid, start, end, phase)
    for phase, valid in validated.items():
        publish_docs(settings, valid.outcomes, f"validate_{phase}", start, end)


@stage("screen")
def screen_day(
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    phases: tuple[Phase, ...],
) -> dict[Phase, ValidatedDay]:
    """Validate every phase a run will store before it stores anything: the day's decision.

    A run that predicts, stakes and settles in one go (``daily_run``) would otherwise write
    predictions and bets in the morning stages and only then find at night that nothing is
    valid. When a phase leaves nothing valid, only its quarantine and validation results are
    written and :class:`NothingValid` is raised: no race, prediction or bet of the day is
    stored. Otherwise the validations are returned for :func:`validate_and_store` to store.
    """
    with stage_run(settings, "screen", end) as record:
        validated = _validated(settings, raw, phases)
        refused = _refused_phases(raw, validated)
        record.rows_in = len(raw.nvd_se)
        record.rows_out = min((len(valid.runners) for valid in validated.values()), default=0)
        if refused:
            _write_refused(settings, {phase: validated[phase] for phase in refused}, start, end)
            raise _refusal(validated, refused, start, end)
    return validated


@dataclass(frozen=True)
class RefusedDay:
    """A day of a range refused as its daily run would refuse it: the refusal, and the
    validations of its refused phases (what that run writes of the day: :func:`record_refused`)."""

    refusal: DayRefusal
    validated: dict[Phase, ValidatedDay]


@dataclass(frozen=True)
class ScreenedDays:
    """A range screened day by day (:func:`screen_days`): the rows of the days kept and their
    validations (none when no day is kept), and the days refused."""

    raw: RawDay
    validated: dict[Phase, ValidatedDay]
    refused: tuple[RefusedDay, ...]


def _days_without_races(raw: RawDay, validated: dict[Phase, ValidatedDay]) -> list[date]:
    """The days ``raw`` has races of that some phase kept no race of: each is judged alone."""
    days = days_with_races(raw)
    kept = [set(pd.to_datetime(valid.races["race_date"]).dt.date) for valid in validated.values()]
    return [day for day in days if any(day not in phase_days for phase_days in kept)]


def _judged_alone(
    settings: Settings, raw: RawDay, day: date, phases: tuple[Phase, ...]
) -> RefusedDay | None:
    """``day``'s rows screened as its daily run screens them: its refusal, or None."""
    alone = rows_of_days(raw, [day])
    validated = _validated(settings, alone, phases)
    refused = _refused_phases(alone, validated)
    if not refused:
        return None
    error = _refusal(validated, refused, day, day)
    refusal = DayRefusal(day, str(error), error.exit_code)
    return RefusedDay(refusal, {phase: validated[phase] for phase in refused})


@stage("screen")
def screen_days(
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    phases: tuple[Phase, ...],
) -> ScreenedDays:
    """:func:`screen_day` over a backfill's range, each day decided on its own as its daily run
    decides it: a day with nothing valid left in a phase is refused and taken out of the range
    (nothing of it is stored; its records are written by :func:`record_refused` once the
    range's own are), and the other days are validated as a range without it. Rows of no day
    that leave nothing valid refuse the range, as :func:`screen_day` does, but once every day
    with races is refused: the rows of no day left (an undated row every read of the source
    returns) are no day's input, and a range that keeps a day quarantines them (a resumed
    backfill whose days left were all refused failed as a whole, on the stray row's checks)."""
    with stage_run(settings, "screen", end) as record:
        validated = _validated(settings, raw, phases)
        judged = [
            _judged_alone(settings, raw, day, phases) for day in _days_without_races(raw, validated)
        ]
        refused = tuple(day for day in judged if day is not None)
        record.rows_in = len(raw.nvd_se)
        if refused:
            raw = rows_of_days(raw, [day.refusal.day for day in refused], keep=False)
            validated = _validated(settings, raw, phases) if days_with_races(raw) else {}
            record.message = "refused: " + ", ".join(str(day.refusal.day) for day in refused)
        still = _refused_phases(raw, validated)
        if still:
            _write_refused(settings, {phase: validated[phase] for phase in still}, start, end)
            raise _refusal(validated, still, start, end)
        record.rows_out = min((len(valid.runners) for valid in validated.values()), default=0)
    return ScreenedDays(raw, validated, refused)


def record_refused(settings: Settings, refused: tuple[RefusedDay, ...]) -> None:
    """Each refused day's records, dated that day (after its range's: they replace a range's
    quarantine, which would otherwise drop the day's)."""
    for day in refused:
        _write_refused(settings, day.validated, day.refusal.day, day.refusal.day)
