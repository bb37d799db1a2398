"""Catalog of alerts: what a monitor or a failed run raised, and how its delivery went."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update

from raceday.store.models import Alert, table_of
from raceday.store.repository import read_rows

ALERTS = table_of(Alert)


def latest_alerts(connection: Connection, fingerprints: list[str]) -> pd.DataFrame:
    """The most recent stored alert of each fingerprint."""
    columns = ["id", "fingerprint", "delivery", "raised_at", "repeats", "attempts"]
    if not fingerprints:
        return pd.DataFrame(columns=columns)
    frames = []
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        rows = connection.execute(
            select(*(ALERTS.c[name] for name in columns)).where(ALERTS.c.fingerprint.in_(chunk))
        ).fetchall()
        frames.append(pd.DataFrame(rows, columns=columns))
    found = pd.concat(frames, ignore_index=True)
    return (
        found.sort_values(["fingerprint", "raised_at", "id"])
        .drop_duplicates("fingerprint", keep="last")
        .reset_index(drop=True)
    )


def insert_alert(connection: Connection, row: dict[str, Any]) -> int:
    """Store a new alert; returns its id."""
    result = connection.execute(ALERTS.insert().values(**row))
    key = result.inserted_primary_key
    return int(key[0]) if key is not None else 0


def update_alert(connection: Connection, alert_id: int, values: dict[str, Any]) -> None:
    """Update a stored alert (a repeat, or the outcome of a retried delivery)."""
    connection.execute(update(ALERTS).where(ALERTS.c.id == alert_id).values(**values))


def bump_repeat(connection: Connection, alert_id: int, seen_at: datetime) -> None:
    """Count one more sighting of an alert already notified."""
    connection.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id)
        .values(repeats=ALERTS.c.repeats + 1, last_seen_at=seen_at)
    )


def read_alerts(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Alerts about race days ``start``..``end``, newest first."""
    frame = read_rows(connection, ALERTS, start=start, end=end)
    return frame.sort_values("raised_at", ascending=False).reset_index(drop=True)


def alerts_seen_since(connection: Connection, race_date: date, since: datetime) -> pd.DataFrame:
    """The alerts about ``race_date`` raised, repeated or retried at ``since`` or later (those a
    run that began at ``since`` raised), most severe first, one row per fingerprint."""
    rows = connection.execute(
        select(ALERTS)
        .where(ALERTS.c.race_date == race_date, ALERTS.c.last_seen_at >= since)
        .order_by(ALERTS.c.last_seen_at.desc(), ALERTS.c.id.desc())
    ).fetchall()
    frame = pd.DataFrame(rows, columns=list(ALERTS.c.keys()))
    rank = frame["severity"].map({"critical": 0, "warning": 1}).fillna(2)
    return (
        frame.assign(_rank=rank)
        .drop_duplicates("fingerprint")
        .sort_values(["_rank", "rule", "scope"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
