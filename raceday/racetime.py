"""Race time's pure parts: the day's timetable, what is due at a moment, and the clocks.

Each race is decided at its post time less the lead (``live.lead_minutes``, default 5) on the
odds published by then; its sales close ``live.close_minutes`` before the post time (2 at NAR
and JRA). A race reached after its close is missed, never bet. Times are naive Japan time.
"""

from __future__ import annotations

import time as wall
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final, Protocol

import pandas as pd

from raceday.japan_time import JAPAN_TIME
from raceday.sources.timeline import post_moments

BET: Final = "bet"
NO_BET: Final = "no_bet"
MISSED_CLOSE: Final = "missed_close"
NO_ODDS: Final = "no_odds"
ODDS_SET_ASIDE: Final = "odds_set_aside"  # its snapshot fails the odds checks: not bet
NOT_OFFERED: Final = "not_offered"
# not a decision: the race's odds are not out yet and its sales are open; read again later
WAITING_FOR_ODDS: Final = "waiting_for_odds"
# not a decision: a served race run whose race's post moved later, left to a run at its moment
POST_MOVED: Final = "post_moved"


@dataclass(frozen=True)
class RaceSlot:
    """One race of the day's timetable."""

    race_id: str
    race_date: date
    venue: str
    race_bango: int
    post_at: datetime
    decide_at: datetime  # post time less the lead
    close_at: datetime  # sales close

    @property
    def run_name(self) -> str:
        """The race's flow-run name: ``race-44-2026-12-03-R07``."""
        return f"race-{self.venue}-{self.race_date.isoformat()}-R{self.race_bango:02d}"

    def missed(self, now: datetime) -> bool:
        """True once its sales have closed."""
        return now >= self.close_at


@dataclass(frozen=True)
class Timetable:
    """The day's races in post-time order, and the races that cannot be timed (no readable
    post time: they are never bet at race time)."""

    slots: tuple[RaceSlot, ...]
    untimed: tuple[str, ...]


def timetable(races: pd.DataFrame, lead_minutes: int, close_minutes: int) -> Timetable:
    """The timetable of a card (``race_id, race_date, keibajo_code, race_bango, post_time``),
    ordered by post time, then venue and race number."""
    if races.empty:
        return Timetable((), ())
    posts = post_moments(races)
    frame = pd.DataFrame(
        {
            "race_id": races["race_id"].astype(str).to_numpy(),
            "race_date": pd.to_datetime(races["race_date"]).dt.date.to_numpy(),
            "venue": races["keibajo_code"].astype("string").fillna("").to_numpy(),
            "race_bango": pd.to_numeric(races["race_bango"], errors="coerce").to_numpy(),
            "post_at": posts.to_numpy(),
        }
    )
    timed = frame["post_at"].notna() & frame["race_bango"].notna()
    untimed = tuple(sorted(frame.loc[~timed, "race_id"]))
    ordered = frame[timed].sort_values(["post_at", "venue", "race_bango", "race_id"])
    lead, close = timedelta(minutes=lead_minutes), timedelta(minutes=close_minutes)
    slots = tuple(
        RaceSlot(
            race_id=row.race_id,
            race_date=row.race_date,
            venue=row.venue,
            race_bango=int(row.race_bango),
            post_at=row.post_at.to_pydatetime(),
            decide_at=row.post_at.to_pydatetime() - lead,
            close_at=row.post_at.to_pydatetime() - close,
        )
        for row in ordered.itertuples(index=False)
    )
    return Timetable(slots, untimed)


def pending(slots: tuple[RaceSlot, ...], decided: set[str]) -> list[RaceSlot]:
    """The races not decided yet, in timetable order."""
    return [slot for slot in slots if slot.race_id not in decided]


@dataclass(frozen=True)
class CardRuns:
    """What a race-time card does with its races not decided yet at ``now``: a race run for
    each whose sales are still open (``to_run``, at its moment, at once if that has passed),
    and none for those whose close has passed (``past_close``: recorded ``missed_close``; a
    run started for them could only record that, and a late card of 200 such races started
    200 processes at once). Both in timetable order."""

    to_run: tuple[RaceSlot, ...]
    past_close: tuple[RaceSlot, ...]


def card_runs(slots: Sequence[RaceSlot], decided: set[str], now: datetime) -> CardRuns:
    """The card's races not in ``decided``, split at ``now`` by their sales close."""
    todo = pending(tuple(slots), decided)
    return CardRuns(
        to_run=tuple(slot for slot in todo if not slot.missed(now)),
        past_close=tuple(slot for slot in todo if slot.missed(now)),
    )


