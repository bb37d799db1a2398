"""A run's status and exit code, decided in one place from what the run raised.

- ``completed``: nothing to say (exit 0);
- ``completed-with-warnings``: the run went through but left something to look at (a venue's
  races left out, races quarantined, races without odds, races sized on their final odds or
  decided on stale odds, a day without races, bets voided, most of a circuit's races of no
  class it knows), listed (exit 0); its alerts of severity warning or info are listed too,
  without changing the status;
- ``completed-with-alerts``: the run raised critical alerts, listed in its summary (exit 6);
- ``stopped``: a backfill stopped at a safe point when asked (Ctrl-C), resumable (exit 130);
- ``completed-with-refusals``: a backfill ran every day it could, and refused some for their
  input (:class:`DayRefusal`): the first refusal's exit code (2 unreadable, 4 nothing valid).

A run that fails ends with its failure's exit code instead (:mod:`raceday.errors`); with
``--json`` it says so as ``failed`` (:func:`failure_summary`), or ``interrupted`` (Ctrl-C, 130).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from raceday.sport import UNKNOWN_CLASS, Circuit

if TYPE_CHECKING:
    import pandas as pd

COMPLETED: Final = "completed"
COMPLETED_WITH_WARNINGS: Final = "completed-with-warnings"
COMPLETED_WITH_ALERTS: Final = "completed-with-alerts"
STOPPED: Final = "stopped"  # a backfill stopped at a safe point on request (Ctrl-C): resumable
COMPLETED_WITH_REFUSALS: Final = "completed-with-refusals"  # a backfill with days refused
FAILED: Final = "failed"  # ended by a failure of one of raceday.errors' kinds: its line and code
INTERRUPTED: Final = "interrupted"  # Ctrl-C outside a backfill's safe points
ALERTS_EXIT_CODE: Final = 6
INTERRUPTED_EXIT_CODE: Final = 130  # as any command Ctrl-C ends
STOPPED_EXIT_CODE: Final = INTERRUPTED_EXIT_CODE  # as an interrupted command
# A Ctrl-C or SIGTERM the command received (cli.shared.interrupts_kept sets it): a day's run
# raises it again at its next safe point, where Prefect's engine had swallowed it.
INTERRUPT_RECEIVED: Final = threading.Event()
EXIT_CODES: Final = {
    COMPLETED: 0,
    COMPLETED_WITH_WARNINGS: 0,
    COMPLETED_WITH_ALERTS: ALERTS_EXIT_CODE,
    STOPPED: STOPPED_EXIT_CODE,
}


def failure_summary(line: str, exit_code: int, kind: str | None) -> dict[str, Any]:
    """What ``--json`` prints of a command that ended without a summary of its own: ``status``
    ``failed`` (``interrupted`` without a ``kind``: Ctrl-C), its ``exit_code``, the ``kind`` of
    failure (:func:`raceday.errors.failure_kind`: ``input``, ``unavailable``, ``defect``) and
    ``error``, the one line said on standard error."""
    status = FAILED if kind is not None else INTERRUPTED
    return {"status": status, "exit_code": exit_code, "kind": kind, "error": line}


def critical(alerts: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The critical ones among alert payloads."""
    return [alert for alert in alerts if alert.get("severity") == "critical"]


def run_status(alerts: Iterable[Mapping[str, Any]], warnings: Sequence[str]) -> str:
    """``completed-with-alerts`` when any alert is critical, else ``completed-with-warnings``
    when there is a warning, else ``completed``. Alerts of lesser severity are listed with the
    run but do not change its status: some measure the machine (``run_budget``, an anomaly of
    ``run_seconds``), and a run's status must not depend on how loaded it was."""
    if critical(alerts):
        return COMPLETED_WITH_ALERTS
    return COMPLETED_WITH_WARNINGS if warnings else COMPLETED


def exit_code(status: str) -> int:
    """The exit code of a run that ended with ``status`` (0 for a status it does not know:
    a run that reports anything at all did complete)."""
    return EXIT_CODES.get(status, 0)


