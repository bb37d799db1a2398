"""Alert delivery: a JSON webhook, Apprise URLs (Slack, e-mail, ...) and Prefect notification
blocks, each retried, and a Prefect event (the Event Feed; automations can route it); every
alert stored with its outcome; the flows' ``on_failure`` hook. Every destination gets the one
payload of :func:`raceday.monitoring.rules.alert_payload`.

Delivery never raises: a receiver that is down is retried, recorded as undelivered, retried at
the next evaluation, and the pipeline goes on. Channel records name the kind of destination
only (``webhook``, ``apprise:slack``), never its URL, which often carries a secret.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pandas as pd

from config import Settings, load_settings, mask_credentials
from config.sections import AlertSettings
from raceday.errors import RunLocked, describe_failure
from raceday.monitoring.rules import Alert, Decision, plan_notifications, stored_alert_payload
from raceday.store.catalogs.alerts import (
    alerts_seen_since,
    bump_repeat,
    insert_alert,
    latest_alerts,
    update_alert,
)
from tasks.common import current_flow_name, engine_for, logger

LOG = logging.getLogger(__name__)
JAPAN = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Delivery:
    """How one alert's delivery went, over every configured destination."""

    status: str  # sent | partial | failed | none (no destination configured)
    attempts: int = 0
    channels: dict[str, str] = field(default_factory=dict)  # channel -> "ok" or the error
    delivered_at: datetime | None = None

    @property
    def error(self) -> str | None:
        """The failed channels' errors, one line."""
        failed = [
            f"{name}: {outcome}" for name, outcome in self.channels.items() if outcome != "ok"
        ]
        return "; ".join(failed)[:2000] or None


def with_retries(
    send: Callable[[], None], attempts: int, delays_s: list[float]
) -> tuple[bool, int, str | None]:
    """Call ``send`` until it succeeds or ``attempts`` run out: (ok, attempts made, last error)."""
    error: str | None = None
    for attempt in range(1, attempts + 1):
        try:
            send()
            return True, attempt, None
        except Exception as failure:  # noqa: BLE001 - any failure is retried, then recorded
            error = f"{type(failure).__name__}: {failure}"[:500]
        if attempt < attempts and delays_s:
            time.sleep(delays_s[min(attempt - 1, len(delays_s) - 1)])
    return False, attempts, error


def post_webhook(url: str, payload: dict[str, Any], timeout_s: float) -> None:
    """POST the alert as JSON; any non-2xx answer is a failure."""
    response = httpx.post(url, json=payload, timeout=timeout_s)
    response.raise_for_status()


