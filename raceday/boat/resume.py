"""What a boat backfill leaves to do, and says of it: the days done (recorded and settled), the
days whose bets it leaves open, the days with results but no program, and the later days sized
before a day it ran after them (``flows/boat.py:boat_backfill_run``).

A day is done only when it is recorded (a ``boat_performance`` row) and settled (no bet open):
a recorded day whose bets are open because its results were not in is run again by the next
backfill over it (a backfill is a replay: the day re-decided on the data now in hand).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Final

from raceday.boat.source import day_files

NAMED_DAYS: Final = 5  # a warning names a few days, never hundreds


def done_days(recorded: Collection[date], unsettled: Collection[date]) -> set[date]:
    """The days a backfill skips: recorded, and without a bet left open."""
    return set(recorded) - set(unsettled)


def named_days(days: Iterable[date]) -> str:
    """``2026-04-04, 2026-04-07`` (the first few, then ``and N more``)."""
    ordered = sorted(set(days))
    named = ", ".join(str(day) for day in ordered[:NAMED_DAYS])
    more = len(ordered) - NAMED_DAYS
    return named + (f" and {more} more" if more > 0 else "")


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def open_days_warning(unsettled: Collection[date], open_bets: int) -> list[str]:
    """A warning naming the days whose bets the backfill leaves open (their results not in)."""
    if not unsettled:
        return []
    return [
        f"{open_bets} bet(s) left open on {_days(len(unsettled))} ({named_days(unsettled)}): "
        "their results are not in (no K file, or none readable for their races); re-run the "
        "same command once their K files are in"
    ]


def provisional_warning(provisional: Mapping[date, int]) -> list[str]:
    """A warning naming the days whose bets stand refunded provisionally: their races were set
    aside at night (results unreadable, or contradicting themselves), so the bets were refunded
    for now; those days are not done, and a run once good K files are in settles them again."""
    if not provisional:
        return []
    return [
        f"{sum(provisional.values())} bet(s) refunded provisionally on "
        f"{_days(len(provisional))} ({named_days(provisional)}): their races were set aside "
        "(results unreadable or contradicting themselves, see the quarantine); re-run the same "
        "command once good K files are in"
    ]


def replayed_warning(reopened: Collection[date]) -> list[str]:
    """A warning naming the days recorded with bets open that the backfill ran again: it
    replayed them (their open bets decided again on the data now in hand), it did not settle
    them as placed; the day run's ``--settle`` does that."""
    if not reopened:
        return []
    return [
        f"{_days(len(reopened))} recorded with bets open replayed ({named_days(reopened)}): "
        "their open bets decided again on the data now in hand, not settled as placed; to "
        "settle a day's bets as placed, run it with raceday run --sport boat --settle"
    ]


def results_file_days(directory: Path) -> set[date]:
    """The days a results (K) file is there for under ``directory``, in its subfolders too
    (:func:`raceday.boat.source.day_files`, as the days' programs are found)."""
    return {day for kind, day in day_files(directory) if kind == "K"}


def no_program_warning(days: Collection[date]) -> list[str]:
    """A warning naming the days with a K file but no B file: not run (a day runs from its
    program); once their B files are in, the same command runs them."""
    if not days:
        return []
    return [
        f"{_days(len(days))} with a K file but no B file ({named_days(days)}): not run; put "
        "their B files in and re-run the same command"
    ]


def sized_before_warning(changed: Collection[date], later: Collection[date]) -> list[str]:
    """A warning when the backfill changed the ledger of a day (run, and not settled before:
    a day left open, or without its program) after ``later`` days (recorded, not run now)
    were sized without it: their settled bets stand as placed (a re-run, even with
    ``--force``, keeps a settled day's bets)."""
    if not changed:
        return []
    first = min(changed)
    after = [day for day in later if day > first]
    if not after:
        return []
    verb = "was" if len(after) == 1 else "were"
    return [
        f"{len(after)} later day{'s' if len(after) != 1 else ''} ({named_days(after)}) {verb} "
        f"sized before {first} was settled: their bets stand as placed, on a bankroll without "
        f"it; to size them on it, backfill from {first} into a new store"
    ]