@dataclass(frozen=True)
class DayRefusal:
    """A day a backfill refused for its input, as its daily run would have: what that run
    says (``reason``, its one line without ``error:``) and its exit code."""

    day: date
    reason: str
    exit_code: int

    @property
    def line(self) -> str:
        """What is said of it: :func:`refusal_line`."""
        return refusal_line(self.as_summary())

    def as_summary(self) -> dict[str, Any]:
        """Its entry in a summary's ``days_refused``."""
        return {"date": self.day.isoformat(), "reason": self.reason, "exit_code": self.exit_code}

    @classmethod
    def from_summary(cls, entry: Mapping[str, Any]) -> DayRefusal:
        """The refusal of a ``days_refused`` entry (:meth:`as_summary`)."""
        day = date.fromisoformat(str(entry["date"]))
        return cls(day, str(entry["reason"]), int(entry["exit_code"]))


def refusal_line(refused: Mapping[str, Any]) -> str:
    """A refused day in one line, a ``days_refused`` entry: its daily run's error line prefixed
    by its date (``2025-03-03: error: nothing valid left for 2025-03-03 (card): …``)."""
    return f"{refused['date']}: error: {refused['reason']}"


def result_exit_code(result: Mapping[str, Any]) -> int:
    """The exit code of a run that reported ``result``: its status's (:func:`exit_code`), or,
    for a backfill that refused days, the first refused day's own code."""
    status = str(result.get("status", ""))
    refused = result.get("days_refused") or ()
    if status == COMPLETED_WITH_REFUSALS and refused:
        return int(refused[0]["exit_code"])
    return exit_code(status)


def refused_warning(refused: Sequence[DayRefusal]) -> list[str]:
    """A warning naming the days refused for their input, and how to run them."""
    if not refused:
        return []
    days = ", ".join(str(refusal.day) for refusal in refused[:5])
    more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
    return [
        f"{len(refused)} day(s) refused for their input ({days}{more}): nothing of them stored "
        "(but the quarantine of what validation refused), not marked done; mend their input and "
        "run the same command again"
    ]


def open_bets_warning(open_per_day: Mapping[date, int]) -> list[str]:
    """A warning naming the days a backfill leaves with bets open (their races' results not
    stored: not published when the day ran, or a winner without final odds). Such a day is not
    done: the same command, run once the results are in, runs it again and settles them."""
    if not open_per_day:
        return []
    days = sorted(open_per_day)
    named = ", ".join(str(day) for day in days[:5])
    more = f" and {len(days) - 5} more" if len(days) > 5 else ""
    return [
        f"{sum(open_per_day.values())} bet(s) left open on {len(days)} day(s) ({named}{more}): "
        "their races have no result stored yet (not published, or a winner without final odds); "
        "those days are not done: run the same command again once their results are in"
    ]


def outcome(alerts: Iterable[Mapping[str, Any]], warnings: Sequence[str]) -> dict[str, Any]:
    """The summary's ``status``, ``alerts`` and ``warnings`` entries."""
    alerts = list(alerts)
    return {"status": run_status(alerts, warnings), "alerts": alerts, "warnings": list(warnings)}


def quarantine_warning(
    races_quarantined: int, races_offered: int, rows: int, rows_cancelled: int = 0
) -> list[str]:
    """A warning when validation set races (or rows) aside: ``4 of 30 races quarantined``.
    ``rows_cancelled``: of the ``rows``, the records of races the provider cancelled, kept in
    the quarantine as its word, not faults: not counted here (:func:`cancelled_warning` says
    them; a day off said "312 rows quarantined by validation" beside its cancelled races)."""
    if races_quarantined:
        return [
            f"{races_quarantined} of {races_offered} races quarantined (set aside by validation: "
            "see the report's quarantine and the Data Docs)"
        ]
    if faults := rows - rows_cancelled:
        return [f"{faults} rows quarantined by validation (no race set aside)"]
    return []


def _first_five(race_ids: Sequence[str]) -> str:
    return ", ".join(race_ids[:5]) + (f" and {len(race_ids) - 5} more" if len(race_ids) > 5 else "")


def unpriced_warning(race_ids: Sequence[str]) -> list[str]:
    """A warning naming the card's races without odds by their decision's moment: stored, but
    neither predicted nor bet (the only trace was a line in the log)."""
    if not race_ids:
        return []
    return [
        f"{len(race_ids)} race(s) without odds published by their deadline "
        f"({_first_five(race_ids)}): stored, not predicted or bet (no snapshot of theirs with "
        "odds was published by then)"
    ]


