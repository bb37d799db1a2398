"""Operations: ``raceday serve`` (scheduled deployments), ``raceday backup`` and ``restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.options import DbOption, DebugOption, JsonOption
from cli.pool import TakeOverOption, refuse_taking_over
from cli.shared import (
    answer,
    app,
    err,
    guard,
    out,
    settings_from,
)
from config import mask_url
from raceday.errors import InputError


@app.command()
def serve(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="flow runs at once (default: no limit)")
    ] = None,
    race_time: Annotated[
        bool,
        typer.Option(
            "--race-time",
            help="bet each race before its close (race-card, race, settle-races) instead of "
            "the 09:00 predict",
        ),
    ] = False,
    take_over: TakeOverOption = False,
    debug: DebugOption = False,
) -> None:
    """Serve the scheduled deployments (predict or race time, settle, monitor, train, backfill,
    backup) from this machine against a running Prefect server (`prefect server start`;
    PREFECT_API_URL)."""

    def action() -> None:
        from flows.deployments import DEPLOYMENTS, TIMEZONE, api_url_configured, serve_deployments

        if api_url_configured() and not take_over:
            refuse_taking_over(to_pool=False)  # workers run them: serving would take them over
        if not api_url_configured():
            err.print(
                "[yellow]PREFECT_API_URL is not set:[/yellow] schedules live only as long as this "
                "process (start `prefect server start` and export "
                "PREFECT_API_URL=http://127.0.0.1:4200/api to see them in the UI)"
            )
        for spec in DEPLOYMENTS:
            when = f"cron {spec.cron} {TIMEZONE}" if spec.cron else "manual"
            paused = "" if spec.active(race_time) else " (paused)"
            out.print(f"{spec.name:<12} {when + paused:<40} {spec.entrypoint}")
        from cli.prefect_server import prefect_api

        with prefect_api():  # without PREFECT_API_URL: a temporary server that dies with serve
            serve_deployments(limit, race_time)

    guard(debug, action)


@app.command()
def backup(db: DbOption = None, as_json: JsonOption = False, debug: DebugOption = False) -> None:
    """Back up the store now (SQLite backup API / pg_dump) and prune old backups (refused,
    exit 7, while a restore replaces the store; a restore is refused while it copies)."""

    def action() -> dict[str, Any]:
        from tasks.backup import backup_task
        from tasks.locks import store_in_use

        settings = settings_from(db_url=db)
        with store_in_use(settings, "raceday backup"):
            result: dict[str, Any] = backup_task(settings)
        return result

    answer(debug, as_json, action, _print_backup)


def _print_backup(result: dict[str, Any]) -> None:
    """Where the backup went, its size, and what the rotation kept and pruned."""
    out.print(f"backup:  {result['backup']} ({result['bytes']:,} bytes)")
    out.print(f"kept {result['kept']}, pruned {len(result['pruned'])}")
    if result["abandoned_removed"]:
        count = len(result["abandoned_removed"])
        out.print(f"removed {count} partial files left by killed backups")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="a file written by `raceday backup`")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="replace the store without asking")] = False,
    debug: DebugOption = False,
) -> None:
    """Replace the store's contents with a backup (refused, exit 7, while a run holds a day of
    the store, a command such as backup, train or monitor uses it, or another restore runs;
    runs and such commands starting meanwhile are refused)."""

    def action() -> str:
        from raceday.store.backup import restore_store
        from tasks.locks import refuse_restoring_under_a_run, restore_lock

        settings = settings_from(db_url=db)
        if not backup_file.is_file():
            raise InputError(f"no backup file {backup_file}")
        refuse_restoring_under_a_run(settings)  # before asking: --yes does not override a run
        shown = mask_url(settings.database_url)
        if not yes and not typer.confirm(f"replace the store at {shown}?"):
            raise InputError("not restored")
        with restore_lock(settings):  # checked again: a run may have started while we asked
            restore_store(settings.database_url, backup_file)
        return f"restored {backup_file} into {shown}"

    out.print(guard(debug, action))
