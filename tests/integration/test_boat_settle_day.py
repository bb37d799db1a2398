"""A morning-then-evening boat operator: the morning run (B file in, K files of the day and the
day before not yet) decides and stakes; the evening's ``--settle`` run (the K files now in)
settles the bets as placed, never decided again on the history now in hand, and a second
settle run changes nothing. A day never decided, or without its K file, is refused in one line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from config import load_settings, use_store
from flows.boat import boat_day_chain, boat_settle_chain
from raceday.errors import InputError
from raceday.store.catalogs.boat import BETS
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tasks.common import in_process
from tests.e2e.boat_cli_support import invoke, simulated_boat_files

DAY = date(2026, 4, 4)  # after 9 days of history: a model bets
DAY_BEFORE = date(2026, 4, 3)  # its K file in only in the evening: the history then grows
PLACED = ["race_id", "boat", "stake_yen", "odds_at_bet", "p_final"]


def _k_file(day: date) -> str:
    return f"K{day:%y%m%d}.TXT"


def _bets(db: str) -> pd.DataFrame:
    with make_engine(db).connect() as connection:
        bets = read_rows(connection, BETS)
    return bets.sort_values(["race_id", "boat"], ignore_index=True)


def _run(chain: Any, folder: Path, db: str, day: date = DAY) -> dict[str, Any]:
    with use_store(db):
        settings = load_settings(source=f"files:{folder}")
        summary: dict[str, Any] = chain(in_process, settings, folder, day)
    return summary


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_evening_settles_the_morning_bets_as_placed(tmp_path: Path, sqlite_url: str) -> None:
    whole = simulated_boat_files(tmp_path / "whole", "2026-03-25", str(DAY))
    folder = tmp_path / "files"
    shutil.copytree(whole, folder)
    for day in (DAY_BEFORE, DAY):
        (folder / _k_file(day)).unlink()

    morning = _run(boat_day_chain, folder, sqlite_url)
    placed = _bets(sqlite_url)
    assert morning["bets"] > 0 and morning["open_bets"] == morning["bets"]
    assert not placed["settled"].any()

    for day in (DAY_BEFORE, DAY):
        shutil.copy(whole / _k_file(day), folder / _k_file(day))
    evening = _run(boat_settle_chain, folder, sqlite_url)
    settled = _bets(sqlite_url)
    pd.testing.assert_frame_equal(settled[PLACED], placed[PLACED])
    assert settled["settled"].all() and evening["open_bets"] == 0
    assert (evening["bets"], evening["staked_yen"]) == (morning["bets"], morning["staked_yen"])
    assert evening["settled_as_placed"] is True

    again = _run(boat_settle_chain, folder, sqlite_url)
    pd.testing.assert_frame_equal(_bets(sqlite_url), settled)
    assert again["bankroll_yen"] == evening["bankroll_yen"]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_day_never_decided_or_without_its_results_is_refused(
    tmp_path: Path, sqlite_url: str
) -> None:
    whole = simulated_boat_files(tmp_path / "whole", "2026-04-01", "2026-04-02")
    with pytest.raises(InputError, match="was not decided"):
        _run(boat_settle_chain, whole, sqlite_url, date(2026, 4, 2))
    (whole / _k_file(date(2026, 4, 2))).unlink()
    with pytest.raises(InputError, match=r"no results file K260402\.TXT"):
        _run(boat_settle_chain, whole, sqlite_url, date(2026, 4, 2))
    assert _bets(sqlite_url).empty


def test_the_command_refuses_a_settle_without_results_or_of_a_horse_day_never_decided(
    tmp_path: Path, sqlite_url: str
) -> None:
    files = simulated_boat_files(tmp_path / "files", "2026-04-02", "2026-04-02")
    (files / _k_file(date(2026, 4, 2))).unlink()
    code, _stdout, stderr = invoke("run", "--sport", "boat", "--date", "2026-04-02", "--source",
                                   f"files:{files}", "--db", sqlite_url, "--settle")  # fmt: skip
    assert code == 2 and "no results file K260402.TXT for 2026-04-02" in stderr
    assert len(stderr.strip().splitlines()) == 1
    code, _stdout, stderr = invoke("run", "--date", "2026-04-02", "--settle", "--db", sqlite_url)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "no decision stored for 2026-04-02: nothing placed to settle" in stderr
