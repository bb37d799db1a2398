"""What a boat day stores of a race its files break, the day run in process on simulated day
files (3 venues x 12 races) edited as real files come: a program race short of a boat (set
aside whole by the card) stores none of its K results; a K file cut inside a race's results
sets that race aside and says so (it vanished: no result, its bets open, no race left out)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from config import load_settings, use_store
from flows.boat import boat_day_chain
from raceday.store.boat_models import BOAT_TABLES
from raceday.store.catalogs.quality import read_quarantine
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tasks.common import in_process
from tests.e2e.boat_cli_support import simulated_boat_files

DAY = date(2026, 4, 2)
ENCODING = "cp932"


@pytest.fixture(scope="module")
def boat_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulated_boat_files(tmp_path_factory.mktemp("boat"), "2026-04-01", str(DAY))


def _edit(path: Path, edit: Any) -> None:
    path.write_bytes(edit(path.read_bytes().decode(ENCODING)).encode(ENCODING))


def _run_day(folder: Path, db: str) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    with use_store(db):
        settings = load_settings(source=f"files:{folder}")
        summary = boat_day_chain(in_process, settings, folder, DAY)
    with make_engine(db).connect() as connection:
        tables = {name: read_rows(connection, table) for name, table in BOAT_TABLES.items()}
        tables["quarantine"] = read_quarantine(connection, DAY, DAY)
    return summary, tables


def _without_boat_6_of_the_first_race(text: str) -> str:
    lines = text.split("\r\n")
    first_race = next(i for i, line in enumerate(lines) if "電話投票締切予定" in line)
    boat_6 = next(i for i in range(first_race, len(lines)) if lines[i].startswith("6 "))
    return "\r\n".join(lines[:boat_6] + lines[boat_6 + 1 :])


def _cut_in_the_last_race(text: str) -> str:
    """The file ends inside the last race's third result line (no END marker)."""
    last_header = text.rindex("12R ")
    third = text.index("\r\n  03 ", last_header)
    return text[: third + 20]


@pytest.mark.usefixtures("sqlite_schema")
def test_results_of_a_race_the_card_set_aside_are_not_stored(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """The day's and its warm-up's day (read by boat-history) alike."""
    folder = Path(shutil.copytree(boat_files, tmp_path / "files"))
    for program in folder.glob("B*.TXT"):
        _edit(program, _without_boat_6_of_the_first_race)
    summary, tables = _run_day(folder, sqlite_url)
    stored_races = set(tables["boat_races"]["race_id"])
    assert len(stored_races) == 2 * 35 and summary["races_left_out"] == 1
    for name in ("boat_results", "boat_payouts"):
        assert set(tables[name]["race_id"]) <= stored_races, name  # no result without its race
    quarantine = tables["quarantine"]
    said = quarantine[quarantine["stage"].eq("boat-results")]
    assert said["check_name"].str.contains("card set aside").sum() == 1


@pytest.mark.usefixtures("sqlite_schema")
def test_a_race_cut_in_its_results_is_a_race_set_aside(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    folder = Path(shutil.copytree(boat_files, tmp_path / "files"))
    _edit(folder / f"K{DAY:%y%m%d}.TXT", _cut_in_the_last_race)
    summary, tables = _run_day(folder, sqlite_url)
    assert summary["races_left_out"] == 1
    assert summary["warnings"][0].startswith("1 of 36 races quarantined"), summary["warnings"]
    bets = tables["boat_bets"]
    day_bets = bets[bets["race_date"].astype(str).str.startswith(str(DAY))]
    assert day_bets["settled"].all(), "no bet of the cut race stays open"


@pytest.mark.usefixtures("sqlite_schema")
def test_a_program_race_cut_in_its_boats_is_a_race_left_out(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """The B file ends inside its last race's boats: the race is left out of the day and
    counted as such (it was left out of the program's races and counted nowhere)."""
    folder = Path(shutil.copytree(boat_files, tmp_path / "files"))

    def cut(text: str) -> str:
        last_header = text.rindex("電話投票締切予定")
        return text[: text.index("\r\n3 ", last_header) + 20]

    _edit(folder / f"B{DAY:%y%m%d}.TXT", cut)
    summary, _tables = _run_day(folder, sqlite_url)
    assert (summary["races"], summary["races_left_out"]) == (35, 1)
    assert summary["warnings"][0].startswith("1 of 36 races quarantined"), summary["warnings"]
