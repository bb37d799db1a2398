"""`raceday export … | head -1`: the reader stops early, the command ends quietly with exit 0."""

from __future__ import annotations

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
