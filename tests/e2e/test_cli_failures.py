"""`raceday run` as a user sees its failures: a defect in a stage ends in one line naming the
stage and exit 5."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from raceday.cli import app
from raceday.errors import StageDefect

DAY = "2026-11-20"


@pytest.fixture
def small_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small simulated day without warm-up history keeps the run quick."""
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", "12")
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")


def broken_first3f(monkeypatch: pytest.MonkeyPatch) -> None:
    def estimate_first3f(*_args: Any, **_kwargs: Any) -> pd.DataFrame:
        raise KeyError("time_sa")

    monkeypatch.setattr("tasks.derive.estimate_first3f", estimate_first3f)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_day")
def test_a_defect_in_a_stage_ends_in_one_line_naming_the_stage_and_exit_5(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_first3f(monkeypatch)
    result = CliRunner().invoke(app, ["run", "--date", DAY, "--db", sqlite_url])
    assert result.exit_code == 5, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "defect in stage first3f: KeyError: 'time_sa' — please report; --debug for the traceback"
    )
    assert len(lines) == 1, result.stderr

    debug = CliRunner().invoke(app, ["run", "--date", DAY, "--db", sqlite_url, "--debug"])
    assert isinstance(debug.exception, StageDefect)  # --debug lets the traceback through
    assert isinstance(debug.exception.__cause__, KeyError)
