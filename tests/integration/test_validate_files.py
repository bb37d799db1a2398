"""The files source as validation sees it: one consistent snapshot, parts set aside one by one,
Parquet numbers read back as PC-KEIBA text, and one clear line for what cannot be read."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import raceday.sources.files as files
from raceday.errors import InputError
from raceday.sources.base import RawDay
from raceday.sources.files import FilesSource, write_tables
from tests.data.make_bad_inputs import DAY, simulated


def small_day() -> RawDay:
    """The corpus day (three venues)."""
    return simulated(DAY)


def bump_mtime(path: Path) -> None:
    """Make a rewrite visible even within the filesystem's timestamp resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_file_rewritten_during_the_read_is_read_again_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer replacing nvd_se mid-read never mixes two versions: the read starts again."""
    raw = small_day()
    write_tables(raw, tmp_path)
    second = replace(
        raw,
        nvd_ra=raw.nvd_ra.assign(kyosomei_hondai="再発売"),
        nvd_se=raw.nvd_se.assign(bataiju="480"),
    )
    real_read = files.read_table_file
    rewrites: list[Path] = []

    def read_while_writer_runs(path: Path, known: tuple[str, ...]) -> pd.DataFrame:
        frame = real_read(path, known)
        if path.name == "nvd_ra.csv" and not rewrites:  # the writer rewrites everything now
            write_tables(second, tmp_path)
            bump_mtime(tmp_path / "nvd_ra.csv")
            rewrites.append(path)
        return frame

    monkeypatch.setattr(files, "read_table_file", read_while_writer_runs)
    read = FilesSource(tmp_path).read_days(DAY, DAY)
    assert rewrites, "the writer ran during the read"
    # Without the second read, nvd_ra would be the old version next to the new nvd_se.
    assert (read.nvd_se["bataiju"] == "480").all()
    assert (read.nvd_ra["kyosomei_hondai"] == "再発売").all()


