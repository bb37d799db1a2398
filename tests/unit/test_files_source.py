"""The files source on inputs as users have them: CP932 and CRLF, optional columns absent, JRA
tables, symlinks back to the directory, garbage refused at its header, bounded blocks, NULs."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import raceday.sources.files as files
from raceday.errors import InputError
from raceday.schema import NVD_RA_OPTIONAL, NVD_SE_OPTIONAL
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import (
    RawDay,
    days_with_races,
    lost_days,
    refuse_lost_days,
    rows_of_days,
    without_lost_days,
)
from raceday.sources.files import FilesSource, write_tables

DAY = date(2026, 11, 20)


@cache
def _day() -> RawDay:
    return simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw


def day() -> RawDay:
    """A small simulated day (four races); a copy, so a test may change it."""
    raw = _day()
    return RawDay(raw.nvd_ra.copy(), raw.nvd_se.copy(), raw.nvd_o1.copy())


def read(directory: Path) -> RawDay:
    return FilesSource(directory).read_days(DAY, DAY)


def assert_same_tables(left: RawDay, right: RawDay) -> None:
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(
            getattr(left, table).astype("string"), getattr(right, table).astype("string")
        )


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8", eol: str = "\n") -> None:
    path.write_bytes(frame.to_csv(index=False, lineterminator=eol).encode(encoding))


# --- 1. encodings --------------------------------------------------------------------------------


def test_cp932_and_crlf_files_read_as_their_utf8_twins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Japanese names in CP932 with CRLF line ends read exactly as the UTF-8 file; the encoding
    of each file is said in one INFO line."""
    raw = day()
    raw.nvd_se.loc[0, "bamei"] = "ハッピー①"  # ① exists in CP932, not in plain Shift-JIS
    write_tables(raw, tmp_path / "utf8")
    windows = tmp_path / "windows"
    windows.mkdir()
    write_csv(raw.nvd_ra, windows / "nvd_ra.csv", "cp932", "\r\n")
    write_csv(raw.nvd_se, windows / "nvd_se.csv", "cp932", "\r\n")
    (windows / "nvd_o1.csv").write_bytes(b"\xef\xbb\xbf" + raw.nvd_o1.to_csv(index=False).encode())
    with caplog.at_level(logging.INFO, logger="raceday.sources.files"):
        from_windows = read(windows)
    assert_same_tables(from_windows, read(tmp_path / "utf8"))
    assert from_windows.nvd_se.loc[0, "bamei"] == "ハッピー①"
    said = [record.getMessage() for record in caplog.records]
    assert sum("nvd_se.csv: read as CP932 (Shift-JIS)" in line for line in said) == 1
    assert sum("nvd_ra.csv: read as CP932 (Shift-JIS)" in line for line in said) == 1
    assert sum("nvd_o1.csv: read as UTF-8 with a byte-order mark" in line for line in said) == 1


def test_text_neither_utf8_nor_cp932_is_refused_naming_file_and_offset(tmp_path: Path) -> None:
    """A body byte that is no text in either encoding: one line with the file and its offset."""
    raw = day()
    write_tables(raw, tmp_path)
    path = tmp_path / "nvd_se.csv"
    data = path.read_bytes()
    offset = len(data) - 10
    path.write_bytes(data[:offset] + b"\xff\xfe" + data[offset + 2 :])
    with pytest.raises(InputError) as error:
        read(tmp_path)
    message = str(error.value)
    assert message == (
        f"{path}: not UTF-8 or Shift-JIS (CP932) text (byte 0xff at offset {offset})"
    )


