"""PC-KEIBA fixed-width text fields: decoding and encoding, in one place, vectorised.

Every decoder takes a Series of raw text (as stored by PC-KEIBA) and returns numbers, with
"missing" (``0000``, ``00``, blanks) as NaN/NA. Malformed values also decode to NaN; the matching
``*_is_malformed`` function tells them apart from "missing" so validation can quarantine them.

Categorical codes are never NA in the decoded frames: a blank or zero code, or a code outside the
known set (Hong Kong's going), decodes to an explicit "unknown" value that every stage treats as
a category of its own: :data:`UNKNOWN_CODE` (0, JV-Data's own 未設定) for the integer codes
(going, weather, sex), :data:`UNKNOWN_TRACK` for the track code, :data:`UNKNOWN_CLASS` for a
race whose condition name and condition code name no class of a known circuit
(:mod:`raceday.sport`), ``""``
(ungraded) for a blank grade. Going is read from the field of the race's surface
(``babajotai_code_shiba`` on turf, ``babajotai_code_dirt`` on dirt; :func:`surface_of`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from raceday.arrow_text import as_chunked_text
from raceday.schema import CONDITION_CODE_COLUMNS, RACE_KEY_COLUMNS
from raceday.sport import (
    CIRCUITS,
    UNKNOWN_CLASS,
    Circuit,
    decode_classes,
    decode_condition_codes,
)

_SOHA_PATTERN = r"[0-9][0-5][0-9][0-9]"  # M SS s: the seconds part must be < 60
UNKNOWN_CODE: Final = 0  # going / weather / sex not recorded (JV-Data 0 = 未設定)
UNKNOWN_TRACK: Final = "00"
NO_GRADE: Final = ""
GOING_CODES: Final = (1, 2, 3, 4)  # 良, 稍重, 重, 不良
WEATHER_CODES: Final = (1, 2, 3, 4, 5, 6)  # 晴, 曇, 雨, 小雨, 雪, 小雪
SEX_CODES: Final = (1, 2, 3)  # 牡, 牝, セ
SCRATCHED: Final = 1  # 異常区分 出走取消: withdrawn before the card, never starts, no odds
# データ区分 (``data_kubun``) of a race or runner record that is not a race as run or carded:
# 9 レース中止 (the race was cancelled: it is not run, its bets are refunded) and 0 該当レコード削除
# (the provider withdrew the record, sent by mistake). The other values (1-7 the card's and the
# results' stages, A, B) are the race.
CANCELLED_RACE_RECORD: Final = "9"
WITHDRAWN_RECORD: Final = "0"
# The win odds and popularity fields, of nvd_se and of nvd_o1's packed slots: JV-Data writes a
# scratched horse's as a mark, ``----`` / ``--`` (取消 before sale) or ``****`` / ``**`` (取消
# after), read as no odds (:func:`odds_field_text`), as ``0000`` is.
ODDS_FIELDS: Final = ("tansho_odds", "tansho_ninkijun")
_NO_ODDS_MARKS: Final = r"-+|\*+"
# Odds shown capped, a whole number and a plus (Hong Kong's tote writes a long shot ``99+``: at
# least 99): read as that floor, in the field's tenths (``990``), by :func:`odds_field_text`.
_CAPPED_ODDS: Final = r"(\d+)\+"


def _stripped(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip()


_INT64_DIGITS: Final = 18  # every number of at most 18 digits fits in int64


def _ascii_arrow(text: pd.Series) -> pa.ChunkedArray | None:
    """``text`` (pandas text) as Arrow text when every value is ASCII, where Arrow's digit and
    trim kernels answer what pandas' regular expressions do; else (or when empty) None."""
    arrow = as_chunked_text(text)
    if len(arrow) == 0 or pc.any(pc.invert(pc.string_is_ascii(arrow))).as_py():
        return None
    return arrow


def digit_numbers(text: pd.Series) -> pd.Series:
    """Text that is all digits as numbers, anything else <NA>: exactly what pandas gives
    (:func:`_digit_numbers_by_pandas`), its dtype included. Arrow parses it in one pass when the
    text is ASCII and every number has at most 18 digits (pandas parses text one value at a
    time); other text goes the pandas way."""
    arrow = _ascii_arrow(text)
    if arrow is None:
        return _digit_numbers_by_pandas(text)
    digits = pc.if_else(pc.ascii_is_decimal(arrow), arrow, None)  # what \d+ matches in ASCII
    longest = pc.max(pc.binary_length(digits)).as_py()
    if longest is None:  # nothing parsed: pandas gives Float64
        return pd.Series(pd.NA, index=text.index, dtype="Float64", name=text.name)
    if longest > _INT64_DIGITS:
        return _digit_numbers_by_pandas(text)
    numbers = pc.cast(digits, pa.int64())
    values = pc.fill_null(numbers, 0).to_numpy()
    missing = pc.is_null(numbers).to_numpy()
    return pd.Series(pd.arrays.IntegerArray(values, missing), index=text.index, name=text.name)