def test_files_that_keep_changing_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every attempt sees a change, the input is refused with one line."""
    write_tables(small_day(), tmp_path)
    real_read = files.read_table_file

    def always_rewritten(path: Path, known: tuple[str, ...]) -> pd.DataFrame:
        frame = real_read(path, known)
        bump_mtime(tmp_path / "nvd_se.csv")
        return frame

    monkeypatch.setattr(files, "read_table_file", always_rewritten)
    with pytest.raises(InputError, match="kept changing while being read") as error:
        FilesSource(tmp_path).read_days(DAY, DAY)
    assert "\n" not in str(error.value)


def test_one_snapshot_serves_every_read_until_a_file_changes(tmp_path: Path) -> None:
    """Reading twice parses once; after a change the next read sees the new file."""
    raw = small_day()
    write_tables(raw, tmp_path)
    source = FilesSource(tmp_path)
    first = source.snapshot()
    assert source.snapshot() is first
    write_tables(replace(raw, nvd_ra=raw.nvd_ra.iloc[:10]), tmp_path)
    bump_mtime(tmp_path / "nvd_ra.csv")
    assert len(source.read_days(DAY, DAY).nvd_ra) == 10


def test_an_unreadable_part_is_set_aside_and_the_others_read(tmp_path: Path) -> None:
    """Per-venue subdirectories: a corrupt one is reported in `rejected`, the rest returned."""
    raw = small_day()
    venues = sorted(raw.nvd_ra["keibajo_code"].unique())
    for venue in venues:
        write_tables(
            RawDay(*(f[f["keibajo_code"] == venue] for f in (raw.nvd_ra, raw.nvd_se, raw.nvd_o1))),
            tmp_path / venue,
        )
    (tmp_path / venues[0] / "nvd_ra.csv").write_bytes(b"\x00\x01garbage\xff")
    read = FilesSource(tmp_path).read_days(DAY, DAY)
    assert [Path(item.location).name for item in read.rejected] == [venues[0]]
    assert "not UTF-8 or Shift-JIS" in read.rejected[0].reason
    assert set(read.nvd_ra["keibajo_code"]) == set(venues[1:])
    assert len(read.nvd_se) == (raw.nvd_se["keibajo_code"] != venues[0]).sum()


def test_a_single_unreadable_input_is_refused(tmp_path: Path) -> None:
    """With one part only, an unreadable table refuses the input (nothing would be left)."""
    write_tables(small_day(), tmp_path)
    (tmp_path / "nvd_ra.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"nvd_ra\.csv: is empty"):
        FilesSource(tmp_path).read_days(DAY, DAY)


def test_rows_of_a_date_that_does_not_exist_are_read_with_every_day(tmp_path: Path) -> None:
    """A 0231 race belongs to no day, so every read returns it for validation to report."""
    raw = small_day()
    ra = raw.nvd_ra.copy()
    ra.loc[0, "kaisai_tsukihi"] = "0231"
    write_tables(replace(raw, nvd_ra=ra), tmp_path)
    other_day = FilesSource(tmp_path).read_days(date(2026, 1, 5), date(2026, 1, 5))
    assert other_day.nvd_ra["kaisai_tsukihi"].tolist() == ["0231"]
    assert len(FilesSource(tmp_path).read_days(DAY, DAY).nvd_ra) == len(raw.nvd_ra)


def test_numeric_parquet_columns_read_back_as_pc_keiba_text(tmp_path: Path) -> None:
    """Integers lose no zero padding that decoding needs; NaN is missing; inf stays visible."""
    raw = small_day()
    se = raw.nvd_se.copy()
    times = pd.to_numeric(se["soha_time"]).astype("float64")
    times.iloc[0], times.iloc[1] = np.nan, np.inf
    se["soha_time"] = times
    se["umaban"] = pd.to_numeric(se["umaban"])
    raw.nvd_ra.to_parquet(tmp_path / "nvd_ra.parquet")
    se.to_parquet(tmp_path / "nvd_se.parquet")
    read = FilesSource(tmp_path).read_days(DAY, DAY).nvd_se
    assert pd.isna(read.loc[0, "soha_time"]) and read.loc[1, "soha_time"] == "inf"
    pd.testing.assert_series_equal(
        read["soha_time"].iloc[2:], raw.nvd_se["soha_time"].iloc[2:].astype("string"), False
    )
    assert read["umaban"].str.len().eq(2).all()


def test_a_truncated_last_line_leaves_its_fields_missing_not_blank(tmp_path: Path) -> None:
    """pandas pads a short line with blanks; the reader marks the absent fields as missing."""
    raw = small_day()
    write_tables(raw, tmp_path)
    path = tmp_path / "nvd_se.csv"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n")[:-200], encoding="utf-8")
    read = FilesSource(tmp_path).read_days(DAY, DAY).nvd_se
    assert read.iloc[-1].isna().any() and not read.iloc[:-1].isna().any().any()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ("ｶﾅ,ﾃｽﾄ\n".encode("cp932"), "its first line is not a PC-KEIBA header"),
        ("kaisai_nen".encode("utf-16"), r"not UTF-8 or Shift-JIS \(CP932\) text \(byte 0xff at "),
        (b"kaisai_nen;kaisai_tsukihi\n2026;1120\n", "split by semicolons"),
        (b"\xef\xbb\xbf", "is empty"),
    ],
)
def test_unreadable_files_say_why_in_one_line(tmp_path: Path, data: bytes, needle: str) -> None:
    """Encoding, delimiter and emptiness problems each name the file and what to do."""
    write_tables(small_day(), tmp_path)
    (tmp_path / "nvd_ra.csv").write_bytes(data)
    with pytest.raises(InputError, match=needle) as error:
        FilesSource(tmp_path).read_days(DAY, DAY)
    assert str(tmp_path / "nvd_ra.csv") in str(error.value) and "\n" not in str(error.value)
