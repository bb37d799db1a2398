"""Read the official day files: programs (番組表, ``Byymmdd.TXT``) and results (競走成績,
``Kyymmdd.TXT``), CP932 fixed-width text, as extracted or still in their LZH archive.

The parsers are pure: text in, typed frames out. Nothing a file holds raises: a line that cannot
be read (garbage, truncated, an unknown code) is set aside in ``rejected`` with its line number
and the reason, and the rest of the day is read. Columns: docs/BOAT.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import pandas as pd

from raceday.boat import layout
from raceday.boat.codes import BET_TYPES, CLASSES, FINISH_CODES, KIMARITE, VENUE_CODES
from raceday.boat.day_text import day_file_text

REJECTED_COLUMNS: Final = ("line_number", "line", "reason")
B_RACE_COLUMNS: Final = {
    "race_id": "string", "race_date": "datetime64[ns]", "venue_code": "string",
    "race_number": "Int64", "race_name": "string", "distance_m": "Int64",
    "deadline_at": "datetime64[ns]", "meeting_day": "Int64",
}  # fmt: skip
B_ENTRY_COLUMNS: Final = {
    "race_id": "string", "boat": "Int64", "racer_id": "string", "racer_name": "string",
    "age": "Int64", "branch": "string", "weight_kg": "Int64", "racer_class": "string",
    "national_win_rate": "Float64", "national_top2_pct": "Float64",
    "local_win_rate": "Float64", "local_top2_pct": "Float64", "motor_no": "Int64",
    "motor_top2_pct": "Float64", "boat_no": "Int64", "boat_top2_pct": "Float64",
}  # fmt: skip
K_RACE_COLUMNS: Final = {
    "race_id": "string", "race_date": "datetime64[ns]", "venue_code": "string",
    "race_number": "Int64", "race_name": "string", "distance_m": "Int64",
    "weather": "string", "wind_direction": "string", "wind_speed_m": "Int64",
    "wave_cm": "Int64", "kimarite": "string", "status": "string",
}  # fmt: skip
K_RESULT_COLUMNS: Final = {
    "race_id": "string", "boat": "Int64", "finish_code": "string", "position": "Int64",
    "started": "boolean", "refunded": "boolean", "racer_id": "string", "racer_name": "string",
    "motor_no": "Int64", "boat_no": "Int64", "exhibition_s": "Float64", "course": "Int64",
    "start_timing_s": "Float64", "race_time_s": "Float64",
}  # fmt: skip
PAYOUT_COLUMNS: Final = {
    "race_id": "string", "bet_type": "string", "combination": "string",
    "payout_yen": "Int64", "popularity": "Int64", "kind": "string",
}  # fmt: skip

MARKER: Final = re.compile(r"^(\d{2})([BK])(BGN|END)$")
B_RACE_HEADER: Final = re.compile(
    r"^\s*(\d{1,2})R\s+(.*?)\s*H(\d{3,4})m\s+電話投票締切予定\s*(\d{1,2}):(\d{2})"
)
# A K race header: the race number, name and distance start a race; the conditions after them
# (weather, wind, waves) are read when they are there (a blank wind direction, a header that
# says レース中止 instead): an unreadable tail must not hand the race's lines to the race before.
K_RACE_HEADER: Final = re.compile(r"^\s*(\d{1,2})R\s+(.*?)\s*H(\d{3,4})m(?:\s+(.*?))?\s*$")
K_CONDITIONS: Final = re.compile(
    r"^(?P<weather>[^\s風波\d]\S*)?\s*(?:風\s*(?:(?P<wind>[^\s\d]\S*)\s+)?(?P<speed>\d+)m)?"
    r"\s*(?:波\s*(?P<wave>\d+)cm)?(?:\s+.*)?$"  # text after the waves: as the old pattern
)
# "＊＊＊　９Ｒ以降　中止　＊＊＊": the venue's races from the 9th on were cancelled.
CANCELLED_FROM: Final = re.compile(r"(\d{1,2})R以降")
CUT_RACE: Final = "set aside: its venue block was cut off after it"
LAST_RACE: Final = 12  # a venue's day holds at most twelve races
FIRST_YEAR, LAST_YEAR = 1990, 2200  # a header year outside them is a corrupt line
B_DATE: Final = re.compile(r"(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日")
K_DATE: Final = re.compile(r"(\d{4})/\s*(\d{1,2})/\s*(\d{1,2})")
MEETING_DAY: Final = re.compile(r"第\s*(\d{1,2})\s*日")
COMBINATION: Final = re.compile(r"^[1-6](?:-[1-6]){0,2}$")
POPULARITY: Final = re.compile(r"人気\s*(\d+)")
EXHIBITION: Final = re.compile(r"^\d\.\d{2}$")
COURSE: Final = re.compile(r"^[1-6]$")
START_TIMING: Final = re.compile(r"^([FL])?(\d?\.\d{2})$")
RACE_TIME: Final = re.compile(r"^(\d{1,2})\.(\d{2})\.(\d)$")
NORMALISED_BET_LABELS: Final = {unicodedata.normalize("NFKC", k): k for k in BET_TYPES}
FILE_DATE: Final = re.compile(r"^([BK])(\d{2})(\d{2})(\d{2})\.(?:TXT|LZH)$", re.IGNORECASE)


class ProgramDay(NamedTuple):
    """A B file read: its races, their entries, and the lines set aside."""

    races: pd.DataFrame
    entries: pd.DataFrame
    rejected: pd.DataFrame


class ResultDay(NamedTuple):
    """A K file read: its races, each boat's result, the payouts, and the lines set aside."""

    races: pd.DataFrame
    results: pd.DataFrame
    payouts: pd.DataFrame
    rejected: pd.DataFrame


