"""The `raceday` command as a user runs it: a simulated day end to end, replay from files,
idempotency, and one clear line for bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app

DAY = "2026-11-20"
runner = CliRunner()


@pytest.fixture
def small_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 60-race day and 14 days of warm-up history keep the run quick."""
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", "60")
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "14")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def export(table: str, db: str) -> pd.DataFrame:
    code, stdout, stderr = invoke("export", table, "--start", DAY, "--end", DAY, "--db", db)
    assert code == 0, stderr
    return pd.read_csv(io.StringIO(stdout), dtype={"race_id": str})


def row_counts(db: str) -> dict[str, int]:
    from raceday.store.engine import make_engine
    from raceday.store.models import Base
    from raceday.store.repository import read_rows

    with make_engine(db).connect() as connection:
        return {
            name: len(read_rows(connection, table)) for name, table in Base.metadata.tables.items()
        }


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_world")
def test_run_a_day_twice_is_idempotent(sqlite_url: str) -> None:
    """`raceday run --json` reports the day; predictions sum to 1 per race; a rerun adds nothing."""
    code, stdout, stderr = invoke(
        "run", "--date", DAY, "--races", "30", "--db", sqlite_url, "--json"
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    for key in (
        "date",
        "races",
        "runners",
        "quarantined",
        "bets",
        "staked_yen",
        "returned_yen",
        "bankroll_yen",
        "hit_rate",
        "log_loss",
        "market_log_loss",
        "status",
    ):
        assert key in summary
    assert summary["date"] == DAY and summary["status"] == "completed"
    assert summary["races"] == 30 and summary["races_offered"] >= 30
    assert summary["model_version"] == "market-v1"
    assert summary["bets"] == 0, "the market's own probabilities have no edge"
    assert Path(summary["report"]).is_file()

    predictions = export("predictions", sqlite_url)
    assert predictions["race_id"].nunique() == 30
    sums = predictions.groupby("race_id")["p_final"].sum()
    assert (sums - 1).abs().max() < 1e-9
    assert {"race_id", "umaban", "p_market", "p_final", "model_version"} <= set(predictions)
    first3f = export("first3f", sqlite_url)
    assert {"race_id", "umaban", "first3f_s", "method"} <= set(first3f)
    assert first3f["method"].notna().all()
    # a table by the name the store and the docs give it, as by its export name
    by_stored_name = export("rolling_performance", sqlite_url)
    pd.testing.assert_frame_equal(by_stored_name, export("rolling", sqlite_url))
    assert {"span", "hit_rate", "expected_hit_rate"} <= set(by_stored_name)

    counts = row_counts(sqlite_url)
    code, stdout, stderr = invoke(
        "run", "--date", DAY, "--races", "30", "--db", sqlite_url, "--json"
    )
    assert code == 0, stderr
    assert row_counts(sqlite_url) == counts
    assert json.loads(stdout)["races"] == 30


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_world")
def test_replay_from_simulated_files_gives_the_same_races(tmp_path: Path) -> None:
    """`raceday simulate` then `raceday run --source files:DIR` stores the same races."""
    files = tmp_path / "files"
    code, _stdout, stderr = invoke(
        "simulate",
        "--start",
        "2026-11-06",
        "--end",
        DAY,
        "--out",
        str(files),
        "--races-per-day",
        "60",
    )
    assert code == 0, stderr
    assert (files / "nvd_ra.csv").is_file() and (files / "nvd_se.csv").is_file()

    sim_db = f"sqlite:///{tmp_path / 'sim.db'}"
    files_db = f"sqlite:///{tmp_path / 'files.db'}"
    assert invoke("run", "--date", DAY, "--db", sim_db, "--json")[0] == 0
    code, _stdout, stderr = invoke(
        "run", "--date", DAY, "--db", files_db, "--source", f"files:{files}", "--json"
    )
    assert code == 0, stderr
    for table in ("races", "runners"):
        from_sim = export(table, sim_db).drop(columns=["source"], errors="ignore")
        from_files = export(table, files_db).drop(columns=["source"], errors="ignore")
        pd.testing.assert_frame_equal(from_sim, from_files)


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["run", "--date", "2026-13-45"], 2, "not a date"),
        (["run", "--date", "20261120"], 2, "not a date"),
        (["run", "--source", "files:/no/such/dir"], 2, "does not exist"),
        (["run", "--source", "carrier-pigeon"], 2, "invalid setting source: unknown source"),
        (["run", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"], 3, "cannot reach"),
        (["run", "--db", "not a url"], 3, "not a database URL"),
        (["run", "--db", "sqlite:////no/such/dir/x.db"], 2, "does not exist, nor does /no/such"),
        (["live", "--date", "2025-01-01"], 2, "add --replay"),
        (["export", "bogus", "--start", DAY, "--end", DAY], 2, "unknown table"),
        (["export", "races", "--start", DAY, "--end", "2026-11-01"], 2, "is before --start"),
        (["simulate", "--start", DAY, "--end", "2026-11-01", "--out", "x"], 2, "before"),
        (["backfill", "--start", DAY, "--end", "2026-11-01"], 2, "before"),
        (["backfill", "--start", "2026-11-1x", "--end", DAY], 2, "not a date"),
        (["backfill", "--start", DAY, "--end", DAY, "--source", "pckeiba"], 2, "PCKEIBA_URL"),
        (["restore", "/no/such/backup.db", "--yes"], 2, "no backup file"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], exit_code: int, needle: str) -> None:
    """Bad input ends in one line on stderr and a non-zero exit, never a traceback."""
    code, stdout, stderr = invoke(*args)
    assert code == exit_code
    assert needle in stderr
    assert "Traceback" not in stderr + stdout
    assert len(stderr.strip().splitlines()) == 1