def _digit_numbers_by_pandas(text: pd.Series) -> pd.Series:
    ascii_text = _ascii_digits(text)
    return pd.to_numeric(ascii_text.where(ascii_text.str.fullmatch(r"[0-9]+")), errors="coerce")


def _ascii_digits(text: pd.Series) -> pd.Series:
    """``text`` NFKC-normalised: full-width digits and signs (``１２００``, ``－０１８``, typed
    with a Japanese input method) as the ASCII they stand for; other digits (``٣``) stay what
    they are: no number. What decodes as a number is what the ``*_is_malformed`` checks judge
    one."""
    return text.str.normalize("NFKC")


def full_width_as_ascii(text: pd.Series) -> pd.Series:
    """``text`` with full-width digits, signs, points and spaces as the ASCII they stand for
    (:func:`_ascii_digits`), normalised only where some value is not ASCII (else ``text``
    itself: one pass to tell, none to change)."""
    return text if _ascii_arrow(text) is not None else _ascii_digits(text)


def numeric_text(raw: pd.Series) -> pd.Series:
    """A numeric field's text, the one reading of every decoder and check of one: stripped (of
    an ideographic space too), full-width digits as ASCII (:func:`_ascii_digits`, only where
    some value is not ASCII)."""
    text = _stripped(raw)
    return text if _ascii_arrow(text) is not None else _ascii_digits(text).str.strip()


def odds_field_text(raw: pd.Series) -> pd.Series:
    """A win odds or popularity field (:data:`ODDS_FIELDS`) stripped, a scratched horse's mark
    (``----``, ``****``, ``--``, ``**``) read as blank: no odds, as ``0000`` is; capped odds
    (``99+``, :data:`_CAPPED_ODDS`) as their floor in tenths (``990``: 99.0, a lower bound).
    Other text (``-*``, ``12.5``) stays as written, for the checks to judge."""
    text = numeric_text(raw)
    text = text.mask(text.str.fullmatch(_NO_ODDS_MARKS).fillna(False).astype(bool), "")
    capped = text.str.fullmatch(_CAPPED_ODDS).fillna(False).astype(bool)
    if not capped.any():
        return text
    return text.mask(capped, text.str.slice(stop=-1) + "0")


def zero_or_blank(text: pd.Series) -> pd.Series:
    """True where a field's text is missing, blank or zeros only: PC-KEIBA's "none"."""
    return (text.fillna("").str.strip("0 ") == "").astype(bool)


def soha_time_text(raw: pd.Series) -> pd.Series:
    """``soha_time`` as ``MSSs`` text: stripped, zero-filled to four characters. A spreadsheet
    or a pandas round trip drops the leading zero of a time under a minute (``0592`` -> ``592``),
    as it does of every zero-padded field; three digits can only mean that (or the total tenths
    of a time under a minute, the same value), so they read as the time they were."""
    return numeric_text(raw).str.zfill(4)


def soha_time_is_malformed(raw: pd.Series) -> pd.Series:
    """True where a ``soha_time`` is present but not a valid ``MSSs`` value (e.g. seconds >= 60)."""
    text = soha_time_text(raw)
    valid = text.str.fullmatch(_SOHA_PATTERN).fillna(False).astype(bool)
    return ~valid & ~zero_or_blank(text)


def decode_soha_time(raw: pd.Series) -> pd.Series:
    """``MSSs`` finish time to seconds: ``1123`` -> 72.3, ``592`` -> 59.2 (:func:`soha_time_text`);
    ``0000``, blanks or malformed -> NaN."""
    text = soha_time_text(raw)
    valid = text.str.fullmatch(_SOHA_PATTERN).fillna(False).astype(bool) & ~zero_or_blank(text)
    digits = text.where(valid)
    minutes = digit_numbers(digits.str[0])
    seconds = digit_numbers(digits.str[1:3])
    tenths = digit_numbers(digits.str[3])
    return (60 * minutes + seconds + tenths / 10).astype("float64").rename(raw.name)


