"""The simulator's JRA circuit: JRA venues, turf and dirt, JRA classes, fields to 18, a JRA-like
market, the same fixed-width PC-KEIBA text; `raceday simulate --circuit jra` writes jvd_* files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from raceday.schema import NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import SimulatedDays, simulate_days

JRA = SimulatorConfig(circuit="jra", races_per_day=36)
# JV-Data code table 2007: 新馬, 未勝利, 1勝/2勝/3勝クラス (500万/1000万/1600万下), オープン.
JRA_CONDITION_CODES = {"701", "703", "005", "010", "016", "999"}


@pytest.fixture(scope="module")
def simulated() -> SimulatedDays:
    """Two months of JRA-like days, 36 races a day (~2,200 races)."""
    return simulate_days(date(2026, 9, 1), date(2026, 10, 31), JRA)


def test_jra_venues_tracks_and_distances(simulated: SimulatedDays, races: pd.DataFrame) -> None:
    """Venues 01-10 only, mostly turf (10-22) with dirt (23-29), 1000-3600 m, going by surface."""
    ra = simulated.raw.nvd_ra
    assert set(races["keibajo_code"]) == {f"{code:02d}" for code in range(1, 11)}
    track = ra["track_code"].astype(int)
    turf, dirt = track.between(10, 22), track.between(23, 29)
    assert (turf | dirt).all() and 0.5 < turf.mean() < 0.75
    assert races["distance_m"].between(1000, 3600).all()
    assert races["distance_m"].max() >= 3000 and races["distance_m"].min() <= 1200
    assert ra.loc[turf, "babajotai_code_shiba"].isin(["1", "2", "3", "4"]).all()
    assert (ra.loc[turf, "babajotai_code_dirt"] == "0").all()
    assert ra.loc[dirt, "babajotai_code_dirt"].isin(["1", "2", "3", "4"]).all()
    assert (ra.loc[dirt, "babajotai_code_shiba"] == "0").all()


def test_jra_classes_grades_and_fields(simulated: SimulatedDays, races: pd.DataFrame) -> None:
    """JRA classes as JRA-VAN writes them: the condition name blank, the class in the condition
    codes (the youngest age's, and each age's the race admits); G1-G3 grade codes on some open
    races; fields up to 18."""
    ra = simulated.raw.nvd_ra
    assert ra["kyoso_joken_meisho"].str.strip().eq("").all()
    codes = ra["kyoso_joken_code"]
    assert set(codes) == JRA_CONDITION_CODES
    young = ra["kyoso_shubetsu_code"] == "11"
    assert (ra.loc[young, "kyoso_joken_code_2sai"] == codes[young]).all()
    assert (ra.loc[young, "kyoso_joken_code_3sai"] == "000").all()
    for age in ("3sai", "4sai", "5sai_ijo"):
        assert (ra.loc[~young, f"kyoso_joken_code_{age}"] == codes[~young]).all()
    assert (ra.loc[~young, "kyoso_joken_code_2sai"] == "000").all()
    assert {"A", "B", "C"} <= set(ra["grade_code"]) <= {"A", "B", "C", " "}
    assert (codes[ra["grade_code"] != " "] == "999").all()
    assert set(races["class_code"]) == {"NEW", "MDN", "1W", "2W", "3W", "OP"}
    assert races["field_size"].max() == 18 and 13 <= races["entries"].mean() <= 16


def test_jra_market_and_times(races: pd.DataFrame, runners: pd.DataFrame) -> None:
    """Favourites win about a third of the races, ~20% takeout, turf faster than dirt."""
    starters = runners[runners["abnormal_code"] == 0]
    favourite = starters.loc[starters.groupby("race_id")["win_odds"].idxmin()]
    assert 0.28 <= (favourite["finish_pos"] == 1).mean() <= 0.38
    overround = (1.0 / starters["win_odds"]).groupby(starters["race_id"]).sum()
    assert 1.2 <= overround.median() <= 1.32
    winners = runners[runners["finish_pos"] == 1].merge(races, on="race_id")
    winners["turf"] = winners["track_code"].astype(int) <= 22
    at_1200 = winners[winners["distance_m"] == 1200].groupby("turf")["finish_time_s"].median()
    assert 68.0 < at_1200[True] < 71.0 < at_1200[False] < 74.0


def test_jra_tables_are_the_fixed_width_layout(simulated: SimulatedDays) -> None:
    """The jvd tables have the nvd layout (DESIGN: they share it), text of one width a column."""
    for frame, columns in (
        (simulated.raw.nvd_ra, NVD_RA_COLUMNS),
        (simulated.raw.nvd_se, NVD_SE_COLUMNS),
    ):
        assert tuple(frame.columns) == columns
        assert not frame.isna().any().any()
        assert (frame.apply(lambda column: column.str.len()).nunique() == 1).all()
    assert simulated.raw.nvd_ra["lap_time"].str.len().eq(75).all()


def test_simulate_command_writes_jvd_files(tmp_path: Path) -> None:
    """`raceday simulate --circuit jra` writes jvd_ra/jvd_se/jvd_o1 (and no nvd_* files)."""
    out = tmp_path / "jra"
    result = CliRunner().invoke(
        app,
        ["simulate", "--start", "2026-11-14", "--end", "2026-11-14", "--out", str(out),
         "--circuit", "jra"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "jvd_o1.csv", "jvd_ra.csv", "jvd_se.csv",
    ]  # fmt: skip
    ra = pd.read_csv(out / "jvd_ra.csv", dtype=str)
    assert len(ra) == 36 and set(ra["keibajo_code"]) <= {f"{code:02d}" for code in range(1, 11)}
    bad = CliRunner().invoke(
        app, ["simulate", "--start", "2026-11-14", "--end", "2026-11-14", "--out", str(out),
              "--circuit", "hk"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "--circuit" in bad.stderr
