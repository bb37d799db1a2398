"""The one small interface every race source implements, and the raw day it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from raceday.codec import (
    CANCELLED_RACE_RECORD,
    SCRATCHED,
    WITHDRAWN_RECORD,
    decode_races,
    decode_runners,
    race_columns_reading,
    race_dates,
    race_ids,
    record_kind,
    runner_columns_reading,
    venue_code_text,
)
from raceday.errors import InputError
from raceday.schema import NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS

logger = logging.getLogger(__name__)

# Raw result fields, blanked in the race card a morning run sees (PC-KEIBA zero-fills them).
_SE_RESULT_FIELDS = {
    "nyusen_juni": "00", "kakutei_chakujun": "00", "dochaku_kubun": "0", "dochaku_tosu": "0",
    "soha_time": "0000", "chakusa_code_1": "   ", "chakusa_code_2": "   ", "chakusa_code_3": "   ",
    "corner_1": "00", "corner_2": "00", "corner_3": "00", "corner_4": "00",
    "tansho_odds": "0000", "tansho_ninkijun": "00", "kakutoku_honshokin": "00000000",
    "kakutoku_fukashokin": "00000000", "kohan_4f": "000", "kohan_3f": "000", "time_sa": "0000",
    "aiteuma_joho_1": "", "aiteuma_joho_2": "", "aiteuma_joho_3": "", "kyakushitsu_hantei": "",
}  # fmt: skip
SCRATCHED_BEFORE_BETTING = str(SCRATCHED)  # 出走取消: announced before the card is published
_RA_RESULT_FIELDS = {
    "nyusen_tosu": "00", "lap_time": "0" * 75, "zenhan_3f": "000", "zenhan_4f": "000",
    "kohan_3f": "000", "kohan_4f": "000", "corner_tsuka_juni_1": "", "corner_tsuka_juni_2": "",
    "corner_tsuka_juni_3": "", "corner_tsuka_juni_4": "",
}  # fmt: skip


@dataclass(frozen=True)
class RejectedInput:
    """A part of the input the source could not read at all (validation quarantines it).
    ``days``: the days it holds as far as the source can tell (its tables that can be read,
    its folder's name), None when nothing tells: it may hold any day."""

    location: str  # the file or part directory, as the user named it
    reason: str
    days: frozenset[date] | None = None

    def may_hold(self, start: date, end: date) -> bool:
        """Whether it may hold a day of ``start``..``end``."""
        return self.days is None or any(start <= day <= end for day in self.days)


@dataclass(frozen=True)
class RawDay:
    """PC-KEIBA tables for one or more days, as raw text (column names as in PC-KEIBA).

    ``rejected`` lists parts of the input that could not be read (e.g. one venue's corrupt
    file) while the rest could: the day goes on without them and they are quarantined.
    The tables are decoded once, when first asked (:attr:`races`, :attr:`runners`): every
    stage handed the same day (a backfill chunk's card and results checks) shares the decode.
    Nobody changes a RawDay's frames in place (a changed day is a new RawDay: ``replace``).
    """

    nvd_ra: pd.DataFrame
    nvd_se: pd.DataFrame
    nvd_o1: pd.DataFrame
    rejected: tuple[RejectedInput, ...] = ()
    # A day whose tables are another day's but for some fields (:func:`card_only`'s view: the
    # results blanked) decodes only the columns read from those fields, the others taken from
    # that day's decode (:class:`DecodedLike`). Never copied by ``replace``: a day of other
    # tables decodes its own.
    decoded_like: DecodedLike | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def is_empty(self) -> bool:
        """True when the source had no races."""
        return self.nvd_ra.empty and self.nvd_se.empty

    @cached_property
    def races(self) -> pd.DataFrame:
        """``nvd_ra`` decoded (:func:`raceday.codec.decode_races`), row ``i`` from its ``i``-th
        row (a fresh index); shared: derive from it, never change it."""
        like = self.decoded_like
        shared = None if like is None else (like.day.races, race_columns_reading(like.ra_fields))
        return _decoded_once(self.nvd_ra, decode_races, shared)

    @cached_property
    def pending_results(self) -> pd.Series:
        """The races whose results are not published yet (:func:`results_pending`), worked out
        once: the night's validation, its refusal and its warning all ask."""
        return results_pending(self)

    @cached_property
    def runners(self) -> pd.DataFrame:
        """``nvd_se`` decoded (:func:`raceday.codec.decode_runners`), row ``i`` from its ``i``-th
        row (a fresh index); shared: derive from it, never change it."""
        like = self.decoded_like
        shared = (
            None if like is None else (like.day.runners, runner_columns_reading(like.se_fields))
        )
        return _decoded_once(self.nvd_se, decode_runners, shared)


def _decoded_once(
    table: pd.DataFrame,
    decode: Callable[[pd.DataFrame, Collection[str] | None], pd.DataFrame],
    shared: tuple[pd.DataFrame, list[str]] | None,
) -> pd.DataFrame:
    """``table`` decoded by ``decode``, row ``i`` from its ``i``-th row; with ``shared`` (the
    decode of a day whose table differs only in some fields, and the columns read from those),
    only those columns decoded again, the others taken from the shared decode."""
    rows = table.reset_index(drop=True)
    if shared is None:
        return decode(rows, None)
    decoded, again = shared
    return decoded.assign(**dict(decode(rows, again).items()))


@dataclass(frozen=True)
class DecodedLike:
    """What a day's tables share with ``day``'s: all but the fields ``ra_fields`` of its
    ``nvd_ra`` and ``se_fields`` of its ``nvd_se``, row for row (:attr:`RawDay.decoded_like`)."""

    day: RawDay
    ra_fields: frozenset[str]
    se_fields: frozenset[str]


def decoded_like(day: RawDay, like: DecodedLike | None) -> RawDay:
    """``day`` decoding as ``like`` says (:attr:`RawDay.decoded_like`; its tables are
    ``like.day``'s but for those fields): for the function that made it so."""
    object.__setattr__(day, "decoded_like", like)  # a frozen dataclass: set once, when made
    return day


def with_optional_columns(frame: pd.DataFrame, optional: Collection[str]) -> pd.DataFrame:
    """``frame`` with each absent column of ``optional`` added as blank text."""
    absent = [column for column in optional if column not in frame.columns]
    if not absent:
        return frame
    blank = {column: pd.Series("", index=frame.index, dtype="string") for column in absent}
    return frame.assign(**blank)


# A whole number as a database writes a column of a number type with decimals (numeric(6,2):
# ``540.00``; a real: ``1400``), its fraction all zeros; the digits kept in group 1.
_WHOLE_WITH_DECIMALS: Final = r"^\s*([+-]?[0-9]+)\.0*\s*$"


def whole_number_text(text: pd.Series) -> pd.Series:
    """Numbers written with a fraction of zeros (``540.00``, ``1400.0``) as the digits PC-KEIBA
    writes (``540``, ``1400``); any other text (``540.50``, ``0540``, blank) as it is."""
    return text.astype("string").str.replace(_WHOLE_WITH_DECIMALS, r"\1", regex=True)


def not_whole_number(text: pd.Series) -> pd.Series:
    """True where ``text`` is neither blank nor a whole number (``540.50``, ``1e+06``)."""
    stripped = text.astype("string").str.strip().fillna("")
    whole = stripped.str.fullmatch(r"[+-]?[0-9]*").astype(bool)
    return ~whole


def remove_nul(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` without NUL characters in its text (PostgreSQL text cannot hold them), and how
    many rows held one."""
    masks = {
        column: frame[column].astype("string").str.contains("\x00", regex=False).fillna(False)
        for column in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[column])
    }
    if not masks:
        return frame, 0
    held = pd.DataFrame(masks, index=frame.index).any(axis=1)
    if not held.any():
        return frame, 0
    cleaned = {
        column: frame[column].astype("string").str.replace("\x00", "", regex=False)
        for column, mask in masks.items()
        if mask.any()
    }
    return frame.assign(**cleaned), int(held.sum())


def empty_raw_day() -> RawDay:
    """A day without races."""
    return RawDay(
        nvd_ra=pd.DataFrame(columns=list(NVD_RA_COLUMNS), dtype="string"),
        nvd_se=pd.DataFrame(columns=list(NVD_SE_COLUMNS), dtype="string"),
        nvd_o1=pd.DataFrame(columns=list(NVD_O1_COLUMNS), dtype="string"),
    )


# A record's version among the records of one key (データ区分): the card's (1 出走馬名表, 2 出馬表)
# before the results' (3-6 速報, 7 成績); a cancellation (9) or a withdrawal (0) is the last word.
# Another kind (A, B) ranks below them all.
_VERSION_RANKS: Final = {**{str(kind): kind for kind in range(1, 8)}, "9": 8, "0": 8}


def superseded_rows(frame: pd.DataFrame, key: pd.Series) -> npt.NDArray[np.bool_]:
    """Rows a later version of the same record supersedes: among rows sharing ``key`` (a race's
    id; a runner's id and horse number), those not of the key's latest version — by
    ``data_sakusei_nengappi`` (the day the provider made it), then by データ区分 (above). A
    store that PC-KEIBA fills keeps the latest version only (it upserts); a dump of every
    record received holds each (the card Friday, the results Monday). Rows of one version are
    left as they are: copies and clashes are validation's to judge."""
    shares = key.duplicated(keep=False).to_numpy(dtype=bool)
    superseded = np.zeros(len(frame), dtype=bool)
    if not shares.any() or "data_kubun" not in frame.columns:
        return superseded
    rows = frame[shares]
    made = rows.get("data_sakusei_nengappi", pd.Series("", index=rows.index))
    made = made.astype("string").str.strip()
    made = made.where(made.str.fullmatch(r"\d{8}").fillna(False), "00000000")
    rank = rows["data_kubun"].astype("string").str.strip().map(_VERSION_RANKS).fillna(0)
    version = made + rank.astype("int64").astype("string")
    latest = version.groupby(key[shares].to_numpy()).transform("max")
    superseded[shares] = (version < latest).to_numpy(dtype=bool)
    return superseded


def latest_versions(raw: RawDay) -> RawDay:
    """``raw`` with only the latest version of each race and runner record
    (:func:`superseded_rows`); the odds snapshots are a timeline and are all kept."""
    races = race_ids(raw.nvd_ra) if not raw.nvd_ra.empty else pd.Series(dtype="string")
    runners = (
        race_ids(raw.nvd_se)
        + ":"
        + raw.nvd_se["umaban"].astype("string").str.strip().str.lstrip("0")
        if not raw.nvd_se.empty
        else pd.Series(dtype="string")
    )
    old_ra, old_se = superseded_rows(raw.nvd_ra, races), superseded_rows(raw.nvd_se, runners)
    if not old_ra.any() and not old_se.any():
        return raw
    return replace(
        raw,
        nvd_ra=raw.nvd_ra[~old_ra].reset_index(drop=True),
        nvd_se=raw.nvd_se[~old_se].reset_index(drop=True),
    )


def card_only(raw: RawDay) -> RawDay:
    """The race card as known in the morning: result fields blanked, odds snapshot kept. Its
    decoded tables, when asked, are ``raw``'s (shared) with the columns read from the fields
    blanked decoded again (:class:`DecodedLike`)."""
    nvd_se = raw.nvd_se.copy()
    for column, blank in _SE_RESULT_FIELDS.items():
        if column in nvd_se.columns:
            nvd_se[column] = blank
    if "ijo_kubun_code" in nvd_se.columns:
        # Only a withdrawal before the card is known in the morning; later scratches are results.
        scratched = (
            nvd_se["ijo_kubun_code"].astype("string").str.strip() == SCRATCHED_BEFORE_BETTING
        )
        nvd_se["ijo_kubun_code"] = nvd_se["ijo_kubun_code"].where(scratched, "0")
    nvd_ra = raw.nvd_ra.copy()
    for column, blank in _RA_RESULT_FIELDS.items():
        if column in nvd_ra.columns:
            nvd_ra[column] = blank
    # decoded as the day's tables (shared), but the columns read from the fields blanked
    blanked = DecodedLike(
        raw, frozenset(_RA_RESULT_FIELDS), frozenset([*_SE_RESULT_FIELDS, "ijo_kubun_code"])
    )
    return decoded_like(replace(raw, nvd_ra=nvd_ra, nvd_se=nvd_se), blanked)


def with_odds(raw: RawDay, nvd_o1: pd.DataFrame) -> RawDay:
    """``raw`` with ``nvd_o1`` for its odds snapshots, its races and runners decoded as
    ``raw``'s (the same tables: what is decoded already is not decoded again)."""
    day = decoded_like(replace(raw, nvd_o1=nvd_o1), raw.decoded_like)
    decoded = vars(day)  # where a cached_property keeps its value
    for table in ("races", "runners"):
        if table in vars(raw):
            decoded[table] = vars(raw)[table]
    return day


CARD_RECORDS: Final = ("1", "2")  # データ区分 of a race's card (出走馬名表, 出馬表)


def results_pending(raw: RawDay) -> pd.Series:
    """The races of ``raw`` whose results are not published yet: runners as on the card (no
    finishing position or time, no abnormal code but a scratch known on the card) and at least
    one of them not scratched, or a card's record (データ区分 1, 2) that nobody finished; and no
    record saying the race was cancelled or withdrawn. Such a race has no result to judge or to
    settle on: its bets stay open until the results arrive (a venue's results a day late, a
    night run too early)."""
    runners = raw.runners
    if runners.empty:
        return pd.Series([], dtype="string", name="race_id")
    unfinished = runners["finish_pos"].isna() & runners["finish_time_s"].isna()
    unrun = unfinished & runners["abnormal_code"].isin([0, SCRATCHED])
    runner_race = runners["race_id"].astype("string").to_numpy()
    all_unrun = unrun.groupby(runner_race).all()
    some_starter = runners["abnormal_code"].ne(SCRATCHED).groupby(runner_race).any()
    # A card's record (データ区分 1 出走馬名表, 2 出馬表) with nobody finished: a card, whatever
    # codes it already carries (a horse excluded at the gate before its results are sent).
    nobody_finished = unfinished.groupby(runner_race).all()
    race_kind, runner_kind = record_kind(raw.nvd_ra).to_numpy(), record_kind(raw.nvd_se).to_numpy()
    race_of_record = raw.races["race_id"].to_numpy()
    carded = race_of_record[np.isin(race_kind, CARD_RECORDS)]
    pending = (all_unrun & some_starter) | (nobody_finished & nobody_finished.index.isin(carded))
    # A cancellation (9) or a withdrawal (0) is the provider's word on the race: judged.
    final_word = [CANCELLED_RACE_RECORD, WITHDRAWN_RECORD]
    said = [
        *race_of_record[np.isin(race_kind, final_word)],
        *runner_race[np.isin(runner_kind, final_word)],
    ]
    pending &= ~pending.index.isin(said)
    return pd.Series(pending.index[pending.to_numpy(bool)], dtype="string", name="race_id")


def published_results(raw: RawDay) -> RawDay:
    """``raw`` without the races whose results are not published yet (:func:`results_pending`):
    what a night's validation judges."""
    pending = raw.pending_results
    if pending.empty:
        return raw
    ra_kept = ~raw.races["race_id"].isin(pending).to_numpy(bool)
    se_kept = ~raw.runners["race_id"].isin(pending).to_numpy(bool)
    return replace(
        raw,
        nvd_ra=raw.nvd_ra[ra_kept].reset_index(drop=True),
        nvd_se=raw.nvd_se[se_kept].reset_index(drop=True),
    )


class RaceSource(Protocol):
    """Where races come from: the simulator, CSV/Parquet files or a PC-KEIBA database.

    A source reads by venue (a *lane*): ``venues`` lists the keibajo codes with rows in a
    range (cheap), and ``read_days`` with ``venues`` returns only those venues' rows, so that
    the day's flow reads each venue on its own and one venue failing stops no other.
    """

    name: str

    def venues(self, start: date, end: date) -> list[str]:
        """The keibajo codes with rows dated ``start``..``end``, sorted (empty when none)."""
        ...

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Every race from ``start`` to ``end`` inclusive (an empty RawDay when none); with
        ``venues``, only the rows of those keibajo codes."""
        ...


class OtherSportsLeftOut:
    """A source without another sport's races: ban-ei (sleds over 200 m, venue 83) shares NAR's
    tables but is no racing this pipeline prices, so its rows are left out as they are read —
    not set aside, which counted each ban-ei day's 11-12 races as quarantined and tripped the
    ``quarantine_rate`` alert on about 150 NAR days a year; a ban-ei-only day is a day without
    races. Every source is read through it (:func:`raceday.sources.factory.open_source`)."""

    def __init__(self, source: RaceSource, other_sports: Collection[str]) -> None:
        self.source = source
        self.name = source.name
        self.other_sports = frozenset(other_sports)

    def venues(self, start: date, end: date) -> list[str]:
        """The inner source's venues but another sport's (no lane is read for them)."""
        codes = self.source.venues(start, end)
        other = venue_code_text(pd.Series(codes, dtype="string")).isin(self.other_sports)
        kept = [code for code, left_out in zip(codes, other, strict=True) if not left_out]
        if codes and not kept:
            logger.warning(
                "every venue of %s..%s (%s) is another sport's (%s): its races are left out, "
                "there is no race to price",
                start,
                end,
                ", ".join(codes),
                ", ".join(sorted(self.other_sports)),
            )
        return kept

    def days_held(self) -> tuple[date, date] | None:
        """The inner source's first and last race day (:func:`source_days_held`)."""
        return source_days_held(self.source)

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """The inner source's rows without another sport's (:func:`without_venues`)."""
        raw = self.source.read_days(start, end, venues)
        kept = without_venues(raw, self.other_sports)
        if kept is not raw:
            logger.info(
                "%d race row(s) of venue(s) %s left out: another sport (ban-ei), not priced",
                len(raw.nvd_ra) - len(kept.nvd_ra),
                ", ".join(sorted(self.other_sports)),
            )
        return kept


def source_days_held(source: RaceSource) -> tuple[date, date] | None:
    """The first and last race day ``source`` holds, where it can say so cheaply (a PC-KEIBA
    database: one MIN/MAX query, :meth:`raceday.sources.pckeiba.PcKeibaSource.days_held`);
    None where it cannot (the simulator, files) or holds no race."""
    held = getattr(source, "days_held", None)
    return held() if callable(held) else None


# --- venue lanes --------------------------------------------------------------------------------

VENUE_LOCATION_PREFIX: Final = "venue "
_TABLES: Final = ("nvd_ra", "nvd_se", "nvd_o1")


def venue_codes(frame: pd.DataFrame) -> pd.Series:
    """Each row's keibajo code as a lane knows it: stripped text, missing as ``""``."""
    return frame["keibajo_code"].astype("string").str.strip().fillna("")


def venues_in(raw: RawDay) -> list[str]:
    """The keibajo codes of every row of every table, sorted (so no row is left out of a lane)."""
    codes: set[str] = set()
    for table in _TABLES:
        frame: pd.DataFrame = getattr(raw, table)
        if "keibajo_code" in frame.columns:
            codes |= set(venue_codes(frame))
    return sorted(codes)


def rows_of_venues(raw: RawDay, venues: Collection[str] | None) -> RawDay:
    """The rows of ``venues`` in every table (all rows when ``venues`` is None)."""
    if venues is None:
        return raw
    wanted = set(venues)

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        if "keibajo_code" not in frame.columns:
            return frame.iloc[:0]
        return rows_at(frame, np.flatnonzero(venue_codes(frame).isin(wanted).to_numpy()))

    return replace(raw, nvd_ra=kept(raw.nvd_ra), nvd_se=kept(raw.nvd_se), nvd_o1=kept(raw.nvd_o1))


def without_venues(raw: RawDay, venues: Collection[str]) -> RawDay:
    """``raw`` without the rows of ``venues`` (codes as :func:`raceday.codec.venue_code_text`
    reads them: ``８３`` is ``83``) in every table; ``raw`` itself when it holds none."""
    unwanted = set(venues)
    dropped = {
        table: venue_code_text(frame["keibajo_code"]).isin(unwanted).to_numpy(dtype=bool)
        for table in _TABLES
        if "keibajo_code" in (frame := getattr(raw, table)).columns
    }
    if not any(rows.any() for rows in dropped.values()):
        return raw
    kept = {
        table: rows_at(getattr(raw, table), np.flatnonzero(~rows))
        for table, rows in dropped.items()
    }
    return replace(raw, **kept)


def rows_at(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` at ``positions`` (ascending), indexed from 0. Rows that follow
    one another (a venue's rows of a day, as a source returns them) are sliced, which copies
    nothing: a take copies every column, and the lanes of a day's read took every column of
    every table once per venue (most of the flow's ingest)."""
    if len(positions) and positions[-1] - positions[0] + 1 == len(positions):
        return frame.iloc[positions[0] : positions[-1] + 1].reset_index(drop=True)
    return frame.take(positions).reset_index(drop=True)


def venue_location(code: str, name: str | None) -> str:
    """How a venue is named where its input is reported: ``venue 44 (大井)``."""
    return f"{VENUE_LOCATION_PREFIX}{code or '?'} ({name or 'unknown venue'})"


def join_lanes(lanes: Sequence[RawDay], rejected: Sequence[RejectedInput] = ()) -> RawDay:
    """One RawDay from the venues' reads, in lane order, plus the lanes that could not be read.

    Parts a source set aside are reported by every lane that saw them: each is kept once.
    """
    if not lanes:
        return replace(empty_raw_day(), rejected=tuple(dict.fromkeys(rejected)))

    def joined(table: str) -> pd.DataFrame:
        frames: list[pd.DataFrame] = [getattr(lane, table) for lane in lanes]
        non_empty = [frame for frame in frames if not frame.empty]
        if not non_empty:
            return frames[0]
        return pd.concat(non_empty, ignore_index=True)

    seen = [item for lane in lanes for item in lane.rejected]
    return RawDay(
        nvd_ra=joined("nvd_ra"),
        nvd_se=joined("nvd_se"),
        nvd_o1=joined("nvd_o1"),
        rejected=tuple(dict.fromkeys([*seen, *rejected])),
    )


def venues_down(raw: RawDay) -> list[str]:
    """The venues whose lane could not be read (as ``join_lanes`` reported them)."""
    return [
        item.location.removeprefix(VENUE_LOCATION_PREFIX)
        for item in raw.rejected
        if item.location.startswith(VENUE_LOCATION_PREFIX)
    ]


def row_days(frame: pd.DataFrame) -> pd.Series:
    """Each row's race day as a date (:func:`raceday.codec.race_dates`); NaT for a date that
    does not exist (``0231``), a row of no day."""
    return race_dates(frame).dt.date


def days_with_races(raw: RawDay) -> list[date]:
    """The days ``raw`` holds races or runners of, in order."""
    days = pd.concat([row_days(raw.nvd_ra), row_days(raw.nvd_se)]).dropna()
    return sorted(set(days))


def rows_of_days(raw: RawDay, days: Collection[date], *, keep: bool = True) -> RawDay:
    """The rows of ``raw`` dated one of ``days`` (``keep``), or every other row (not ``keep``:
    rows of no day included); the parts set aside stay with both."""
    wanted = set(days)

    def part(frame: pd.DataFrame) -> pd.DataFrame:
        inside = row_days(frame).isin(wanted).to_numpy(bool)
        return frame[inside if keep else ~inside].reset_index(drop=True)

    return RawDay(part(raw.nvd_ra), part(raw.nvd_se), part(raw.nvd_o1), raw.rejected)


def lost_days(raw: RawDay, start: date, end: date) -> dict[date, str]:
    """The days of ``start``..``end`` whose input is in a part set aside and of which no row
    could be read, each with the line its refusal says: a day such a part holds
    (``RejectedInput.days``), or any day when a part's days are unknown. Such a day is not a
    day without races: its input could not be read (one folder per day, the day's unreadable)."""
    if not raw.rejected:
        return {}
    read = set(days_with_races(raw))
    lost: dict[date, str] = {}
    for part in raw.rejected:
        if part.days is None:
            span = (end - start).days + 1
            held = {start + timedelta(days=n) for n in range(span)}
            how = f"no row of it can be read and {part.location}, set aside, may hold it"
        else:
            held = {day for day in part.days if start <= day <= end}
            how = f"its input is in {part.location}, set aside"
        for day in sorted(held - read):
            lost.setdefault(day, f"{day} cannot be read: {how}: {part.reason}")
    return dict(sorted(lost.items()))


def refuse_lost_days(raw: RawDay, start: date, end: date) -> None:
    """InputError (a day's run: exit 2) with the first of :func:`lost_days`' lines, if any."""
    lost = lost_days(raw, start, end)
    if lost:
        raise InputError(next(iter(lost.values())))


def without_lost_days(raw: RawDay, start: date, end: date) -> tuple[RawDay, dict[date, str]]:
    """``raw`` without its :func:`lost_days` (a range's: each refused on its own) and without
    the parts set aside that hold no other day of the range; the lost days' lines."""
    lost = lost_days(raw, start, end)
    if not lost:
        return raw, {}
    still = tuple(
        part
        for part in raw.rejected
        if part.days is None or any(start <= d <= end and d not in lost for d in part.days)
    )
    return replace(rows_of_days(raw, lost, keep=False), rejected=still), lost