def untimed_warning(race_ids: Sequence[str]) -> list[str]:
    """A warning naming the card's races that had no deadline at race time (``live.odds_at``
    ``lead``): their post time cannot be read, so they saw no snapshot (``raceday live`` says
    them in the same words); not races whose odds came too late (:func:`unpriced_warning`)."""
    if not race_ids:
        return []
    return [
        f"{len(race_ids)} race(s) without a readable post time ({_first_five(race_ids)}): "
        "stored, not predicted or bet (decided at their post time less live.lead_minutes, "
        "they had no deadline to read odds by)"
    ]


def cancelled_warning(races_cancelled: int, records: int = 0) -> list[str]:
    """A warning when the provider cancelled races (データ区分 9): not run, not bet, no fault;
    ``records``: theirs in the quarantine (not counted by :func:`quarantine_warning`)."""
    if not races_cancelled:
        return []
    theirs = f"their {records} records" if records else "their records"
    return [
        f"{races_cancelled} races cancelled (data_kubun 9): not run, so not predicted, bet or "
        f"settled ({theirs} kept in the quarantine as the provider's word, not faults)"
    ]


def dropped_races_warning(
    counts: Mapping[str, int], race_day: bool = True, outside_source: Sequence[str] = ()
) -> list[str]:
    """What a day's card left out, as every day's run says it: its races the provider cancelled
    (:func:`cancelled_warning`), no races at all on a ``race_day`` (said as cancelled when they
    were: :func:`no_races_warning`, then ``outside_source``: :func:`outside_source_days_warning`),
    its races (or rows) validation set aside (:func:`quarantine_warning`). ``counts``:
    ``races_offered``, ``races_quarantined``, ``quarantined``, ``races_cancelled`` and
    ``quarantined_cancelled`` (the card's: :func:`flows.chain.card_counts`)."""
    cancelled = counts.get("races_cancelled", 0)
    cancelled_rows = counts.get("quarantined_cancelled", 0)  # theirs, not faults
    warnings = cancelled_warning(cancelled, cancelled_rows)
    if race_day and not cancelled:
        warnings += no_races_warning(counts["races_offered"]) + list(outside_source)
    return warnings + quarantine_warning(
        counts["races_quarantined"], counts["races_offered"], counts["quarantined"], cancelled_rows
    )


def no_races_warning(races_offered: int, what: str = "the day") -> list[str]:
    """A warning when there was nothing to run: ``no races for the day``."""
    return [] if races_offered else [f"no races for {what}: nothing was predicted or settled"]


_CLASSLESS_WHY: Final = (
    "neither the condition name kyoso_joken_meisho nor the condition code kyoso_joken_code "
    "names one"
)
_CLASSLESS_HARM: Final = (
    "reference times, first 3F, pools and features lose their class; check the export's columns"
)
# Venues of no circuit: no class names are known for them (Hong Kong's Class 1-5, Group, Griffin).
NO_CIRCUITS_CLASSES: Final = (
    "no circuit's class names are known there: reference times, first 3F, pools and features "
    "take no class for them"
)


def unknown_class_warning(
    races: pd.DataFrame, circuits: Sequence[Circuit], what: str | None = None
) -> list[str]:
    """A warning per circuit (with its venues) most of whose ``races`` (``keibajo_code``,
    ``class_code``) are of no known class: its condition names and codes read in a format the
    decoding does not know (a blank name, no code) degrade reference times, first 3F, pools and
    features by class for the whole circuit, and must not do so silently. The venues of no
    circuit (abroad: a Hong Kong export's ``Class 3``) are judged together as one more, named
    by their codes. ``what``: a range (``2025-01-01..2025-12-31``; ``races`` with their
    ``race_date``): the same rule held day by day, one line per circuit naming on how many of
    its days it held."""
    venue_circuit = {code: circuit.label for circuit in circuits for code in circuit.venue_codes}
    codes = races["keibajo_code"].astype("string")
    label = codes.map(venue_circuit).rename("circuit")
    elsewhere = sorted(set(codes[label.isna()].dropna()))
    other = f"venue(s) of no circuit ({', '.join(elsewhere)})"
    label = label.fillna(other)
    unknown = races["class_code"].astype("string").eq(UNKNOWN_CLASS).fillna(False)
    keys = [label] if what is None else [races["race_date"].rename("day"), label]
    counts = unknown.groupby(keys).agg(unknown="sum", races="size")
    mostly = counts[2 * counts["unknown"] > counts["races"]]
    held = mostly.groupby(level="circuit").agg(
        unknown=("unknown", "sum"), races=("races", "sum"), days=("races", "size")
    )
    named = {circuit.label: f"{circuit.label} races" for circuit in circuits}
    lines = []
    harm = {**dict.fromkeys(named, _CLASSLESS_HARM), other: NO_CIRCUITS_CLASSES}
    for group, races_of in {**named, other: f"races at {other}"}.items():
        if group not in held.index:
            continue
        row = held.loc[group]
        of = f"{int(row['unknown'])} of {int(row['races'])}"
        if what is None:
            said = f"{of} {races_of} of no known class ({_CLASSLESS_WHY})"
        else:
            said = (
                f"{races_of} mostly of no known class on {int(row['days'])} day(s) "
                f"of {what} ({of} races on those days; {_CLASSLESS_WHY})"
            )
        lines.append(f"{said}: {harm[group]}")
    return lines


