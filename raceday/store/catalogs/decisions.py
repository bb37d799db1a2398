"""Catalog of race-time decisions: the races ``raceday live`` has decided (bet, not bet,
missed), each once; the row is written with the race's bets, in one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, select

from raceday.store.models import RaceDecision, table_of
from raceday.store.repository import insert_rows, read_rows

DECISIONS = table_of(RaceDecision)


def decided_races(connection: Connection, policy: str, race_date: date) -> set[str]:
    """The races of ``race_date`` already decided under ``policy``."""
    query = select(DECISIONS.c.race_id).where(
        and_(DECISIONS.c.policy == policy, DECISIONS.c.race_date == race_date)
    )
    return set(connection.execute(query).scalars())


def races_decided_between(connection: Connection, start: date, end: date) -> set[str]:
    """The races of ``start``..``end`` decided at race time under any policy: the odds stored
    for them are the ones their decision read."""
    query = select(DECISIONS.c.race_id).where(DECISIONS.c.race_date.between(start, end))
    return set(connection.execute(query).scalars())


def record_decision(connection: Connection, decision: dict[str, Any]) -> None:
    """Record a race as decided. The primary key (policy, race_id) is the arbiter: a second
    decision of the same race raises ``IntegrityError`` and its transaction (with its bets)
    rolls back."""
    insert_rows(connection, DECISIONS, pd.DataFrame([decision]))


def read_decisions(
    connection: Connection, race_date: date, policy: str | None = None
) -> pd.DataFrame:
    """The day's race decisions (of one policy when given)."""
    where = {"policy": policy} if policy else None
    return read_rows(connection, DECISIONS, start=race_date, end=race_date, where=where)
