"""`raceday run --sport boat` as a user runs it: simulated day files in, a day end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.boat_cli_support import invoke, simulated_boat_files

START, DAY = "2026-04-01", "2026-04-12"


@pytest.fixture(scope="module")
def boat_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 days of 3 venues x 12 races."""
    return simulated_boat_files(tmp_path_factory.mktemp("boat"), START, DAY)


@pytest.fixture
def short_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the tests not about the warm-up: a day warms up on its 3 days before, not all 11
    (each day of it read, validated and stored, and fitted on by the day's model)."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "3")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_an_earlier_days_refused_file_leaves_that_day_out_of_the_warm_up(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """An earlier day's K file cut to nothing: the day's warm-up leaves that day out and runs
    (it refused every later day, whose warm-up reads it: exit 2 until the file was removed)."""
    import shutil

    folder = tmp_path / "files"
    shutil.copytree(boat_files, folder)
    (folder / "K260405.TXT").write_bytes(b"")
    code, stdout, stderr = invoke("run", "--sport", "boat", "--date", DAY, "--source",
                                  f"files:{folder}", "--db", sqlite_url, "--json")  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout)["races"] == 36
    from raceday.store.catalogs.boat import days_with_results
    from raceday.store.engine import make_engine

    with make_engine(sqlite_url).connect() as connection:
        warmed = days_with_results(connection, date(2026, 4, 1), date(2026, 4, 11))
    assert date(2026, 4, 5) not in warmed and len(warmed) == 10


@pytest.mark.usefixtures("prefect_harness")
def test_a_boat_day_end_to_end_and_again(boat_files: Path, sqlite_url: str) -> None:
    """Exit 0; six probabilities per race (five where a boat was withdrawn before the odds)
    summing to 1; every bet settled and the money adds up; a rerun changes nothing."""
    args = ("run", "--sport", "boat", "--date", DAY, "--source", f"files:{boat_files}",
            "--db", sqlite_url, "--json")  # fmt: skip
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["races"] == 36 and summary["model_version"].startswith("boat-clogit-")
    assert summary["open_bets"] == 0 and summary["bets"] > 0
    for key in ("log_loss", "market_log_loss", "prior_log_loss", "model_log_loss"):
        assert 0 < summary[key] < summary["uniform_log_loss"]

    from raceday.store.boat_models import BOAT_TABLES
    from raceday.store.engine import make_engine
    from raceday.store.repository import read_rows

    with make_engine(sqlite_url).connect() as connection:
        predictions = read_rows(connection, BOAT_TABLES["boat_predictions"])
        bets = read_rows(connection, BOAT_TABLES["boat_bets"])
        counts = {name: len(read_rows(connection, table)) for name, table in BOAT_TABLES.items()}
    day = predictions[predictions["race_date"] == DAY]
    per_race = day.groupby("race_id")["p_final"].agg(["sum", "size"])
    np.testing.assert_allclose(per_race["sum"], 1.0, atol=1e-9)
    assert per_race["size"].between(5, 6).all() and (per_race["size"] == 6).mean() > 0.9
    assert (day["odds_at"] <= f"{DAY} 09:00").all()  # the morning's odds, never later ones
    _check_course_and_exotics(sqlite_url, day)
    assert bets["settled"].all()
    assert (bets["payout_yen"] + bets["refund_yen"] - bets["stake_yen"]).tolist() == (
        bets["pnl_yen"].tolist()
    )
    assert summary["staked_yen"] == bets["stake_yen"].sum()
    assert summary["returned_yen"] == (bets["payout_yen"] + bets["refund_yen"]).sum()
    assert summary["bankroll_yen"] == 1_000_000 + bets["pnl_yen"].sum()
    report = Path(summary["report"])
    assert report.name == f"boat-{DAY}.html" and report.with_suffix(".md").is_file()
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page and f"{summary['staked_yen']:,}" in page
    assert all(race_id in page for race_id in bets["race_id"])  # every bet listed

    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    with make_engine(sqlite_url).connect() as connection:
        again = {name: len(read_rows(connection, table)) for name, table in BOAT_TABLES.items()}
    assert again == counts
    assert json.loads(stdout)["bankroll_yen"] == summary["bankroll_yen"]

    code, stdout, stderr = invoke("eval", "model", "--sport", "boat", "--start", DAY, "--end",
                                  DAY, "--db", sqlite_url, "--json")  # fmt: skip
    assert code == 0, stderr
    evaluation = json.loads(stdout)
    assert evaluation["races"] == summary["scored_races"]
    assert evaluation["blend_log_loss"] == pytest.approx(summary["log_loss"])
    assert 0 < evaluation["model_pseudo_r2"] < 1


def _check_course_and_exotics(sqlite_url: str, predictions: pd.DataFrame) -> None:
    """The day's boat_course rows: one per predicted boat, finite, courses 1-6, a race's
    expected courses summing as its lanes; boat_exotics: 10 exacta and 10 trifecta per race,
    ranked by probability."""
    from raceday.store.catalogs import boat as catalog
    from raceday.store.engine import make_engine

    day = pd.Timestamp(DAY).date()
    with make_engine(sqlite_url).connect() as connection:
        course = catalog.read_course(connection, day, day)
        exotics = catalog.read_exotics(connection, day, day)
    assert len(course) == len(predictions)
    numbers = course.drop(columns=["race_id", "boat", "race_date", "racer_id"])
    assert np.isfinite(numbers.to_numpy(dtype="float64")).all()
    assert course["expected_course"].between(1, 6).all()
    sums = course.groupby("race_id")["expected_course"].sum()
    runners = course.groupby("race_id").size()
    np.testing.assert_allclose(sums, runners * (runners + 1) / 2, atol=1e-6)
    per_race = exotics.groupby(["race_id", "bet_type"]).size()
    assert (per_race == 10).all() and len(per_race) == 2 * predictions["race_id"].nunique()
    top = exotics[exotics["rank"] == 1].set_index(["race_id", "bet_type"])["probability"]
    assert (top >= exotics.groupby(["race_id", "bet_type"])["probability"].max() - 1e-12).all()


def test_bad_boat_input_is_one_line(tmp_path: Path, sqlite_url: str) -> None:
    """No directory, the wrong source, a day without its program, a program file that holds
    no race (empty, or its markers only): exit 2, one line."""
    stamp = DAY.replace("-", "")[2:]
    for name, content in (("empty", b""), ("markers", b"STARTB\r\nFINALB\r\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"B{stamp}.TXT").write_bytes(content)
    for source, day in ((f"files:{tmp_path / 'missing'}", DAY), ("sim", DAY),
                        (f"files:{tmp_path}", DAY), (f"files:{tmp_path / 'empty'}", DAY),
                        (f"files:{tmp_path / 'markers'}", DAY)):  # fmt: skip
        code, _stdout, stderr = invoke("run", "--sport", "boat", "--date", day,
                                       "--source", source, "--db", sqlite_url)  # fmt: skip
        assert code == 2, stderr
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    code, _stdout, stderr = invoke("run", "--sport", "horse", "--date", DAY, "--db", sqlite_url)
    assert code == 2 and "--sport" in stderr


def test_a_day_file_not_in_cp932_is_one_line(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """The day's K file saved as UTF-8, or empty; its B file as UTF-8 with a byte-order mark,
    or gzip-compressed: exit 2, one line naming the file and saying why, before Prefect. They
    ran: the K files completed with no result and no warning, the B files ended "nothing
    valid" (exit 4) or "holds no race"."""
    import gzip
    import shutil

    stamp = DAY.replace("-", "")[2:]
    program, results = f"B{stamp}.TXT", f"K{stamp}.TXT"
    text = {name: (boat_files / name).read_bytes().decode("cp932") for name in (program, results)}
    for case, name, content, says in (
        ("k-utf8", results, text[results].encode("utf-8"), "is UTF-8 text, not CP932"),
        ("k-empty", results, b"", "holds no race result"),
        ("b-bom", program, text[program].encode("utf-8-sig"), "with a byte-order mark"),
        ("b-gzip", program, gzip.compress(text[program].encode("cp932")), "gzip-compressed"),
    ):
        directory = tmp_path / case
        directory.mkdir()
        for copied in (program, results, "boat_odds.csv"):
            shutil.copy(boat_files / copied, directory / copied)
        (directory / name).write_bytes(content)
        code, _stdout, stderr = invoke("run", "--sport", "boat", "--date", DAY, "--source",
                                       f"files:{directory}", "--db", sqlite_url)  # fmt: skip
        assert code == 2, (case, stderr)
        assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, case
        assert name in stderr and says in stderr, (case, stderr)


def _corrupt(path: Path, pattern: str, replacement: str, nth: int = 0) -> None:
    """Rewrite the ``nth`` line (from 0) matching ``pattern`` (CP932 text, CRLF)."""
    import re

    text = path.read_bytes().decode("cp932")
    lines = text.split("\r\n")
    index = [i for i, line in enumerate(lines) if re.search(pattern, line)][nth]
    lines[index] = re.sub(pattern, replacement, lines[index], count=1)
    path.write_bytes("\r\n".join(lines).encode("cp932"))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "short_warm_up")
