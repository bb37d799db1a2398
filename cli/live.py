"""``raceday live``: a race day at race time, each race decided minutes before its close."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, JsonOption, SportOption, known_sport
from cli.shared import (
    answer,
    app,
    out,
    parse_date,
    preflight,
    print_outcome,
    running_flows,
    settings_from,
)
from config import use_store
from raceday.errors import InputError
from raceday.japan_time import today_in_japan


def _print_live(summary: dict[str, Any]) -> None:
    table = Table(
        title=f"raceday live {summary['date']} ({summary['mode']}, "
        f"{summary['lead_minutes']} min before post) — {summary['status']}",
        show_header=False,
    )
    for key in ("races", "decided", "already_decided", "bets", "staked_yen", "open_bets_races"):
        table.add_row(key, f"{summary.get(key, 0):,}")
    for outcome, count in sorted(summary.get("outcomes", {}).items()):
        table.add_row(f"races {outcome}", f"{count:,}")
    out.print(table)
    print_outcome(summary)


@app.command()
def live(
    race_date: Annotated[
        str | None, typer.Option("--date", help="race day YYYY-MM-DD (default: today, JST)")
    ] = None,
    lead_minutes: Annotated[
        int | None,
        typer.Option(
            "--lead-minutes", min=1, max=180, help="decide each race this long before its post"
        ),
    ] = None,
    replay: Annotated[
        bool,
        typer.Option("--replay", help="run a past or simulated day on a simulated clock, no waits"),
    ] = False,
    races: Annotated[
        int | None, typer.Option("--races", min=1, help="races to bet (default: stage cap)")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="sim | files:DIR | pckeiba")
    ] = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="no Prefect: the stages in this process")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Predict and stake each race minutes before its close on the odds of that moment; settle
    races as their results come out (the night's settle-day still runs). Horse racing only."""

    def action() -> dict[str, Any]:
        if known_sport(sport) == "boat":
            raise InputError(
                "raceday live --sport boat is not built: a boat day decides on the morning's "
                "odds (raceday run --sport boat; docs/BOAT.md)"
            )
        day = parse_date(race_date) if race_date else today_in_japan()
        if day < today_in_japan() and not replay:
            raise InputError(
                f"--date {day} is past: every close has passed (add --replay to replay the day)"
            )
        from config.sections import lead_problem

        settings = settings_from(races=races, source=source, db_url=db)
        if lead_minutes is not None and (
            problem := lead_problem(lead_minutes, settings.live.close_minutes)
        ):
            raise InputError(f"--lead-minutes {problem}")
        preflight(settings)
        if direct:
            from flows.live import live_day_in_process, live_settings

            with use_store(settings.database_url):
                chosen = live_settings(races, settings.source, lead_minutes)
                return live_day_in_process(chosen, day, replay)
        from flows.live import live_day, stop_if_interrupted
        from tasks.labels import run_tags

        with running_flows(settings.database_url, debug, run_tags("nar", settings.stage, "cli")):
            result: dict[str, Any] = live_day(
                race_date=day,
                lead_minutes=lead_minutes,
                replay=replay,
                races=races,
                source=settings.source,
            )
        stop_if_interrupted()  # one Prefect swallowed as the day's run ended
        return result

    answer(debug, as_json, action, _print_live)  # Ctrl-C and SIGTERM kept (interrupts_kept)
