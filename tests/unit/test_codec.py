"""PC-KEIBA field decoding: the documented encodings, their edge cases and round trips."""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from typing import Final

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday import codec, odds_snapshots
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from tests.data.make_bad_inputs import assert_runners_as_written


def s(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="string")


def test_soha_time_is_minutes_seconds_tenths() -> None:
    """1123 is 1:12.3 = 72.3 s (not 112.3 s: dividing by ten is a known bug)."""
    decoded = codec.decode_soha_time(s("1123", "1149", "0599", "2050"))
    assert decoded.tolist() == pytest.approx([72.3, 74.9, 59.9, 125.0])


def test_soha_time_missing_and_malformed_are_nan_and_told_apart() -> None:
    """0000 and blanks are missing; seconds >= 60, text and more than four digits are
    malformed."""
    raw = s("0000", "", None, "1960", "12a4", "11234", "720")
    assert codec.decode_soha_time(raw).isna().all()
    malformed = [False, False, False, True, True, True, True]
    assert codec.soha_time_is_malformed(raw).tolist() == malformed


def test_a_soha_time_that_lost_its_leading_zero_is_the_time_it_was() -> None:
    """A spreadsheet or pandas drops the leading zero of a time under a minute (0592 -> 592):
    three digits read as the four did; full-width digits as the digits they stand for."""
    decoded = codec.decode_soha_time(s("592", "0592", "０５９２", "５９２", " 98"))
    assert decoded.tolist() == pytest.approx([59.2, 59.2, 59.2, 59.2, 9.8])
    assert not codec.soha_time_is_malformed(s("592", "５９２", "98")).any()


@given(st.lists(st.integers(min_value=1, max_value=5999), min_size=1, max_size=50))
def test_soha_time_without_its_leading_zeros_decodes_the_same(tenths: list[int]) -> None:
    """What a spreadsheet makes of an MSSs field (its leading zeros dropped) decodes to the
    time the field held."""
    encoded = codec.encode_soha_time(pd.Series(np.array(tenths) / 10))
    stripped = encoded.str.lstrip("0")
    decoded, original = codec.decode_soha_time(stripped), codec.decode_soha_time(encoded)
    assert np.allclose(decoded.to_numpy(), original.to_numpy())
    assert not codec.soha_time_is_malformed(stripped).any()


@given(st.lists(st.integers(min_value=1, max_value=5999), min_size=1, max_size=50))
def test_soha_time_round_trips(tenths: list[int]) -> None:
    """decode(encode(t)) == t for every time below ten minutes, to the tenth."""
    seconds = pd.Series(np.array(tenths) / 10)
    decoded = codec.decode_soha_time(codec.encode_soha_time(seconds))
    assert np.allclose(decoded.to_numpy(), seconds.to_numpy())


def test_encode_soha_time_refuses_ten_minutes() -> None:
    """MSSs has one digit of minutes."""
    with pytest.raises(ValueError, match="10 minutes"):
        codec.encode_soha_time(pd.Series([600.0]))


def test_tenths_fields() -> None:
    """kohan_3f 387 = 38.7 s; tansho_odds 0216 = 21.6; futan_juryo 570 = 57.0 kg; zeros = none."""
    assert codec.decode_tenths(s("387", "0216", "570")).tolist() == [38.7, 21.6, 57.0]
    assert codec.decode_tenths(s("000", "0000", "", "abc")).isna().all()


@given(st.lists(st.integers(min_value=1, max_value=9999), min_size=1, max_size=30))
def test_tenths_round_trip(tenths: list[int]) -> None:
    """decode(encode(x)) == x for four-digit tenths."""
    values = pd.Series(np.array(tenths) / 10)
    decoded = codec.decode_tenths(codec.encode_tenths(values, 4))
    assert np.allclose(decoded.to_numpy(), values.to_numpy())


def test_positions_00_are_missing() -> None:
    """Corners and finishing positions of 00 mean not passed / did not finish."""
    decoded = codec.decode_count(s("05", "00", "12", ""))
    assert decoded.tolist()[0] == 5 and decoded.tolist()[2] == 12
    assert decoded.isna().tolist() == [False, True, False, True]


