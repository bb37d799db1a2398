"""The `raceday` command in a child process of its own, as a user or a scheduler starts it."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.golden_outputs import command_environment
from tests.prefect_server_support import seed_prefect_home

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "cli"]
# How long a command may run before the test calls it a hang: far beyond what a loaded machine
# needs (a slow machine makes a test slower, never red).
HANG_LIMIT_S = 1800


def cli_environment(
    tmp_path: Path,
    prefect_database: Path | None = None,
    prefect_api_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """A small simulated world with its own Prefect home and var/ under ``tmp_path``. Its
    Prefect: the server of ``prefect_api_url`` when given (the ``prefect_api_url`` fixture: the
    worker's long-lived test server), else none configured: the command starts its temporary
    one, and the home holds a copy of ``prefect_database`` when given (the ``prefect_database``
    fixture: the temporary server then starts without migrating a new database)."""
    environment = command_environment(tmp_path)
    if prefect_database is not None:
        seed_prefect_home(Path(environment["PREFECT_HOME"]), prefect_database)
    if prefect_api_url is not None:
        environment["PREFECT_API_URL"] = prefect_api_url
    environment.update(
        PREFECT_LOGGING_LEVEL="INFO",
        RACEDAY_SIMULATOR__RACES_PER_DAY="20",
        RACEDAY_HISTORY__WARMUP_DAYS="3",
        RACEDAY_VALIDATION__DATA_DOCS="false",
    )
    environment.update(extra)
    return environment