def encode_soha_time(seconds: pd.Series) -> pd.Series:
    """Seconds to ``MSSs`` (NaN -> ``0000``); the inverse of :func:`decode_soha_time`."""
    tenths_total = np.rint(seconds.to_numpy(dtype="float64", na_value=np.nan) * 10)
    if np.nanmax(tenths_total, initial=0) >= 6000:
        raise ValueError("soha_time cannot encode 10 minutes or more")
    missing = ~np.isfinite(tenths_total)
    whole = np.where(missing, 0, tenths_total).astype(np.int64)
    minutes, rest = np.divmod(whole, 600)
    secs, tenths = np.divmod(rest, 10)
    encoded = [f"{m}{s:02d}{t}" for m, s, t in zip(minutes, secs, tenths, strict=True)]
    return pd.Series(np.where(missing, "0000", encoded), index=seconds.index, dtype="string")


def digits_are_malformed(raw: pd.Series, width: int) -> pd.Series:
    """True where a numeric field is present but not ``width`` digits (text, signs, decimals):
    not 1 to ``width`` digits, nor zeros or blank. ASCII text is judged by Arrow in one pass."""
    text = numeric_text(raw)
    arrow = _ascii_arrow(text)
    if arrow is None:
        valid = text.str.fullmatch(rf"[0-9]{{1,{width}}}").fillna(False).astype(bool)
        return ~valid & ~zero_or_blank(text)
    digits = pc.and_(pc.ascii_is_decimal(arrow), pc.less_equal(pc.binary_length(arrow), width))
    blank = pc.equal(pc.utf8_trim(pc.fill_null(arrow, ""), "0 "), "")  # zero_or_blank
    malformed = pc.and_not(pc.invert(pc.fill_null(digits, False)), blank)
    return pd.Series(malformed.to_numpy(), index=text.index, name=text.name)


def decode_tenths(raw: pd.Series) -> pd.Series:
    """Tenths to units: ``387`` -> 38.7 (3F times, odds, weight carried); zeros/blank -> NaN."""
    numbers = digit_numbers(numeric_text(raw))
    return (numbers.where(numbers > 0) / 10).astype("float64").rename(raw.name)


def encode_tenths(values: pd.Series, width: int) -> pd.Series:
    """Units to zero-padded tenths (NaN -> zeros); the inverse of :func:`decode_tenths`."""
    tenths = np.rint(values.to_numpy(dtype="float64", na_value=np.nan) * 10)
    missing = ~np.isfinite(tenths)
    whole = np.where(missing, 0, tenths).astype(np.int64)
    if (whole >= 10**width).any():
        raise ValueError(f"value too large for {width} digits of tenths")
    return pd.Series([f"{v:0{width}d}" for v in whole], index=values.index, dtype="string")


def decode_count(raw: pd.Series) -> pd.Series:
    """Positions, ranks and codes where ``00`` means none: ``05`` -> 5, ``00`` -> <NA>."""
    numbers = digit_numbers(numeric_text(raw))
    return numbers.where(numbers > 0).astype("Int64").rename(raw.name)


def decode_code(raw: pd.Series) -> pd.Series:
    """Numeric codes where ``0`` is a real value (``ijo_kubun_code``); blank -> <NA>."""
    return digit_numbers(numeric_text(raw)).astype("Int64").rename(raw.name)


def encode_count(values: pd.Series, width: int) -> pd.Series:
    """Integers to zero-padded text (NA -> zeros); the inverse of :func:`decode_count`."""
    whole = values.astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    return pd.Series([f"{v:0{width}d}" for v in whole], index=values.index, dtype="string")


def decode_time_behind(raw: pd.Series) -> pd.Series:
    """``time_sa`` (sign + three digits of tenths) to seconds behind the winner; blank -> NaN.
    Re-saved by a spreadsheet or pandas (``+028`` -> ``28``, ``-018`` -> ``-18``), the sign
    and the leading zeros may be gone: the digits left read as they did, but zeros without a
    sign are missing (``0000``, no margin recorded, and ``+000`` both become ``0``)."""
    text = numeric_text(raw)
    valid = text.str.fullmatch(r"[+\- ]?[0-9]{1,3}").fillna(False).astype(bool)
    valid &= ~text.str.fullmatch(r"0+").fillna(False).astype(bool)
    sign = np.where(text.str.startswith("-").fillna(False).astype(bool), -1.0, 1.0)
    magnitude = digit_numbers(text.where(valid).str.lstrip("+- ")) / 10
    # + 0.0: a level margin (-000) is 0.0, not -0.0, which PostgreSQL keeps and SQLite does not
    return (magnitude * sign + 0.0).astype("float64").rename(raw.name)


