"""Features: build point-in-time features for a date range (``raceday features build``).

``raceday export features --start D1 --end D2`` then writes the stored rows as CSV (with
``indexes`` and ``track_variants`` the same way).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.shared import (
    DbOption,
    DebugOption,
    JsonOption,
    app,
    emit_json,
    guard,
    out,
    parse_date_range,
    settings_from,
)
from config import mask_url, use_store
from raceday.errors import InputError

features_app = typer.Typer(
    help="Point-in-time past-performance features (what a model sees).", no_args_is_help=True
)
app.add_typer(features_app, name="features")


@features_app.command("build")
def build(
    start: Annotated[str, typer.Option("--start", help="first day YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last day YYYY-MM-DD")],
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Build and store the features of every stored runner from --start to --end (one pass)."""

    def action() -> dict[str, Any]:
        from raceday.store.engine import check_connection, has_schema, make_engine

        first, last = parse_date_range(start, end)
        settings = settings_from(db_url=db)
        engine = make_engine(settings.database_url)
        check_connection(engine)
        if not has_schema(engine):
            raise InputError(
                f"the store at {mask_url(settings.database_url)} is empty: run `raceday run`"
            )
        from flows.features import features_range

        if not debug:
            from flows.console import hide_console_tracebacks

            hide_console_tracebacks()
        from cli.prefect_server import prefect_api

        with use_store(settings.database_url), prefect_api():
            summary: dict[str, Any] = features_range(start=first, end=last)
        return summary

    summary = guard(debug, action)
    if as_json:
        emit_json(summary)
        return
    table = Table(title=f"features {summary['start']}..{summary['end']}", show_header=False)
    for key, value in summary.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
