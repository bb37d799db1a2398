"""Race time's post times read again: a post time changed after the morning card (発走時刻変更)
moves its race. While a day's run waits for its next try, it reads the day's post times from
the source every ``live.posts_poll_s`` and at each race's first try, and moves a race whose
post moved: its decision moment and close with it (:func:`raceday.racetime.retimed`). A served
``race`` run (``raceday serve --race-time``, no day's loop around it) reads them once as it
starts (:func:`race_at_its_post`). A replay reads none again (its source is the day as it
ended: the card has the final post times)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TypeVar

import pandas as pd

from config import Settings
from raceday.errors import failure_kind
from raceday.racetime import Clock, RaceSlot, moved_ahead, next_attempt, retimed
from tasks.common import StageRunner, logger
from tasks.race import read_post_times

Decided = TypeVar("Decided")
Moved = TypeVar("Moved")


class PostTimes:
    """A day's post times as the source gives them, read at a modest cadence."""

    def __init__(self, run: StageRunner, settings: Settings, race_date: date, clock: Clock) -> None:
        self.run, self.settings, self.race_date, self.clock = run, settings, race_date, clock
        self.poll = timedelta(seconds=settings.live.posts_poll_s)
        self.read_at: datetime | None = None

    def wait(self, queue: list[RaceSlot], read_again_at: Mapping[str, datetime]) -> list[RaceSlot]:
        """Wait for the next try of ``queue`` (:func:`raceday.racetime.next_attempt`), reading
        the post times every ``live.posts_poll_s`` meanwhile and at a race's first try (not at
        each reading again of a race's odds); a race moved earlier is tried at once, or missed
        once its new close has passed. Returns the queue as due."""
        while True:
            attempt = next_attempt(queue, read_again_at)
            now = self.clock.now()
            first_try_due = (
                attempt is not None
                and now >= attempt[1]
                and attempt[0].race_id not in read_again_at
            )
            if (
                self.read_at is None
                or now - self.read_at >= self.poll
                or (first_try_due and self.read_at != now)
            ):
                queue = self.moved(queue)
                attempt = next_attempt(queue, read_again_at)
            if attempt is None or self.clock.now() >= attempt[1]:
                return queue
            self.clock.wait_until(min(attempt[1], self.clock.now() + self.poll))

    def moved(self, queue: list[RaceSlot]) -> list[RaceSlot]:
        """``queue`` at the post times read now, each move logged; a source unavailable (its
        retries spent) leaves them as they were."""
        self.read_at = self.clock.now()
        live = self.settings.live
        try:
            posts = self.run(read_post_times, self.settings, self.race_date)
        except Exception as error:  # only an unavailable source is waited out
            if failure_kind(error) != "unavailable":
                raise
            logger().warning("post times not read again (%s): the card's kept", error)
            posts = pd.Series(dtype="datetime64[ns]")
        moved = retimed(queue, posts, live.lead_minutes, live.close_minutes)
        before = {slot.race_id: slot.post_at for slot in queue}
        for slot in moved:
            if slot.post_at != before[slot.race_id]:
                logger().warning(
                    "%s: post time moved from %s to %s: decided at %s",
                    slot.run_name, f"{before[slot.race_id]:%H:%M}", f"{slot.post_at:%H:%M}",
                    f"{slot.decide_at:%H:%M}",
                )  # fmt: skip
        return moved


def race_at_its_post(
    run: StageRunner,
    settings: Settings,
    slot: RaceSlot,
    clock: Clock,
    decide: Callable[[RaceSlot], Decided],
    move: Callable[[RaceSlot, RaceSlot], Moved],
) -> Decided | Moved:
    """A served race run as it starts (``slot``: at the post time it was scheduled for): the
    race's post time read from the source now (:meth:`PostTimes.moved`, each move logged); a
    race whose post moved with its new moment still ahead is left to ``move`` (a run at that
    moment: :func:`raceday.racetime.moved_ahead`); any other is decided now by ``decide``, on
    the close of its post now (moved earlier past its close: recorded ``missed_close``)."""
    now_slot = PostTimes(run, settings, slot.race_date, clock).moved([slot])[0]
    if moved_ahead(slot, now_slot, clock.now()):
        return move(slot, now_slot)
    return decide(now_slot)
