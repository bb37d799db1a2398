"""The ``raceday`` command. Each command group lives in a module of this package and registers
itself on ``app`` (or a sub-app such as ``eval_app``) of :mod:`cli.shared`, where the
shared option types and the error guard live; importing this package registers them all.
"""

from __future__ import annotations

# Command modules register themselves on the apps in cli.shared when imported.
from cli import backfill as backfill_commands  # noqa: F401
from cli import day  # noqa: F401
from cli import features as feature_commands  # noqa: F401
from cli import first3f as first3f_commands  # noqa: F401
from cli import live as live_commands  # noqa: F401
from cli import model as model_commands  # noqa: F401
from cli import ops as ops_commands  # noqa: F401
from cli import pool as pool_commands  # noqa: F401
from cli import report as _report  # noqa: F401
from cli import staking as staking_commands  # noqa: F401
from cli.shared import app, guard, settings_from
from raceday.japan_time import today_in_japan

__all__ = ["app", "guard", "main", "settings_from", "today_in_japan"]


def main() -> None:
    """Console-script entry point."""
    app()
