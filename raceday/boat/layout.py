"""The B and K files' line layouts, one place: the byte fields the parsers slice and the writers
(the simulator) fill.

Positions are 0-based byte offsets in the CP932 (Shift-JIS) encoding of a line, end exclusive: a
full-width character takes two bytes. Racer lines and payout lines have fixed fields; the header
lines (venue, date, race) are read by pattern (:mod:`raceday.boat.files`). Each layout was checked
against public parsers; docs/BOAT.md says which.
"""

from __future__ import annotations

import math
from typing import Final

ENCODING: Final = "cp932"
FULL_SPACE: Final = "\u3000"

# B (番組表) racer line: "1 4488小山　勉39埼玉53A1 6.08 41.67 6.58 66.67 13 33.97170 29.94 ...".
# Rates are right-aligned in their field; a 2連率 of 100.00 (or a win rate of 10.00) fills the field
# and touches the field before it, which only a byte-position reader gets right.
B_RACER_FIELDS: Final = {
    "boat": (0, 1),
    "racer_id": (2, 6),
    "racer_name": (6, 14),  # 4 full-width characters
    "age": (14, 16),
    "branch": (16, 20),  # 2 full-width characters (支部)
    "weight_kg": (20, 22),
    "racer_class": (22, 24),
    "national_win_rate": (24, 29),
    "national_top2_pct": (29, 35),
    "local_win_rate": (35, 40),
    "local_top2_pct": (40, 46),
    "motor_no": (46, 49),
    "motor_top2_pct": (49, 55),
    "boat_no": (55, 58),
    "boat_top2_pct": (58, 64),
}  # then 今節成績 (this meeting's finishes) and 早見, not read
B_RACER_MIN_BYTES: Final = 64

# K (競走成績) racer line: "  01  1 4488 小山　　　　健太 13  170  6.82   1     0.13     1.49.7".
K_RACER_FIELDS: Final = {
    "finish_code": (2, 4),
    "boat": (6, 7),
    "racer_id": (8, 12),
    "racer_name": (13, 29),  # 8 full-width characters: surname, padding, given name
    "motor_no": (30, 32),
    "boat_no": (34, 37),
}
# From byte 37 on: exhibition time, course, start timing, race time. Public parsers read them at
# 39-43, 46, 51-55 and 60-66, but a withdrawn boat's row (K0/K1) leaves them blank or shifted,
# so they are read as tokens in that order (raceday.boat.files.parse_k_tail).
K_RACER_TAIL_START: Final = 37
K_RACER_MIN_BYTES: Final = 37

# K payout line: "        ３連単   1-2-3        1230  人気     3"; a dead heat or the 拡連複's
# second and third pairs continue on lines with the label blank.
PAYOUT_LABEL: Final = (8, 17)
PAYOUT_COMBINATION: Final = (17, 23)  # "1", "1-2", "1-2-3", or 特払い / 不成立
PAYOUT_YEN: Final = (23, 31)
PAYOUT_SECOND_COMBINATION: Final = (33, 39)  # 複勝 carries two boats on one line
PAYOUT_SECOND_YEN: Final = (39, 47)
SPECIAL_PAYOUT: Final = "特払い"  # no winning ticket: every ticket gets this back
NOT_ESTABLISHED: Final = "不成立"  # too few finishers for the bet type: its tickets refunded


def byte_field(line_bytes: bytes, field: tuple[int, int]) -> str:
    """The text of a byte field, decoded and stripped of half- and full-width spaces."""
    start, end = field
    return line_bytes[start:end].decode(ENCODING, errors="replace").strip(" " + FULL_SPACE)


def encoded(line: str) -> bytes:
    """A line's CP932 bytes; characters CP932 lacks become ``?`` (never an error)."""
    return line.encode(ENCODING, errors="replace")


def full_width_padded(text: str, characters: int) -> str:
    """``text`` cut or padded with full-width spaces to ``characters`` characters."""
    return text[:characters] + FULL_SPACE * max(0, characters - len(text))


