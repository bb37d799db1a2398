"""Alert delivery to a real local HTTP receiver, retries, and the stored record (both stores)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from config import Settings, load_settings
from raceday.monitoring.rules import Alert
from raceday.store.catalogs.alerts import read_alerts
from raceday.store.engine import make_engine, upgrade_schema
from tasks.alerts import deliver, raise_alerts
from tests.webhook_receiver import WebhookReceiver, closed_port_url

DAY = date(2026, 11, 20)
# the receivers answer (or refuse) at once: the timeout only bounds a hang, never a slow machine
FAST_RETRIES = {"attempts": 3, "retry_delays_s": [0.05, 0.05], "timeout_s": 60.0}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def quarantine_alert(day: date = DAY) -> Alert:
    return Alert(
        rule="quarantine_rate",
        severity="warning",
        message="12.0% of the day's races were set aside by validation",
        race_date=day,
        value=0.12,
        threshold=0.05,
        key=day.isoformat(),
    )


def test_the_webhook_receives_the_alert_as_json(receiver: WebhookReceiver) -> None:
    """One POST with rule, severity, message and date; delivered on the first attempt."""
    policy = load_settings().alerts.model_copy(update={"webhook_url": receiver.url})
    delivery = deliver(quarantine_alert(), policy)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post["rule"] == "quarantine_rate" and post["severity"] == "warning"
    assert post["date"] == "2026-11-20" and "set aside" in post["message"]
    assert post["value"] == pytest.approx(0.12) and post["threshold"] == pytest.approx(0.05)


def test_a_webhook_answering_503_is_retried_then_recorded_as_failed() -> None:
    """Every attempt reaches the receiver; after the last one the delivery is 'failed'."""
    with WebhookReceiver(status=503) as down:
        policy = load_settings().alerts.model_copy(update={"webhook_url": down.url, **FAST_RETRIES})
        delivery = deliver(quarantine_alert(), policy)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(down.posts) == 3
    assert "503" in (delivery.error or "")


def test_an_unreachable_webhook_fails_quickly_without_raising() -> None:
    """Connection refused is retried and reported, never raised."""
    policy = load_settings().alerts.model_copy(
        update={"webhook_url": closed_port_url(), **FAST_RETRIES}
    )
    delivery = deliver(quarantine_alert(), policy)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert "ConnectError" in (delivery.error or "")


def test_apprise_urls_deliver_through_apprise(receiver: WebhookReceiver) -> None:
    """An Apprise json:// URL posts Apprise's JSON (title, message) to the receiver."""
    apprise_url = receiver.url.replace("http://", "json://")
    policy = load_settings().alerts.model_copy(update={"apprise_urls": [apprise_url]})
    delivery = deliver(quarantine_alert(), policy)
    assert delivery.status == "sent" and list(delivery.channels) == ["apprise:json#0"]
    assert len(receiver.posts) == 1
    assert "quarantine_rate" in receiver.posts[0]["title"]
    assert "set aside" in receiver.posts[0]["message"]


def test_no_destination_means_stored_but_not_sent() -> None:
    """Without a destination the delivery is 'none' (the alert is still stored by its caller)."""
    assert deliver(quarantine_alert(), load_settings().alerts).status == "none"


def test_without_a_destination_a_condition_seen_again_is_counted_not_rewritten(
    store_url: str,
) -> None:
    """No destination: the first occurrence's message stays and the later ones are counted as
    repeats. Each was a "retry" to nobody that overwrote the message (a race-time
    ``odds_missing`` named the day's last race, not its first: the soak probe)."""
    upgrade_schema(make_engine(store_url))
    settings = load_settings(db_url=store_url)
    assert not settings.alerts.webhook_url and not settings.alerts.apprise_urls
    now = datetime(2026, 11, 20, 22, 0)
    for minutes in (0, 5, 10):
        first = quarantine_alert()
        seen = replace(first, message=f"{first.message} (+{minutes} min)")
        raise_alerts(settings, [seen], now=now + timedelta(minutes=minutes), quiet_before=None)
    with make_engine(store_url).connect() as connection:
        stored = read_alerts(connection, DAY, DAY)
    assert len(stored) == 1
    row = stored.iloc[0]
    assert (row["delivery"], row["repeats"]) == ("none", 2)
    assert row["message"].endswith("(+0 min)")
    assert row["last_seen_at"] == now + timedelta(minutes=10)


def store_settings(store_url: str, webhook: str, **alerts: object) -> Settings:
    upgrade_schema(make_engine(store_url))
    settings = load_settings(db_url=store_url)
    return settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"webhook_url": webhook, **alerts})}
    )


def test_the_same_condition_pages_once_and_is_stored_once(
    store_url: str, receiver: WebhookReceiver
) -> None:
    """Raised three times: one POST, one stored row with two repeats."""
    settings = store_settings(store_url, receiver.url)
    now = datetime(2026, 11, 20, 22, 0)
    for minutes in (0, 5, 10):
        raise_alerts(
            settings,
            [quarantine_alert()],
            now=now + timedelta(minutes=minutes),
            quiet_before=None,
        )
    assert len(receiver.posts) == 1
    with make_engine(store_url).connect() as connection:
        stored = read_alerts(connection, DAY, DAY)
    assert len(stored) == 1
    row = stored.iloc[0]
    assert (row["delivery"], row["attempts"], row["repeats"]) == ("sent", 1, 2)
    assert row["rule"] == "quarantine_rate" and row["severity"] == "warning"


def test_an_undelivered_alert_is_stored_and_delivered_at_the_next_evaluation(
    store_url: str, receiver: WebhookReceiver
) -> None:
    """A down webhook leaves a 'failed' row; once it is back, the same row is delivered."""
    down = store_settings(store_url, closed_port_url(), **FAST_RETRIES)
    now = datetime(2026, 11, 20, 22, 0)
    raise_alerts(down, [quarantine_alert()], now=now, quiet_before=None)
    with make_engine(store_url).connect() as connection:
        first = read_alerts(connection, DAY, DAY).iloc[0]
    assert (first["delivery"], first["attempts"]) == ("failed", 3)
    assert first["error"] and "ConnectError" in first["error"]

    up = store_settings(store_url, receiver.url)
    later = now + timedelta(minutes=30)
    raise_alerts(up, [quarantine_alert()], now=later, quiet_before=None)
    with make_engine(store_url).connect() as connection:
        stored = read_alerts(connection, DAY, DAY)
    assert len(stored) == 1 and len(receiver.posts) == 1
    assert (stored.iloc[0]["delivery"], stored.iloc[0]["attempts"]) == ("sent", 4)


def test_alerts_about_a_replayed_day_are_stored_quietly(
    store_url: str, receiver: WebhookReceiver
) -> None:
    """A backfilled day's alert is recorded as 'quiet' and nothing is posted."""
    settings = store_settings(store_url, receiver.url)
    old = DAY - timedelta(days=200)
    raise_alerts(
        settings,
        [quarantine_alert(old)],
        now=datetime(2026, 11, 20, 22, 0),
        quiet_before=DAY - timedelta(days=2),
    )
    assert receiver.posts == []
    with make_engine(store_url).connect() as connection:
        assert read_alerts(connection, old, old)["delivery"].tolist() == ["quiet"]
