"""A day file that is not CP932 text (saved again as UTF-8, with or without a byte-order mark;
compressed) is refused in one line naming the file, where it was decoded as CP932 anyway and
read as a day without results (K) or nothing valid (B); an empty K file is refused as an
empty B file is. CP932 files read alike with CRLF, LF and lone CR line ends."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from raceday.boat.files import parse_k_text, read_program_file, read_result_file
from raceday.boat.source import check_day_files, read_results, readable_result_day
from raceday.errors import InputError
from tests.unit.boat.excerpts import PROGRAM, RESULTS


@pytest.mark.parametrize(
    ("encoded", "says"),
    [
        (lambda text: text.encode("utf-8"), "is UTF-8 text, not CP932"),
        (lambda text: text.encode("utf-8-sig"), "UTF-8 text with a byte-order mark"),
        (lambda text: text.encode("utf-16"), "UTF-16 text"),
        (lambda text: gzip.compress(text.encode("cp932")), "gzip-compressed, not CP932"),
    ],
)
def test_a_day_file_not_in_cp932_is_one_input_error(tmp_path: Path, encoded, says) -> None:  # type: ignore[no-untyped-def]
    for name, text, read in (("B260401.TXT", PROGRAM, read_program_file),
                             ("K260401.TXT", RESULTS, read_result_file)):  # fmt: skip
        path = tmp_path / name
        path.write_bytes(encoded(text))
        with pytest.raises(InputError) as refused:
            read(path)
        message = str(refused.value)
        assert message.startswith(str(path)) and says in message and "\n" not in message


def test_cp932_reads_alike_with_any_line_end(tmp_path: Path) -> None:
    """CRLF (as downloaded), LF and lone CR: the same races, results and payouts."""
    read = []
    for end in ("\r\n", "\n", "\r"):
        path = tmp_path / "K260401.TXT"
        path.write_bytes(RESULTS.replace("\r\n", end).encode("cp932"))
        read.append(read_result_file(path))
    for other in read[1:]:
        for mine, theirs in zip(read[0], other, strict=True):
            pd.testing.assert_frame_equal(mine, theirs)
    assert len(read[0].results) == 18


def test_an_empty_k_file_is_refused_and_a_missing_one_is_not(tmp_path: Path) -> None:
    """0 bytes or its markers only: a failed download (one line); no K file at all: results not
    published yet, the day runs."""
    (tmp_path / "B260401.TXT").write_bytes(PROGRAM.encode("cp932"))
    day = pd.Timestamp("2026-04-01").date()
    check_day_files(tmp_path, day)
    for content in (b"", b"STARTK\r\nFINALK\r\n"):
        (tmp_path / "K260401.TXT").write_bytes(content)
        with pytest.raises(InputError, match=r"K260401\.TXT: holds no race result"):
            check_day_files(tmp_path, day)
    (tmp_path / "K260401.TXT").write_bytes(RESULTS.encode("cp932"))
    assert len(read_results(tmp_path / "K260401.TXT").races) == 4


def test_a_trailing_dos_end_of_file_byte_is_ignored(tmp_path: Path) -> None:
    """A 0x1A (DOS end of file) after the last line, as old tools write it, is no line: it
    was set aside as garbage outside any venue block (a quarantined row of an invisible
    character)."""
    for name, text, read in (("B260401.TXT", PROGRAM, read_program_file),
                             ("K260401.TXT", RESULTS, read_result_file)):  # fmt: skip
        path = tmp_path / name
        path.write_bytes(text.encode("cp932") + b"\x1a")
        clean = tmp_path / f"clean-{name}"
        clean.write_bytes(text.encode("cp932"))
        for mine, theirs in zip(read(path), read(clean), strict=True):
            pd.testing.assert_frame_equal(mine, theirs)


def test_a_quarantined_line_shows_its_control_characters() -> None:
    """The quarantine's detail of a line set aside shows a control character as ``\\x1a``,
    not as nothing."""
    from datetime import date

    from data_checks.boat import rejected_lines

    rejected = pd.DataFrame(
        {"line_number": pd.array([7], dtype="Int64"), "line": ["ab\x1a\x00c\u3000"],
         "reason": ["outside any venue block"]}
    )  # fmt: skip
    detail = rejected_lines(rejected, "boat_results", date(2026, 4, 1))["detail"].iloc[0]
    assert detail == "line 7: ab\\x1a\\x00c\u3000"


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html>\r\n<html><head><title>404 Not Found</title></head>\r\n"
        b"<body><h1>Not Found</h1></body></html>\r\n",
        PROGRAM.encode("cp932"),  # a B file saved under the K name
    ],
)
def test_a_k_file_with_no_readable_race_result_is_refused(tmp_path: Path, content: bytes) -> None:
    """A saved 404 page, or a program under the K name: no race result can be read from it. It
    is refused as an empty K file is (one line): before, its lines were quarantined and the day
    ran with no result, its bets open (completed in a backfill, without a word)."""
    (tmp_path / "B260401.TXT").write_bytes(PROGRAM.encode("cp932"))
    (tmp_path / "K260401.TXT").write_bytes(content)
    with pytest.raises(InputError, match=r"K260401\.TXT: holds no race result") as refused:
        check_day_files(tmp_path, pd.Timestamp("2026-04-01").date())
    assert "\n" not in str(refused.value)


def test_a_k_file_of_cancelled_races_only_is_read() -> None:
    """Every race called off (中止) is a day with no result to read, not a broken file."""
    lines = RESULTS.splitlines()
    first_race = next(i for i, line in enumerate(lines) if line.startswith("   1R "))
    called_off = "\r\n".join([*lines[:first_race], "  ＊＊＊　１Ｒ以降　中止　＊＊＊", "05KEND",
                              "FINALK", ""])  # fmt: skip
    day = parse_k_text(called_off, pd.Timestamp("2026-04-01").date())
    assert day.results.empty and readable_result_day(day)
