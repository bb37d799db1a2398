"""The odds timeline: when each ``nvd_o1`` snapshot was published, and point-in-time reads.

PC-KEIBA stamps each odds snapshot with ``happyo_tsukihi_jifun`` (MMDDhhmm, Japan time, no
year). A source returns every snapshot it holds; what a decision may see is the latest snapshot
with odds published at or before its moment, per race: the daily run decides at the morning time
(``live.morning_odds_at``), race-time operation a few minutes before each race's close.
Times are naive ``datetime64`` in Japan time (JST has no daylight saving).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from raceday.codec import (
    WITHDRAWN_RECORD,
    post_time_text,
    race_dates,
    race_ids,
    record_kind,
)
from raceday.odds_snapshots import latest_snapshot_slots, priced_slots, stamp_moments, unsold_slots
from raceday.sources.base import RawDay, with_odds

OddsAt = Literal["morning", "lead"]
ODDS_AT: Final[tuple[OddsAt, ...]] = ("morning", "lead")


@dataclass(frozen=True)
class CardTiming:
    """When a card's odds are read: ``morning`` — every race at its day's ``morning_at`` (the
    daily run); ``lead`` — each race ``lead_minutes`` before its post time (race-time betting
    and its backtest)."""

    odds_at: OddsAt = "morning"
    morning_at: time = time(9, 0)
    lead_minutes: int = 5


# A stamp written as a date and a time (``2026-12-03 13:40``, ``2026/12/03 13:40:00``,
# ``2026-12-03T13:40``): an export re-saved by a spreadsheet or a database client.
_DATED_STAMP: Final = r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d*)?)?"


def stamp_text(stamps: pd.Series) -> pd.Series:
    """``happyo_tsukihi_jifun`` as PC-KEIBA writes it (MMDDhhmm): a stamp written as a date and
    a time (:data:`_DATED_STAMP`) as its MMDDhhmm (read alike, never as undated: a race whose
    stamps were all unreadable was sized on its final odds); others as they are."""
    text = stamps.astype("string")
    parts = text.str.strip().str.fullmatch(_DATED_STAMP)
    dated = text.str.strip().str.extract(_DATED_STAMP)
    mmddhhmm = dated[1].str.zfill(2) + dated[2].str.zfill(2) + dated[3].str.zfill(2) + dated[4]
    return text.where(~parts.fillna(False).astype(bool), mmddhhmm)


def published_at(nvd_o1: pd.DataFrame) -> pd.Series:
    """When each snapshot was published (:func:`stamp_moments`); NaT when unreadable."""
    if nvd_o1.empty or "happyo_tsukihi_jifun" not in nvd_o1.columns:
        return pd.Series(pd.NaT, index=nvd_o1.index, dtype="datetime64[ns]")
    moment = stamp_moments(nvd_o1["happyo_tsukihi_jifun"], race_dates(nvd_o1))
    return moment.rename("published_at")


# A night card past midnight: a post time before NIGHT_ENDS whose card's first post from then
# on is at least NEXT_DAY_GAP later (00:10 on a card racing from 18:00) is the next day's.
NIGHT_ENDS: Final = pd.Timedelta(hours=6)
NEXT_DAY_GAP: Final = pd.Timedelta(hours=12)


def post_moments(races: pd.DataFrame) -> pd.Series:
    """Each race's post time as a moment (``race_date`` + ``post_time`` HHMM), by ``race_id``;
    NaT when the post time is blank, zero-filled (``0000``: not announced) or impossible. A
    card (a day at a venue: ``race_id``'s first 10 characters) crossing midnight, as NAR's night
    racing may, posts its last races the next calendar day: a post time before 06:00 on a card
    whose first post from 06:00 on is 12 hours or more later is read on the day after its
    ``race_date`` (before, as 00:10 of the race day: missed at race time)."""
    text = races["post_time"].astype("string").str.strip()
    hhmm = text.where(text.str.fullmatch(r"\d{3,4}").fillna(False) & (text.str.strip("0") != ""))
    hhmm = hhmm.str.zfill(4)
    race_day = pd.to_datetime(races["race_date"])
    day = race_day.dt.strftime("%Y%m%d").astype("string")
    moment = pd.to_datetime(day + hhmm, format="%Y%m%d%H%M", errors="coerce")
    clock = moment - race_day.dt.normalize()
    card = races["race_id"].astype("string").str.slice(0, 10)
    daytime_first = clock.where(clock >= NIGHT_ENDS).groupby(card.to_numpy()).transform("min")
    next_day = (clock < NIGHT_ENDS) & (daytime_first - clock >= NEXT_DAY_GAP)
    moment = moment + pd.to_timedelta(next_day.astype(int), unit="D")
    return pd.Series(moment.to_numpy(), index=races["race_id"].to_numpy(), name="post_at")


def decision_moments(races: pd.DataFrame, timing: CardTiming) -> pd.Series:
    """When each race of a card (``race_id``, ``race_date``, ``post_time`` HHMM) is decided under
    ``timing``, by ``race_id``: its day at ``morning_at``, or at ``lead`` its post time less
    ``lead_minutes`` (NaT where the post time cannot be read, :func:`post_moments`)."""
    if timing.odds_at == "lead":
        return (post_moments(races) - pd.Timedelta(minutes=timing.lead_minutes)).rename("deadline")
    offset = pd.Timedelta(hours=timing.morning_at.hour, minutes=timing.morning_at.minute)
    moment = pd.to_datetime(races["race_date"]) + offset
    return pd.Series(moment.to_numpy(), index=races["race_id"].to_numpy(), name="deadline")


def races_without_deadline(races: pd.DataFrame, timing: CardTiming) -> frozenset[str]:
    """The races of a card (``race_id``, ``race_date``, ``post_time``) with no decision moment
    under ``timing`` (:func:`decision_moments`): at ``lead``, those whose post time cannot be
    read (blank, ``0000``, ``2430``). They see no snapshot: no deadline missed, none to miss."""
    moments = decision_moments(races, timing)
    return frozenset(moments.index[moments.isna().to_numpy(bool)].astype(str))


def unpriced_by_cause(
    unpriced: Sequence[str], races: pd.DataFrame, timing: CardTiming
) -> tuple[list[str], list[str]]:
    """A card's races without odds (``unpriced``, in order) split by why: those whose odds were
    not published by their deadline, then those with no deadline at all
    (:func:`races_without_deadline`). The card's moments are worked out only when a race is
    unpriced."""
    untimed = races_without_deadline(races, timing) if unpriced else frozenset()
    return [race for race in unpriced if race not in untimed], [
        race for race in unpriced if race in untimed
    ]


def card_deadlines(nvd_ra: pd.DataFrame, timing: CardTiming) -> pd.Series:
    """Every race's decision moment under ``timing`` (:func:`decision_moments`), by ``race_id``;
    NaT for a race whose day (or, at ``lead``, post time) cannot be read: it sees no snapshot."""
    return decision_moments(_post_times(nvd_ra), timing)


def source_post_moments(nvd_ra: pd.DataFrame) -> pd.Series:
    """Each race's post time as the source's ``nvd_ra`` gives it now (:func:`post_moments`),
    by ``race_id``: its last readable record's (a 発走時刻変更 comes as a newer record)."""
    moments = post_moments(_post_times(nvd_ra)).dropna()
    return moments[~moments.index.duplicated(keep="last")]


def _post_times(nvd_ra: pd.DataFrame) -> pd.DataFrame:
    """``race_id``, ``race_date`` and ``post_time`` (``hasso_jikoku`` as the card stores it,
    :func:`raceday.codec.post_time_text`; blank when absent)."""
    return pd.DataFrame(
        {
            "race_id": race_ids(nvd_ra),
            "race_date": race_dates(nvd_ra),
            "post_time": post_time_text(nvd_ra),
        },
        index=nvd_ra.index,
    )


def card_odds(raw: RawDay, timing: CardTiming) -> RawDay:
    """``raw`` with only the snapshots its races' decisions may see (:func:`card_deadlines`)."""
    return odds_known_by(raw, card_deadlines(raw.nvd_ra, timing))


def odds_known_by(raw: RawDay, deadlines: pd.Series) -> RawDay:
    """``raw`` with only the snapshots published at or before their race's deadline
    (``deadlines``: moment by ``race_id``). A race without a deadline, or a snapshot whose
    stamp cannot be read, keeps no snapshot: what cannot be dated is never seen early."""
    odds = raw.nvd_o1
    if odds.empty:
        return raw
    unique = pd.to_datetime(deadlines[~deadlines.index.duplicated()], errors="coerce")
    # reindex, not map: with no deadline at all (odds of races not on the card) map gives
    # floats, which no longer read as moments
    deadline = pd.Series(unique.reindex(race_ids(odds).to_numpy()).to_numpy(), index=odds.index)
    return with_odds(raw, odds[_published_by(odds, deadline)].reset_index(drop=True))


# データ区分 of a snapshot no decision may see: the provider withdrew it (0), or it is the
# close's (3 最終, 4 確定, 5 確定(月曜): published when sales end, whatever its stamp says when
# a post time moved) or a cancelled race's (9).
_UNSEEN_KINDS: Final = (WITHDRAWN_RECORD, "3", "4", "5", "9")


def _seen_at(nvd_o1: pd.DataFrame) -> pd.Series:
    """When a decision may see each snapshot: its publication (:func:`published_at`); NaT for
    an unreadable stamp or one of the kinds no decision sees."""
    return published_at(nvd_o1).where(~record_kind(nvd_o1).isin(_UNSEEN_KINDS))


def _published_by(nvd_o1: pd.DataFrame, deadline: pd.Series) -> npt.NDArray[np.bool_]:
    """Which snapshots were published at or before their row's ``deadline``; one whose stamp
    or deadline cannot be read never was, nor one of the kinds no decision sees."""
    seen_at = _seen_at(nvd_o1)
    return (seen_at.notna() & deadline.notna() & (seen_at <= deadline)).to_numpy(bool)


def timed_races(nvd_o1: pd.DataFrame) -> pd.Series:
    """The races of ``nvd_o1`` with a snapshot some decision may see (:func:`_seen_at`): a
    source that prices them before their close. Such a race without a snapshot by its deadline
    had no odds at that moment."""
    if nvd_o1.empty:
        return pd.Series([], dtype="string", name="race_id")
    seen = _seen_at(nvd_o1).notna()
    return race_ids(nvd_o1)[seen.to_numpy(bool)].drop_duplicates().rename("race_id")


def at_time(text: str) -> time:
    """``"09:00"`` as a time."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class RaceOdds:
    """One race's market at a moment: its latest snapshot pricing a runner, decoded (priced
    runners only: ``race_id, umaban, snapshot_at, win_odds, popularity``), and the horse
    numbers that snapshot says are not sold (``0000`` / ``----`` / ``****``: scratched, on the
    card or since it)."""

    priced: pd.DataFrame
    unsold: tuple[int, ...] = ()


def race_market_at(nvd_o1: pd.DataFrame, race_id: str, moment: datetime) -> RaceOdds:
    """One race's odds as known at ``moment``: its latest snapshot with odds published by then
    (as the card's, :func:`raceday.odds_snapshots.decode_odds_snapshot`), its priced runners and
    those it says are not sold; nothing priced when none was published by then."""
    rows = nvd_o1[race_ids(nvd_o1).to_numpy() == race_id] if not nvd_o1.empty else nvd_o1
    known = rows[_published_by(rows, pd.Series(pd.Timestamp(moment), index=rows.index))]
    slots = latest_snapshot_slots(known.reset_index(drop=True))
    odds = priced_slots(slots)
    priced = odds["win_odds"].notna() & (odds["win_odds"] >= 1.0)
    unsold = unsold_slots(slots)["umaban"]
    return RaceOdds(
        odds[priced.to_numpy(bool)].reset_index(drop=True),
        tuple(sorted(int(umaban) for umaban in unsold.unique())),
    )


def race_odds_at(nvd_o1: pd.DataFrame, race_id: str, moment: datetime) -> pd.DataFrame:
    """One race's priced runners as known at ``moment`` (:func:`race_market_at`); empty when
    no snapshot with odds was published by then."""
    return race_market_at(nvd_o1, race_id, moment).priced
