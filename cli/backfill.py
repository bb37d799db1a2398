"""``raceday backfill``: replay past days in chunks, with a progress bar read from the store."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.options import (
    DbOption,
    DebugOption,
    EndOption,
    JsonOption,
    SportOption,
    StartOption,
    known_sport,
)
from cli.shared import (
    answer,
    app,
    err,
    guard,
    out,
    parse_date_range,
    print_outcome,
    running_flows,
    settings_from,
)
from raceday.errors import InputError

POLL_SECONDS = 1.0


def _watch_progress(
    count_done: Callable[[], int], total: int, stop: threading.Event, show: bool
) -> None:
    """Redraw the bar from the store's completed days until ``stop`` is set."""
    with Progress(
        TextColumn("backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
    ) as progress:
        bar = progress.add_task("days", total=total)
        while True:
            stopping = stop.wait(POLL_SECONDS)
            with contextlib.suppress(Exception):  # no store yet: the bar just waits
                progress.update(bar, completed=count_done())
            if stopping:
                return


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"backfill {summary['start']}..{summary['end']}", show_header=False)
    for key in ("days", "chunks", "chunks_run", "chunks_skipped", "races", "runners", "bets"):
        table.add_row(key, f"{summary[key]:,}")
    table.add_row("odds at", str(summary.get("odds_at", "morning")))
    table.add_row("seconds", f"{summary['seconds']:.1f}")
    out.print(table)
    print_outcome(summary)
    out.print(f"database: {summary.get('database')}")


@app.command()
def backfill(
    start: StartOption,
    end: EndOption,
    races: Annotated[
        int | None, typer.Option("--races", min=1, help="races a day (default: stage cap)")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="sim | files:DIR | pckeiba")
    ] = None,
    chunk_days: Annotated[
        int | None, typer.Option("--chunk-days", min=1, help="days per task (default 28)")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="redo days an earlier backfill completed")
    ] = False,
    odds_at: Annotated[
        str | None,
        typer.Option(
            "--odds-at",
            help="morning: bet on the odds published by live.morning_odds_at (as the daily run); "
            "lead: on each race's odds live.lead_minutes before its post time "
            "(default: live.odds_at, morning)",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Replay past days (point in time, chunked, resumable) through the backfill flow."""
    if guard(debug, lambda: known_sport(sport)) == "boat":
        from cli.boat import backfill_boat_days, print_boat_backfill

        def boat() -> dict[str, Any]:
            from flows.backfill import DEFAULT_CHUNK_DAYS

            first, last = parse_date_range(start, end)
            return backfill_boat_days(
                first, last, source, db, force, debug, chunk_days or DEFAULT_CHUNK_DAYS
            )

        answer(debug, as_json, boat, print_boat_backfill)
        return

    def action() -> dict[str, Any]:
        from cli.shared import preflight
        from flows.backfill import DEFAULT_CHUNK_DAYS, chunk_grid, completed_days, with_odds_at

        first, last = parse_date_range(start, end)
        chunks = chunk_grid(first, last, chunk_days or DEFAULT_CHUNK_DAYS)
        settings = with_odds_at(settings_from(races=races, source=source, db_url=db), odds_at)
        preflight(settings)
        if first > date.today():
            raise InputError(f"--start {first} is in the future: nothing to backfill")
        from flows.backfill import backfill as backfill_flow
        from tasks.labels import run_tags

        total = sum(len(chunk.days) for chunk in chunks)
        stop = threading.Event()
        watcher = threading.Thread(
            target=_watch_progress,
            args=(lambda: len(completed_days(settings, first, last)), total, stop, not as_json),
            daemon=True,
        )
        watcher.start()
        try:
            tags = run_tags(sport, settings.stage, "backfill")
            with running_flows(settings.database_url, debug, tags):
                result: dict[str, Any] = backfill_flow(
                    start=first,
                    end=last,
                    races=races,
                    source=settings.source,
                    chunk_days=chunk_days or DEFAULT_CHUNK_DAYS,
                    force=force,
                    odds_at=settings.live.odds_at,
                )
        finally:
            stop.set()
            watcher.join()
        return result

    answer(debug, as_json, action, _print_summary)
