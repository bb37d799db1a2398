"""`raceday run` as a user sees its failures: a defect in a stage ends in one line naming the
stage and exit 5; a normal run on Prefect's temporary server prints no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from cli.prefect_server import SERVER_LOG_NAME
from tests.e2e.cli_process import HANG_LIMIT_S

REPO = Path(__file__).resolve().parents[2]
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
    assert debug.exit_code == 5  # --debug: the traceback, then the same line and exit code
    assert "Traceback (most recent call last)" in debug.stderr
    assert "KeyError: 'time_sa'" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == lines[-1]


def user_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a user without a Prefect server: no PREFECT_API_URL, a fresh Prefect
    home, none of the test session's Prefect settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "RACEDAY_"))
    }
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        RACEDAY_VAR_DIR=str(tmp_path / "var"),
        RACEDAY_SIMULATOR__RACES_PER_DAY="20",
        RACEDAY_HISTORY__WARMUP_DAYS="3",
        RACEDAY_VALIDATION__DATA_DOCS="false",
    )
    return env


@pytest.mark.slow
def test_a_run_on_prefects_temporary_server_prints_no_traceback(tmp_path: Path) -> None:
    """Prefect's telemetry heartbeat wrote to its SQLite file while the run did and printed a
    'database is locked' traceback on every run without PREFECT_API_URL."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "run", "--date", DAY],
        env=user_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT_S,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    assert "completed" in done.stdout
    # the temporary server's own output went to its log in the Prefect home, not the terminal
    # (a request cut short as it stops printed a pool-reset traceback on a busy machine)
    server_log = (tmp_path / "prefect" / SERVER_LOG_NAME).read_text()
    assert server_log.startswith("--- ") and " port " in server_log.splitlines()[0]


def test_prefect_in_a_raceday_command_gets_the_longer_wait_and_no_telemetry(
    tmp_path: Path,
) -> None:
    """What the command's Prefect sees once its guard has run (the end-to-end test above cannot
    tell a quiet run from a lucky one: the telemetry's 'database is locked' is a race)."""
    script = (
        "from cli import guard\n"
        "guard(False, lambda: None)\n"
        "from prefect.settings import get_current_settings\n"
        "server = get_current_settings().server\n"
        "print(server.analytics_enabled, server.ephemeral.startup_timeout_seconds)\n"
    )
    env = user_environment(tmp_path)
    shown = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT_S,
    )
    assert shown.stdout.split() == ["False", "90"], shown.stderr[-2000:]
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"  # the user's own value wins
    shown = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT_S,
    )
    assert shown.stdout.split() == ["False", "45"], shown.stderr[-2000:]


def test_every_settings_mistake_is_one_plain_line_and_no_secret_is_echoed(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three mistakes, three lines (not pydantic's "Value error, …" and its links), exit 2
    before anything runs; the URLs in the mistakes, which may hold secrets, are not shown."""
    monkeypatch.setenv("RACEDAY_KELLY__FRACTION", "half")
    monkeypatch.setenv("RACEDAY_ALERTS__WEBHOOK_URL", "hooks.example.com/T0/secret-token")
    monkeypatch.setenv("RACEDAY_PCKEIBA_URL", "pg:/user:hunter2@db")
    result = CliRunner().invoke(
        app, ["run", "--date", DAY, "--source", "nosuch", "--db", sqlite_url]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: invalid setting ")
    assert sorted(line.removeprefix("error: ").split(":")[0] for line in lines) == [
        "invalid setting alerts.webhook_url",
        "invalid setting kelly.fraction",
        "invalid setting pckeiba_url",
        "invalid setting source",
    ]
    for noise in ("Value error", "errors.pydantic.dev", "secret-token", "hunter2", "Traceback"):
        assert noise not in result.stderr
    assert result.stdout == ""


def test_a_misspelt_setting_is_refused_before_anything_runs(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RACEDAY_KELY__FRACTION names no setting: left unread, the day would be staked at the
    default Kelly fraction without a word. Exit 2, one line naming the setting meant, no run."""
    monkeypatch.setenv("RACEDAY_KELY__FRACTION", "0.1")
    result = CliRunner().invoke(app, ["run", "--date", DAY, "--db", sqlite_url])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown setting RACEDAY_KELY__FRACTION: raceday has no such setting "
        "(did you mean RACEDAY_KELLY__FRACTION?)"
    ]
    assert result.stdout == ""


def test_a_setting_mistake_in_a_flow_is_bad_input_not_a_defect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker's environment goes through the same formatter: the flow fails as bad input
    (not retried, not reported as our defect), in the same plain words."""
    from config import load_settings
    from raceday.errors import InvalidSettings, failure_kind

    monkeypatch.setenv("RACEDAY_ALERTS__APPRISE_URLS", '["slack-no-scheme"]')
    with pytest.raises(InvalidSettings) as refused:
        load_settings()
    assert failure_kind(refused.value) == "input"
    assert str(refused.value) == (
        "invalid setting alerts.apprise_urls: URL #1 is not an Apprise URL (scheme://..., "
        "e.g. slack://..., mailtos://...)"
    )


@pytest.mark.usefixtures("sqlite_schema")
def test_monitoring_a_day_before_any_data_says_so_and_stores_nothing(sqlite_url: str) -> None:
    """No settled race on or before the day: "nothing to monitor", exit 2, no alert stored
    (it used to store a critical ``no_races``)."""
    result = CliRunner().invoke(app, ["monitor", "--date", DAY, "--db", sqlite_url])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: nothing to monitor for {DAY}: the store holds no settled race on or before "
        "that day (run or backfill the day first)"
    )
    exported = CliRunner().invoke(
        app, ["export", "alerts", "--start", "2000-01-01", "--end", DAY, "--db", sqlite_url]
    )
    assert exported.exit_code == 0, exported.stderr
    assert len(exported.stdout.strip().splitlines()) == 1  # the header alone


def test_a_range_ending_before_it_starts_is_refused_before_anything_is_written(
    sqlite_url: str,
) -> None:
    """`export` used to print the CSV header and exit 0."""
    for command in (["export", "races"], ["features", "build"], ["eval", "model"]):
        result = CliRunner().invoke(
            app, [*command, "--start", DAY, "--end", "2026-11-01", "--db", sqlite_url]
        )
        assert result.exit_code == 2, (command, result.stderr)
        assert result.stderr.strip() == f"error: --end 2026-11-01 is before --start {DAY}"
        assert result.stdout == ""
