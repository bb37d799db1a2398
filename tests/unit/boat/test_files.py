"""The B and K parsers on hand-written excerpts: every code, fused fields, bad lines set aside."""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from raceday.boat.files import (
    date_from_file_name,
    parse_b_text,
    parse_k_text,
    races_without_results,
    read_program_file,
    read_result_file,
)
from raceday.errors import InputError
from tests.unit.boat.excerpts import PROGRAM, RESULTS


@pytest.fixture(scope="module")
def program() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return parse_b_text(PROGRAM)


@pytest.fixture(scope="module")
def results() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return parse_k_text(RESULTS)


def test_b_races_have_ids_dates_deadlines(program: tuple[pd.DataFrame, ...]) -> None:
    """Race id = date + 場コード + race number; the deadline on the race day."""
    races = program[0]
    assert races["race_id"].tolist() == ["202604010501", "202604010512"]
    assert races["deadline_at"].tolist() == [
        pd.Timestamp("2026-04-01 10:30"), pd.Timestamp("2026-04-01 16:30")
    ]  # fmt: skip
    assert races["race_name"].tolist() == ["予選", "優勝戦"]
    assert races["meeting_day"].tolist() == [3, 3]
    assert races["distance_m"].tolist() == [1800, 1800]


def test_b_rates_of_100_fused_with_the_field_before(program: tuple[pd.DataFrame, ...]) -> None:
    """A 2連率 of 100.00 fills its field and touches the one before: read by byte position."""
    entries = program[1].set_index("boat")
    assert entries.loc[2, ["local_win_rate", "local_top2_pct"]].tolist() == [5.50, 100.0]
    assert entries.loc[3, ["motor_no", "motor_top2_pct", "boat_no"]].tolist() == [12, 100.0, 108]
    assert entries.loc[4, ["boat_no", "boat_top2_pct"]].tolist() == [131, 100.0]
    assert entries.loc[2, "boat_no"] == 170


def test_b_entry_fields(program: tuple[pd.DataFrame, ...]) -> None:
    """Every field of a racer line, names without padding."""
    first = program[1].iloc[0].to_dict()
    assert first == {
        "race_id": "202604010501", "boat": 1, "racer_id": "4012", "racer_name": "水野誠",
        "age": 41, "branch": "静岡", "weight_kg": 52, "racer_class": "A1",
        "national_win_rate": 7.12, "national_top2_pct": 55.10, "local_win_rate": 7.40,
        "local_top2_pct": 60.00, "motor_no": 23, "motor_top2_pct": 41.20, "boat_no": 117,
        "boat_top2_pct": 35.50,
    }  # fmt: skip
    assert program[1]["racer_name"].tolist()[2] == "平野浩二"
    assert str(program[1]["national_win_rate"].dtype) == "Float64"


def test_b_bad_lines_are_set_aside_with_reasons(program: tuple[pd.DataFrame, ...]) -> None:
    """Unknown class, truncated line, bad number, garbage and an unknown venue: set aside."""
    reasons = program[2]["reason"].tolist()
    assert "unknown racer class 'C9'" in reasons
    assert any(reason.startswith("truncated racer line") for reason in reasons)
    assert any("not a number" in reason for reason in reasons)
    assert "outside any venue block" in reasons
    assert "unknown venue code 25 (01-24)" in reasons
    assert "in the block of unknown venue 25" in reasons
    assert len(program[1]) == 6  # the 12R's bad lines are not entries


def test_k_every_finish_code(results: tuple[pd.DataFrame, ...]) -> None:
    """F, L0, L1, K0, K1, S0, S1, S2 and positions read with their refund flags."""
    rows = results[1].set_index(["race_id", "boat"])
    codes = dict(zip(rows.index, rows["finish_code"], strict=True))
    assert sorted(set(codes.values())) == sorted(
        ["01", "02", "03", "04", "F", "L0", "L1", "K0", "K1", "S0", "S1", "S2"]
    )
    refunded = set(rows.index[rows["refunded"].astype(bool)])
    assert {code for key, code in codes.items() if key in refunded} == {"F", "L0", "L1", "K0", "K1"}
    flying = rows.loc[("202604010501", 3)]
    assert flying["start_timing_s"] == -0.02 and pd.isna(flying["position"])
    late = rows.loc[("202604010501", 5)]
    assert pd.isna(late["start_timing_s"]) and late["exhibition_s"] == 6.77


def test_k_withdrawn_row_with_a_shifted_tail(results: tuple[pd.DataFrame, ...]) -> None:
    """A K0 row's blank, shifted columns read as missing, not as someone else's values."""
    row = results[1].set_index(["race_id", "boat"]).loc[("202604010502", 6)]
    assert row["finish_code"] == "K0" and row["motor_no"] == 51 and row["boat_no"] == 144
    assert pd.isna(row["exhibition_s"]) and pd.isna(row["course"])
    assert pd.isna(row["start_timing_s"]) and pd.isna(row["race_time_s"])


def test_k_finisher_fields(results: tuple[pd.DataFrame, ...]) -> None:
    """A finisher's exhibition time, course, start timing and race time (1.49.8 = 109.8 s)."""
    first = results[1].iloc[0].to_dict()
    assert first["racer_name"] == "水野誠" and first["position"] == 1
    assert (first["exhibition_s"], first["course"], first["start_timing_s"]) == (6.70, 1, 0.12)
    assert first["race_time_s"] == 109.8