def b_name(surname: str, given: str) -> str:
    """The B file's 4-character name: surname, a full-width space when it fits, given name."""
    joined = f"{surname}{FULL_SPACE}{given}" if len(surname) + len(given) < 4 else surname + given
    return full_width_padded(joined, 4)


def k_name(surname: str, given: str) -> str:
    """The K file's 8-character name: surname, full-width spaces, given name at the end."""
    gap = max(0, 8 - len(surname) - len(given))
    return full_width_padded(surname + FULL_SPACE * gap + given, 8)


def _rate(value: float, width: int) -> str:
    return f"{value:{width}.2f}"[-width:]


def b_racer_line(
    boat: int, racer_id: str, name: str, age: int, branch: str, weight_kg: int,
    racer_class: str, national: tuple[float, float], local: tuple[float, float],
    motor: tuple[int, float], boat_equipment: tuple[int, float],
) -> str:  # fmt: skip
    """A B racer line; ``national``/``local`` are (win rate, 2連率 %), ``motor``/``boat_equipment``
    (number, 2連率 %)."""
    return (
        f"{boat} {racer_id}{name}{age:2d}{full_width_padded(branch, 2)}{weight_kg:2d}"
        f"{racer_class:2}{_rate(national[0], 5)}{_rate(national[1], 6)}"
        f"{_rate(local[0], 5)}{_rate(local[1], 6)}{motor[0]:3d}{_rate(motor[1], 6)}"
        f"{boat_equipment[0]:3d}{_rate(boat_equipment[1], 6)}"
    )


def start_timing_text(seconds: float | None, code: str) -> str:
    """The ST column: ``0.13``; a flying start ``F0.03``; a late start ``L``; none ``.``."""
    if seconds is None or math.isnan(seconds):
        return "L" if code.startswith("L") else "K" if code.startswith("K") else "."
    return f"F{-seconds:.2f}" if seconds < 0 else f"{seconds:.2f}"


def race_time_text(seconds: float | None) -> str:
    """``1.49.7`` (minutes.seconds.tenths) for 109.7 s; ``.  .`` for none."""
    if seconds is None or math.isnan(seconds):
        return ".  ."
    tenths = round(seconds * 10)
    return f"{tenths // 600}.{tenths % 600 // 10:02d}.{tenths % 10}"


def k_racer_line(
    finish_code: str, boat: int, racer_id: str, name: str, motor_no: int, boat_no: int,
    exhibition_s: float | None, course: int | None, start_timing_s: float | None,
    race_time_s: float | None,
) -> str:  # fmt: skip
    """A K racer line (``name`` already in the K file's 8 characters)."""
    exhibition = (
        " .  " if exhibition_s is None or math.isnan(exhibition_s) else f"{exhibition_s:4.2f}"
    )
    course_text = " " if course is None else str(course)
    st = start_timing_text(start_timing_s, finish_code)
    return (
        f"  {finish_code:<2}  {boat} {racer_id} {name} {motor_no:2d}  {boat_no:3d}  "
        f"{exhibition}   {course_text}   {st:>5}     {race_time_text(race_time_s)}"
    )


def payout_line(
    label: str, combination: str, payout_yen: int | None, popularity: int | None = None
) -> str:
    """A payout line (``label`` blank for a continuation line)."""
    label_bytes = len(encoded(label))
    text = " " * 8 + label + " " * (9 - label_bytes)
    text += combination + " " * (6 - len(encoded(combination)))
    text += "" if payout_yen is None else f"{payout_yen:8d}"
    if popularity is not None:
        text += f"  人気{popularity:6d}"
    return text


def place_payout_line(label: str, pairs: list[tuple[str, int]]) -> str:
    """A 複勝 line: up to two (boat, payout) pairs."""
    text = payout_line(label, pairs[0][0], pairs[0][1])
    if len(pairs) > 1:
        text += "  " + pairs[1][0] + " " * (6 - len(pairs[1][0])) + f"{pairs[1][1]:8d}"
    return text