# The minus signs a sign field is found written with: ASCII, full-width (－, read as ASCII once
# normalised), the minus sign, hyphens and dashes a spreadsheet or an IME puts in its place.
_MINUS_SIGNS: Final = frozenset({"-", "\u2212", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014"})


def decode_body_weight_change(sign: pd.Series, amount: pd.Series) -> pd.Series:
    """``zogen_fugo`` (+/-/space) and ``zogen_sa`` (3 digits) to a signed change in kg. The sign
    is read as written in any width (``－`` is a loss, as ``-``; it was read as a gain); a
    sign that is none (``X``, ``±``) makes the change unknown, not a gain."""
    magnitude = digit_numbers(numeric_text(amount).where(lambda t: t.str.fullmatch(r"\d{1,3}")))
    written = _stripped(sign).fillna("").str.normalize("NFKC")
    minus = written.isin(_MINUS_SIGNS).to_numpy(dtype=bool)
    known = minus | written.isin({"+", ""}).to_numpy(dtype=bool)
    factor = pd.Series(np.where(minus, -1, 1), index=sign.index).where(known)
    return (magnitude * factor).astype("Int64")


def _nfkc(text: pd.Series) -> pd.Series:
    """``text`` NFKC-normalised (full-width letters and digits as ASCII), blank where missing."""
    return text.fillna("").astype(str).map(lambda s: unicodedata.normalize("NFKC", s))


def condition_code_number(raw: pd.Series) -> pd.Series:
    """A 競走条件コード as a number (``005``, ``5``, ``００５``, `` 703 `` -> 5, 5, 5, 703);
    blank or not a number -> <NA>; ``000`` (none) stays 0."""
    return digit_numbers(_nfkc(raw).str.strip()).astype("Int64").rename(raw.name)


def condition_code(nvd_ra: pd.DataFrame) -> pd.Series:
    """Each race's condition code (:data:`raceday.schema.CONDITION_CODE_COLUMNS`): the youngest
    age's condition (``kyoso_joken_code``), else the first age's that is set, from the
    youngest; <NA> where none is (absent, blank or ``000``)."""
    found = pd.Series(pd.NA, index=nvd_ra.index, dtype="Int64")
    for column in CONDITION_CODE_COLUMNS:
        number = condition_code_number(column_text(nvd_ra, column))
        found = found.fillna(number.where(number > 0))
    return found.rename("condition_code")


def normalise_class(
    condition_name: pd.Series,
    circuits: Sequence[Circuit] = CIRCUITS,
    condition_codes: pd.Series | None = None,
) -> pd.Series:
    """Class from a condition name, as the first of ``circuits`` that names it decodes it
    (:mod:`raceday.sport`: NAR ``Ｃ３－１`` -> ``C3``, JRA ``３歳未勝利`` -> ``MDN``); where the
    name names none (JRA-VAN leaves a JRA race's blank), from the race's condition code
    (:func:`condition_code`: JRA ``703`` -> ``MDN``); neither -> :data:`UNKNOWN_CLASS`."""
    found = decode_classes(_nfkc(condition_name).str.upper(), circuits)
    if condition_codes is not None:
        found = found.fillna(decode_condition_codes(condition_codes, circuits))
    return found.fillna(UNKNOWN_CLASS).astype("string")


def surface_of(track_code: pd.Series) -> pd.Series:
    """JV-Data track code to ``turf`` (10-22), ``dirt`` (23-29), ``jump`` (51-59) or ``other``."""
    # Each distinct code is read once (a year's runners carry a few dozen): parsing every row's
    # text and building every row's label took ≈ 1.4 s per call on a year's window.
    codes, distinct = pd.factorize(track_code)  # a missing code: -1
    number = pd.to_numeric(pd.Series(distinct), errors="coerce").astype("float64")
    labels = np.select(
        [number.between(10, 22), number.between(23, 29), number.between(51, 59)],
        ["turf", "dirt", "jump"],
        default="other",
    )
    surfaces = pd.array([*labels, "other"], dtype="string")  # the last: a missing code's
    return pd.Series(
        surfaces.take(np.where(codes < 0, len(labels), codes)),
        index=track_code.index,
        dtype="string",
    )


def _known(raw: pd.Series, known: tuple[int, ...]) -> pd.Series:
    """A raw code as Int64 when it is one of ``known``, else <NA>."""
    code = decode_count(raw)
    return code.where(code.isin(known).fillna(False).astype(bool))


def decode_category(raw: pd.Series, known: tuple[int, ...]) -> pd.Series:
    """An integer code of the ``known`` set; blank, ``0`` (not recorded) or a code outside the set
    (another circuit's, e.g. Hong Kong's going) -> UNKNOWN_CODE."""
    return _known(raw, known).fillna(UNKNOWN_CODE).astype("Int64").rename(raw.name)


def decode_going(track_code: pd.Series, turf: pd.Series, dirt: pd.Series) -> pd.Series:
    """The going of the race's own surface: ``babajotai_code_shiba`` on turf (and jumps, run
    mostly on turf), ``babajotai_code_dirt`` on dirt; the other field when that one is blank
    (an unknown track code, a jump race crossing dirt); neither a known code -> UNKNOWN_CODE."""
    on_turf = surface_of(track_code).isin(["turf", "jump"]).to_numpy()
    turf_going, dirt_going = _known(turf, GOING_CODES), _known(dirt, GOING_CODES)
    first = turf_going.where(on_turf, dirt_going)
    second = dirt_going.where(on_turf, turf_going)
    return first.fillna(second).fillna(UNKNOWN_CODE).astype("Int64").rename("going_code")


def known_or_unknown(code: pd.Series, known: tuple[int, ...]) -> pd.Series:
    """Codes of the ``known`` set as they are, anything else (NA, out of the set) UNKNOWN_CODE."""
    numbers = pd.to_numeric(code, errors="coerce")
    values = np.asarray(numbers.to_numpy(dtype="float64", na_value=np.nan), dtype="float64")
    inside = np.zeros(len(values), dtype=bool)
    for known_code in known:  # a handful of codes: a comparison each, no hash of every value
        inside |= values == known_code
    return pd.Series(
        np.where(inside, values, UNKNOWN_CODE).astype("int64"), index=code.index, name=code.name
    )


def race_ids(frame: pd.DataFrame) -> pd.Series:
    """12-character race id = kaisai_nen + kaisai_tsukihi + keibajo_code + race_bango: digits,
    but for the venue of a race abroad (``20251214G008``, :data:`VENUE_CODE_PATTERN`)."""
    year, month_day, _, number = (numeric_text(frame[column]) for column in RACE_KEY_COLUMNS)
    venue = venue_code_text(frame[RACE_KEY_COLUMNS[2]])
    return (year.str.zfill(4) + month_day.str.zfill(4) + venue + number.str.zfill(2)).rename(
        "race_id"
    )


# JV-Data's venue codes (code table 2001): two digits at home (JRA 01-10, NAR 30-65), and for a
# race abroad a letter and a digit naming its country (G0 Hong Kong, A6 Great Britain, C7 the
# UAE), as PC-KEIBA stores a Japanese horse's overseas runs.
VENUE_CODE_PATTERN: Final = "[0-9]{2}|[A-Z][0-9]"
RACE_ID_PATTERN: Final = f"[0-9]{{8}}(?:{VENUE_CODE_PATTERN})[0-9]{{2}}"
_LETTER_VENUE_BASE: Final = 100  # letter codes' numbers start above every two-digit code's


def venue_code_text(raw: pd.Series) -> pd.Series:
    """``keibajo_code`` as stored: stripped, full-width characters as ASCII (``Ｇ０``),
    letters upper-case, digits zero-filled to two (``1`` -> ``01``, ``g0`` -> ``G0``)."""
    return _by_distinct(raw.astype("string"), _as_venue_code)


def _as_venue_code(codes: pd.Series) -> pd.Series:
    return zero_filled(codes.str.normalize("NFKC").str.strip().str.upper(), 2)


def _by_distinct(text: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``transform`` applied to the distinct values of ``text`` (a code column: a few dozen
    values over millions of rows) and taken back to every row (missing stays missing)."""
    codes, distinct = pd.factorize(text)
    done = transform(pd.Series(distinct, dtype="string")).array
    return pd.Series(done.take(codes, allow_fill=True), index=text.index, name=text.name)


def venue_code_is_malformed(raw: pd.Series) -> pd.Series:
    """True where a venue code is present but not one (:data:`VENUE_CODE_PATTERN` once read by
    :func:`venue_code_text`): ``4A``, ``123``, ``*``; blank or zeros are missing, not malformed."""

    def malformed(written: pd.Series) -> pd.Series:
        values = _as_venue_code(written)
        valid = values.str.fullmatch(VENUE_CODE_PATTERN).fillna(False).astype(bool)
        return (~valid & ~zero_or_blank(values)).astype("boolean")

    return _by_distinct(raw.astype("string"), malformed).fillna(False).astype(bool)


def venue_numbers(codes: pd.Series) -> pd.Series:
    """Venue codes as numbers for a model that reads a category as a number (a tree's
    categorical feature): two digits as their value (``44`` -> 44.0), a letter code as 100 + its
    base-36 value (``G0`` -> 676.0; never a two-digit code's), anything else NaN."""

    def numbers(written: pd.Series) -> pd.Series:
        values = _as_venue_code(written).fillna("")
        return pd.Series([_venue_number(value) for value in values], index=values.index).astype(
            "Float64"
        )

    return _by_distinct(codes.astype("string"), numbers).astype("float64")


def _venue_number(code: str) -> float:
    if re.fullmatch("[0-9]{2}", code):
        return float(code)
    if re.fullmatch(VENUE_CODE_PATTERN, code):
        return float(_LETTER_VENUE_BASE + int(code, 36))
    return float("nan")


def race_venues(race_ids: pd.Series) -> pd.Series:
    """The keibajo_code inside each 12-character race id (YYYY MMDD venue race)."""
    return race_ids.astype("string").str.slice(8, 10)


def races_abroad(race_ids: pd.Series) -> pd.Series:
    """Which race ids are of races abroad: a venue of a letter and a digit (``20251214G008``,
    :data:`VENUE_CODE_PATTERN`); False for a missing id."""
    venue_first = race_venues(race_ids).str.slice(0, 1)
    return venue_first.str.isalpha().fillna(False).astype(bool)


def race_dates(frame: pd.DataFrame) -> pd.Series:
    """``kaisai_nen`` + ``kaisai_tsukihi`` to dates; impossible dates (``0231``) -> NaT."""
    text = numeric_text(frame["kaisai_nen"]) + numeric_text(frame["kaisai_tsukihi"]).str.zfill(4)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce").dt.normalize().rename("race_date")


def race_key_parts(race_date: date, keibajo_code: str, race_bango: int) -> dict[str, str]:
    """The four raw key fields of a race."""
    return {
        "kaisai_nen": f"{race_date:%Y}",
        "kaisai_tsukihi": f"{race_date:%m%d}",
        "keibajo_code": keibajo_code,
        "race_bango": f"{race_bango:02d}",
    }


# --- whole tables ------------------------------------------------------------------------------


def column_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A raw column's text, stripped; <NA> throughout where the table has no such column."""
    if column in frame.columns:
        return _stripped(frame[column])
    return pd.Series(pd.NA, index=frame.index, dtype="string")


# C0 control characters and DEL: a byte 0x01, a terminal's ESC, CR/LF inside a name reached
# the store and the HTML report raw.
_CONTROL_CHARACTERS: Final = r"[\x00-\x1f\x7f]"


def name_text(raw: pd.Series) -> pd.Series:
    """A name field (a horse's, a race's) as stored: stripped, without control characters
    (:data:`_CONTROL_CHARACTERS`)."""
    return _stripped(raw).str.replace(_CONTROL_CHARACTERS, "", regex=True).str.strip()


def record_kind(raw: pd.DataFrame) -> pd.Series:
    """Each record's データ区分 as written (``""`` where the table has none or it is blank)."""
    return column_text(raw, "data_kubun").fillna("")


def zero_filled(text: pd.Series, width: int) -> pd.Series:
    """``text`` with each value of digits only zero-filled to ``width``: a code as PC-KEIBA
    writes it (jockey ``01126``) after a spreadsheet or a pandas round trip dropped its
    leading zeros (``1126``), so that the same jockey is one id whichever file he came from.
    Other values (letters, blanks) stay as they are; full-width digits (``０１１２６``, typed
    with a Japanese input method) are the ASCII digits they stand for."""
    text = full_width_as_ascii(text)
    digits = text.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    return text.where(~digits, text.str.zfill(width))


def post_time_text(nvd_ra: pd.DataFrame) -> pd.Series:
    """``hasso_jikoku`` as HHMM text (:func:`zero_filled`: ``930`` and ``１５３０`` are 0930 and
    1530): what the stored card says and what race-time decisions are timed by."""
    return zero_filled(column_text(nvd_ra, "hasso_jikoku"), 4)


def member_id(text: pd.Series, width: int) -> pd.Series:
    """A horse's, jockey's or trainer's id (:func:`zero_filled`); all zeros, PC-KEIBA's "none"
    (a foreign-trained or unregistered horse), is no id (blank): an unknown member, not one
    member shared by everyone who lacks an id."""
    filled = zero_filled(text, width)
    return filled.mask(filled.str.fullmatch(r"0+").fillna(False).astype(bool), "")


# Each decoded column with the raw fields it is decoded from, and how (a column reads only
# its own fields): a table whose fields changed decodes again only the columns reading them
# (:func:`columns_reading`; the card's view, :func:`raceday.sources.base.card_only`).
Decoders = dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], pd.Series]]]

