"""``raceday run --sport boat``: a boat racing day from its day files (flows/boat.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.table import Table

from cli.shared import out, running_flows, settings_from

SUMMARY_KEYS = (
    "races", "boats", "quarantined", "races_left_out", "bets", "staked_yen", "returned_yen",
    "bankroll_yen", "open_bets", "log_loss", "model_log_loss", "market_log_loss",
    "prior_log_loss", "uniform_log_loss", "pseudo_r2", "model_version",
)  # fmt: skip


def run_boat_day(day: date, source: str | None, db: str | None, debug: bool) -> dict[str, Any]:
    """Check the source and the store before Prefect starts, then run the boat day's flow."""
    from raceday.boat.source import boat_directory, require_program
    from raceday.store.engine import check_connection, make_engine

    settings = settings_from(source=source, db_url=db)
    require_program(boat_directory(settings.source), day)  # bad input: one line, before Prefect
    check_connection(make_engine(settings.database_url))
    from flows.boat import boat_day_run

    with running_flows(settings.database_url, debug):
        result: dict[str, Any] = boat_day_run(race_date=day, source=settings.source)
    return result


def print_boat_summary(summary: dict[str, Any]) -> None:
    """The day's summary as a table."""
    table = Table(title=f"raceday boat {summary['date']} — {summary['status']}", show_header=False)
    for key in SUMMARY_KEYS:
        value = summary.get(key)
        shown = (
            "–" if value is None
            else f"{value:,}" if isinstance(value, int)
            else f"{value:.4f}" if isinstance(value, float)
            else str(value)
        )  # fmt: skip
        table.add_row(key, shown)
    out.print(table)
    out.print(f"database: {summary.get('database')}")
