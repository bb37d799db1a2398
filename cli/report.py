"""Reporting and monitoring commands: the daily report, the monitors, alert destinations.

``report`` and ``monitor`` read the store directly (no Prefect server needed); ``alerts
automations`` talks to a running Prefect server.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, JsonOption, SportOption, known_sport
from cli.shared import (
    answer,
    app,
    guard,
    out,
    parse_date,
    ready_engine,
    settings_from,
)
from config import Settings, mask_url
from raceday.errors import InputError, SourceUnavailable
from raceday.japan_time import today_in_japan
from raceday.run_status import outcome

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

alerts_app = typer.Typer(help="Alert destinations: test them, install the Prefect automations.")
app.add_typer(alerts_app, name="alerts")

DateOption = Annotated[
    str | None, typer.Option("--date", help="race day YYYY-MM-DD (default: today, JST)")
]
AUTOMATIONS_FILE = Path(__file__).resolve().parents[1] / "deploy" / "automations.yaml"
WEBHOOK_BLOCK = "raceday-alerts"


def _day(race_date: str | None) -> date:
    return parse_date(race_date) if race_date else today_in_japan()


def _ready_store(settings: Settings) -> None:
    """The store must be reachable and migrated (the report only reads it)."""
    from raceday.store.engine import upgrade_schema

    upgrade_schema(ready_engine(settings))


@app.command()
def report(
    race_date: DateOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Write a settled day's report from the store: one HTML page (and its Markdown twin)."""

    def action() -> dict[str, Any]:
        day = _day(race_date)
        settings = settings_from(db_url=db)
        _ready_store(settings)
        from raceday.store.catalogs.performance import read_day_performance
        from raceday.store.engine import make_engine
        from tasks.record import build_report

        with make_engine(settings.database_url).connect() as connection:
            if read_day_performance(connection, day).empty:
                store = f" --db {mask_url(db)}" if db else ""
                raise InputError(
                    f"no performance record for {day}: settle the day first "
                    f"(raceday run --date {day}{store})"
                )
        html_path, markdown_path, _inputs = build_report(settings, day)
        return {"date": day.isoformat(), "html": str(html_path), "markdown": str(markdown_path)}

    answer(debug, as_json, action, _print_written)


def _print_written(written: dict[str, Any]) -> None:
    """Where the report's HTML and Markdown were written."""
    out.print(f"report:   {written['html']}")
    out.print(f"markdown: {written['markdown']}")


def _alerts_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in ("severity", "rule", "scope", "message"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *(str(row.get(column) or "") for column in ("severity", "rule", "scope", "message"))
        )
    return table