_RACE_DECODERS: Final[Decoders] = {
    "race_id": (RACE_KEY_COLUMNS, race_ids),
    "race_date": (("kaisai_nen", "kaisai_tsukihi"), race_dates),
    "keibajo_code": (("keibajo_code",), lambda ra: venue_code_text(ra["keibajo_code"])),
    "race_bango": (("race_bango",), lambda ra: decode_count(ra["race_bango"])),
    "race_name": (("kyosomei_hondai",), lambda ra: name_text(column_text(ra, "kyosomei_hondai"))),
    "class_code": (
        ("kyoso_joken_meisho", *CONDITION_CODE_COLUMNS),
        lambda ra: normalise_class(
            column_text(ra, "kyoso_joken_meisho"), condition_codes=condition_code(ra)
        ),
    ),
    "grade_code": (("grade_code",), lambda ra: column_text(ra, "grade_code").fillna(NO_GRADE)),
    "distance_m": (("kyori",), lambda ra: decode_count(ra["kyori"])),
    "track_code": (("track_code",), lambda ra: _track_code(_track_digits(ra))),
    "going_code": (
        ("track_code", "babajotai_code_shiba", "babajotai_code_dirt"),
        lambda ra: decode_going(
            _track_digits(ra),
            column_text(ra, "babajotai_code_shiba"),
            column_text(ra, "babajotai_code_dirt"),
        ),
    ),
    "weather_code": (
        ("tenko_code",),
        lambda ra: decode_category(column_text(ra, "tenko_code"), WEATHER_CODES),
    ),
    "entries": (("toroku_tosu",), lambda ra: decode_count(column_text(ra, "toroku_tosu"))),
    "field_size": (("shusso_tosu",), lambda ra: decode_count(ra["shusso_tosu"])),
    "post_time": (("hasso_jikoku",), post_time_text),
    "leader_first3f_s": (("zenhan_3f",), lambda ra: decode_tenths(column_text(ra, "zenhan_3f"))),
    "race_last3f_s": (("kohan_3f",), lambda ra: decode_tenths(column_text(ra, "kohan_3f"))),
}