def test_abnormal_code_zero_is_a_value() -> None:
    """ijo_kubun_code 0 means a normal run, not missing."""
    assert codec.decode_code(s("0", "1", "4")).tolist() == [0, 1, 4]


def test_a_margin_of_minus_zero_reads_as_zero_in_every_store() -> None:
    """A winner level with the second on the clock has ``time_sa`` ``-000``: read as -0.0,
    PostgreSQL stored it so and SQLite as 0.0, and the same backfill's ``raceday export runners``
    differed between the two stores (``-0.0`` / ``0.0``) on every such winner."""
    decoded = codec.decode_time_behind(s("-000", "+000", "-00"))
    assert [math.copysign(1.0, v) for v in decoded] == [1.0, 1.0, 1.0]
    assert decoded.tolist() == [0.0, 0.0, 0.0]


def test_time_behind_and_body_weight_change() -> None:
    """time_sa is signed tenths; zogen_fugo/zogen_sa is a signed change in kg."""
    assert codec.decode_time_behind(s("+005", "-003", " 012")).tolist() == [0.5, -0.3, 1.2]
    # re-saved by a spreadsheet: +028 -> 28, -018 -> -18; 0000 (none) and +000 -> 0: missing
    decoded = codec.decode_time_behind(s("28", "-18", "0", "0000", "+000"))
    assert decoded.tolist()[:2] == [2.8, -1.8]
    assert decoded.isna().tolist() == [False, False, True, True, False]
    change = codec.decode_body_weight_change(s("+", "-", " "), s("004", "010", "000"))
    assert change.tolist() == [4, -10, 0]
    # the sign in other widths and dashes (－ was read as a gain); a sign that is none: unknown
    signs = s("－", "−", "–", "＋", "X", "±", None)
    written = codec.decode_body_weight_change(signs, s(*["006"] * 7))
    assert written.tolist()[:4] == [-6, -6, -6, 6] and written.isna().tolist()[4:6] == [True, True]
    assert written.tolist()[6] == 6


def test_class_from_condition_name() -> None:
    """Full-width condition names give the NAR class, JRA names JRA's; others are "unknown"."""
    classes = codec.normalise_class(s("Ｃ３－１", "Ａ１", "B2", "２歳", "オープン", None))
    assert classes.tolist() == ["C3", "A1", "B2", "unknown", "OP", "unknown"]
    assert classes.notna().all()


def test_jra_class_names() -> None:
    """JRA's condition names (old and new prize classes, graded races) map to its ladder."""
    names = s("３歳未勝利", "２歳新馬", "１勝クラス", "2勝クラス", "1600万下", "天皇賞(G1)", "ＯＰ")
    assert codec.normalise_class(names).tolist() == ["MDN", "NEW", "1W", "2W", "3W", "OP", "OP"]
    older = s(
        "１５００万下", "1000万下", "９００万下", "500万下", "４００万下", "3歳以上1500万円以下"
    )
    assert codec.normalise_class(older).tolist() == ["3W", "2W", "2W", "1W", "1W", "3W"]


BLANK_NAME = "\u3000" * 30  # a JRA race's kyoso_joken_meisho as JRA-VAN writes it


def test_a_blank_condition_name_takes_the_class_of_the_condition_code() -> None:
    """JRA-VAN leaves a JRA race's condition name blank: its class is its 競走条件コード (code
    table 2007) in any width or padding; old earnings limits take the rung of the modern class
    they sit under; 000, blank and codes of no class are unknown, never an error."""
    codes = {
        "701": "NEW", "702": "MDN", "703": "MDN", "005": "1W", "010": "2W", "016": "3W",
        "999": "OP", "004": "1W", "009": "2W", "015": "3W", "100": "3W", "００５": "1W",
        " 010 ": "2W", "5": "1W", "９９９": "OP", "000": "unknown", "": "unknown",
        "   ": "unknown", "500": "unknown", "101": "unknown", "7O3": "unknown",
    }  # fmt: skip
    raw = pd.DataFrame(
        {
            "kaisai_nen": "2026", "kaisai_tsukihi": "0905", "keibajo_code": "05",
            "race_bango": [f"{n:02d}" for n in range(1, len(codes) + 1)], "kyori": "1600",
            "shusso_tosu": "16", "kyoso_joken_meisho": BLANK_NAME,
            "kyoso_joken_code": list(codes),
        }
    )  # fmt: skip
    assert codec.decode_races(raw)["class_code"].tolist() == list(codes.values())