@pytest.mark.parametrize("stray", [b"\xff", b"\x81\x2c", b"\x07"])
def test_a_cp932_file_with_one_stray_byte_is_refused_naming_that_byte(
    tmp_path: Path, stray: bytes
) -> None:
    """A Windows (CP932) export with one byte that is no CP932 text far into it: the line names
    that byte and its offset, not the file's first Japanese character (valid CP932, only not
    UTF-8), which is where the probe's refusal pointed (`byte 0x83 at offset 1006`)."""
    raw = day()
    write_csv(raw.nvd_ra, tmp_path / "nvd_ra.csv", "cp932", "\r\n")
    path = tmp_path / "nvd_se.csv"
    write_csv(raw.nvd_se, path, "cp932", "\r\n")
    data = path.read_bytes()
    name = raw.nvd_se["bamei"].iloc[-1].encode("cp932")
    offset = data.rindex(name) + 2  # inside the last horse's name, after its first character
    path.write_bytes(data[:offset] + stray + data[offset + 2 :])
    with pytest.raises(InputError) as error:
        read(tmp_path)
    assert str(error.value) == (
        f"{path}: not UTF-8 or Shift-JIS (CP932) text (byte 0x{stray[0]:02x} at offset {offset})"
    )


# --- 2. optional columns -------------------------------------------------------------------------


def test_an_export_without_the_optional_columns_is_read_with_them_blank(tmp_path: Path) -> None:
    """Race name, grade, weather, entries and horse name may be absent: they read as blank."""
    raw = day()
    write_tables(
        replace(
            raw,
            nvd_ra=raw.nvd_ra.drop(columns=list(NVD_RA_OPTIONAL)),
            nvd_se=raw.nvd_se.drop(columns=list(NVD_SE_OPTIONAL)),
        ),
        tmp_path,
    )
    got = read(tmp_path)
    for column in NVD_RA_OPTIONAL:
        assert (got.nvd_ra[column] == "").all()
    assert (got.nvd_se["bamei"] == "").all()
    assert list(got.nvd_ra.columns) == list(raw.nvd_ra.columns)


def test_a_required_column_missing_is_still_refused(tmp_path: Path) -> None:
    raw = day()
    write_tables(replace(raw, nvd_ra=raw.nvd_ra.drop(columns=["kyori"])), tmp_path)
    with pytest.raises(InputError, match=r"nvd_ra\.csv: lacks required column\(s\): kyori$"):
        read(tmp_path)


# --- 3. JRA tables -------------------------------------------------------------------------------


def test_jvd_tables_read_into_the_same_raw_day(tmp_path: Path) -> None:
    """A directory of jvd_ra / jvd_se / jvd_o1 (CSV or Parquet) reads like nvd_*."""
    raw = day()
    write_tables(raw, tmp_path / "nar")
    write_tables(raw, tmp_path / "jra_csv", prefix="jvd")
    write_tables(raw, tmp_path / "jra_parquet", "parquet", prefix="jvd")
    assert_same_tables(read(tmp_path / "jra_csv"), read(tmp_path / "nar"))
    assert_same_tables(read(tmp_path / "jra_parquet"), read(tmp_path / "nar"))


def test_nvd_and_jvd_in_one_directory_are_refused(tmp_path: Path) -> None:
    raw = day()
    write_tables(raw, tmp_path)
    write_tables(raw, tmp_path, prefix="jvd")
    with pytest.raises(InputError) as error:
        read(tmp_path)
    assert str(error.value) == (
        f"{tmp_path} holds both nvd_* (NAR) and jvd_* (JRA) tables: keep one circuit per directory"
    )


def test_parts_of_both_circuits_are_read_together(tmp_path: Path) -> None:
    """One part per circuit: JRA venue codes (01-10) and NAR's never collide."""
    raw = day()
    jra = RawDay(
        *(frame.assign(keibajo_code="05") for frame in (raw.nvd_ra, raw.nvd_se, raw.nvd_o1))
    )
    write_tables(raw, tmp_path / "nar")
    write_tables(jra, tmp_path / "jra", prefix="jvd")
    got = read(tmp_path)
    assert len(got.nvd_se) == 2 * len(raw.nvd_se) and not got.rejected
    assert set(got.nvd_ra["keibajo_code"]) == {"05", *raw.nvd_ra["keibajo_code"]}