def backfill_no_races_warning(races: int, what: str, days_run: int, days_done: int) -> list[str]:
    """A warning when a backfill that ran stored no race, saying what was true of ``what``
    (its range): ``days_run`` days were run (not refused) and had none, ``days_done`` were
    done before and skipped. A resumed backfill whose days left were all refused ran no day:
    nothing new to run (it said "no races for" the whole range, days stored and skipped)."""
    if races:
        return []
    done = f"{days_done} day(s) already done, skipped"
    if not days_run:
        return [f"nothing new to run for {what}: {done}"] if days_done else []
    if not days_done:
        return no_races_warning(races, what)
    return [
        f"no races on the {days_run} day(s) run of {what} ({done}): nothing new was predicted "
        "or settled"
    ]


def races_and_days(race_ids: Sequence[str]) -> str:
    """Races named in a warning: ``3 race(s) (202612034401, …)`` on one day; over several, their
    days, the first five: ``8 race(s) on 7 day(s) (2026-10-01, … and 2 more)``."""
    days = sorted({f"{race_id[:4]}-{race_id[4:6]}-{race_id[6:8]}" for race_id in race_ids})
    named = list(dict.fromkeys(race_ids)) if len(days) == 1 else days
    listed = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
    on = "" if len(days) == 1 else f" on {len(days)} day(s)"
    return f"{len(race_ids)} race(s){on} ({listed})"


def final_odds_races_warning(race_ids: Sequence[str]) -> list[str]:
    """A warning naming the races a run sized on their final odds
    (:func:`raceday.pipeline.races_on_final_odds`), by :func:`races_and_days`: a day's run
    (some venue's races without a snapshot are enough, not only a day without any) as a
    backfill."""
    if not race_ids:
        return []
    return [
        f"{races_and_days(race_ids)} were sized on their final odds: the source held no odds "
        "snapshot of theirs it could date (no odds table, none of theirs in it, or stamps blank "
        "or unreadable), known only after the close (optimistic for a backtest); load the odds "
        "table (nvd_o1, jvd_o1 for JRA) with its stamps for bet-time odds"
    ]


def stale_odds_warning(race_ids: Sequence[str], stale_minutes: int) -> list[str]:
    """A warning naming the races decided at race time on a snapshot published more than
    ``stale_minutes`` before their decision (:func:`raceday.pipeline.races_on_stale_odds`), by
    :func:`races_and_days`: sized on a market that may have moved since, without a word."""
    if not race_ids:
        return []
    return [
        f"{races_and_days(race_ids)} were decided on odds published more than {stale_minutes} "
        "minutes before their decision: the source held no later snapshot by then (sampled "
        "hours apart, or not updated), and the market may have moved since; check the odds "
        "table (nvd_o1, jvd_o1 for JRA) is updated through the day (live.stale_odds_minutes "
        "sets how old is too old)"
    ]


def outside_source_days_warning(
    day: date, held: tuple[date, date] | None, source: str
) -> list[str]:
    """A warning when a day without races is outside the days ``source`` holds (``held``: its
    first and last race day, :func:`raceday.sources.base.source_days_held`): a database not
    updated, or a date mistyped; where the monitor's ``no_races`` only says the source is
    empty."""
    if held is None or held[0] <= day <= held[1]:
        return []
    first, last = held
    where, ask = (
        ("after the last", "has it been updated?")
        if day > last
        else ("before the first", "is it the database meant?")
    )
    return [
        f"{day} is {where} race day the source {source} holds: it holds races "
        f"{first}..{last}: {ask}"
    ]
