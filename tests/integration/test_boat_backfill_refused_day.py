"""A boat backfill sets a day refused for its input aside and goes on, as the horse backfill
does (``raceday.run_status.DayRefusal``): the other days are stored exactly as a backfill of
the range without that day stores them, the day stores nothing and is not recorded, the
command ends with the refusal's exit code, and once its file is mended the same command runs
that day alone."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from config import use_store
from flows.boat import boat_backfill_run
from raceday.run_status import result_exit_code
from raceday.store.boat_models import BOAT_TABLES
from raceday.store.catalogs.boat import days_recorded
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tests.e2e.boat_cli_support import invoke, simulated_boat_files

START, END = date(2026, 4, 3), date(2026, 4, 6)
BAD = date(2026, 4, 4)  # the first chunk's last day
CHUNK_DAYS = 2
ONE_DAY = timedelta(days=1)
RUN_MOMENTS = ("decided_at",)  # when a bet was decided: the clock of the run, not the day's


@pytest.fixture(scope="module")
def boat_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of history, then the four days backfilled (3 venues x 12 races)."""
    return simulated_boat_files(tmp_path_factory.mktemp("boat"), "2026-04-01", str(END))


def _copy(boat_files: Path, folder: Path) -> Path:
    shutil.copytree(boat_files, folder)
    return folder


def _backfill(folder: Path, db: str, start: date = START) -> dict[str, Any]:
    with use_store(db):
        result: dict[str, Any] = boat_backfill_run(
            start=start, end=END, source=f"files:{folder}", chunk_days=CHUNK_DAYS
        )
    return result


def _boat_tables(db: str) -> dict[str, pd.DataFrame]:
    """Every boat table's rows in a stable order, without the moments of the run."""
    with make_engine(db).connect() as connection:
        tables = {name: read_rows(connection, table) for name, table in BOAT_TABLES.items()}
    return {
        name: frame.drop(columns=[c for c in RUN_MOMENTS if c in frame.columns])
        .astype(str)
        .sort_values(sorted(frame.columns.difference(RUN_MOMENTS)))
        .reset_index(drop=True)
        for name, frame in tables.items()
    }


def _recorded(db: str) -> set[date]:
    with make_engine(db).connect() as connection:
        return days_recorded(connection, START, END)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_day_whose_results_file_is_refused_is_set_aside_and_runs_alone_once_mended(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """The K file of a chunk's last day cut to nothing: the backfill runs the three other days
    and ends completed-with-refusals, exit 2, the day listed with its daily run's line (it
    stopped the backfill there, exit 2, before); the other days' boat tables equal a backfill
    of the range without the day's files, the day stores nothing and is not recorded; with
    the file restored the same command runs that day alone."""
    results_file = f"K{BAD:%y%m%d}.TXT"
    bad = _copy(boat_files, tmp_path / "bad")
    (bad / results_file).write_bytes(b"")
    without = _copy(boat_files, tmp_path / "without")
    for name in (f"B{BAD:%y%m%d}.TXT", results_file):
        (without / name).unlink()
    clean_db = f"sqlite:///{tmp_path / 'without.db'}"

    summary = _backfill(bad, sqlite_url)
    reason = f"{bad / results_file}: holds no race result (an empty or cut download?)"
    assert summary["days_refused"] == [{"date": str(BAD), "reason": reason, "exit_code": 2}]
    assert summary["status"] == "completed-with-refusals" and result_exit_code(summary) == 2
    assert (summary["days"], summary["days_run"], summary["days_skipped"]) == (4, 3, 0)
    assert _recorded(sqlite_url) == {START, date(2026, 4, 5), END}

    assert _backfill(without, clean_db)["days_run"] == 3
    stored, expected = _boat_tables(sqlite_url), _boat_tables(clean_db)
    assert all(len(expected[name]) for name in ("boat_races", "boat_predictions", "boat_course"))
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(stored[name], frame, obj=name)  # the bad day: no row

    shutil.copy(boat_files / results_file, bad / results_file)
    again = _backfill(bad, sqlite_url)
    assert (again["days_run"], again["days_skipped"], again["days_refused"]) == (1, 3, [])
    assert again["status"] == "completed" and result_exit_code(again) == 0
    assert _recorded(sqlite_url) == {START, BAD, date(2026, 4, 5), END}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_command_says_a_refused_day_in_its_daily_runs_line_and_exits_2_after_the_others(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """A day's B file saved as UTF-8: `raceday backfill --sport boat --json` runs the other two
    days, says the day on stderr in one line, its daily run's line prefixed by its date, lists
    it in the summary's ``days_refused`` and exits 2."""
    day = date(2026, 4, 5)
    folder = _copy(boat_files, tmp_path / "files")
    program = folder / f"B{day:%y%m%d}.TXT"
    program.write_bytes(program.read_bytes().decode("cp932").encode("utf-8"))
    source = ("--source", f"files:{folder}", "--db", sqlite_url)

    code, _stdout, daily_stderr = invoke("run", "--sport", "boat", "--date", str(day), *source)
    assert code == 2, daily_stderr
    daily_line = daily_stderr.strip().splitlines()[-1]
    assert daily_line.startswith("error: ") and "not CP932" in daily_line, daily_line

    code, stdout, stderr = invoke("backfill", "--sport", "boat", "--start", str(day - ONE_DAY),
                                  "--end", str(END), *source, "--json")  # fmt: skip
    assert code == 2, stderr
    assert f"{day}: {daily_line}" in stderr.splitlines(), stderr
    summary = json.loads(stdout)
    assert summary["days_run"] == 2 and summary["status"] == "completed-with-refusals"
    assert [refused["date"] for refused in summary["days_refused"]] == [str(day)]