# --- 5a/b. symlinks ------------------------------------------------------------------------------


def test_a_symlink_back_to_the_directory_is_not_read_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``self -> .`` and ``again -> part``: each directory is read once; the skips are logged."""
    raw = day()
    write_tables(raw, tmp_path)
    (tmp_path / "self").symlink_to(".")
    (tmp_path / "loop").symlink_to("loop")
    with caplog.at_level(logging.WARNING, logger="raceday.sources.files"):
        got = read(tmp_path)
    assert_same_tables(got, read_plain(raw, tmp_path.parent / "plain"))
    said = " | ".join(record.getMessage() for record in caplog.records)
    assert f"{tmp_path / 'self'} is {tmp_path} again (a symlink): skipped" in said
    assert f"{tmp_path / 'loop'} is a symlink loop: skipped" in said


def read_plain(raw: RawDay, directory: Path) -> RawDay:
    write_tables(raw, directory)
    return read(directory)


def test_a_part_linked_twice_is_read_once(tmp_path: Path) -> None:
    raw = day()
    write_tables(raw, tmp_path / "44")
    (tmp_path / "also44").symlink_to("44")
    got = read(tmp_path)
    assert len(got.nvd_se) == len(raw.nvd_se)


def test_a_table_that_is_a_symlink_to_itself_is_named_as_a_loop(tmp_path: Path) -> None:
    write_tables(day(), tmp_path)
    (tmp_path / "nvd_ra.csv").unlink()
    (tmp_path / "nvd_ra.csv").symlink_to("nvd_ra.csv")
    with pytest.raises(InputError) as error:
        read(tmp_path)
    assert str(error.value) == f"{tmp_path / 'nvd_ra.csv'} is a symlink loop"


# --- 5c. garbage refused at its header; bounded blocks -------------------------------------------


def test_garbage_is_refused_by_its_header_before_the_body_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """base64 text, then invalid bytes: refused as not a header (the body's bytes, which would
    fail decoding, are never looked at)."""
    write_tables(day(), tmp_path)
    path = tmp_path / "nvd_se.csv"
    path.write_bytes(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n" + b"\xff\xfe\x00" * 1000)
    detected: list[Path] = []
    real_detect = files.detect_encoding
    monkeypatch.setattr(
        files, "detect_encoding", lambda p, head: detected.append(p) or real_detect(p, head)
    )
    with pytest.raises(InputError) as error:
        read(tmp_path)
    assert str(error.value) == (
        f"{path}: its first line is not a PC-KEIBA header (no column name of nvd_se)"
    )
    assert path not in detected


def test_a_header_lacking_required_columns_is_refused_before_the_body(tmp_path: Path) -> None:
    write_tables(day(), tmp_path)
    path = tmp_path / "nvd_se.csv"
    path.write_bytes(b"kaisai_nen,bamei\n" + b"\x81\x00\xff" * 1000)
    with pytest.raises(InputError, match=r"nvd_se\.csv: lacks required column\(s\): kaisai_tsu"):
        read(tmp_path)


def test_a_first_line_without_end_is_refused_after_64_kib(tmp_path: Path) -> None:
    write_tables(day(), tmp_path)
    (tmp_path / "nvd_se.csv").write_bytes(b"A" * (files.HEAD_BYTES + 10))
    with pytest.raises(InputError, match="its first line is longer than 64 KiB"):
        read(tmp_path)


def test_a_body_of_garbage_after_a_valid_header_is_refused_early(tmp_path: Path) -> None:
    """Lines without commas (base64) are short records: past 100 the file is no table; one line
    without end past 64 KiB is no record."""
    raw = day()
    write_tables(raw, tmp_path)
    path = tmp_path / "nvd_se.csv"
    header = path.read_bytes().split(b"\n", 1)[0]
    path.write_bytes(header + b"\n" + b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n" * 500)
    with pytest.raises(InputError, match="more than 100 records hold fewer fields than its head"):
        read(tmp_path)
    path.write_bytes(header + b"\n" + b"Q" * (files.MAX_RECORD_CHARS + 1))
    with pytest.raises(InputError, match="holds a record longer than 64 KiB"):
        read(tmp_path)


def test_a_file_read_in_small_blocks_equals_the_file_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks end between records only: quoted fields holding commas and line ends, CRLF and a
    truncated last line read the same with 300-character blocks as whole."""
    raw = day()
    se = raw.nvd_se.copy()
    se.loc[1, "bamei"] = "A,B\nC"  # quoted, with a comma and a line end
    se.loc[5, "banushimei"] = 'say "hi"'
    write_tables(replace(raw, nvd_se=se), tmp_path)
    path = tmp_path / "nvd_se.csv"
    text = se.to_csv(index=False, lineterminator="\r\n")
    path.write_text(text[:-100], encoding="utf-8", newline="")  # the last record cut short
    whole = read(tmp_path)
    monkeypatch.setattr(files, "BLOCK_CHARS", 300)
    in_blocks = read(tmp_path)
    assert_same_tables(in_blocks, whole)
    assert in_blocks.nvd_se.loc[1, "bamei"] == "A,B\nC"
    assert (
        in_blocks.nvd_se.iloc[-1].isna().any() and not in_blocks.nvd_se.iloc[:-1].isna().any().any()
    )
    assert len(in_blocks.nvd_se) == len(se)