def retimed(
    slots: list[RaceSlot], posts: pd.Series, lead_minutes: int, close_minutes: int
) -> list[RaceSlot]:
    """``slots`` at the post times the source gives now (``posts``: moment by ``race_id``; a
    race it does not time keeps its own), each race's decision moment and close moved with its
    post (a 発走時刻変更 after the morning card), in timetable order."""
    lead, close = timedelta(minutes=lead_minutes), timedelta(minutes=close_minutes)
    moved = []
    for slot in slots:
        post = posts.get(slot.race_id)
        at = slot.post_at if post is None or pd.isna(post) else pd.Timestamp(post).to_pydatetime()
        moved.append(replace(slot, post_at=at, decide_at=at - lead, close_at=at - close))
    return sorted(moved, key=lambda slot: (slot.post_at, slot.venue, slot.race_bango))


def moved_ahead(scheduled: RaceSlot, now_slot: RaceSlot, now: datetime) -> bool:
    """Whether a race run started for ``scheduled`` (the post time it was scheduled for) leaves
    its race to a run at a new moment: the source's post time now (``now_slot``) differs and
    the new moment (post less the lead) is still ahead of ``now``. Otherwise the race is decided
    at once, on the close of its post now (missed once that has passed)."""
    return now_slot.post_at != scheduled.post_at and now_slot.decide_at > now


def next_attempt(
    todo: Sequence[RaceSlot], read_again_at: Mapping[str, datetime]
) -> tuple[RaceSlot, datetime] | None:
    """The race to try next and when: a race at its moment (post time less the lead), a race
    waiting for its odds at the moment they are read again (``read_again_at``, by race id);
    the earliest first, at the same moment a race's first try before another's reading again,
    then timetable order (``todo``'s). None when nothing is left."""
    if not todo:
        return None

    def when(slot: RaceSlot) -> datetime:
        return read_again_at.get(slot.race_id, slot.decide_at)

    order = min(
        range(len(todo)),
        key=lambda index: (when(todo[index]), todo[index].race_id in read_again_at, index),
    )
    return todo[order], when(todo[order])


def results_due(
    slots: tuple[RaceSlot, ...], settled: set[str], now: datetime, delay_minutes: int
) -> list[str]:
    """Races whose result should be out by ``now`` (post time plus ``delay_minutes``) and that
    are not settled yet."""
    delay = timedelta(minutes=delay_minutes)
    return [s.race_id for s in slots if s.race_id not in settled and s.post_at + delay <= now]


class Clock(Protocol):
    """Where race time comes from: the wall clock, or a replayed day's simulated one."""

    def now(self) -> datetime: ...

    def wait_until(self, moment: datetime) -> None: ...


class WallClock:
    """Japan time now; waits really."""

    def now(self) -> datetime:
        return datetime.now(JAPAN_TIME).replace(tzinfo=None)

    def wait_until(self, moment: datetime) -> None:
        while (left := (moment - self.now()).total_seconds()) > 0:
            wall.sleep(min(left, 30.0))


class ReplayClock:
    """A replayed day's clock: it is wherever the loop last moved it, and waiting moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def wait_until(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


def race_day_status(decisions: pd.DataFrame, bets: pd.DataFrame) -> pd.DataFrame:
    """The day's races decided so far, in post-time order: outcome, odds time, bets, stakes,
    and what the settled ones returned (the race-time status an operator watches)."""
    columns = ["post", "race_id", "outcome", "odds_at", "bets", "staked_yen", "settled", "pnl_yen"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    if bets.empty:
        returns = pd.DataFrame(columns=["race_id", "settled", "pnl_yen"])
    else:
        settled = bets["settled"].fillna(False).astype(bool)
        returns = (
            bets.assign(settled=settled, pnl=bets["pnl_yen"].where(settled))
            .groupby("race_id", as_index=False)
            .agg(settled=("settled", "all"), pnl_yen=("pnl", "sum"))
        )
    frame = decisions.merge(returns, on="race_id", how="left")
    frame["post"] = pd.to_datetime(frame["post_at"]).dt.strftime("%H:%M")
    frame["odds_at"] = pd.to_datetime(frame["odds_at"]).dt.strftime("%H:%M")
    return frame.sort_values(["post_at", "race_id"])[columns].reset_index(drop=True)
