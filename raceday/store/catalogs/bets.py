"""Catalog of bets: the stakes placed, their settlement, and the ledger summed per day."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, Table, and_, case, delete, func, select

from raceday.store.catalogs.races import RUNNER_KEY
from raceday.store.models import Bet, table_of
from raceday.store.repository import insert_rows, read_rows, replace_rows

BETS = table_of(Bet)
LEDGER_DAY_COLUMNS = [
    "race_date", "bets", "open_bets", "staked_yen", "paid_yen", "refunded_yen", "open_staked_yen",
]  # fmt: skip


def write_bets(connection: Connection, bets: pd.DataFrame, policy: str, race_date: date) -> int:
    """Replace a day's unsettled bets of ``policy``; settled bets are never rewritten here."""
    of_day = and_(BETS.c.policy == policy, BETS.c.race_date == race_date)
    connection.execute(delete(BETS).where(and_(of_day, BETS.c.settled.is_(False))))
    kept = connection.execute(select(BETS.c.race_id, BETS.c.umaban).where(of_day)).all()
    settled_keys = {(str(race_id), int(umaban)) for race_id, umaban in kept}
    keys = zip(bets["race_id"].astype(str), bets["umaban"].astype(int), strict=True)
    fresh = bets[[key not in settled_keys for key in keys]]
    return insert_rows(connection, BETS, fresh.assign(policy=policy, settled=False))


def write_race_bets(connection: Connection, bets: pd.DataFrame, policy: str, race_id: str) -> int:
    """Replace one race's unsettled bets of ``policy`` (a race decided at race time)."""
    of_race = and_(BETS.c.policy == policy, BETS.c.race_id == race_id)
    connection.execute(delete(BETS).where(and_(of_race, BETS.c.settled.is_(False))))
    return insert_rows(connection, BETS, bets.assign(policy=policy, settled=False))


def read_bets(
    connection: Connection,
    start: date | None = None,
    end: date | None = None,
    policy: str | None = None,
) -> pd.DataFrame:
    """Stored bets (optionally dated ``start``..``end`` and of one policy)."""
    where = {"policy": policy} if policy else None
    return read_rows(connection, BETS, start=start, end=end, where=where)


def write_settlement(connection: Connection, settled: pd.DataFrame) -> int:
    """Store settled bets (replacing them by natural key)."""
    return replace_rows(connection, BETS, settled, ["policy", *RUNNER_KEY])


def ledger_days(
    connection: Connection,
    policy: str,
    *,
    before: date | None = None,
    end: date | None = None,
    since: date | None = None,
) -> pd.DataFrame:
    """The ledger summed per race date (one row a day, not a row a bet): what the bankroll and
    its drawdown derive from. Dated before ``before`` and/or up to ``end`` inclusive, from
    ``since`` on (inclusive)."""
    return ledger_days_of(BETS, connection, policy, before=before, end=end, since=since)


def open_bets_per_day(
    connection: Connection, policy: str, start: date, end: date
) -> dict[date, int]:
    """The bets of ``policy`` not settled yet of each day ``start``..``end`` that has any."""
    ledger = ledger_days(connection, policy, since=start, end=end)
    still_open = ledger[ledger["open_bets"] > 0]
    days, counts = still_open["race_date"].dt.date, still_open["open_bets"].astype(int)
    return dict(zip(days, counts, strict=True))


def ledger_days_of(
    bets: Table,
    connection: Connection,
    policy: str,
    *,
    before: date | None = None,
    end: date | None = None,
    since: date | None = None,
) -> pd.DataFrame:
    """:func:`ledger_days` of a bets table with the same columns (a sport's own ledger)."""
    query = (
        select(
            bets.c.race_date,
            func.count(),
            func.sum(case((bets.c.settled.is_(True), 0), else_=1)),
            func.sum(bets.c.stake_yen),
            func.sum(func.coalesce(bets.c.payout_yen, 0)),
            func.sum(func.coalesce(bets.c.refund_yen, 0)),
            func.sum(case((bets.c.settled.is_(True), 0), else_=bets.c.stake_yen)),
        )
        .where(bets.c.policy == policy)
        .group_by(bets.c.race_date)
        .order_by(bets.c.race_date)
    )
    if before is not None:
        query = query.where(bets.c.race_date < before)
    if end is not None:
        query = query.where(bets.c.race_date <= end)
    if since is not None:
        query = query.where(bets.c.race_date >= since)
    frame = pd.DataFrame(connection.execute(query).all(), columns=LEDGER_DAY_COLUMNS)
    frame["race_date"] = pd.to_datetime(frame["race_date"])
    return frame.astype({name: "int64" for name in LEDGER_DAY_COLUMNS[1:]})