def _track_digits(nvd_ra: pd.DataFrame) -> pd.Series:
    return numeric_text(column_text(nvd_ra, "track_code"))


def _track_code(track: pd.Series) -> pd.Series:
    return track.mask(track.fillna("").str.strip("0") == "", UNKNOWN_TRACK)


def _decoded(
    table: pd.DataFrame, decoders: Decoders, columns: Collection[str] | None
) -> pd.DataFrame:
    names = [name for name in decoders if columns is None or name in columns]
    return pd.DataFrame({name: decoders[name][1](table) for name in names}, index=table.index)


def _reading(decoders: Decoders, fields: Collection[str]) -> list[str]:
    return [name for name, (read, _) in decoders.items() if not set(read).isdisjoint(fields)]


def decode_races(nvd_ra: pd.DataFrame, columns: Collection[str] | None = None) -> pd.DataFrame:
    """``nvd_ra`` rows (raw text) to the race frame of :data:`raceday.schema.RACE_COLUMNS`;
    ``columns``: only those of its columns (each decoded from its own fields alone)."""
    return _decoded(nvd_ra, _RACE_DECODERS, columns)


def race_columns_reading(fields: Collection[str]) -> list[str]:
    """The columns of :func:`decode_races` decoded from any of the ``nvd_ra`` ``fields``."""
    return _reading(_RACE_DECODERS, fields)


