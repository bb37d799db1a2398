"""`--json` as a script meets it: every exit prints one JSON object on standard output, the
failures too (their status, exit code, kind and line), while standard error keeps its one line.
Each case fails before Prefect starts: no flow is run."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from raceday.store.catalogs.runs import lock_day
from raceday.store.engine import make_engine, upgrade_schema

DAY = "2026-11-20"


def json_failure(args: list[str]) -> tuple[int, dict[str, Any], str]:
    """The command's exit code, the one JSON object it printed and its one stderr line."""
    result = CliRunner().invoke(app, args)
    (said,) = result.stdout.splitlines()
    (line,) = result.stderr.strip().splitlines()
    return result.exit_code, json.loads(said), line


def test_run_json_of_a_day_another_run_holds_says_so_on_stdout(sqlite_url: str) -> None:
    """`raceday run --json` of a day whose run lock another live run holds: exit 7, and the
    refusal as JSON on standard output (it printed nothing there)."""
    from datetime import date

    upgrade_schema(make_engine(sqlite_url))
    holder = f"daily-run {socket.gethostname()} pid {os.getpid()}"  # this process: alive
    with make_engine(sqlite_url).begin() as connection:
        lock_day(connection, date.fromisoformat(DAY), holder, "daily-run-1")
    code, said, line = json_failure(["run", "--date", DAY, "--db", sqlite_url, "--json"])
    assert code == 7
    assert said == {"status": "failed", "exit_code": 7, "kind": "input", "error": line}
    assert line.startswith(f"error: {DAY} is already being run by {holder}")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--date", DAY, "--sport", "polo"], "--sport must be nar, jra or boat"),
        (["backfill", "--start", DAY, "--end", "2026-11-01"], "is before --start"),
        (["backfill", "--start", DAY, "--end", DAY, "--sport", "polo"], "--sport must be"),
        (["train", "--until", DAY, "--sport", "polo"], "--sport must be"),
    ],
)
def test_json_commands_refusing_their_input_say_so_on_stdout(
    args: list[str], said: str, tmp_path: Path
) -> None:
    """`run`, `backfill` and `train` refusing an option (before the shared answer runs):
    exit 2, one JSON object on standard output with the stderr line."""
    code, printed, line = json_failure([*args, "--db", f"sqlite:///{tmp_path / 's.db'}", "--json"])
    assert code == 2
    assert printed == {"status": "failed", "exit_code": 2, "kind": "input", "error": line}
    assert said in line


def test_boat_run_json_of_a_missing_folder_says_so_on_stdout(tmp_path: Path) -> None:
    """`raceday run --sport boat --json` of a folder that is not there: exit 2, its line as
    JSON too."""
    args = ["run", "--sport", "boat", "--date", DAY, "--source", f"files:{tmp_path / 'none'}"]
    code, printed, line = json_failure([*args, "--db", f"sqlite:///{tmp_path / 's.db'}", "--json"])
    assert code == 2
    assert printed == {"status": "failed", "exit_code": 2, "kind": "input", "error": line}
    assert line.endswith("none: no such directory (--source files:DIR)")
