"""Ctrl-C in a backfill, as a user presses it: the first stops after the chunk under way
(exit 130, saying how to resume; what ran stays stored), and the same command resumes, saying
what it skips. The signal is sent once the first chunk is stored (its days marked done), with
four chunks still to go (each of them seconds of work: the command cannot end between two looks
at the store, half a second apart). The commands report to the worker's long-lived test server
(``prefect_api_url``): what is tested is the backfill's own Ctrl-C, sent to the command alone,
not Prefect's temporary server (tests/e2e/test_live_interrupt.py signals a command's temporary
server with its process group)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from cli.prefect_server import SERVER_LOG_NAME
from tests.e2e.cli_process import COMMAND, ROOT, cli_environment

pytestmark = [pytest.mark.slow]
HANG_LIMIT_S = 1800  # a hang, not a speed limit


def _a_chunk_stored(url: str) -> bool:
    from raceday.store.engine import make_engine

    engine = make_engine(url)
    if not inspect(engine).has_table("backfill_days"):
        return False
    with engine.connect() as connection:
        return bool(connection.execute(text("select count(*) from backfill_days")).scalar())


def test_the_first_ctrl_c_stops_at_a_safe_point_and_the_command_resumes(
    tmp_path: Path, prefect_api_url: str
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env = cli_environment(
        tmp_path, prefect_api_url=prefect_api_url, RACEDAY_SIMULATOR__RACES_PER_DAY="6"
    )
    args = [*COMMAND, "backfill", "--start", "2025-03-01", "--end", "2025-03-10",
            "--chunk-days", "2", "--db", url]  # fmt: skip
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + HANG_LIMIT_S
    while not _a_chunk_stored(url) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert process.poll() is None, "the backfill ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HANG_LIMIT_S)
    assert process.returncode == 130, stderr[-3000:]
    assert "stopping after the chunk under way" in stderr
    assert "run the same command again to resume" in stdout + stderr
    assert "Traceback" not in stderr

    resumed = subprocess.run(
        [*args, "--json"], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=HANG_LIMIT_S,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming:" in resumed.stderr and "are skipped" in resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["days_skipped"] >= 2 and summary["status"] == "completed"
    assert summary["chunks_run"] + summary["chunks_skipped"] == summary["chunks"] == 5
    # both commands reported to the test server: neither started a temporary one
    assert not (tmp_path / "prefect" / SERVER_LOG_NAME).exists()
