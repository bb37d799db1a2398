"""The `raceday` command in a child process of its own, as a user or a scheduler starts it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "cli"]


def cli_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A small simulated world with its own Prefect home (no Prefect server configured: the
    command starts its temporary one) and var/ under ``tmp_path``."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("RACEDAY_", "PREFECT_API_"))
    }
    environment.update(
        PYTHONPATH=str(ROOT),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="600",  # a busy machine is not a fault
        RACEDAY_VAR_DIR=str(tmp_path / "var"),
        RACEDAY_SIMULATOR__RACES_PER_DAY="20",
        RACEDAY_HISTORY__WARMUP_DAYS="3",
        RACEDAY_VALIDATION__DATA_DOCS="false",
    )
    environment.update(extra)
    return environment