def notify_apprise(url: str, title: str, body: str) -> None:
    """Send through one Apprise URL (slack://, mailtos://, json://, ...)."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("not a valid Apprise URL")
    if not notifier.notify(title=title, body=body):
        raise RuntimeError("Apprise could not deliver")


def notify_prefect_block(name: str, title: str, body: str) -> None:
    """Send through a saved Prefect notification block (Slack, e-mail, Teams, ...)."""
    from prefect.blocks.core import Block

    block: Any = Block.load(name)
    block.notify(body=body, subject=title)


def _apprise_channel(url: str, index: int) -> str:
    return f"apprise:{url.split('://', 1)[0]}#{index}"


def deliver(alert: Alert, policy: AlertSettings) -> Delivery:
    """Send one alert to every configured destination, each with retries."""
    title = f"[raceday {alert.severity}] {alert.rule} {alert.payload()['date'] or ''}".strip()
    body = alert.message + (f" — {alert.url}" if alert.url else "")  # people read no JSON
    senders: dict[str, Callable[[], None]] = {}
    if policy.webhook_url:
        url = policy.webhook_url
        senders["webhook"] = lambda: post_webhook(url, alert.payload(), policy.timeout_s)
    for index, apprise_url in enumerate(policy.apprise_urls):
        senders[_apprise_channel(apprise_url, index)] = partial(
            notify_apprise, apprise_url, title, body
        )
    if policy.prefect_block:
        block = policy.prefect_block
        senders[f"prefect:{block}"] = lambda: notify_prefect_block(block, title, body)
    if not senders:
        return Delivery("none")
    channels: dict[str, str] = {}
    attempts = 0
    for name, send in senders.items():
        ok, tries, error = with_retries(send, policy.attempts, policy.retry_delays_s)
        attempts += tries
        channels[name] = "ok" if ok else (error or "failed")
        if not ok:
            LOG.warning("alert %s not delivered to %s: %s", alert.rule, name, error)
    delivered = sum(outcome == "ok" for outcome in channels.values())
    status = "sent" if delivered == len(channels) else "partial" if delivered else "failed"
    return Delivery(status, attempts, channels, datetime.now() if delivered else None)


def _new_row(alert: Alert, now: datetime, delivery: Delivery) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint[:200],
        "rule": alert.rule,
        "severity": alert.severity,
        "scope": alert.scope[:40],
        "race_date": alert.race_date,
        "message": alert.message,
        "value": alert.payload()["value"],
        "threshold": alert.payload()["threshold"],
        "raised_at": now,
        "last_seen_at": now,
        "repeats": 0,
        "delivery": delivery.status,
        "attempts": delivery.attempts,
        "delivered_at": delivery.delivered_at,
        "channels": json.dumps(delivery.channels) if delivery.channels else None,
        "error": delivery.error,
    }


def _previous(settings: Settings, alerts: list[Alert]) -> pd.DataFrame | None:
    try:
        with engine_for(settings).connect() as connection:
            return latest_alerts(connection, sorted({alert.fingerprint for alert in alerts}))
    except Exception:
        LOG.exception("could not read earlier alerts: notifying without de-duplication")
        return None


def alert_event(alert: Alert) -> dict[str, Any]:
    """The Prefect event of an alert (``emit_event``'s arguments): named after its severity
    (``raceday.alert.critical``), about the resource ``raceday.alert.<rule>`` (labelled with
    its severity, scope, date and fingerprint, so automations can match them), with the alert's
    payload. Prefect relates it to the flow run that raised it."""
    payload = alert.payload()
    return {
        "event": f"raceday.alert.{alert.severity}",
        "resource": {
            "prefect.resource.id": f"raceday.alert.{alert.rule}",
            "prefect.resource.name": alert.rule,
            "raceday.severity": alert.severity,
            "raceday.scope": alert.scope,
            "raceday.date": payload["date"] or "",
            "raceday.fingerprint": alert.fingerprint,
        },
        "payload": payload,
    }


def emit_alert_event(alert: Alert) -> None:
    """Emit the alert to the Event Feed of the Prefect API in use; without one (``raceday
    monitor``, a test) nothing: Prefect would start a server of its own just to receive it.
    An event that cannot be sent never stops the run."""
    try:
        from prefect.events import emit_event
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            emit_event(**alert_event(alert))
    except Exception:
        LOG.exception("could not emit the Prefect event of alert %s", alert.rule)


def raise_alerts(
    settings: Settings,
    alerts: list[Alert],
    *,
    now: datetime,
    quiet_before: date | None,
) -> list[tuple[Decision, Delivery | None]]:
    """De-duplicate, deliver and store alerts; returns each decision with its delivery."""
    if not alerts:
        return []
    previous = _previous(settings, alerts)
    decisions = plan_notifications(
        alerts,
        previous if previous is not None else pd.DataFrame(columns=["fingerprint"]),
        now,
        timedelta(hours=settings.alerts.renotify_hours),
        quiet_before,
    )
    outcomes: list[tuple[Decision, Delivery | None]] = [
        (decision, deliver(decision.alert, settings.alerts))
        if decision.action in {"send", "retry"}
        else (decision, None)
        for decision in decisions
    ]
    for decision in decisions:  # the Event Feed shows what was notified, as the channels got it
        if decision.action in {"send", "retry"}:
            emit_alert_event(decision.alert)
    try:
        _store(settings, outcomes, previous, now)
    except Exception:
        if previous is not None:
            raise
        LOG.exception("could not store %d alert(s)", len(outcomes))
    return outcomes


def alerts_raised_since(
    settings: Settings, race_date: date, since: datetime
) -> list[dict[str, Any]]:
    """The payloads of the alerts about ``race_date`` that a run begun at ``since`` raised
    (sent, repeated or quiet: a re-run of the day reports the same alerts), critical first."""
    with engine_for(settings).connect() as connection:
        rows = alerts_seen_since(connection, race_date, since)
    return [stored_alert_payload(row) for row in rows.to_dict("records")]


def _store(
    settings: Settings,
    outcomes: list[tuple[Decision, Delivery | None]],
    previous: pd.DataFrame | None,
    now: datetime,
) -> None:
    attempts_before = (
        dict(zip(previous["id"], previous["attempts"], strict=True))
        if previous is not None and "attempts" in previous
        else {}
    )
    with engine_for(settings).begin() as connection:
        for decision, delivery in outcomes:
            # a retry that found no destination sent nothing: a repeat of what is stored (its
            # first message kept, counted), not a new notification (every later race of a day
            # without odds overwrote the first one's message)
            unsent = (
                decision.action == "retry" and delivery is not None and delivery.status == "none"
            )
            if (decision.action == "repeat" or unsent) and decision.row_id is not None:
                bump_repeat(connection, decision.row_id, now)
            elif decision.action == "retry" and decision.row_id is not None and delivery:
                update_alert(
                    connection,
                    decision.row_id,
                    {
                        "delivery": delivery.status,
                        "attempts": int(attempts_before.get(decision.row_id, 0) or 0)
                        + delivery.attempts,
                        "delivered_at": delivery.delivered_at,
                        "channels": json.dumps(delivery.channels) if delivery.channels else None,
                        "error": delivery.error,
                        "message": decision.alert.message,
                        "last_seen_at": now,
                    },
                )
            else:
                outcome = delivery if delivery is not None else Delivery("quiet")
                insert_alert(connection, _new_row(decision.alert, now, outcome))


# --- the flows' failure hook ------------------------------------------------------------------


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def flow_failure_alert(
    flow_name: str, run_name: str, race_date: date | None, reason: str, link: str | None
) -> Alert:
    """The alert for a failed flow run: critical, one per flow and race day per re-notify;
    ``url`` the run's page in the Prefect UI."""
    day = race_date.isoformat() if race_date else "?"
    return Alert(
        rule="flow_failed",
        severity="critical",
        message=f"{flow_name} for {day} failed (flow run {run_name}): {reason}",
        race_date=race_date,
        scope=flow_name,
        key=day,
        recurring=True,
        url=link,
    )


def venue_down_alert(flow_name: str, race_date: date, location: str, reason: str) -> Alert:
    """The alert for a venue whose input could not be read while the day's run went on."""
    day = race_date.isoformat()
    return Alert(
        rule="venue_down",
        severity="critical",
        message=f"{flow_name} for {day}: {location} could not be read and is left out of the "
        f"day (its races are neither bet nor settled; re-run the day when it answers): {reason}",
        race_date=race_date,
        scope=flow_name,
        key=f"{day}|{location}",
        recurring=True,
    )


def history_unusable_alert(flow_name: str, race_date: date, reason: str) -> Alert:
    """The alert for a warm-up whose history left nothing valid: the day ran without it."""
    day = race_date.isoformat()
    return Alert(
        rule="history_unusable",
        severity="warning",
        message=f"{flow_name} for {day}: the warm-up history before it left nothing valid, so "
        f"the day ran without history, as on an empty store (no standards, first-3F model or "
        f"features learned from it; fix the history and run again to use it): {reason}",
        race_date=race_date,
        scope=flow_name,
        key=day,
    )


def alert_history_unusable(settings: Settings, race_date: date, reason: str) -> None:
    """Warn in the run's log and raise :func:`history_unusable_alert`."""
    alert = history_unusable_alert(current_flow_name(), race_date, reason)
    logger().warning("%s", alert.message)
    raise_alerts(settings, [alert], now=datetime.now(), quiet_before=None)


def failure_of(state: Any) -> BaseException | None:
    """The exception a failed Prefect state holds, if it can be read back."""
    if isinstance(state.data, BaseException):
        return state.data
    try:
        found = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - a result that cannot be read: the state's message says it
        return None
    return found if isinstance(found, BaseException) else None


def failure_reason(state: Any) -> str:
    """Why a run failed, saying its kind: ``defect in stage first3f: KeyError: 'x' — please
    report``, ``source or store unavailable: ...``, or the bad input's message."""
    error = failure_of(state)
    return describe_failure(error) if error is not None else str(state.message or state.name)


def is_refusal(error: BaseException | None) -> bool:
    """True when a run ended because another run holds its day (:class:`RunLocked`): it did
    nothing, so nothing failed; the run holding the day goes on and reports for itself."""
    return isinstance(error, RunLocked)


def alert_on_flow_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """``on_failure`` hook: alert at once, without needing a Prefect server; the alert says the
    kind of failure (a defect names its stage and, where known, its race). A run refused
    because another holds its day (:func:`is_refusal`) is logged in one line, not alerted: its
    alert would page for nothing and count as a critical alert of the run holding the day.

    A process that is killed cannot run this hook: the Prefect automation in
    ``deploy/automations.yaml`` covers crashes.
    """
    try:
        if is_refusal(refused := failure_of(state)):
            LOG.warning("%s refused, not failed: %s", flow_run.name, refused)
            return
        from prefect.utilities.urls import url_for

        parameters = dict(flow_run.parameters or {})
        settings = load_settings()  # the store in force in this process (no URL parameter)
        alert = flow_failure_alert(
            flow_name=str(flow.name),
            run_name=str(flow_run.name),
            race_date=_as_date(parameters.get("race_date")),
            reason=mask_credentials(failure_reason(state)),
            link=url_for(flow_run),
        )
        raise_alerts(settings, [alert], now=datetime.now(), quiet_before=None)
    except Exception:
        LOG.exception("could not raise the flow-failure alert")