class Rejected(Exception):
    """A line that cannot be read; the message is the reason."""


@dataclass
class _Reader:
    """What a parse collects: rows by frame, and the rejected lines."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def add(self, frame: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(frame, []).append(row)

    def race_read(self, race_id: str) -> dict[str, Any] | None:
        """The race row of this id read already (its header came before), or None."""
        return next((row for row in self.rows.get("races", []) if row["race_id"] == race_id), None)

    def drop_race(self, race_id: str) -> None:
        """Forget every row of ``race_id`` read so far (a race cut off by the file's end)."""
        for name, rows in self.rows.items():
            self.rows[name] = [row for row in rows if row.get("race_id") != race_id]

    def reject(self, line_number: int, line: str, reason: str) -> None:
        self.rejected.append({"line_number": line_number, "line": line, "reason": reason})

    def frame(self, name: str, columns: dict[str, str]) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows.get(name, []), columns=list(columns))
        return frame.astype(columns) if not frame.empty else _empty(columns)

    def rejected_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rejected, columns=list(REJECTED_COLUMNS))
        return frame.astype({"line_number": "Int64", "line": "string", "reason": "string"})


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def normalised(text: str) -> str:
    """NFKC: full-width digits, letters and spaces as ASCII (the header lines mix both)."""
    return unicodedata.normalize("NFKC", text)


def race_id(race_date: date, venue_code: str, race_number: int) -> str:
    """``20260401`` + ``01`` + ``07``: the day, the 場コード and the race number."""
    return f"{race_date:%Y%m%d}{venue_code}{race_number:02d}"


def venue_codes_of(race_ids: pd.Series) -> pd.Series:
    """The 場コード inside each race id (:func:`race_id`'s characters 8–9)."""
    return race_ids.astype(str).str[8:10]


def day_file_kind(name: str) -> str | None:
    """``B`` or ``K`` for a day file's name (``b260401.lzh``: ``B``), None for another name."""
    match = FILE_DATE.match(Path(name).name)
    return None if match is None else match[1].upper()


def date_from_file_name(name: str) -> date | None:
    """``B260401.TXT`` (any case, ``.TXT`` or ``.LZH``) -> 2026-04-01; None for another name."""
    match = FILE_DATE.match(Path(name).name)
    if match is None:
        return None
    try:
        return date(2000 + int(match[2]), int(match[3]), int(match[4]))
    except ValueError:
        return None


@dataclass
class _Block:
    """A venue block (``NNBBGN`` .. ``NNBEND``) being read."""

    venue_code: str
    start_line: int
    race_date: date | None
    file_date: date | None = None  # the day the file's name gives: a header must agree
    meeting_day: int | None = None
    race: dict[str, Any] | None = None
    section: str = ""  # "", "racers", "payouts"
    last_bet: str | None = None

    def end_race(self) -> None:
        """No line joins the race read so far any more (the next header began, or its venue's
        later races were cancelled)."""
        self.race, self.section, self.last_bet = None, "", None


