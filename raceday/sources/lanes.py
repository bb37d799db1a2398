"""Venue lanes: the day's input read venue by venue, joined into one day.

A lane is one venue's read of the day. Lanes are read at once (the IO overlaps) and each is
retried on its own; a lane still failing after its retries becomes a rejected input on the
joined day (validation quarantines it, the run reports it) while the other venues go on. When
every lane fails, the day has nothing to go on: the first lane's error is raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from raceday.sources.base import RawDay, RejectedInput, join_lanes, venue_location


@dataclass(frozen=True)
class LaneOutcome:
    """How one venue's read went: its rows, or the error it still failed with."""

    venue: str
    attempts: int
    raw: RawDay | None = None
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        """True when the lane has no rows to give."""
        return self.raw is None


def failure_reason(outcome: LaneOutcome) -> str:
    """One line: the lane's last error and how many attempts it made."""
    error = outcome.error
    what = f"{type(error).__name__}: {error}" if error is not None else "no rows returned"
    tries = "attempt" if outcome.attempts == 1 else "attempts"
    return f"{what} (after {outcome.attempts} {tries})"


def rejected_lanes(
    outcomes: Sequence[LaneOutcome], venue_names: Mapping[str, str]
) -> list[RejectedInput]:
    """A rejected input per failed lane, named ``venue <code> (<name>)``."""
    return [
        RejectedInput(
            location=venue_location(outcome.venue, venue_names.get(outcome.venue)),
            reason=failure_reason(outcome),
        )
        for outcome in outcomes
        if outcome.failed
    ]


def join_outcomes(outcomes: Sequence[LaneOutcome], venue_names: Mapping[str, str]) -> RawDay:
    """The day from its lanes, failed lanes as rejected inputs; the first lane's error when
    every lane failed (the day has nothing to go on)."""
    if outcomes and all(outcome.failed for outcome in outcomes):
        error = outcomes[0].error
        raise error if error is not None else RuntimeError(failure_reason(outcomes[0]))
    read = [outcome.raw for outcome in outcomes if outcome.raw is not None]
    return join_lanes(read, rejected_lanes(outcomes, venue_names))


def most_attempts(outcomes: Sequence[LaneOutcome]) -> int:
    """The attempts of the lane that needed the most (the stage's attempts)."""
    return max((outcome.attempts for outcome in outcomes), default=1)


def lanes_summary(outcomes: Sequence[LaneOutcome], venue_names: Mapping[str, str]) -> str:
    """One line for ``pipeline_runs``: every venue, its attempts and rows or why it failed."""
    parts = []
    for outcome in outcomes:
        label = f"{outcome.venue} {venue_names.get(outcome.venue, '?')}"
        if outcome.raw is not None:
            parts.append(f"{label} {len(outcome.raw.nvd_ra)} races, {outcome.attempts} att.")
        else:
            parts.append(f"{label} DOWN: {failure_reason(outcome)}")
    down = sum(outcome.failed for outcome in outcomes)
    return f"{len(outcomes)} venue lane(s), {down} down; " + "; ".join(parts)