def test_the_name_decides_and_the_youngest_set_age_condition_stands_in() -> None:
    """A name that names a class wins over the code (NAR's, whose codes are 000); without the
    youngest age's condition (000, blank) the youngest age's condition that is set gives the
    class; an export without the condition code columns reads its names alone."""
    raw = pd.DataFrame(
        {
            "kaisai_nen": "2026", "kaisai_tsukihi": "0905", "keibajo_code": "05",
            "race_bango": ["01", "02", "03", "04", "05"], "kyori": "1600", "shusso_tosu": "16",
            "kyoso_joken_meisho": ["Ｃ３－１", BLANK_NAME, "", " ", "２歳"],
            "kyoso_joken_code": ["005", "000", " ", "999", "000"],
            "kyoso_joken_code_2sai": ["000", "701", "000", "000", "000"],
            "kyoso_joken_code_3sai": ["000", "000", "010", "999", "000"],
            "kyoso_joken_code_4sai": ["000", "000", "005", "999", "000"],
        }
    )  # fmt: skip
    classes = codec.decode_races(raw)["class_code"].tolist()
    assert classes == ["C3", "NEW", "2W", "OP", "unknown"]
    without_codes = raw.drop(columns=[c for c in raw.columns if c.startswith("kyoso_joken_code")])
    assert codec.decode_races(without_codes)["class_code"].tolist() == [
        "C3", "unknown", "unknown", "unknown", "unknown"
    ]  # fmt: skip


def test_going_is_read_from_the_races_surface() -> None:
    """Turf (10-22) and jump (51-59) races read babajotai_code_shiba, dirt (23-29) races
    babajotai_code_dirt; a blank field falls back to the other one; neither is 0 (unknown)."""
    track = s("24", "11", "17", "23", "", "53", "00", "11", "24")
    turf = s("0", "1", "3", "0", "0", "2", " ", "7", "0")
    dirt = s("2", "0", "1", "", "4", "0", "", "2", "9")
    going = codec.decode_going(track, turf, dirt)
    assert going.tolist() == [2, 1, 3, 0, 4, 2, 0, 2, 0]
    assert str(going.dtype) == "Int64"


def test_blank_or_foreign_codes_decode_to_unknown_not_na() -> None:
    """Blank going, weather, sex, track and grade are explicit values, never NA; so are codes
    outside the known sets (Hong Kong's going)."""
    raw = pd.DataFrame(
        {
            "kaisai_nen": ["2026"], "kaisai_tsukihi": ["0711"], "keibajo_code": ["05"],
            "race_bango": ["01"], "kyori": ["1600"], "shusso_tosu": ["10"], "track_code": [" "],
            "tenko_code": [" "], "babajotai_code_dirt": ["0"], "grade_code": [" "],
            "kyoso_joken_meisho": ["？"],
        }
    )  # fmt: skip
    races = codec.decode_races(raw)
    assert races.loc[0, ["going_code", "weather_code"]].tolist() == [0, 0]
    codes = races.loc[0, ["track_code", "grade_code", "class_code"]]
    assert codes.tolist() == ["00", "", "unknown"]
    assert str(races["going_code"].dtype) == "Int64"
    assert str(races["weather_code"].dtype) == "Int64"
    runners = codec.decode_runners(raw.assign(umaban=["01"], seibetsu_code=[" "]))
    assert runners.loc[0, "sex_code"] == 0
    foreign = codec.decode_races(raw.assign(tenko_code="9", babajotai_code_dirt="6"))
    assert foreign.loc[0, ["going_code", "weather_code"]].tolist() == [0, 0]
    sexes = codec.decode_runners(raw.assign(umaban=["01"], seibetsu_code=["5"]))["sex_code"]
    assert sexes.tolist() == [0]