def with_a_trailing_field(frame: pd.DataFrame, path: Path, value: str = "") -> None:
    """``frame`` as CSV whose every data line (not the header) ends with one field more."""
    header, *lines = frame.to_csv(index=False).splitlines()
    path.write_text("\n".join([header, *(f"{line},{value}" for line in lines)]) + "\n")


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "a quoted field"])
def test_data_lines_ending_with_a_delimiter_read_as_without_it(
    tmp_path: Path, quoted: bool
) -> None:
    """Some tools end each data line with a delimiter the header lacks: pandas took the first
    field for the row's label and shifted every column (odds read as nothing, the day priced on
    final odds without a word). Read from the first field, the blank one past the header's
    dropped, every table equals the plain file's; a field past the header holding a value is
    refused in one line."""
    raw = day()
    if quoted:
        raw.nvd_se.loc[0, "bamei"] = "Comma, Horse"
    write_tables(raw, tmp_path / "plain")
    ended = tmp_path / "ended"
    ended.mkdir()
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        with_a_trailing_field(getattr(raw, table), ended / f"{table}.csv")
    assert_same_tables(read(ended), read(tmp_path / "plain"))
    with_a_trailing_field(raw.nvd_o1, ended / "nvd_o1.csv", value="7")
    with pytest.raises(InputError, match=r"nvd_o1.csv: records hold more fields than its header"):
        read(ended)


