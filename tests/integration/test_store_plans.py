"""The store's reads and rewrites of a policy's (a feature set's) days go by date on SQLite.

The tables keyed by (policy, race, ...) or (feature_set, race, ...) are read and rewritten by
policy and a range of days. Without an index on both columns, SQLite's planner (which has no
statistics: it cannot know a store holds one policy) takes the key's equality over the date
range and reads every row of the policy: after five years of 200 races a day a chunk's
features delete took 0.9 s against 0.01 s by date, and grew with the store (revision 2500).
Each statement is caught as the catalog function sends it and asked for SQLite's plan."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, event

from raceday.store.catalogs import bets, boat, decisions
from raceday.store.catalogs.ratings import read_features, write_features
from raceday.store.engine import make_engine, upgrade_schema

DAY, LATER = date(2025, 3, 1), date(2025, 3, 28)


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) the engine sends while the block runs."""
    sent: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", catch)


def searches_by_date(connection: Connection, statement: str, parameters: Any) -> bool:
    """Whether SQLite's plan of ``statement`` searches its table by ``race_date``."""
    plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    details = [str(row[-1]) for row in plan]
    return any(re.search(r"SEARCH \w+ USING (COVERING )?INDEX .*race_date", d) for d in details)


CALLS: dict[str, Callable[[Connection], object]] = {
    "features rewrite": lambda c: write_features(c, pd.DataFrame(), "pp-v1", DAY, LATER),
    "features read": lambda c: read_features(c, DAY, LATER, "pp-v1"),
    "bets of days": lambda c: bets.read_bets(c, DAY, LATER, policy="kelly"),
    "ledger before a day": lambda c: bets.ledger_days(c, "kelly", before=DAY),
    "ledger up to a day": lambda c: bets.ledger_days(c, "kelly", end=LATER),
    "ledger of a run's days": lambda c: bets.ledger_days(c, "kelly", since=DAY, end=LATER),
    "a day's decided races": lambda c: decisions.decided_races(c, "kelly", DAY),
    "a day's decisions": lambda c: decisions.read_decisions(c, DAY, "kelly"),
    "a boat day's bets": lambda c: boat.read_bets(c, DAY, "kelly"),
    "the boat ledger": lambda c: boat.ledger_days(c, "kelly", before=DAY),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_policys_or_feature_sets_days_are_searched_by_date(sqlite_url: str, call: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    with engine.begin() as connection, statements_sent(engine) as sent:
        CALLS[call](connection)
    keyed = [
        (statement, parameters)
        for statement, parameters in sent
        if re.search(r"\b(policy|feature_set) = \?", statement) and "race_date" in statement
    ]
    assert keyed, f"{call}: no statement by policy (feature set) and date was sent"
    with engine.connect() as connection:
        for statement, parameters in keyed:
            assert searches_by_date(connection, statement, parameters), statement