@app.command()
def monitor(
    race_date: DateOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Evaluate the monitor rules for a day and send the alerts (de-duplicated), no Prefect.
    Exit 6 when an alert is critical; 2 (nothing stored) for a day before the store's first
    race. --sport boat: the boat rules a boat day runs in its own stage, on the recorded day."""

    def action() -> dict[str, Any]:
        day = _day(race_date)
        settings = settings_from(db_url=db)
        engine = ready_engine(settings)
        from tasks.locks import store_in_use

        with store_in_use(settings, "raceday monitor"):  # no restore meanwhile, nor under one
            return _monitor(settings, engine, day, sport)

    answer(debug, as_json, action, _print_alerts)


def _monitor(settings: Settings, engine: Engine, day: date, sport: str) -> dict[str, Any]:
    """The monitor rules of ``sport`` on ``day`` (the store migrated first), their alerts sent."""
    from raceday.store.engine import upgrade_schema

    upgrade_schema(engine)
    if known_sport(sport) == "boat":
        from tasks.monitor import boat_day_to_monitor, boat_monitor_day

        return boat_monitor_day(settings, boat_day_to_monitor(settings, day), day)
    from tasks.monitor import monitor_day, unmonitorable

    reason = unmonitorable(settings, day)
    if reason is not None:
        raise InputError(reason)
    alerts = [alert.payload() for alert in monitor_day(settings, day)]
    return {"date": day.isoformat(), **outcome(alerts, [])}


def _print_alerts(result: dict[str, Any]) -> None:
    """The day's alerts as a table (or ``no alerts``) and the status."""
    alerts = result["alerts"]
    out.print(_alerts_table(f"alerts {result['date']}", alerts) if alerts else "no alerts")
    out.print(f"status: {result['status']}")


@alerts_app.command("test")
def alerts_test(as_json: JsonOption = False, debug: DebugOption = False) -> None:
    """Send one test alert to every configured destination and say how each went."""

    def action() -> dict[str, Any]:
        from raceday.monitoring.rules import Alert
        from tasks.alerts import deliver

        settings = settings_from()
        alert = Alert(
            rule="test",
            severity="info",
            message=f"raceday test alert sent at {datetime.now():%Y-%m-%d %H:%M:%S}",
            race_date=today_in_japan(),
        )
        delivery = deliver(alert, settings.alerts)
        if delivery.status == "none":
            raise InputError(
                "no alert destination configured: set RACEDAY_ALERTS__WEBHOOK_URL, "
                "RACEDAY_ALERTS__APPRISE_URLS or RACEDAY_ALERTS__PREFECT_BLOCK"
            )
        result = {"status": delivery.status, "attempts": delivery.attempts, **delivery.channels}
        if delivery.status == "failed":
            raise SourceUnavailable(f"the test alert was not delivered: {delivery.error}")
        return result

    answer(debug, as_json, action, _print_delivery)


def _print_delivery(result: dict[str, Any]) -> None:
    """How the test alert went, one line per figure and destination."""
    for key, value in result.items():
        out.print(f"{key}: {value}")


def _webhook_block_document(settings: Settings) -> str:
    """Create or update the Custom Webhook block the automations notify through; its id."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    assert settings.alerts.webhook_url is not None
    block = CustomWebhookNotificationBlock(
        name=WEBHOOK_BLOCK,
        url=settings.alerts.webhook_url,
        # The automation's body is the alert payload as JSON (deploy/automations.yaml): posted
        # as it is, so the webhook gets the same fields from a crash as from any other alert.
        form_data="{{body}}",
        headers={"Content-Type": "application/json"},
        timeout=settings.alerts.timeout_s,
    )
    block_id = block.save(WEBHOOK_BLOCK, overwrite=True)
    return str(block_id)


def apply_automations(path: Path, block_document_id: str) -> list[str]:
    """Create the automations in ``path`` (replacing ones of the same name); their names."""
    import asyncio

    import yaml
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    text = path.read_text(encoding="utf-8").replace("${RACEDAY_ALERTS_BLOCK_ID}", block_document_id)
    specs = yaml.safe_load(text)["automations"]
    automations = [AutomationCore.model_validate(spec) for spec in specs]

    async def apply() -> list[str]:
        async with get_client() as client:
            for automation in automations:
                for existing in await client.read_automations_by_name(automation.name):
                    await client.delete_automation(existing.id)
                await client.create_automation(automation)
        return [automation.name for automation in automations]

    return asyncio.run(apply())


@alerts_app.command("automations")
def alerts_automations(
    file: Annotated[
        Path, typer.Option("--file", help="automation spec (default: deploy/automations.yaml)")
    ] = AUTOMATIONS_FILE,
    debug: DebugOption = False,
) -> None:
    """Install the Prefect automations (crashed flow run → webhook) on the Prefect server."""

    def action() -> list[str]:
        settings = settings_from()
        if not settings.alerts.webhook_url:
            raise InputError("set RACEDAY_ALERTS__WEBHOOK_URL: the automations post to it")
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            raise InputError(
                "set PREFECT_API_URL to the Prefect server (automations need a running server)"
            )
        if not file.is_file():
            raise InputError(f"automation spec {file} does not exist")
        return apply_automations(file, _webhook_block_document(settings))

    for name in guard(debug, action):
        out.print(f"automation installed: {name}")