def test_an_end_of_file_mark_and_lines_of_empty_fields_are_no_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-Z after the last line (old DOS and Windows tools) and a line of delimiters only
    were each read as a record and quarantined, so a clean day ended with a warning; they are
    no records, and the empty lines are said in one line."""
    raw = day()
    write_tables(raw, tmp_path / "plain")
    marked = tmp_path / "marked"
    write_tables(raw, marked)
    runners = marked / "nvd_se.csv"
    header, *lines = runners.read_text().splitlines()
    empty = "," * (len(header.split(",")) - 1)
    runners.write_text("\n".join([header, lines[0], empty, *lines[1:], empty]) + "\n\x1a")
    (marked / "nvd_ra.csv").write_bytes((marked / "nvd_ra.csv").read_bytes() + b"\x1a")
    with caplog.at_level(logging.WARNING, logger="raceday.sources.files"):
        assert_same_tables(read(marked), read(tmp_path / "plain"))
    said = [record.getMessage() for record in caplog.records]
    assert any("nvd_se.csv: skipped 2 line(s) of empty fields only" in line for line in said)


def test_a_header_repeated_mid_file_is_no_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Monthly exports joined by ``cat`` repeat the header mid-file: it was read as a race
    (``kaisai_nen`` its id) quarantined on every day, and a runner and a snapshot of no day. A
    line equal to the header (in any case, spaces around names, quoted, after a byte-order
    mark, CRLF) is no record: every table reads as the plain file, with one warning per file
    naming its lines, across the file's blocks too."""
    raw = day()
    write_tables(raw, tmp_path / "plain")
    joined = tmp_path / "joined"
    write_tables(raw, joined)
    variants = {
        "nvd_ra": lambda header: [header],
        "nvd_se": lambda header: [header, '"' + header.upper().replace(",", '","') + '"\r'],
        "nvd_o1": lambda header: ["\ufeff" + header.replace(",", " , ")],
    }
    for table, repeats in variants.items():
        path = joined / f"{table}.csv"
        header, *lines = path.read_text(encoding="utf-8").splitlines()
        middle = len(lines) // 2
        path.write_text(
            "\n".join([header, *lines[:middle], *repeats(header), *lines[middle:]]) + "\n",
            encoding="utf-8",
        )
    plain = read(tmp_path / "plain")
    monkeypatch.setattr(files, "BLOCK_CHARS", 8000)  # nvd_se's repeats fall in a later block
    with caplog.at_level(logging.WARNING, logger="raceday.sources.files"):
        assert_same_tables(read(joined), plain)
    said = [record.getMessage() for record in caplog.records]
    ra, se, o1 = (len(getattr(raw, table)) // 2 + 2 for table in variants)
    assert said == [
        f"{joined / 'nvd_ra.csv'}: skipped 1 line(s) repeating its header (line {ra})",
        f"{joined / 'nvd_se.csv'}: skipped 2 line(s) repeating its header (lines {se}, {se + 1})",
        f"{joined / 'nvd_o1.csv'}: skipped 1 line(s) repeating its header (line {o1})",
    ]


def test_a_parse_error_names_its_line_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = day()
    write_tables(raw, tmp_path)
    path = tmp_path / "nvd_se.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[30] += ",extra"
    path.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(files, "BLOCK_CHARS", 2000)
    with pytest.raises(InputError, match=r"in line 31, saw"):
        read(tmp_path)


# --- 5d. NUL bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_nul_bytes_are_removed_with_a_warning_naming_file_and_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, file_format: str
) -> None:
    raw = day()
    se = raw.nvd_se.copy()
    se.loc[2, "bamei"] = "ab\x00c"
    se.loc[3, "bamei"] = "\x00x\x00"
    write_tables(replace(raw, nvd_se=se), tmp_path, file_format)
    with caplog.at_level(logging.WARNING, logger="raceday.sources.files"):
        got = read(tmp_path).nvd_se
    assert got.loc[2, "bamei"] == "abc" and got.loc[3, "bamei"] == "x"
    assert not got.astype("string").apply(lambda c: c.str.contains("\x00").any()).any()
    path = tmp_path / f"nvd_se.{file_format}"
    said = [record.getMessage() for record in caplog.records]
    assert said == [f"{path}: removed NUL bytes from 2 row(s)"]


def test_a_parquet_file_lacking_a_required_column_is_refused_from_its_footer(
    tmp_path: Path,
) -> None:
    raw = day()
    write_tables(replace(raw, nvd_se=raw.nvd_se.drop(columns=["umaban"])), tmp_path, "parquet")
    with pytest.raises(InputError, match=r"nvd_se\.parquet: lacks required column\(s\): umaban$"):
        read(tmp_path)


def test_garbage_named_parquet_is_refused_in_one_line(tmp_path: Path) -> None:
    write_tables(day(), tmp_path, "parquet")
    (tmp_path / "nvd_se.parquet").write_bytes(os.urandom(5000))
    with pytest.raises(InputError, match=r"nvd_se\.parquet: cannot be read: ") as error:
        read(tmp_path)
    assert "\n" not in str(error.value)