def test_known_or_unknown() -> None:
    """Codes outside the known set, and NA, are the unknown code."""
    codes = pd.Series([1, 7, pd.NA, 0, 4], dtype="Int64")
    assert codec.known_or_unknown(codes, codec.GOING_CODES).tolist() == [1, 0, 0, 0, 4]


def _known_or_unknown_by_pandas(code: pd.Series, known: tuple[int, ...]) -> list[int]:
    """The masked-array formulation known_or_unknown had before its comparisons (the oracle)."""
    numbers = pd.to_numeric(code, errors="coerce").astype("Float64")
    inside = numbers.isin(known).fillna(False).to_numpy(dtype=bool)
    values = np.where(inside, numbers.fillna(0).to_numpy(dtype="float64"), 0)
    return [int(value) for value in values]


CODE_VALUES = st.one_of(
    st.none(),
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "1", "01", "4.0", "x", "９", "1e3"]),
)


@given(values=st.lists(CODE_VALUES, max_size=30), as_text=st.booleans())
def test_known_or_unknown_is_the_masked_formulation_for_any_column(
    values: list[object], as_text: bool
) -> None:
    """Numbers, text, blanks, NA, infinities and fractions: the same codes as the masked
    formulation (known codes as they are, anything else unknown)."""
    column = (
        pd.Series([None if value is None else str(value) for value in values], dtype="string")
        if as_text
        else pd.Series([v for v in values if not isinstance(v, str)], dtype="object")
    )
    expected = _known_or_unknown_by_pandas(column, codec.GOING_CODES)
    assert codec.known_or_unknown(column, codec.GOING_CODES).tolist() == expected


def test_race_id_and_date() -> None:
    """race_id = kaisai_nen + kaisai_tsukihi + keibajo_code + race_bango; 0231 is no date."""
    frame = pd.DataFrame(
        {
            "kaisai_nen": ["2026", "2026"],
            "kaisai_tsukihi": ["0711", "0231"],
            "keibajo_code": ["54", "44"],
            "race_bango": ["01", "12"],
        }
    )
    assert codec.race_ids(frame).tolist() == ["202607115401", "202602314412"]
    dates = codec.race_dates(frame)
    assert dates.iloc[0] == pd.Timestamp("2026-07-11") and pd.isna(dates.iloc[1])


def test_odds_string_round_trip_skips_scratched() -> None:
    """odds_tansho packs umaban(2) + odds(4 tenths) + rank(2); 0000 odds are not on sale."""
    packed = odds_snapshots.encode_odds_string(
        pd.Series([1, 2, 3]), pd.Series([3.5, np.nan, 12.0]), pd.Series([1, pd.NA, 2])
    )
    assert packed == "010035010200000003012002"
    decoded = odds_snapshots.decode_odds_string(pd.Series([packed]))
    assert decoded["umaban"].tolist() == [1, 3]
    assert decoded["win_odds"].tolist() == [3.5, 12.0]
    assert decoded["popularity"].tolist() == [1, 2]


def test_entries_fall_back_to_starters_or_the_highest_horse_number() -> None:
    """A blank toroku_tosu: the larger of the starters and the race's highest umaban (a scratched
    number 12 in a field of 11 starters is one of 12 entries); a stated count is kept."""
    races = pd.DataFrame(
        {
            "race_id": ["A", "B", "C", "D"],
            "entries": pd.array([14, None, None, None], dtype="Int64"),
            "field_size": pd.array([13, 11, 9, None], dtype="Int64"),
        }
    )
    runners = pd.DataFrame(
        {
            "race_id": ["A", "A", "B", "B", "C", "D"],
            "umaban": pd.array([1, 14, 3, 12, 5, None], dtype="Int64"),
        }
    )
    expected = pd.Series(pd.array([14, 12, 9, None], dtype="Int64"), name="entries")
    pd.testing.assert_series_equal(codec.entries_or_fallback(races, runners), expected)


_FIELD_TEXT = st.one_of(
    st.none(),
    st.text(alphabet="0123456789", max_size=22),  # up to beyond int64 and uint64
    st.text(alphabet=" 0123456789-+.e\n１２٣aＡ", max_size=6),  # signs, blanks, other digits
    st.text(max_size=4),
)


