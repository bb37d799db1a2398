"""Reporting and monitoring commands: the daily report, the monitors, alert destinations.

``report`` and ``monitor`` read the store directly (no Prefect server needed); ``alerts
automations`` talks to a running Prefect server.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, JsonOption
from cli.shared import (
    answer,
    app,
    emit_json,
    guard,
    out,
    parse_date,
    ready_engine,
    settings_from,
)
from config import Settings
from raceday.errors import InputError, SourceUnavailable
from raceday.pipeline import today_in_japan

alerts_app = typer.Typer(help="Alert destinations: test them, install the Prefect automations.")
app.add_typer(alerts_app, name="alerts")

DateOption = Annotated[
    str | None, typer.Option("--date", help="race day YYYY-MM-DD (default: today, JST)")
]
AUTOMATIONS_FILE = Path(__file__).resolve().parents[1] / "deploy" / "automations.yaml"
WEBHOOK_BLOCK = "raceday-alert"


def _day(race_date: str | None) -> date:
    return parse_date(race_date) if race_date else today_in_japan()


def _ready_store(settings: Settings) -> None:
    """The store must be reachable and migrated (report and monitor only read it)."""
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
                raise InputError(
                    f"no performance record for {day}: settle the day first "
                    f"(raceday run --date {day})"
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
) -> None:
    """Evaluate the monitor rules for a day and send the alerts (de-duplicated), no Prefect."""

    def action() -> list[dict[str, Any]]:
        day = _day(race_date)
        settings = settings_from(db_url=db)
        _ready_store(settings)
        from tasks.monitor import monitor_day

        return [alert.payload() for alert in monitor_day(settings, day)]

    alerts = guard(debug, action)
    if as_json:
        emit_json({"alerts": alerts})
    elif alerts:
        out.print(_alerts_table("alerts", alerts))
    else:
        out.print("no alerts")


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


def _webhook_block_document(settings: Settings, rule: str, severity: str) -> str:
    """Create or update the Custom Webhook block an automation of ``rule`` notifies through
    (one per rule: the payload names the rule and its severity); its id."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    assert settings.alerts.webhook_url is not None
    name = f"{WEBHOOK_BLOCK}-{rule.replace('_', '-')}"
    block = CustomWebhookNotificationBlock(
        name=name,
        url=settings.alerts.webhook_url,
        # The automation's subject carries the race date; the body the message.
        json_data={
            "rule": rule,
            "severity": severity,
            "message": "{{body}}",
            "date": "{{subject}}",
            "source": "prefect-automation",
        },
        timeout=settings.alerts.timeout_s,
    )
    return str(block.save(name, overwrite=True))


def automation_specs(path: Path) -> list[tuple[dict[str, Any], dict[str, str] | None]]:
    """The automations of ``path``, each with its ``raceday_alert`` (rule and severity; ``None``
    for one that only changes a run's state), taken out of the Prefect spec."""
    import yaml

    specs = yaml.safe_load(path.read_text(encoding="utf-8"))["automations"]
    return [(spec, spec.pop("raceday_alert", None)) for spec in specs]


def apply_automations(path: Path, settings: Settings) -> list[str]:
    """Create the automations in ``path`` (replacing ones of the same name), each alerting one
    notifying through its rule's webhook block; their names."""
    import asyncio
    import json

    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    automations = []
    for spec, alert in automation_specs(path):
        text = json.dumps(spec)
        if alert is not None:
            block = _webhook_block_document(settings, alert["rule"], alert["severity"])
            text = text.replace("${RACEDAY_ALERT_BLOCK}", block)
        automations.append(AutomationCore.model_validate(json.loads(text)))

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
        return apply_automations(file, settings)

    for name in guard(debug, action):
        out.print(f"automation installed: {name}")