def test_a_parquet_column_of_lists_or_records_is_refused_in_one_line(tmp_path: Path) -> None:
    """A column written as lists (pandas writes a column of Python lists as list<string>) or as
    records is no PC-KEIBA field: one line naming it. It ended exit 5 (pyarrow's
    ArrowNotImplementedError casting it to text; the fuzz probe)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_tables(day(), tmp_path, "parquet")
    path = tmp_path / "nvd_se.parquet"
    written = pq.read_table(path)
    for column, values in (
        ("soha_time", lambda rows: pa.array([[value] for value in rows])),
        ("bamei", lambda rows: pa.array([{"name": value} for value in rows])),
    ):
        at = written.schema.get_field_index(column)
        changed = written.set_column(at, column, values(written.column(column).to_pylist()))
        pq.write_table(changed, path)
        with pytest.raises(InputError, match=rf"nvd_se\.parquet: column {column} holds "):
            read(tmp_path)


def test_every_snapshot_of_the_odds_timeline_is_read(tmp_path: Path) -> None:
    """The files source returns all of a race's nvd_o1 rows (09:00, before the close, final):
    which of them a decision may see is the card's business (raceday.sources.timeline)."""
    raw = day()
    assert raw.nvd_o1["happyo_tsukihi_jifun"].nunique() > raw.nvd_ra.shape[0]
    write_tables(raw, tmp_path)
    assert_same_tables(read(tmp_path), raw)