def _concatenated(parts: list[list[str | None]]) -> pd.Series:
    """Text concatenated from several frames' columns (a chunk's days): several Arrow chunks."""
    frames = [pd.Series(part, dtype="string", name="field") for part in parts]
    text = pd.concat(frames, ignore_index=True) if frames else pd.Series([], dtype="string")
    return text.rename("field")


def _assert_digit_numbers_as_pandas(values: list[str | None] | pd.Series) -> None:
    text = pd.Series(values, dtype="string", name="field")
    text.index = np.arange(len(text)) * 3
    ascii_text = text.str.normalize("NFKC")  # full-width digits as ASCII
    expected = pd.to_numeric(ascii_text.where(ascii_text.str.fullmatch(r"[0-9]+")), errors="coerce")
    pd.testing.assert_series_equal(codec.digit_numbers(text), expected)


_FIELD_PARTS = st.lists(st.lists(_FIELD_TEXT, max_size=6), max_size=4)


@given(_FIELD_PARTS)
def test_digit_numbers_of_concatenated_text_are_what_pandas_parses(
    parts: list[list[str | None]],
) -> None:
    """Text in several Arrow chunks (frames concatenated) parses as pandas parses it."""
    _assert_digit_numbers_as_pandas(_concatenated(parts))


@given(_FIELD_PARTS, st.integers(min_value=1, max_value=4))
def test_malformed_digits_of_concatenated_text(parts: list[list[str | None]], width: int) -> None:
    """Malformed fields are found in text of several Arrow chunks as in one."""
    raw = _concatenated(parts)
    whole = pd.Series(raw.tolist(), dtype="string", name="field")
    pd.testing.assert_series_equal(
        codec.digits_are_malformed(raw, width), codec.digits_are_malformed(whole, width)
    )


@given(st.lists(_FIELD_TEXT, max_size=12))
def test_digit_numbers_are_what_pandas_parses(values: list[str | None]) -> None:
    """Arrow's parse of digit fields is pandas' to the value and the dtype, whatever the text."""
    _assert_digit_numbers_as_pandas(values)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None, None],
        ["", "ab", "-1"],  # nothing parsed: pandas gives Float64
        ["0005", None, "00", "12 "],
        ["9223372036854775807", "1"],  # the largest int64
        ["9223372036854775808", "1"],  # beyond it: UInt64
        ["18446744073709551616"],  # beyond uint64: Float64
        ["000000000000000000000000042"],
        ["１２", "12"],  # full-width digits are the digits they stand for
        ["٣", None],  # other digits are no number
    ],
)
def test_digit_numbers_at_the_edges(values: list[str | None]) -> None:
    """Where pandas changes dtype (nothing parsed, beyond int64) or refuses other digits."""
    _assert_digit_numbers_as_pandas(values)


@given(st.lists(_FIELD_TEXT, max_size=12), st.integers(min_value=1, max_value=4))
def test_malformed_digits_are_what_the_pattern_says(values: list[str | None], width: int) -> None:
    """A field is malformed when it is neither 1 to ``width`` digits (ASCII or full-width: what
    :func:`codec.digit_numbers` parses) nor zeros or blank, as the regular expression says it,
    whatever the text."""
    raw = pd.Series(values, dtype="string", name="field")
    text = raw.str.strip().str.normalize("NFKC").str.strip()
    valid = text.str.fullmatch(rf"[0-9]{{1,{width}}}").fillna(False).astype(bool)
    blank = (text.fillna("").str.strip("0 ") == "").astype(bool)
    pd.testing.assert_series_equal(codec.digits_are_malformed(raw, width), ~valid & ~blank)


def test_codes_that_lost_their_leading_zeros_are_the_codes_they_were() -> None:
    """A jockey written 1126 by a spreadsheet is the jockey PC-KEIBA writes 01126; a code of
    letters (Hong Kong's) or a blank stays as it is."""
    codes = s("1126", "01126", "PZ", "", None, "123456")
    assert codec.zero_filled(codes, 5).tolist() == ["01126", "01126", "PZ", "", pd.NA, "123456"]