def _venue_lines(
    text: str, kind: str, reader: _Reader
) -> Iterator[tuple[int, str, _Block | None, str]]:
    """Each line with its number and the venue block it is in; ``event`` says BGN, END, line,
    or CUT: the block ended without its END marker (the next block began, or the file ended)."""
    block: _Block | None = None
    skipping: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = MARKER.match(line.strip())
        if marker is not None and marker[2] == kind:
            code, which = marker[1], marker[3]
            if which == "BGN":
                if block is not None:
                    reason = f"venue block {block.venue_code} not closed before the next"
                    reader.reject(block.start_line, f"{block.venue_code}{kind}BGN", reason)
                    yield number, line, block, "CUT"
                block, skipping = None, None
                if code not in VENUE_CODES:
                    reader.reject(number, line, f"unknown venue code {code} (01-24)")
                    skipping = code
                    continue
                block = _Block(code, number, None)
                yield number, line, block, "BGN"
            else:
                if block is not None and code == block.venue_code:
                    yield number, line, block, "END"
                elif skipping != code:
                    reader.reject(number, line, f"end of venue block {code} that was not open")
                block, skipping = None, None
            continue
        if block is not None:
            yield number, line, block, "line"
        elif skipping is not None:
            if line.strip():
                reader.reject(number, line, f"in the block of unknown venue {skipping}")
        elif line.strip() and line.strip() not in {f"START{kind}", f"FINAL{kind}"}:
            reader.reject(number, line, "outside any venue block")
    if block is not None:
        reason = f"venue block {block.venue_code} not closed: truncated file?"
        reader.reject(block.start_line, f"{block.venue_code}{kind}BGN", reason)
        yield 0, "", block, "CUT"


def _int(text: str, name: str) -> int:
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise Rejected(f"{name} is not a whole number: {text!r}") from None


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise Rejected(f"{name} is not a number: {text!r}") from None


def _boat(text: str) -> int:
    boat = _int(text, "boat")
    if not 1 <= boat <= 6:
        raise Rejected(f"boat {boat} is not 1-6")
    return boat


def _racer_id(text: str) -> str:
    if not re.fullmatch(r"\d{4}", text):
        raise Rejected(f"racer id is not four digits: {text!r}")
    return text


