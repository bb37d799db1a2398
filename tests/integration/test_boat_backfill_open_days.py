"""A boat backfill re-run repairs the days it left incomplete: a day recorded with bets still
open (its results not in: no K file) is not done, and the next backfill over it runs it again
and settles it; the summary warns of the days left open, of a day with a K file but no B file
(not run), and of later days sized before a day run after them."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config import use_store
from flows.boat import boat_backfill_run
from raceday.store.catalogs.boat import BETS, days_recorded
from raceday.store.engine import make_engine
from tests.e2e.boat_cli_support import simulated_boat_files

START, END = date(2026, 4, 3), date(2026, 4, 7)  # after 9 days of history: a model bets
NO_RESULTS = date(2026, 4, 4)  # its K file not in yet at the first run
NO_PROGRAM = date(2026, 4, 5)  # a K file, but its B file not in yet
LAST = END  # the month's last day: no K file yet


def _name(kind: str, day: date) -> str:
    return f"{kind}{day:%y%m%d}.TXT"


def _backfill(folder: Path, db: str) -> dict[str, Any]:
    with use_store(db):
        result: dict[str, Any] = boat_backfill_run(
            start=START, end=END, source=f"files:{folder}", chunk_days=2
        )
    return result


def _open_bet_days(db: str) -> set[date]:
    with make_engine(db).connect() as connection:
        rows = connection.execute(select(BETS.c.race_date).where(BETS.c.settled.is_(False)))
        return {row[0] for row in rows}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_rerun_runs_again_the_days_left_open_and_the_day_without_its_program(
    tmp_path: Path, sqlite_url: str
) -> None:
    whole = simulated_boat_files(tmp_path / "whole", "2026-03-25", str(END))
    folder = tmp_path / "files"
    shutil.copytree(whole, folder)
    for path in (_name("K", NO_RESULTS), _name("K", LAST), _name("B", NO_PROGRAM)):
        (folder / path).unlink()

    first = _backfill(folder, sqlite_url)
    assert (first["days"], first["days_run"], first["days_skipped"]) == (4, 4, 0)
    assert _open_bet_days(sqlite_url) == {NO_RESULTS, LAST}
    assert first["status"] == "completed-with-warnings", first
    open_line = next(line for line in first["warnings"] if "left open" in line)
    assert f"{NO_RESULTS}, {LAST}" in open_line and "re-run the same command" in open_line
    program_line = next(line for line in first["warnings"] if "no B file" in line)
    assert str(NO_PROGRAM) in program_line and "not run" in program_line

    for path in (_name("K", NO_RESULTS), _name("K", LAST), _name("B", NO_PROGRAM)):
        shutil.copy(whole / path, folder / path)
    again = _backfill(folder, sqlite_url)
    assert (again["days_run"], again["days_skipped"], again["days_reopened"]) == (3, 2, 2)
    assert _open_bet_days(sqlite_url) == set()
    with make_engine(sqlite_url).connect() as connection:
        assert days_recorded(connection, START, END) == {
            START + timedelta(days=offset) for offset in range(5)
        }
    assert again["status"] == "completed-with-warnings", again
    replayed = next(line for line in again["warnings"] if "replayed" in line)
    assert f"2 days recorded with bets open replayed ({NO_RESULTS}, {LAST})" in replayed
    sized = next(line for line in again["warnings"] if "sized before" in line)
    assert f"1 later day ({START + timedelta(days=3)})" in sized and str(NO_RESULTS) in sized

    third = _backfill(folder, sqlite_url)
    assert (third["days_run"], third["days_skipped"], third["status"]) == (0, 5, "completed")