@given(st.lists(st.integers(min_value=0, max_value=99_999), min_size=1, max_size=30))
def test_a_table_without_its_leading_zeros_decodes_as_the_table(numbers: list[int]) -> None:
    """Every zero-padded field of nvd_ra and nvd_se with its leading zeros dropped (what a
    spreadsheet or a pandas round trip writes) decodes to the same races and runners."""
    n = len(numbers)
    padded = [f"{number:05d}" for number in numbers]
    se = pd.DataFrame(
        {
            "kaisai_nen": ["2026"] * n,
            "kaisai_tsukihi": ["0105"] * n,
            "keibajo_code": ["05"] * n,
            "kaisai_kai": ["01"] * n,
            "kaisai_nichime": ["01"] * n,
            "race_bango": ["01"] * n,
            "umaban": [f"{i % 18 + 1:02d}" for i in range(n)],
            "ketto_toroku_bango": [f"00{p[:3]}{p}" for p in padded],
            "kishu_code": padded,
            "chokyoshi_code": padded[::-1],
            "soha_time": [f"0{number % 600:03d}" for number in numbers],
            "kakutei_chakujun": [f"{i % 18 + 1:02d}" for i in range(n)],
            "time_sa": [
                f"{'-' if number % 7 == 0 else '+'}{number % 1000:03d}" for number in numbers
            ],
        }
    )
    # what pandas writes of a column it read as integers (a spreadsheet alike): 0592 -> 592,
    # +028 -> 28, -018 -> -18, 0000 -> 0
    stripped = se.apply(lambda column: column.map(lambda value: str(int(value))))
    assert_runners_as_written(codec.decode_runners(stripped), codec.decode_runners(se))


def test_an_all_zero_member_id_is_no_id_not_one_member() -> None:
    """PC-KEIBA writes a foreign-trained or unregistered horse's id as zeros: decoded blank (an
    unknown horse, as a blank id, never one horse with every such horse's runs); the same for
    a jockey's or trainer's; an id that lost its leading zeros is still zero-filled."""
    runners = codec.decode_runners(
        pd.DataFrame(
            {
                "kaisai_nen": "2026",
                "kaisai_tsukihi": "1102",
                "keibajo_code": "05",
                "race_bango": "01",
                "umaban": ["01", "02", "03"],
                "ketto_toroku_bango": ["0000000000", "0", "2023101861"],
                "kishu_code": ["00000", "1126", ""],
                "chokyoshi_code": ["00000", "01012", "0"],
            },
            dtype="string",
        )
    )
    assert runners["horse_id"].tolist() == ["", "", "2023101861"]
    assert runners["jockey_id"].tolist() == ["", "01126", ""]
    assert runners["trainer_id"].tolist() == ["", "01012", ""]


def test_full_width_post_times_and_ids_read_as_their_ascii_digits() -> None:
    """A post time or an id typed with a Japanese input method (``１５３０``, ``０１１２６``)
    is the time or the id its ASCII digits are (before, stored as written: a post time no
    race-time decision could read, a jockey who was two jockeys), and a dropped leading zero
    comes back (``930``)."""
    key = {"kaisai_nen": "2026", "kaisai_tsukihi": "1102", "keibajo_code": "05"}
    races = codec.decode_races(
        pd.DataFrame(
            {
                **key,
                "race_bango": ["01", "02", "03"],
                "shusso_tosu": "12",
                "kyori": "1400",
                "hasso_jikoku": ["１５３０", "930", "    "],
            },
            dtype="string",
        )
    )
    assert races["post_time"].tolist() == ["1530", "0930", ""]
    runners = codec.decode_runners(
        pd.DataFrame(
            {
                **key,
                "race_bango": "01",
                "umaban": ["01", "02"],
                "kishu_code": ["０１１２６", "01126"],
            },
            dtype="string",
        )
    )
    assert runners["jockey_id"].tolist() == ["01126", "01126"]


def test_an_odds_stamp_that_lost_its_leading_zero_is_stored_whole() -> None:
    """``6030900`` (an integer column's June stamp) is stored as PC-KEIBA writes it."""
    snapshot = odds_snapshots.decode_odds_snapshot(
        pd.DataFrame(
            {
                "kaisai_nen": "2026",
                "kaisai_tsukihi": "0603",
                "keibajo_code": "44",
                "race_bango": "01",
                "happyo_tsukihi_jifun": "6030900",
                "odds_tansho": "01002001",
            },
            index=[0],
            dtype="string",
        )
    )
    assert snapshot["snapshot_at"].tolist() == ["06030900"]


