"""`raceday live` as a user runs it: a simulated day from files replayed race by race through
Prefect (each race its own flow run), re-run safely, and one clear line for a past day without
``--replay``."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from raceday.store.catalogs.decisions import DECISIONS
from raceday.store.engine import make_engine
from tests.live_support import write_simulated_files

DAY = date(2025, 6, 7)
RACES = 8
runner = CliRunner()


@pytest.fixture
def day_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "3")
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    return write_simulated_files(tmp_path / "files", DAY - timedelta(days=3), DAY, RACES)


def live(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["live", "--date", DAY.isoformat(), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("prefect_harness")  # its flow runs on the worker's test server
def test_a_replayed_day_runs_each_race_as_its_own_flow_run(day_files: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    source = f"files:{day_files}"
    code, stdout, stderr = live("--replay", "--source", source, "--db", db, "--json")
    assert code == 0, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["decided"] == RACES and summary["mode"] == "replay"

    with make_engine(db).connect() as connection:
        decisions = pd.DataFrame(connection.execute(select(DECISIONS)).mappings().all())
    assert len(decisions) == RACES
    assert decisions["run_id"].nunique() == RACES  # one flow run per race
    assert not decisions["run_id"].str.startswith("local-").any()

    again, stdout, stderr = live("--replay", "--source", source, "--db", db, "--json")
    assert again == 0, stderr
    rerun = json.loads(stdout.strip().splitlines()[-1])
    assert rerun["decided"] == 0 and rerun["already_decided"] == RACES

    exported = runner.invoke(
        app, ["export", "bets", "--start", DAY.isoformat(), "--end", DAY.isoformat(), "--db", db]
    )
    assert exported.exit_code == 0, exported.stderr
    header = pd.read_csv(io.StringIO(exported.stdout)).columns
    assert {"odds_at", "decided_at", "odds_at_bet"} <= set(header)


def test_a_past_day_without_replay_is_refused_in_one_line(day_files: Path, tmp_path: Path) -> None:
    code, _stdout, stderr = live("--source", f"files:{day_files}")
    assert code == 2
    assert "--replay" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("lead", "option"), [("1", True), ("2", True), ("2", False)], ids=["1", "2", "env-2"]
)
def test_a_lead_at_or_after_the_sales_close_is_refused_in_one_line(
    day_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lead: str, option: bool
) -> None:
    """Sales close 2 minutes before post (live.close_minutes): a lead of 1 or 2 would miss
    every race and record the day decided (a re-run with a good lead then bets nothing)."""
    db = tmp_path / "live.db"
    given = ["--lead-minutes", lead] if option else []
    if not option:
        monkeypatch.setenv("RACEDAY_LIVE__LEAD_MINUTES", lead)
    code, _stdout, stderr = live(
        "--replay", "--direct", "--source", f"files:{day_files}", "--db", f"sqlite:///{db}", *given
    )
    assert code == 2, stderr
    assert "sales close" in stderr and "live.close_minutes" in stderr
    assert len(stderr.strip().splitlines()) == 1 and not db.exists()


def _summary(*args: str) -> dict[str, object]:
    code, stdout, stderr = live("--replay", "--direct", "--json", *args)
    assert code == 0, stderr
    summary: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    return summary


def test_the_races_a_card_drops_are_warned_of_as_a_day_run_says_them(
    day_files: Path, tmp_path: Path
) -> None:
    """Race 3 cancelled (data_kubun 9), race 4 listed twice: the summary says so (it said
    nothing: ``completed``), in the words of ``raceday run`` (raceday.run_status)."""
    card = pd.read_csv(day_files / "nvd_ra.csv", dtype=str, keep_default_na=False)
    today = card["kaisai_tsukihi"] == DAY.strftime("%m%d")
    card.loc[today & (card["race_bango"] == "03"), "data_kubun"] = "9"
    card = pd.concat([card, card[today & (card["race_bango"] == "04")]])
    card.to_csv(day_files / "nvd_ra.csv", index=False)
    summary = _summary("--source", f"files:{day_files}", "--db", f"sqlite:///{tmp_path / 'l.db'}")
    assert summary["status"] == "completed-with-warnings"
    said = " | ".join(map(str, summary["warnings"]))  # type: ignore[call-overload]
    assert "1 races cancelled (data_kubun 9)" in said
    assert "1 rows quarantined by validation" in said


def test_a_day_the_source_does_not_have_is_warned_of(day_files: Path, tmp_path: Path) -> None:
    other_day = (DAY + timedelta(days=1)).isoformat()
    summary = _summary(
        "--date",
        other_day,
        "--source",
        f"files:{day_files}",
        "--db",
        f"sqlite:///{tmp_path / 'l.db'}",
    )
    assert summary["races"] == 0 and summary["status"] == "completed-with-warnings"
    assert summary["warnings"] == ["no races for the day: nothing was predicted or settled"]