def test_columns_pandas_wrote_as_floats_read_as_whole_numbers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A column of whole numbers written as floats (``5.0``, blanks kept) reads as the numbers;
    a column with any other value (``1.5``, a name with a dot) is left as written."""
    raw = day()
    se = raw.nvd_se
    se["umaban"] = pd.to_numeric(se["umaban"]).astype("float64")  # 1.0, 2.0, ...
    se["corner_1"] = "3.0"
    se.loc[se.index[0], "corner_1"] = ""
    se.loc[se.index[1], "kohan_3f"] = "38.5"
    se["kishumei_ryakusho"] = "J.Moreira"
    write_tables(replace(raw, nvd_se=se), tmp_path)
    with caplog.at_level(logging.WARNING):
        read_back = files.read_table_file(tmp_path / "nvd_se.csv", "se")
    assert read_back["umaban"].tolist() == [str(int(u)) for u in se["umaban"]]
    assert read_back["corner_1"].tolist() == ["", *["3"] * (len(se) - 1)]
    assert read_back.loc[1, "kohan_3f"] == "38.5"
    assert (read_back["kishumei_ryakusho"] == "J.Moreira").all()
    assert "corner_1, umaban written as floats (12.0), read as whole numbers" in caplog.text


def test_file_and_column_names_in_upper_case_read_as_the_tables(tmp_path: Path) -> None:
    """``NVD_RA.CSV`` with ``KAISAI_NEN,...`` (and a Parquet file of such names) read as the
    tables in lower case; a column named twice in two cases is read from its first."""
    raw = day()
    write_tables(raw, tmp_path / "plain")
    shouting = tmp_path / "shouting"
    shouting.mkdir()
    write_csv(raw.nvd_ra.rename(columns=str.upper), shouting / "NVD_RA.CSV")
    se = raw.nvd_se.rename(columns=str.upper).assign(umaban="99")  # a second, later umaban
    write_csv(se, shouting / "Nvd_Se.csv")
    raw.nvd_o1.rename(columns=str.upper).to_parquet(shouting / "NVD_O1.Parquet", index=False)
    assert_same_tables(read(shouting), read(tmp_path / "plain"))


def test_two_files_of_one_table_in_two_cases_are_refused(tmp_path: Path) -> None:
    write_tables(day(), tmp_path)
    (tmp_path / "NVD_SE.CSV").write_bytes((tmp_path / "nvd_se.csv").read_bytes())
    with pytest.raises(InputError, match=r"holds both NVD_SE\.CSV and nvd_se\.csv: keep one"):
        read(tmp_path)


def test_a_dump_of_every_record_received_reads_as_the_latest_version_of_each(
    tmp_path: Path,
) -> None:
    """A tool that writes every record it receives holds a race's card (データ区分 2, made the day
    before) beside its results (7, made that night), in any order, and later a cancellation
    (9): each race and runner reads as its latest version, as PC-KEIBA's upserted tables hold
    it. Rows of one version are left for validation (copies and clashes)."""
    from raceday.sources.base import card_only

    raw = day()
    card = card_only(raw)
    eve = f"{DAY.replace(day=DAY.day - 1):%Y%m%d}"
    card = replace(
        card,
        nvd_ra=card.nvd_ra.assign(data_kubun="2", data_sakusei_nengappi=eve),
        nvd_se=card.nvd_se.assign(data_kubun="2", data_sakusei_nengappi=eve),
    )
    cancelled = raw.nvd_ra["race_bango"] == raw.nvd_ra["race_bango"].max()
    after = f"{DAY.replace(day=DAY.day + 1):%Y%m%d}"
    cancellation = raw.nvd_ra[cancelled].assign(data_kubun="9", data_sakusei_nengappi=after)
    dump = RawDay(
        pd.concat([raw.nvd_ra, cancellation, card.nvd_ra], ignore_index=True),
        pd.concat([raw.nvd_se, raw.nvd_se.head(1), card.nvd_se], ignore_index=True),
        raw.nvd_o1,
    )
    write_tables(dump, tmp_path)
    read_back = read(tmp_path)
    expected_ra = pd.concat([raw.nvd_ra[~cancelled], cancellation], ignore_index=True)
    assert sorted(read_back.nvd_ra.astype(str).itertuples(index=False)) == sorted(
        expected_ra.astype(str).itertuples(index=False)
    )
    expected_se = pd.concat([raw.nvd_se, raw.nvd_se.head(1)], ignore_index=True)
    assert sorted(read_back.nvd_se.astype(str).itertuples(index=False)) == sorted(
        expected_se.astype(str).itertuples(index=False)
    )  # the results' rows, the copy of one left for validation's row_not_repeated


# --- 10. one folder per day ----------------------------------------------------------------------

DAYS = (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1))


def folder_per_day(tmp_path: Path, names: dict[date, str] | None = None) -> Path:
    """Three simulated days, each in a folder of its own (named ``20261120``, or ``names``)."""
    raw = simulate_days(DAYS[0], DAYS[-1], SimulatorConfig(races_per_day=4)).raw
    for one in DAYS:
        name = (names or {}).get(one, f"{one:%Y%m%d}")
        write_tables(rows_of_days(raw, [one]), tmp_path / name)
    return tmp_path


def in_euc_jp(path: Path) -> None:
    """Rewrite a CSV file in EUC-JP (neither UTF-8 nor Shift-JIS: refused)."""
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.replace("\n", ",大井\n", 2).encode("euc_jp"))


def test_a_day_whose_folder_cannot_be_read_is_lost_not_a_day_without_races(
    tmp_path: Path,
) -> None:
    """One folder per day, DAY's runners in EUC-JP: its folder is set aside as DAY's input only
    (its races file tells the day), so reading DAY gives no row and says DAY cannot be read
    (no day without races), a range loses DAY alone, and the other days read as before."""
    folder = folder_per_day(tmp_path) / f"{DAY:%Y%m%d}"
    in_euc_jp(folder / "nvd_se.csv")
    source = FilesSource(tmp_path)

    day_read = source.read_days(DAY, DAY)
    assert day_read.is_empty
    [part] = day_read.rejected
    assert (part.location, part.days) == (str(folder), frozenset({DAY}))
    (line,) = lost_days(day_read, DAY, DAY).values()
    assert line.startswith(f"{DAY} cannot be read: its input is in {folder}, set aside: ")
    assert "nvd_se.csv: not UTF-8 or Shift-JIS (CP932) text" in line
    with pytest.raises(InputError, match=f"^{DAY} cannot be read"):
        refuse_lost_days(day_read, DAY, DAY)

    other = source.read_days(DAYS[0], DAYS[0])
    assert not other.rejected and days_with_races(other) == [DAYS[0]]
    kept, lost = without_lost_days(source.read_days(DAYS[0], DAYS[-1]), DAYS[0], DAYS[-1])
    assert list(lost) == [DAY]
    assert days_with_races(kept) == [DAYS[0], DAYS[-1]] and not kept.rejected


def test_a_folder_of_no_readable_table_is_dated_by_its_name_or_may_hold_any_day(
    tmp_path: Path,
) -> None:
    """Both tables of DAY's folder unreadable: a folder named after its day (2026-11-20) holds
    that day; one named otherwise may hold any day, so a day without a readable row is lost
    (not a day without races) while the days with rows go on, the folder set aside with them."""
    for name in ("2026-11-20", "broken"):
        directory = folder_per_day(tmp_path / name, {DAY: name})
        for table in ("nvd_ra.csv", "nvd_se.csv"):
            in_euc_jp(directory / name / table)
        source = FilesSource(directory)
        whole = source.read_days(DAYS[0], DAYS[-1])
        [part] = whole.rejected
        assert part.days == (frozenset({DAY}) if name != "broken" else None)
        assert list(lost_days(whole, DAYS[0], DAYS[-1])) == [DAY]
        kept, _lost = without_lost_days(whole, DAYS[0], DAYS[-1])
        assert kept.rejected == (() if name != "broken" else (part,))
        assert bool(source.read_days(DAYS[0], DAYS[0]).rejected) == (name == "broken")


@pytest.mark.parametrize("layout", ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M"])
def test_odds_stamps_re_saved_as_a_date_and_time_read_as_pc_keiba_writes_them(
    tmp_path: Path, layout: str
) -> None:
    """An odds table whose stamps a spreadsheet or a database client re-saved as a date and a
    time (``2026-12-03 13:40``) reads as the same timeline: every stamp was unreadable, so each
    race was sized on its final odds, known only after the close, at lead as in the morning."""
    raw = day()
    o1 = raw.nvd_o1.copy()
    year = o1["kaisai_nen"].astype(str)
    moments = pd.to_datetime(year + o1["happyo_tsukihi_jifun"].astype(str), format="%Y%m%d%H%M")
    o1["happyo_tsukihi_jifun"] = moments.dt.strftime(layout)
    write_tables(replace(raw, nvd_o1=o1), tmp_path)
    assert_same_tables(read(tmp_path), raw)


def test_a_sources_circuits_are_read_from_its_settings_and_its_tables_names(
    tmp_path: Path,
) -> None:
    """What a backfill's days are done for (``backfill_days.circuits``): the simulator's NAR,
    PC-KEIBA's circuits as set, a directory's by its tables (each part's), none where there is
    no directory (reading it says so)."""
    from raceday.sources.factory import source_circuits

    nar, jra = tmp_path / "both" / "nar", tmp_path / "both" / "jra"
    for folder, prefix in ((nar, "nvd"), (jra, "jvd")):
        folder.mkdir(parents=True)
        for table in ("ra", "se"):
            (folder / f"{prefix}_{table}.csv").write_text("x\n", encoding="utf-8")
    assert source_circuits("sim") == {"nar"}
    assert source_circuits("pckeiba", ("nar", "jra")) == {"nar", "jra"}
    assert source_circuits(f"files:{jra}") == {"jra"}
    assert source_circuits(f"files:{tmp_path / 'both'}") == {"nar", "jra"}
    assert source_circuits(f"files:{tmp_path / 'missing'}") == frozenset()