def test_a_broken_day_quarantines_and_never_crashes(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """A program line with an unknown class (race 1) and a result line with an unknown 着 code
    (a later race: a race broken in both files is one race left out): both lines quarantined,
    the program's race left out, the result's race set aside (its bets refunded); the last
    venue's block gone from the program: its results set aside with the reason; the day
    completed."""
    import re
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(boat_files, broken)
    stamp = DAY.replace("-", "")[2:]
    _corrupt(broken / f"B{stamp}.TXT", r"(\d\d)(A1|A2|B1|B2) ", r"\1C9 ")
    _corrupt(broken / f"K{stamp}.TXT", r"^  0[1-6]  ", "  X9  ", nth=6)  # past race 1's six
    program = broken / f"B{stamp}.TXT"
    text = program.read_bytes().decode("cp932")
    blocks = list(re.finditer(r"(\d\d)BBGN.*?\1BEND\r\n", text, re.S))
    program.write_bytes((text[: blocks[-1].start()] + text[blocks[-1].end() :]).encode("cp932"))
    code, stdout, stderr = invoke("run", "--sport", "boat", "--date", DAY, "--source",
                                  f"files:{broken}", "--db", sqlite_url, "--json")  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["races"] == 23 and summary["races_left_out"] == 2
    assert summary["quarantined"] >= 2 + 12 and summary["open_bets"] == 0
    # the monitor rules judge boat days too: a fifth of the program left out is an alert
    assert summary["status"] == "completed-with-warnings"
    assert [(alert["rule"], alert["scope"]) for alert in summary["alerts"]] == [
        ("quarantine_rate", "boat")
    ]
    assert summary["alerts"][0]["message"].startswith("boat racing: ")
    from sqlalchemy import create_engine, text

    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        orphans = connection.execute(
            text("SELECT count(*) FROM quarantine WHERE detail LIKE '%not in the B file'")
        ).scalar_one()
    engine.dispose()
    assert orphans == 12  # the removed venue's races, each set aside with the reason


@pytest.mark.usefixtures("prefect_harness", "short_warm_up")
def test_a_program_of_another_day_is_nothing_valid_and_stores_no_race(
    boat_files: Path, tmp_path: Path, sqlite_url: str
) -> None:
    """The day's B file holding another day's program (a download saved under the wrong name):
    every line rejected, so nothing valid (exit 4, one line) and no race of the day stored. It
    completed with 0 races (the second fuzz probe)."""
    import shutil

    from sqlalchemy import create_engine, text

    wrong = tmp_path / "wrong"
    shutil.copytree(boat_files, wrong)
    stamp = DAY.replace("-", "")[2:]
    other = sorted(path for path in wrong.glob("B*.TXT") if path.name != f"B{stamp}.TXT")[0]
    shutil.copy(other, wrong / f"B{stamp}.TXT")
    code, _stdout, stderr = invoke("run", "--sport", "boat", "--date", DAY, "--source",
                                   f"files:{wrong}", "--db", sqlite_url)  # fmt: skip
    assert code == 4, stderr
    assert "Traceback" not in stderr  # in-process, the run's log lines come before its end
    assert stderr.strip().splitlines()[-1].startswith("error: nothing valid left for 2026-")
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM boat_races WHERE race_id LIKE :day"),
            {"day": DAY.replace("-", "") + "%"},
        ).scalar_one()
    engine.dispose()
    assert stored == 0


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "short_warm_up")
def test_a_boat_backfill_runs_each_day_once(boat_files: Path, sqlite_url: str) -> None:
    """Three days in date order, then the same range again: every day skipped."""
    args = ("backfill", "--sport", "boat", "--start", "2026-04-10", "--end", DAY,
            "--source", f"files:{boat_files}", "--db", sqlite_url, "--json")  # fmt: skip
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    first = json.loads(stdout)
    assert first["days_run"] == 3 and first["races"] == 3 * 36
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    assert json.loads(stdout)["days_skipped"] == 3