def _name(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def parse_b_racer_line(line: str) -> dict[str, Any]:
    """A B racer line's fields (raises :class:`Rejected` with the reason)."""
    data = layout.encoded(line)
    if len(data) < layout.B_RACER_MIN_BYTES:
        raise Rejected(f"truncated racer line: {len(data)} bytes of {layout.B_RACER_MIN_BYTES}")
    text = {name: layout.byte_field(data, span) for name, span in layout.B_RACER_FIELDS.items()}
    if text["racer_class"] not in CLASSES:
        raise Rejected(f"unknown racer class {text['racer_class']!r}")
    return {
        "boat": _boat(text["boat"]),
        "racer_id": _racer_id(text["racer_id"]),
        "racer_name": _name(text["racer_name"]),
        "age": _int(text["age"], "age"),
        "branch": _name(text["branch"]),
        "weight_kg": _int(text["weight_kg"], "weight"),
        "racer_class": text["racer_class"],
        **{
            name: _float(text[name], name)
            for name in (
                "national_win_rate",
                "national_top2_pct",
                "local_win_rate",
                "local_top2_pct",
                "motor_top2_pct",
                "boat_top2_pct",
            )
        },
        "motor_no": _int(text["motor_no"], "motor number"),
        "boat_no": _int(text["boat_no"], "boat number"),
    }


def _deadline(race_date: date, hour: str, minute: str) -> datetime:
    try:
        return datetime(race_date.year, race_date.month, race_date.day, int(hour), int(minute))
    except ValueError:
        raise Rejected(f"deadline {hour}:{minute} is not a time") from None


def _read_blocks(
    text: str,
    kind: str,
    race_date: date | None,
    read_line: Callable[[int, str, _Block, _Reader], None],
) -> _Reader:
    """Every line of every venue block of a B or K text through ``read_line``; a line it
    rejects is kept with the reason (``race_date``: the day when the text has none)."""
    reader = _Reader()
    for number, line, block, event in _venue_lines(text, kind, reader):
        if block is None or event != "line":
            if block is not None and event == "BGN":
                block.race_date = block.file_date = race_date
            if block is not None and event == "CUT" and block.race is not None:
                _set_aside_cut_race(block, reader)
            continue
        try:
            read_line(number, line, block, reader)
        except Rejected as reason:
            reader.reject(number, line, str(reason))
    return reader


def _set_aside_cut_race(block: _Block, reader: _Reader) -> None:
    """The last race of a block that ended without its END marker may be cut short (a payout
    of ``8420`` cut to ``84``): its rows are dropped, with the reason."""
    assert block.race is not None
    reader.drop_race(block.race["race_id"])
    reason = f"race {block.race['race_number']} {CUT_RACE}"
    reader.reject(0, str(block.race["race_id"]), reason)


def cut_races(rejected: pd.DataFrame) -> frozenset[str]:
    """The races a file's text set aside whole because their block was cut off after them
    (:func:`_set_aside_cut_race`: the rejected row's line is the race id): races set aside,
    to be counted as such, not races that vanished."""
    cut = rejected["reason"].astype("string").str.endswith(CUT_RACE).fillna(False)
    return frozenset(rejected.loc[cut.to_numpy(dtype=bool), "line"].astype(str))


def parse_b_text(text: str, race_date: date | None = None) -> ProgramDay:
    """Read a B file's text (番組表): races and entries; ``race_date`` when the text has none."""
    reader = _read_blocks(text, "B", race_date, _read_b_line)
    return ProgramDay(
        reader.frame("races", B_RACE_COLUMNS),
        reader.frame("entries", B_ENTRY_COLUMNS),
        reader.rejected_frame(),
    )


def _read_b_line(number: int, line: str, block: _Block, reader: _Reader) -> None:
    plain = normalised(line)
    header = B_RACE_HEADER.match(plain)
    if header is not None:
        if block.race_date is None:
            raise Rejected(f"no date known for venue {block.venue_code}")
        race_number = _int(header[1], "race number")
        _not_read_before(race_id(block.race_date, block.venue_code, race_number), block, reader)
        block.race = {
            "race_id": race_id(block.race_date, block.venue_code, race_number),
            "race_date": pd.Timestamp(block.race_date), "venue_code": block.venue_code,
            "race_number": race_number, "race_name": header[2].strip(),
            "distance_m": int(header[3]),
            "deadline_at": _deadline(block.race_date, header[4], header[5]),
            "meeting_day": block.meeting_day, "boats": set(),
        }  # fmt: skip
        reader.add("races", {k: v for k, v in block.race.items() if k != "boats"})
        block.section = ""
        return
    if "電話投票締切予定" in plain:
        block.race = None  # its boats must not join the race before
        raise Rejected("race header that cannot be read")
    if block.race is None:
        _read_venue_header(plain, block, B_DATE)
        return
    if "登番" in plain:
        block.section = "header"
    elif plain.startswith("---") and block.section == "header":
        block.section = "racers"
    elif not plain.strip():
        block.section = ""
    elif block.section == "racers" or re.match(r"^[1-6] \d", plain):
        entry = parse_b_racer_line(line)
        if entry["boat"] in block.race["boats"]:
            raise Rejected(f"boat {entry['boat']} listed twice")
        block.race["boats"].add(entry["boat"])
        reader.add("entries", {"race_id": block.race["race_id"], **entry})


def _not_read_before(race_key: str, block: _Block, reader: _Reader) -> None:
    """A race header seen a second time is rejected (its race would be stored twice: the store
    refused the day's whole write). Right after itself (a line repeated) the race read goes on;
    later (a venue's races written twice) the lines after it join no race: the first copy
    stands."""
    first = reader.race_read(race_key)
    if first is None:
        return
    if block.race is None or block.race["race_id"] != race_key:
        block.end_race()
    if first.get("status") == "cancelled":  # by an earlier "NR以降 中止": no second copy
        raise Rejected(f"race {race_key[-2:]} cancelled by a 中止 line before it: not read")
    raise Rejected(f"race {race_key[-2:]} listed twice: this copy is not read")


def _read_venue_header(plain: str, block: _Block, date_pattern: re.Pattern[str]) -> None:
    """The venue's day and meeting day from a header line. A day other than the file's
    (``K260603.TXT`` holding 2026/6/2) would store its races under another day: the block's
    races are then set aside, as they are when the line holds no day at all."""
    found = date_pattern.search(plain)
    if found is None:
        return
    block.race_date = None  # until the line's day is known to be the block's
    try:
        day_read = date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise Rejected(f"date {found[0]!r} is not a day") from None
    if block.file_date is not None and day_read != block.file_date:
        raise Rejected(
            f"venue {block.venue_code} dated {day_read}, not the file's day "
            f"{block.file_date}: its races are set aside"
        )
    if not FIRST_YEAR <= day_read.year <= LAST_YEAR:
        raise Rejected(f"date {found[0]!r} is not a day of racing")
    block.race_date = day_read
    day = MEETING_DAY.search(plain)
    block.meeting_day = int(day[1]) if day else block.meeting_day


def parse_k_tail(tail: str) -> dict[str, float | int | None]:
    """Exhibition time, course, start timing and race time from a K racer line's tail, read as
    tokens in that order: a withdrawn boat's row leaves some blank and shifts the rest."""
    values: dict[str, float | int | None] = dict.fromkeys(
        ("exhibition_s", "course", "start_timing_s", "race_time_s")
    )
    for token in tail.split():
        unplaced = values["course"] is None and values["exhibition_s"] is None
        if unplaced and EXHIBITION.match(token) and float(token) >= 5:
            values["exhibition_s"] = float(token)
            continue
        if values["course"] is None and values["start_timing_s"] is None and COURSE.match(token):
            values["course"] = int(token)
        elif values["start_timing_s"] is None and (timing := START_TIMING.match(token)):
            seconds = float(timing[2])
            values["start_timing_s"] = -seconds if timing[1] == "F" else seconds
        elif (race_time := RACE_TIME.match(token)) is not None:
            minutes, seconds, tenths = (int(part) for part in race_time.groups())
            values["race_time_s"] = round(minutes * 60 + seconds + tenths / 10, 1)
        elif token not in {".", "K", "L", "F"}:
            raise Rejected(f"unreadable value {token!r} after the boat number")
    return values


def parse_k_racer_line(line: str) -> dict[str, Any]:
    """A K racer line's fields (raises :class:`Rejected` with the reason)."""
    data = layout.encoded(line)
    if len(data) < layout.K_RACER_MIN_BYTES:
        raise Rejected(f"truncated racer line: {len(data)} bytes of {layout.K_RACER_MIN_BYTES}")
    text = {name: layout.byte_field(data, span) for name, span in layout.K_RACER_FIELDS.items()}
    code = normalised(text["finish_code"]).strip()
    known = FINISH_CODES.get(code)
    if known is None:
        raise Rejected(f"unknown finish code {code!r}")
    tail = data[layout.K_RACER_TAIL_START :].decode(layout.ENCODING, errors="replace")
    return {
        "boat": _boat(text["boat"]),
        "finish_code": code,
        "position": int(code) if known.finished else None,
        "started": known.started,
        "refunded": known.refunded,
        "racer_id": _racer_id(text["racer_id"]),
        "racer_name": _name(text["racer_name"]),
        "motor_no": _int(text["motor_no"], "motor number"),
        "boat_no": _int(text["boat_no"], "boat number"),
        **parse_k_tail(normalised(tail)),
    }


def parse_k_text(text: str, race_date: date | None = None) -> ResultDay:
    """Read a K file's text (競走成績): races, results, payouts; ``race_date`` when it has none."""
    reader = _read_blocks(text, "K", race_date, _read_k_line)
    races = reader.frame("races", K_RACE_COLUMNS)
    return ResultDay(
        races,
        reader.frame("results", K_RESULT_COLUMNS),
        reader.frame("payouts", PAYOUT_COLUMNS),
        reader.rejected_frame(),
    )


def _read_k_line(number: int, line: str, block: _Block, reader: _Reader) -> None:
    plain = normalised(line)
    header = K_RACE_HEADER.match(plain)
    if header is not None:
        _start_k_race(header, block, reader)
        return
    if block.race is None:
        if "中止" in plain:
            _read_venue_cancellation(plain, block, reader)
            return
        _read_venue_header(plain, block, K_DATE)
        return
    if "登番" in plain:
        last = plain.split()[-1] if plain.split() else ""
        block.race["kimarite"] = last if last in KIMARITE else None
        block.section = "header"
    elif plain.startswith("---") and block.section == "header":
        block.section = "racers"
    elif "中止" in plain:
        _read_cancellation(plain, block, reader)
    elif not plain.strip():
        block.section = "" if block.section == "racers" else block.section
    elif _payout_label(line) is not None or (block.section == "payouts" and _continues(line)):
        _not_cancelled(block)
        _read_payout_line(line, block, reader)
    elif block.section == "racers":
        _not_cancelled(block)
        result = parse_k_racer_line(line)
        if result["boat"] in block.race["boats"]:
            raise Rejected(f"boat {result['boat']} listed twice")
        block.race["boats"].add(result["boat"])
        reader.add("results", {"race_id": block.race["race_id"], **result})


def _not_cancelled(block: _Block) -> None:
    """A result or payout line of a race its header or a 中止 line cancelled contradicts it: the
    line is rejected (seen, counted as quarantined) and the race stays cancelled, its bets
    refunded. Before, both were stored and the bets refunded without a word."""
    assert block.race is not None
    if block.race["status"] == "cancelled":
        raise Rejected(f"race {block.race['race_number']} is cancelled (中止) yet lists a result")


def _start_k_race(header: re.Match[str], block: _Block, reader: _Reader) -> None:
    if block.race_date is not None:
        number = _int(header[1], "race number")
        _not_read_before(race_id(block.race_date, block.venue_code, number), block, reader)
    block.end_race()
    if block.race_date is None:
        raise Rejected(f"no date known for venue {block.venue_code}")
    race_number = _int(header[1], "race number")
    tail = (header[4] or "").strip()
    cancelled = "中止" in tail
    # conditions that cannot be read (None): the race, without them
    conditions = None if cancelled else K_CONDITIONS.match(tail)
    status = "cancelled" if cancelled else "run"
    block.race = _k_race(block, race_number, header[2].strip(), int(header[3]), conditions, status)
    reader.add("races", block.race)  # the same dict: kimarite and status land later


def _k_race(
    block: _Block, race_number: int, name: str, distance_m: int | None,
    conditions: re.Match[str] | None, status: str,
) -> dict[str, Any]:  # fmt: skip
    assert block.race_date is not None
    found = conditions.groupdict() if conditions is not None else {}

    def number(key: str) -> int | None:
        return int(found[key]) if found.get(key) else None

    return {
        "race_id": race_id(block.race_date, block.venue_code, race_number),
        "race_date": pd.Timestamp(block.race_date), "venue_code": block.venue_code,
        "race_number": race_number, "race_name": name, "distance_m": distance_m,
        "weather": found.get("weather"), "wind_direction": found.get("wind"),
        "wind_speed_m": number("speed"), "wave_cm": number("wave"), "kimarite": None,
        "status": status, "boats": set(), "bets": set(),
    }  # fmt: skip


def _read_cancellation(plain: str, block: _Block, reader: _Reader) -> None:
    """A line saying 中止: the race just begun (no boat or payout read yet) was cancelled;
    ``NR以降 中止`` cancels the venue's races from the Nth on (rows of their own, with no
    result); anywhere else it cannot say which race it means."""
    assert block.race is not None
    current = block.race["race_number"]
    begun = bool(block.race["boats"] or block.race["bets"])  # a boat or payout of it read
    later = CANCELLED_FROM.search(plain)
    if later is not None:
        first = _int(later[1], "race number")
        if first < current or (first == current and begun):
            raise Rejected(f"races from {first} cancelled, after race {current}'s results")
        if first == current:
            block.race["status"] = "cancelled"
        _cancel_races_from(max(first, current + 1), block, reader)
        block.end_race()
        return
    if begun:
        raise Rejected(f"a cancellation after race {current}'s results")
    block.race["status"] = "cancelled"


def _read_venue_cancellation(plain: str, block: _Block, reader: _Reader) -> None:
    """A 中止 line outside any race: ``NR以降 中止`` before the venue's first race (``１Ｒ以降``:
    the day called off) cancels its races from the Nth on, as it does after a race (it was
    read as a venue header and dropped: the races' bets stayed open). One naming no race, or
    races already read as run, is set aside."""
    later = CANCELLED_FROM.search(plain)
    if later is None or block.race_date is None:
        raise Rejected("a cancellation (中止) that names no race of a known day")
    first = _int(later[1], "race number")
    venue = race_id(block.race_date, block.venue_code, 0)[:-2]
    run = [row["race_number"] for row in reader.rows.get("races", [])
           if row["race_id"].startswith(venue) and row["status"] == "run"]  # fmt: skip
    if any(number >= first for number in run):
        raise Rejected(f"races from {first} cancelled, after race {max(run)}'s results")
    _cancel_races_from(first, block, reader)


def _cancel_races_from(first: int, block: _Block, reader: _Reader) -> None:
    """Rows of status ``cancelled`` for the venue's races ``first``..12 not read already."""
    assert block.race_date is not None
    for number in range(first, LAST_RACE + 1):
        if reader.race_read(race_id(block.race_date, block.venue_code, number)) is None:
            reader.add("races", _k_race(block, number, "", None, None, "cancelled"))


def _payout_label(line: str) -> str | None:
    label = normalised(layout.byte_field(layout.encoded(line), layout.PAYOUT_LABEL))
    return NORMALISED_BET_LABELS.get(label)


def _continues(line: str) -> bool:
    data = layout.encoded(line)
    return not layout.byte_field(data, layout.PAYOUT_LABEL) and bool(
        layout.byte_field(data, layout.PAYOUT_COMBINATION)
    )


def _read_payout_line(line: str, block: _Block, reader: _Reader) -> None:
    assert block.race is not None
    named = _payout_label(line)
    label = named or block.last_bet
    if label is None:
        raise Rejected("payout line without a bet type")
    if named is not None:
        if named in block.race["bets"]:
            raise Rejected(f"{named} listed twice for race {block.race['race_number']}")
        block.race["bets"].add(named)
    block.section, block.last_bet = "payouts", label
    data = layout.encoded(line)
    spans = [(layout.PAYOUT_COMBINATION, layout.PAYOUT_YEN)]
    if BET_TYPES[label][0] == "place" and layout.byte_field(data, layout.PAYOUT_SECOND_COMBINATION):
        spans.append((layout.PAYOUT_SECOND_COMBINATION, layout.PAYOUT_SECOND_YEN))
    popularity = POPULARITY.search(data[layout.PAYOUT_YEN[1] :].decode(layout.ENCODING, "replace"))
    for combination_span, yen_span in spans:
        payout = _payout(
            label, layout.byte_field(data, combination_span), layout.byte_field(data, yen_span)
        )
        payout["popularity"] = int(popularity[1]) if popularity else None
        reader.add("payouts", {"race_id": block.race["race_id"], **payout})


def _payout(label: str, combination: str, yen: str) -> dict[str, Any]:
    bet_type, boats, ordered = BET_TYPES[label]
    if combination == layout.SPECIAL_PAYOUT:
        return {"bet_type": bet_type, "combination": None,
                "payout_yen": _int(yen, "special payout"), "kind": "special"}  # fmt: skip
    if combination == layout.NOT_ESTABLISHED:
        return {"bet_type": bet_type, "combination": None, "payout_yen": None, "kind": "void"}
    numbers = combination.split("-")
    if not COMBINATION.match(combination) or len(numbers) != boats:
        raise Rejected(f"{label} combination {combination!r} is not {boats} boats")
    if len(set(numbers)) != boats:
        raise Rejected(f"{label} combination {combination!r} names a boat twice")
    canonical = "-".join(numbers if ordered else sorted(numbers))
    return {"bet_type": bet_type, "combination": canonical,
            "payout_yen": _int(yen, "payout"), "kind": "paid"}  # fmt: skip


def races_without_results(program: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The program's races the results do not hold (yet): a venue publishes late, a file is cut."""
    return program[~program["race_id"].isin(results["race_id"])].reset_index(drop=True)


def read_program_file(path: Path) -> ProgramDay:
    """Read a B file (``Byymmdd.TXT`` or ``.lzh``); the name gives the date the text lacks."""
    return parse_b_text(day_file_text(path), date_from_file_name(path.name))


def read_result_file(path: Path) -> ResultDay:
    """Read a K file (``Kyymmdd.TXT`` or ``.lzh``); the name gives the date the text lacks."""
    return parse_k_text(day_file_text(path), date_from_file_name(path.name))
