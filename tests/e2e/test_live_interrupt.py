"""Ctrl-C and SIGTERM in `raceday live` under Prefect, as a terminal and a service manager send
them: to the whole process group (the command and the temporary Prefect server it started).
The command ends at once as ``interrupted`` (exit 130, the ``--json`` object), and the same
command carries on with the races left. The signal is sent once the first race's flow run has
begun, with the other races still to come (the replay decides a race a second or more). The
re-run (``--direct``: no Prefect) runs in the test's process: it is the store the signalled
process left that is tested there, not a process (a child's start and imports cost seconds of
CPU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.e2e.cli_process import COMMAND, HANG_LIMIT_S, ROOT, cli_environment
from tests.live_support import write_simulated_files

pytestmark = [pytest.mark.slow]
DAY = date(2025, 6, 7)
RACES = 12
FIRST_RACE = "Beginning subflow run 'race-"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_process_group_ends_live_as_interrupted_and_a_rerun_carries_on(
    tmp_path: Path, prefect_database: Path, signum: signal.Signals
) -> None:
    files = write_simulated_files(tmp_path / "files", DAY - timedelta(days=3), DAY, RACES)
    env = cli_environment(tmp_path, prefect_database)
    args = [*COMMAND, "live", "--date", DAY.isoformat(), "--replay", "--source",
            f"files:{files}", "--db", f"sqlite:///{tmp_path / 'live.db'}", "--json"]  # fmt: skip
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not inherited ignored
    )  # fmt: skip
    assert process.stderr is not None
    said: list[str] = []
    for line in process.stderr:  # Prefect logs to standard error
        said.append(line)
        if FIRST_RACE in line:
            break
    assert process.poll() is None, "live ended before its first race:\n" + "".join(said[-30:])
    os.killpg(process.pid, signum)
    stdout, stderr = process.communicate(timeout=HANG_LIMIT_S)
    assert process.returncode == 130, "".join(said[-5:]) + stderr[-3000:]
    assert "interrupted" in stderr and "Unable to connect" not in stderr
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "interrupted"

    settings = {name: value for name, value in env.items() if name.startswith("RACEDAY_")}
    rerun = CliRunner().invoke(app, [*args[len(COMMAND) :], "--direct"], env=settings)
    assert rerun.exit_code == 0, rerun.stderr[-3000:]
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert summary["decided"] > 0 and summary["decided"] + summary["already_decided"] == RACES