def entries_or_fallback(races: pd.DataFrame, runners: pd.DataFrame) -> pd.Series:
    """Each race's entries (``toroku_tosu``); when missing or blank, the larger of its starters
    and its highest horse number: a scratched high-numbered horse (umaban above the starters)
    is still one of the entries."""
    highest = runners.groupby("race_id")["umaban"].max()
    candidates = pd.DataFrame(
        {
            "field_size": races["field_size"].astype("Float64"),
            "highest_umaban": races["race_id"].map(highest).astype("Float64"),
        },
        index=races.index,
    )
    fallback = candidates.max(axis=1, skipna=True).round().astype("Int64")
    return races["entries"].astype("Int64").fillna(fallback).rename("entries")


def _body_weight(nvd_se: pd.DataFrame) -> pd.Series:
    return decode_count(column_text(nvd_se, "bataiju"))


def _count(field: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda table: decode_count(column_text(table, field))


def _tenths(field: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda table: decode_tenths(column_text(table, field))


def _member(field: str, width: int) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda table: member_id(column_text(table, field), width)


_RUNNER_DECODERS: Final[Decoders] = {
    "race_id": (RACE_KEY_COLUMNS, race_ids),
    "umaban": (("umaban",), lambda se: decode_count(se["umaban"])),
    "race_date": (("kaisai_nen", "kaisai_tsukihi"), race_dates),
    "keibajo_code": (("keibajo_code",), lambda se: venue_code_text(se["keibajo_code"])),
    "wakuban": (("wakuban",), _count("wakuban")),
    "horse_id": (("ketto_toroku_bango",), _member("ketto_toroku_bango", 10)),
    "horse_name": (("bamei",), lambda se: name_text(column_text(se, "bamei"))),
    "sex_code": (
        ("seibetsu_code",),
        lambda se: decode_category(column_text(se, "seibetsu_code"), SEX_CODES),
    ),
    "age": (("barei",), _count("barei")),
    "jockey_id": (("kishu_code",), _member("kishu_code", 5)),
    "trainer_id": (("chokyoshi_code",), _member("chokyoshi_code", 5)),
    "weight_carried_kg": (("futan_juryo",), _tenths("futan_juryo")),
    "body_weight_kg": (("bataiju",), _body_weight),
    "body_weight_diff_kg": (
        ("zogen_fugo", "zogen_sa", "bataiju"),
        lambda se: decode_body_weight_change(
            column_text(se, "zogen_fugo"), column_text(se, "zogen_sa")
        ).where(_body_weight(se).notna()),
    ),
    "abnormal_code": (
        ("ijo_kubun_code",),
        lambda se: decode_code(column_text(se, "ijo_kubun_code")).fillna(0),
    ),
    "finish_pos": (("kakutei_chakujun",), _count("kakutei_chakujun")),
    "finish_time_s": (("soha_time",), lambda se: decode_soha_time(column_text(se, "soha_time"))),
    "last3f_s": (("kohan_3f",), _tenths("kohan_3f")),
    "corner_1": (("corner_1",), _count("corner_1")),
    "corner_2": (("corner_2",), _count("corner_2")),
    "corner_3": (("corner_3",), _count("corner_3")),
    "corner_4": (("corner_4",), _count("corner_4")),
    "win_odds": (
        ("tansho_odds",),
        lambda se: decode_tenths(odds_field_text(column_text(se, "tansho_odds"))),
    ),
    "popularity": (
        ("tansho_ninkijun",),
        lambda se: decode_count(odds_field_text(column_text(se, "tansho_ninkijun"))),
    ),
    "time_behind_s": (("time_sa",), lambda se: decode_time_behind(column_text(se, "time_sa"))),
}


def decode_runners(nvd_se: pd.DataFrame, columns: Collection[str] | None = None) -> pd.DataFrame:
    """``nvd_se`` rows (raw text) to the runner frame of :data:`raceday.schema.RUNNER_COLUMNS`;
    ``columns``: only those of its columns (each decoded from its own fields alone)."""
    return _decoded(nvd_se, _RUNNER_DECODERS, columns)


def runner_columns_reading(fields: Collection[str]) -> list[str]:
    """The columns of :func:`decode_runners` decoded from any of the ``nvd_se`` ``fields``."""
    return _reading(_RUNNER_DECODERS, fields)
