"""`raceday report`, `raceday monitor` and `raceday alerts` on bad input: one clear line and a
non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from raceday.store.engine import make_engine, upgrade_schema

runner = CliRunner()


@pytest.fixture
def migrated_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade_schema(make_engine(url))
    return url


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["report", "--date", "2026-13-45"], 2, "not a date"),
        (["monitor", "--date", "20261120"], 2, "not a date"),
        (["report", "--db", "not a url"], 3, "not a database URL"),
        (["alerts", "test"], 2, "no alert destination configured"),
        (["alerts", "automations"], 2, "RACEDAY_ALERTS__WEBHOOK_URL"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], exit_code: int, needle: str) -> None:
    """One line on stderr, the documented exit code, no traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_report_for_an_unsettled_day_says_what_to_do(migrated_store: str) -> None:
    """No performance record for the day: settle it first."""
    result = runner.invoke(app, ["report", "--date", "2026-11-20", "--db", migrated_store])
    assert result.exit_code == 2
    assert "settle the day first" in result.stderr
    assert f"(raceday run --date 2026-11-20 --db {migrated_store})" in result.stderr  # this store


def test_an_empty_store_is_refused(tmp_path: Path) -> None:
    """A store that was never migrated has nothing to report."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["monitor", "--date", "2026-11-20", "--db", url])
    assert result.exit_code == 2 and "is empty" in result.stderr


def test_a_command_that_reads_creates_no_store_at_a_mistyped_path(tmp_path: Path) -> None:
    """``export`` on a SQLite path that does not exist says so and leaves no file there (before:
    exit 2, and an empty database file created at the mistyped path)."""
    path = tmp_path / "raceday-typo.db"
    result = runner.invoke(
        app, ["export", "bets", "--start", "2026-11-20", "--end", "2026-11-20", "--db",
              f"sqlite:///{path}"],
    )  # fmt: skip
    assert result.exit_code == 2 and "there is no such file" in result.stderr
    assert not path.exists()
