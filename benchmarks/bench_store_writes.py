"""Bulk writes to the PostgreSQL store: COPY (the store's path) against an executemany INSERT.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_store_writes.py --days 50 --races 200

Simulated days' races, runners and odds (≈ 2,050 runners a day at 200 races) written into a fresh
database on the server of ``--admin-url`` (dropped afterwards) by the store's own
``insert_rows`` (``COPY ... FROM STDIN`` through psycopg) and by the path it replaced
(SQLAlchemy's executemany INSERT of :func:`raceday.store.repository.to_records`), alternating,
``--repeat`` times each; the best time of each, their ratio, and whether the two stored the
same rows (table checksums).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Table, delete, insert

from raceday.codec import decode_races, decode_runners
from raceday.odds_snapshots import decode_odds_snapshot
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.races import ODDS, RACES, RUNNERS
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import insert_rows, table_checksums, to_records

Write = Callable[[Connection, Table, pd.DataFrame], int]


def insert_many(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """The write before COPY: one executemany INSERT through SQLAlchemy."""
    records = to_records(frame, table)
    connection.execute(insert(table), records)
    return len(records)


def timed_write(
    engine_url: str, write: Write, frames: dict[Table, pd.DataFrame]
) -> tuple[float, dict[str, str]]:
    """Seconds to write every frame in one transaction (the tables emptied first, untimed),
    and the tables' checksums after."""
    engine = make_engine(engine_url)
    with engine.begin() as connection:
        for table in frames:
            connection.execute(delete(table))
    started = time.perf_counter()
    with engine.begin() as connection:
        for table, frame in frames.items():
            write(connection, table, frame)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        sums = table_checksums(connection, frames)
    engine.dispose()
    return seconds, sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=50)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "RACEDAY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres"
        ),
    )
    args = parser.parse_args()
    from tests.store_support import fresh_postgres_database

    first = date(2026, 1, 5)
    raw = simulate_days(
        first, first + timedelta(days=args.days - 1), SimulatorConfig(races_per_day=args.races)
    ).raw
    races, runners = decode_races(raw.nvd_ra), decode_runners(raw.nvd_se)
    odds = decode_odds_snapshot(raw.nvd_o1).merge(
        runners[["race_id", "umaban", "race_date"]], on=["race_id", "umaban"]
    )
    frames = {
        RACES: races.assign(has_results=True, source="bench"),
        RUNNERS: runners,
        ODDS: odds,
    }
    rows = sum(len(frame) for frame in frames.values())
    load = os.getloadavg()[0]
    print(
        f"{platform.machine()} {os.cpu_count()} cores, load {load:.1f}; {rows:,} rows", flush=True
    )
    with fresh_postgres_database(args.admin_url, "raceday_bench") as url:
        upgrade_schema(make_engine(url))
        best: dict[str, float] = {}
        sums: dict[str, dict[str, str]] = {}
        for _ in range(args.repeat):
            for name, write in (("copy", insert_rows), ("insert", insert_many)):
                seconds, sums[name] = timed_write(url, write, frames)
                best[name] = min(best.get(name, seconds), seconds)
                print(f"  {name:6s} {seconds:6.2f} s ({rows / seconds:,.0f} rows/s)", flush=True)
    print(
        f"best: COPY {best['copy']:.2f} s, INSERT {best['insert']:.2f} s, "
        f"ratio {best['copy'] / best['insert']:.2f}; the same rows stored: "
        f"{sums['copy'] == sums['insert']}; load at the end {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