def test_venue_codes_read_as_stored_judged_and_numbered() -> None:
    """Two digits, or JV-Data's letter and digit of a race abroad, however a tool wrote them
    (lower case, full width, one digit, padded); anything else is malformed but blank or zeros
    (missing); as numbers for a tree, letter codes never meet a two-digit code's value."""
    written = pd.Series(
        ["44", " 1", "g0", "Ｇ０", "４４", "A6", "", "00", None, "4A", "123", "*", "GB"],
        dtype="string",
    )
    assert codec.venue_code_text(written).tolist() == [
        "44", "01", "G0", "G0", "44", "A6", "", "00", pd.NA, "4A", "123", "*", "GB",
    ]  # fmt: skip
    assert codec.venue_code_is_malformed(written).tolist() == [False] * 9 + [True] * 4
    numbers = codec.venue_numbers(written)
    assert numbers.iloc[:6].tolist() == [44.0, 1.0, 676.0, 676.0, 44.0, 100.0 + int("A6", 36)]
    assert numbers.iloc[6:].isna().tolist() == [True, False, True, True, True, True, True]


def test_a_scratched_horses_odds_marks_decode_as_no_odds_in_both_tables() -> None:
    """``----``/``--`` (取消 before sale) and ``****``/``**`` (after) are no odds, as ``0000``:
    in nvd_se's tansho_odds/tansho_ninkijun and in nvd_o1's packed slots alike."""
    assert codec.odds_field_text(s(" ---- ", "****", "--", "**", "0216", "-*")).tolist() == [
        "",
        "",
        "",
        "",
        "0216",
        "-*",
    ]
    runners = codec.decode_runners(
        pd.DataFrame(
            {
                "kaisai_nen": ["2026"] * 3,
                "kaisai_tsukihi": ["0711"] * 3,
                "keibajo_code": ["54"] * 3,
                "race_bango": ["01"] * 3,
                "umaban": ["01", "02", "03"],
                "tansho_odds": ["----", "****", "0216"],
                "tansho_ninkijun": ["--", "**", "01"],
            },
            dtype="string",
        )
    )
    assert runners["win_odds"].isna().tolist() == [True, True, False]
    assert runners["popularity"].isna().tolist() == [True, True, False]
    decoded = odds_snapshots.decode_odds_string(pd.Series(["01------02******03012001"]))
    assert decoded["umaban"].tolist() == [3]
    assert decoded["win_odds"].tolist() == [12.0]


def test_control_characters_are_stripped_from_the_names() -> None:
    """C0 control characters and DEL (0x01, an ESC of a terminal colour, CR/LF, a tab) in a horse's
    or a race's name reached the store and the HTML report raw: the decoded names have none."""
    key = {"kaisai_nen": ["2026"], "kaisai_tsukihi": ["0711"], "keibajo_code": ["54"]}
    runners = codec.decode_runners(
        pd.DataFrame(
            {**key, "race_bango": ["01"], "umaban": ["01"], "bamei": ["ホース\x01名\x1b[31m\r\n"]},
            dtype="string",
        )
    )
    assert runners["horse_name"].tolist() == ["ホース名[31m"]
    races = codec.decode_races(
        pd.DataFrame(
            {
                **key,
                "race_bango": ["01"],
                "kyori": ["1400"],
                "shusso_tosu": ["10"],
                "kyosomei_hondai": ["\x7f高知\r\n特別\t賞 "],
            },
            dtype="string",
        )
    )
    assert races["race_name"].tolist() == ["高知特別賞"]


