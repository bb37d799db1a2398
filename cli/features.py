"""Features: build point-in-time features for a date range (``raceday features build``).

``raceday export features --start D1 --end D2`` then writes the stored rows as CSV (with
``indexes`` and ``track_variants`` the same way).
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, EndOption, JsonOption, StartOption
from cli.shared import (
    answer,
    app,
    open_store,
    out,
    parse_date_range,
    running_flows,
)

features_app = typer.Typer(
    help="Point-in-time past-performance features (what a model sees).", no_args_is_help=True
)
app.add_typer(features_app, name="features")


@features_app.command("build")
def build(
    start: StartOption,
    end: EndOption,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Build and store the features of every stored runner from --start to --end (one pass)."""

    def action() -> dict[str, Any]:
        first, last = parse_date_range(start, end)
        settings, _engine = open_store(db)
        from tasks.locks import refuse_while_restoring

        refuse_while_restoring(settings, "raceday features build")  # one line, before Prefect
        from flows.features import features_range
        from tasks.labels import run_tags

        tags = run_tags("nar", settings.stage, "cli")
        with running_flows(settings.database_url, debug, tags):
            summary: dict[str, Any] = features_range(start=first, end=last)
        return summary

    answer(debug, as_json, action, _print_summary)


def _print_summary(summary: dict[str, Any]) -> None:
    """The build's counts as a two-column table."""
    table = Table(title=f"features {summary['start']}..{summary['end']}", show_header=False)
    for key, value in summary.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
