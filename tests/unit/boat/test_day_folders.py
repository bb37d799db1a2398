"""Day files kept in subfolders, as users keep the official downloads: each archive unpacked
into a folder of its own (``b241201/B241201.TXT``), or sorted by month (``2412/…``). They
were not found (``no program file B241201.TXT``, exit 2); a day's file found twice with other
bytes is refused in one line naming both, identical copies are one file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from raceday.boat.source import check_day_files, program_days, read_boat_days
from raceday.errors import InputError
from tests.unit.boat.excerpts import PROGRAM, RESULTS
from tests.unit.boat.test_files import stored_lzh

DAY = date(2026, 4, 1)
B_BYTES, K_BYTES = PROGRAM.encode("cp932"), RESULTS.encode("cp932")


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("program", "results"),
    [
        ("2604/B260401.TXT", "2604/K260401.TXT"),  # sorted by month
        ("b260401/B260401.TXT", "k260401/k260401.txt"),  # an archive per folder
        ("2026/04/b260401.Txt", "2026/04/K260401.lzh"),  # deeper, any case, still archived
    ],
)
def test_day_files_in_subfolders_are_found(tmp_path: Path, program: str, results: str) -> None:
    _write(tmp_path / program, B_BYTES)
    archived = stored_lzh("K260401.TXT", K_BYTES)
    _write(tmp_path / results, archived if results.endswith(".lzh") else K_BYTES)
    check_day_files(tmp_path, DAY)
    assert program_days(tmp_path) == [DAY]
    (day,) = read_boat_days(tmp_path, [DAY])
    assert len(day.program.races) == 2 and len(day.results.results) == 18


def test_a_day_file_found_twice_is_one_file_when_identical_and_refused_when_not(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "B260401.TXT", B_BYTES)
    _write(tmp_path / "b260401" / "B260401.TXT", B_BYTES)
    _write(tmp_path / "k260401.lzh", stored_lzh("K260401.TXT", K_BYTES))
    _write(tmp_path / "k260401" / "K260401.TXT", K_BYTES)  # the archive unpacked beside it
    check_day_files(tmp_path, DAY)
    assert program_days(tmp_path) == [DAY]

    other = _write(tmp_path / "2604" / "K260401.TXT", K_BYTES.replace(b"1.49.8", b"1.50.1"))
    with pytest.raises(InputError) as twice:
        check_day_files(tmp_path, DAY)
    said = str(twice.value)
    assert "\n" not in said and str(other) in said and "differ" in said
    assert (
        str(tmp_path / "k260401.lzh") in said or str(tmp_path / "k260401" / "K260401.TXT") in said
    )
    with pytest.raises(InputError, match="differ"):
        read_boat_days(tmp_path, [DAY])