def test_capped_long_shot_odds_read_as_their_floor() -> None:
    """Hong Kong's tote shows a long shot's odds as ``99+`` (at least 99): read as 99.0, the
    lower bound, in tenths as the field holds them, not as an unparsable field that set its race
    aside; a mark and a scratched horse's marks read as before, other text stays as written."""
    written = s("99+", " 99+ ", "150+", "0216", "----", "+", "9+9", "12.5+")
    assert codec.odds_field_text(written).tolist() == [
        "990", "990", "1500", "0216", "", "+", "9+9", "12.5+",
    ]  # fmt: skip
    runners = codec.decode_runners(
        pd.DataFrame(
            {
                "kaisai_nen": ["2026"] * 2,
                "kaisai_tsukihi": ["0902"] * 2,
                "keibajo_code": ["G0"] * 2,
                "race_bango": ["01"] * 2,
                "umaban": ["01", "02"],
                "tansho_odds": ["99+", "0048"],
                "tansho_ninkijun": ["14", "01"],
            },
            dtype="string",
        )
    )
    assert runners["win_odds"].tolist() == [99.0, 4.8]
    assert not odds_snapshots.unsold_odds(s("99+")).any()


_FULL_WIDTH: Final = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
# How a numeric field is found written by other tools, each the same value as PC-KEIBA's text:
# typed full-width with a Japanese input method, padded with spaces (a char column; an
# ideographic space), its leading zeros lost (a numeric column, a spreadsheet).
_AS_WRITTEN: Final = {
    "canonical": lambda value: value,
    "full_width": lambda value: value.translate(_FULL_WIDTH),
    "padded": lambda value: f" {value}  ",
    "ideographic_space": lambda value: f"{value}\u3000",
    "zeros_lost": lambda value: str(int(value)) if value.isdigit() else value,
}
# The numeric fields of the race key, values, codes and ids (time_sa's lost zeros: above).
_NUMERIC_RA: Final = (
    "kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango", "kyori", "track_code",
    "toroku_tosu", "shusso_tosu", "hasso_jikoku", "tenko_code", "babajotai_code_dirt",
    "zenhan_3f", "kohan_3f",
)  # fmt: skip
_NUMERIC_SE: Final = (
    "kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango", "wakuban", "umaban",
    "ketto_toroku_bango", "seibetsu_code", "barei", "kishu_code", "chokyoshi_code",
    "futan_juryo", "bataiju", "zogen_sa", "ijo_kubun_code", "kakutei_chakujun", "soha_time",
    "corner_1", "corner_4", "tansho_odds", "tansho_ninkijun", "kohan_3f", "time_sa",
)  # fmt: skip


@cache
def _canonical_day() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = simulate_days(date(2026, 3, 1), date(2026, 3, 1), SimulatorConfig(races_per_day=2)).raw
    return raw.nvd_ra.astype("string"), raw.nvd_se.astype("string")


def _written(table: pd.DataFrame, ways: dict[str, str]) -> pd.DataFrame:
    return table.assign(
        **{
            column: table[column].map(_AS_WRITTEN[way], na_action="ignore").astype("string")
            for column, way in ways.items()
        }
    )


_WAYS = st.sampled_from(sorted(_AS_WRITTEN))


@settings(max_examples=30, deadline=None)  # two races decoded twice an example
@given(
    st.fixed_dictionaries({column: _WAYS for column in _NUMERIC_RA}),
    st.fixed_dictionaries(
        {column: _WAYS.filter(lambda way: way != "zeros_lost") for column in _NUMERIC_SE}
    ),
)
def test_numeric_fields_as_other_tools_write_them_decode_as_pc_keibas_text(
    ra_ways: dict[str, str], se_ways: dict[str, str]
) -> None:
    """Each numeric field of nvd_ra and nvd_se written full-width (``１４００``, the race key
    too), padded with spaces or without its leading zeros decodes to the frames of PC-KEIBA's
    text, and no field of it is judged unparsable."""
    from data_checks.frames import RACE_DIGIT_FIELDS, RUNNER_DIGIT_FIELDS, unparsable_fields

    ra, se = _canonical_day()
    ra_written, se_written = _written(ra, ra_ways), _written(se, se_ways)
    pd.testing.assert_frame_equal(codec.decode_races(ra_written), codec.decode_races(ra))
    pd.testing.assert_frame_equal(codec.decode_runners(se_written), codec.decode_runners(se))
    assert (unparsable_fields(ra_written, RACE_DIGIT_FIELDS) == "").all()
    assert (unparsable_fields(se_written, RUNNER_DIGIT_FIELDS) == "").all()
