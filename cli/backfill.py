"""``raceday backfill``: replay past days in chunks, with a progress bar read from the store."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
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


def _phase() -> str:
    """``chunk 3/13: validate (2025-03-04)``: the backfill's phase and its running stage."""
    from flows.backfill import PHASE
    from tasks.common import running_stage

    stage, day = running_stage()
    where = f": {stage}" + (f" ({day})" if day is not None else "") if stage else ""
    return f"{PHASE['now']}{where}"


def _logs_above(progress: Progress) -> Callable[[], None]:
    """Print Prefect's console log lines through the progress display (above the bar, not glued
    onto it); returns how to put them back."""
    import logging

    handlers = [
        handler for handler in logging.getLogger().handlers
        if type(handler).__name__ == "PrefectConsoleHandler"
    ]  # fmt: skip
    before = [getattr(handler, "console", None) for handler in handlers]
    for handler in handlers:
        handler.console = progress.console  # type: ignore[attr-defined]

    def restore() -> None:
        for handler, console in zip(handlers, before, strict=True):
            handler.console = console  # type: ignore[attr-defined]

    return restore


def _watch_progress(
    count_done: Callable[[], int], total: int, stop: threading.Event, show: bool,
) -> None:  # fmt: skip
    """Redraw the bar from the store's completed days (with the chunk and stage under way and
    the time left) until ``stop`` is set."""
    with Progress(
        TextColumn("backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[phase]}"),
        console=err,
        disable=not show,
    ) as progress:
        restore = _logs_above(progress) if show else (lambda: None)
        resumed = count_done_safely(count_done)
        bar = progress.add_task("days", total=total, completed=resumed, phase="starting")
        try:
            while True:
                stopping = stop.wait(POLL_SECONDS)
                done = count_done_safely(count_done, resumed)
                progress.update(bar, completed=done, phase=_phase())
                if stopping:
                    return
        finally:
            restore()


def count_done_safely(count_done: Callable[[], int], fallback: int = 0) -> int:
    """The days done so far, or ``fallback`` while the store cannot say (not created yet)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return count_done()
    except SQLAlchemyError:  # no store yet: the bar just waits
        return fallback


@contextmanager
def stop_at_safe_point_on_ctrl_c() -> Iterator[None]:
    """Inside: the first Ctrl-C asks the backfill to stop after the chunk under way (all it
    ran stays stored; the same command resumes), the second stops at once."""
    from flows.backfill import STOP_AT_SAFE_POINT

    def first_interrupt(_signum: int, _frame: object) -> None:
        STOP_AT_SAFE_POINT.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        err.print(
            "stopping after the chunk under way (everything run so far stays stored; run the "
            "same command to resume) — Ctrl-C again to stop at once",
            soft_wrap=True,
        )

    STOP_AT_SAFE_POINT.clear()
    previous = signal.signal(signal.SIGINT, first_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        STOP_AT_SAFE_POINT.clear()


def say_refused(summary: dict[str, Any]) -> None:
    """Each day the backfill refused for its input, in one line on standard error (its daily
    run's line, prefixed by its date), with ``--json`` too."""
    from raceday.run_status import refusal_line

    for refused in summary.get("days_refused") or ():
        err.print(refusal_line(refused), soft_wrap=True, highlight=False, markup=False)


def _print_summary(summary: dict[str, Any]) -> None:
    title = f"backfill {summary['start']}..{summary['end']} — {summary.get('status', '')}"
    table = Table(title=title, show_header=False)
    for key in ("days", "days_skipped", "chunks", "chunks_run", "chunks_skipped", "races",
                "races_predicted", "runners", "bets"):  # fmt: skip
        table.add_row(key, f"{summary.get(key, 0):,}")
    table.add_row("days_refused", f"{len(summary.get('days_refused') or ()):,}")
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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="run ingest, validation, first 3F, indexes and features chunk-parallel as N "
            "runs per wave of the backfill-wave deployment (`raceday deploy`, workers started "
            "with `raceday worker`; PostgreSQL store, PREFECT_API_URL); 0: all here, in order",
        ),
    ] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Replay past days (point in time, chunked, resumable) through the backfill flow."""
    if guard(debug, lambda: known_sport(sport), as_json) == "boat":
        from cli.boat import backfill_boat_days, print_boat_backfill

        def boat() -> dict[str, Any]:
            from flows.backfill import DEFAULT_CHUNK_DAYS

            if workers:
                raise InputError("--workers scales out NAR backfills only, not --sport boat")
            first, last = parse_date_range(start, end)
            result = backfill_boat_days(
                first, last, source, db, force, debug, chunk_days or DEFAULT_CHUNK_DAYS
            )
            say_refused(result)
            return result

        answer(debug, as_json, boat, print_boat_backfill)
        return

    def action() -> dict[str, Any]:
        from cli.shared import preflight
        from flows.backfill import DEFAULT_CHUNK_DAYS, backfilled_days, completed_days
        from flows.backfill_plan import chunk_grid
        from flows.backfill_settings import with_odds_at

        first, last = parse_date_range(start, end)
        chunks = chunk_grid(first, last, chunk_days or DEFAULT_CHUNK_DAYS)
        settings = with_odds_at(settings_from(races=races, source=source, db_url=db), odds_at)
        preflight(settings)
        from tasks.locks import refuse_running_backfill

        refuse_running_backfill(settings)  # another backfill of the store: one line, before Prefect
        if first > date.today():
            raise InputError(f"--start {first} is in the future: nothing to backfill")
        if workers:
            from cli.pool import require_running_server
            from flows.scaleout import refuse_scale_out, require_wave_deployment

            refuse_scale_out(settings)
            require_running_server()
            require_wave_deployment()
        from flows.backfill import backfill as backfill_flow
        from tasks.labels import run_tags

        total = sum(len(chunk.days) for chunk in chunks)
        done_before = 0 if force else len(completed_days(settings, first, last))
        if done_before:
            err.print(
                f"resuming: {done_before:,} of {total:,} days were done by an earlier backfill "
                "and are skipped (--force redoes them)",
                soft_wrap=True,
            )
        stop = threading.Event()
        tags = run_tags(sport, settings.stage, "backfill")
        with running_flows(settings.database_url, debug, tags), stop_at_safe_point_on_ctrl_c():
            watcher = threading.Thread(
                target=_watch_progress,
                args=(
                    lambda: len(backfilled_days(settings, first, last)),
                    total,
                    stop,
                    not as_json,
                ),
                daemon=True,
            )
            watcher.start()
            try:
                result: dict[str, Any] = backfill_flow(
                    start=first,
                    end=last,
                    races=races,
                    source=settings.source,
                    chunk_days=chunk_days or DEFAULT_CHUNK_DAYS,
                    force=force,
                    odds_at=settings.live.odds_at,
                    workers=workers,
                )
            finally:
                stop.set()
                watcher.join()
        say_refused(result)
        return result

    answer(debug, as_json, action, _print_summary)