def test_k_dead_heat_has_two_winning_combinations(results: tuple[pd.DataFrame, ...]) -> None:
    """同着: two boats 01, and the win, exacta and trifecta pay two combinations each."""
    race = results[1][results[1]["race_id"] == "202604010502"]
    assert race["position"].tolist()[:3] == [1, 1, 3]
    payouts = results[2][results[2]["race_id"] == "202604010502"]
    paid = payouts.groupby("bet_type")["combination"].apply(list).to_dict()
    assert paid["win"] == ["1", "2"]
    assert paid["exacta"] == ["1-2", "2-1"]
    assert paid["trifecta"] == ["1-2-3", "2-1-3"]
    assert paid["wide"] == ["1-2", "1-3", "2-3"]
    assert paid["trio"] == ["1-2-3"]


def test_k_payouts_with_popularity(results: tuple[pd.DataFrame, ...]) -> None:
    """Each bet type's combination, payout and 人気; 複勝 carries two boats on a line."""
    payouts = results[2][results[2]["race_id"] == "202604010501"].set_index("bet_type")
    trifecta = payouts.loc["trifecta", ["combination", "payout_yen", "popularity", "kind"]]
    assert trifecta.tolist() == ["1-2-4", 1530, 4, "paid"]
    assert payouts.loc["place", "combination"].tolist() == ["1", "2"]
    assert payouts.loc["place", "payout_yen"].tolist() == [130, 180]
    assert pd.isna(payouts.loc["win", "popularity"])


def test_k_special_payout_and_bets_not_established(results: tuple[pd.DataFrame, ...]) -> None:
    """特払い pays its amount on every ticket; 不成立 bet types are void (refunded)."""
    payouts = results[2][results[2]["race_id"] == "202604010503"].set_index("bet_type")
    assert payouts.loc["win", "kind"] == "special" and payouts.loc["win", "payout_yen"] == 70
    assert pd.isna(payouts.loc["win", "combination"])
    assert payouts.loc[["wide", "trifecta", "trio"], "kind"].tolist() == ["void"] * 3


def test_k_cancelled_race(results: tuple[pd.DataFrame, ...]) -> None:
    """A race cancelled (中止) is a race with status cancelled and no results."""
    races = results[0].set_index("race_id")
    assert races.loc["202604010504", "status"] == "cancelled"
    assert races.loc["202604010501", "status"] == "run"
    assert races.loc["202604010501", "kimarite"] == "逃げ"
    assert races.loc["202604010503", ["wind_speed_m", "wave_cm"]].tolist() == [6, 8]
    assert "202604010504" not in set(results[1]["race_id"])


def test_k_bad_lines_set_aside(results: tuple[pd.DataFrame, ...]) -> None:
    """An unknown finish code and a truncated racer line are set aside with their reasons."""
    reasons = results[3]["reason"].tolist()
    assert "unknown finish code 'X9'" in reasons
    assert any(reason.startswith("truncated racer line") for reason in reasons)
    assert len(results[1][results[1]["race_id"] == "202604010503"]) == 6


def test_a_text_without_a_date_takes_the_given_one() -> None:
    """No date line: the date passed (from the file name) is used; none at all: set aside."""
    undated = "\r\n".join(line for line in RESULTS.splitlines() if "2026/" not in line)
    assert parse_k_text(undated, date(2026, 4, 1)).races["race_id"].iloc[0] == "202604010501"
    rejected = parse_k_text(undated).rejected
    assert rejected["reason"].str.contains("no date known").any()


def test_date_from_file_name() -> None:
    """B260401.TXT and k260401.lzh are 2026-04-01; other names have no date."""
    assert date_from_file_name("B260401.TXT") == date(2026, 4, 1)
    assert date_from_file_name("k260401.lzh") == date(2026, 4, 1)
    assert date_from_file_name("B261341.TXT") is None
    assert date_from_file_name("notes.txt") is None


def test_races_without_results() -> None:
    """A program race the results lack (a venue published late) is listed."""
    program = parse_b_text(PROGRAM).races
    results = parse_k_text(RESULTS).races
    assert races_without_results(program, results)["race_id"].tolist() == ["202604010512"]


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def stored_lzh(name: str, data: bytes) -> bytes:
    """A level-0 LHA archive holding ``data`` stored (-lh0-), built by hand for the test."""
    body = (
        b"-lh0-" + struct.pack("<IIIBB", len(data), len(data), 0x5C810000, 0x20, 0)
        + bytes([len(name)]) + name.encode() + struct.pack("<H", _crc16(data))
    )  # fmt: skip
    return bytes([len(body), sum(body) & 0xFF]) + body + data + b"\x00"


def test_reads_txt_and_lzh_in_cp932(tmp_path: Path) -> None:
    """A K day file reads the same from its .TXT (CP932) and from its .lzh archive."""
    raw = RESULTS.encode("cp932")
    (tmp_path / "K260401.TXT").write_bytes(raw)
    (tmp_path / "k260401.lzh").write_bytes(stored_lzh("K260401.TXT", raw))
    from_text = read_result_file(tmp_path / "K260401.TXT")
    from_archive = read_result_file(tmp_path / "k260401.lzh")
    pd.testing.assert_frame_equal(from_text.results, from_archive.results)
    assert len(from_text.results) == 18
    (tmp_path / "B260401.TXT").write_bytes(PROGRAM.encode("cp932"))
    assert len(read_program_file(tmp_path / "B260401.TXT").entries) == 6


def test_unreadable_archive_is_an_input_error(tmp_path: Path) -> None:
    """A broken archive or a missing file ends in one clear InputError."""
    (tmp_path / "k260401.lzh").write_bytes(b"not an archive")
    with pytest.raises(InputError, match=r"k260401\.lzh"):
        read_result_file(tmp_path / "k260401.lzh")
    with pytest.raises(InputError, match="cannot be read"):
        read_result_file(tmp_path / "K260402.TXT")
