"""One alert payload everywhere: the webhook, Apprise, the Prefect event, the automations' webhook
and a run's summary all carry rule, severity, message, date, scope, fingerprint, value,
threshold, url and source."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from raceday.monitoring.rules import ALERT_FIELDS, Alert, stored_alert_payload
from tasks.alerts import Delivery, _new_row, alert_event, emit_alert_event, flow_failure_alert

DAY = date(2026, 11, 20)
AUTOMATIONS = Path(__file__).resolve().parents[2] / "deploy" / "automations.yaml"


def test_an_alerts_payload_has_every_field_in_order() -> None:
    alert = Alert("quarantine_rate", "warning", "6 of 30", DAY, value=0.2, threshold=0.05, key="k")
    assert alert.payload() == {
        "rule": "quarantine_rate",
        "severity": "warning",
        "message": "6 of 30",
        "date": "2026-11-20",
        "scope": "all",
        "fingerprint": "quarantine_rate|all|k",
        "value": 0.2,
        "threshold": 0.05,
        "url": None,
        "source": "raceday",
    }
    assert tuple(alert.payload()) == ALERT_FIELDS


def test_a_failed_runs_link_is_its_url_not_part_of_its_message() -> None:
    link = "http://127.0.0.1:4200/runs/flow-run/abc"
    alert = flow_failure_alert("daily-run", "daily-run-2026-11-20", DAY, "defect: KeyError", link)
    payload = alert.payload()
    assert payload["url"] == link and link not in payload["message"]
    assert payload["fingerprint"] == "flow_failed|daily-run|2026-11-20"


def test_a_stored_alert_reads_back_as_the_payload_it_was_sent_with() -> None:
    """A run's summary lists the alerts read back from the store: the same fields and values."""
    alert = Alert(
        "drawdown", "critical", "braked", DAY, value=float("inf"), threshold=0.3, key="brake"
    )
    row = _new_row(alert, datetime(2026, 11, 20, 21), Delivery("sent"))
    assert stored_alert_payload(row) == alert.payload()  # inf is stored and sent as null


def test_the_automations_crash_alert_renders_as_the_same_payload() -> None:
    """The automation's body, rendered by Prefect's template engine with its own filters, is
    the payload as JSON, whatever quotes the state message holds."""
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.utilities.user_templates import (
        register_user_template_filters,
        render_user_template_sync,
    )

    register_user_template_filters(all_filters)
    crash = yaml.safe_load(AUTOMATIONS.read_text(encoding="utf-8"))["automations"][1]
    body = crash["actions"][0]["body"]
    context = {
        "flow": {"name": "daily-run"},
        "flow_run": {
            "name": "daily-run-2026-11-20",
            "parameters": {"race_date": "2026-11-20"},
            "state": {"message": 'Crashed: "SIGTERM" <killed>'},
        },
    }
    payload = json.loads(render_user_template_sync(body, context))
    assert tuple(payload) == ALERT_FIELDS
    assert payload["rule"] == "flow_run_crashed" and payload["severity"] == "critical"
    assert payload["date"] == "2026-11-20" and payload["scope"] == "daily-run"
    assert payload["message"].endswith(
        'crashed (flow run daily-run-2026-11-20): Crashed: "SIGTERM" <killed>'
    )
    assert payload["fingerprint"] == "flow_run_crashed|daily-run|2026-11-20"
    context["flow_run"]["parameters"] = {}  # a run without a date
    assert json.loads(render_user_template_sync(body, context))["date"] is None


def test_an_alert_is_a_prefect_event_about_its_rule_carrying_its_payload() -> None:
    alert = Alert("venue_down", "critical", "venue 44 down", DAY, scope="daily-run", key="44")
    event = alert_event(alert)
    assert event["event"] == "raceday.alert.critical"
    assert event["resource"]["prefect.resource.id"] == "raceday.alert.venue_down"
    assert event["resource"]["raceday.fingerprint"] == alert.fingerprint
    assert event["payload"] == alert.payload()
    assert all(isinstance(value, str) for value in event["resource"].values())


def test_an_alert_is_emitted_to_the_prefect_api_in_use_and_only_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a Prefect API nothing is emitted (Prefect would start a server of its own to
    receive it); with one, ``emit_event`` gets the alert's event; a failing emit is swallowed."""
    import prefect.events
    from prefect.settings import PREFECT_API_URL, temporary_settings

    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **event: emitted.append(event))
    alert = Alert("no_races", "critical", "no races", DAY, key="d")
    with temporary_settings(updates={PREFECT_API_URL: None}):
        emit_alert_event(alert)
    assert emitted == []
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        emit_alert_event(alert)
        assert emitted == [alert_event(alert)]

        def broken(**_event: Any) -> None:
            raise RuntimeError("events client down")

        monkeypatch.setattr(prefect.events, "emit_event", broken)
        emit_alert_event(alert)  # logged, not raised: an event never stops a run
