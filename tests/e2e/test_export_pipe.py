"""`raceday export … | head -1`: the reader stops early, the command ends quietly with exit 0."""

from __future__ import annotations

import csv
import io
import shlex
import subprocess
from datetime import date
from pathlib import Path

from config import load_settings
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.engine import make_engine, upgrade_schema
from tasks.validate import validate_and_store
from tests.e2e.cli_process import COMMAND, HANG_LIMIT_S, ROOT, cli_environment

DAY = date(2025, 5, 10)


def test_export_into_a_pipe_closed_early_ends_quietly(sqlite_url: str, tmp_path: Path) -> None:
    upgrade_schema(make_engine(sqlite_url))
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=150)).raw
    settings = load_settings(db_url=sqlite_url, validation={"data_docs": False})
    validate_and_store(settings, raw, DAY, DAY, "results")
    export = [*COMMAND, "export", "runners", "--start", str(DAY), "--end", str(DAY)]
    export += ["--db", sqlite_url]
    environment = cli_environment(tmp_path)

    whole = tmp_path / "runners.csv"
    subprocess.run([*export, "--out", str(whole)], cwd=ROOT, env=environment, check=True)
    # more than a pipe (64 KiB), head's read and Python's buffer hold: the command is still
    # writing when `head` exits
    assert whole.stat().st_size > 2 * 65536

    piped = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {shlex.join(export)} | head -1"],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=False,
        timeout=HANG_LIMIT_S,
    )  # fmt: skip
    assert piped.stdout == whole.read_text().splitlines(keepends=True)[0]
    assert piped.stderr == ""
    assert piped.returncode == 0  # pipefail: this is the exit code of `raceday export`


def test_an_exported_moment_keeps_its_time_and_a_day_is_a_date(sqlite_url: str) -> None:
    """A DateTime column (``validated_at`` here; a bet's ``decided_at`` and ``odds_at``) is
    exported to the second, a Date column (``race_date``) as the day: a night race's decision
    time used to be cut to its date."""
    from typer.testing import CliRunner

    from cli import app

    upgrade_schema(make_engine(sqlite_url))
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    settings = load_settings(db_url=sqlite_url, validation={"data_docs": False})
    validate_and_store(settings, raw, DAY, DAY, "results")
    with make_engine(sqlite_url).connect() as connection:
        stored = connection.exec_driver_sql("SELECT validated_at FROM validation_results").scalar()
    exported = CliRunner().invoke(
        app, ["export", "validation", "--start", str(DAY), "--end", str(DAY), "--db", sqlite_url]
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows and {row["race_date"] for row in rows} == {str(DAY)}
    assert rows[0]["validated_at"] == str(stored)[:19]  # "2026-12-06 11:40:12", no fraction
    keys = [(row["race_date"], row["suite"]) for row in rows]
    assert keys == sorted(keys)  # by the table's key: one order on SQLite and PostgreSQL
