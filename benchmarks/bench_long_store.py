"""Times what a store's years make slower, on a store that has them (the five-year backfill's).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_long_store.py --db sqlite:///F.db
        [--start YYYY-MM-DD --end YYYY-MM-DD] [--repeat 3]

For one chunk of stored days (default: the last 28 stored), with SQLite's page cache at its
default (2,000 KiB) and at the store's (``raceday.store.engine.SQLITE_CACHE_KIB``), alternated
``--repeat`` times, each on its own engine: the chunk's races and runners rewritten as the
results stage writes them (in a transaction rolled back: nothing stored changes), the chunk's
settled runs read (what a backfill's held runs read after each chunk), the careers of 5,000 of
its horses read (what an evicted horse's return and a race-time card read). Then, once, the
history a chunk's features need read from the store (the people window and every earlier run
of the cards' horses) and ``build_features`` of the chunk timed ``--repeat`` times two ways:
from that history (as a daily run and a backfill's window before its held days build) and from
the cards' horses' runs with the people's daily counts given (as a backfill's held runs,
``SettledRuns``, build), and from the same with each horse's runs before the held days
(``--held-days``) but its last five folded into sums (as ``SettledRuns`` holds them), checked
equal. The stage that grew with the horses' careers. The fastest of each is printed.

Use a copy of the store (the runs are rolled back, but the WAL file grows). PostgreSQL URLs are
read too (the page cache rows then time the same engine twice). Not a test: figures go to
docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, func, select


def _engine(url: str, cache_kib: int | None) -> Engine:
    """The store's engine, or (``cache_kib``) one with the store's pragmas but SQLite's page
    cache of ``cache_kib`` KiB: the two differ in the cache only."""
    from raceday.store.engine import make_engine, sqlite_pragmas

    if cache_kib is None or not url.startswith("sqlite"):
        return make_engine(url)
    engine = create_engine(url)
    event.listen(engine, "connect", sqlite_pragmas(cache_kib))
    return engine


def _chunk(engine: Engine, start: date | None, end: date | None) -> tuple[date, date]:
    """The days asked for, or the last 28 stored."""
    from raceday.store.catalogs.races import RACES

    if start is not None and end is not None:
        return start, end
    with engine.connect() as connection:
        last = connection.execute(select(func.max(RACES.c.race_date))).scalar_one()
    last = date.fromisoformat(str(last)[:10])
    return last - timedelta(days=27), last


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def store_timings(engine: Engine, start: date, end: date) -> dict[str, float]:
    """Seconds of the chunk's write (rolled back), its settled runs' read, 5,000 careers' read."""
    from raceday.store.catalogs.races import read_races, read_runners, write_races_and_runners
    from raceday.store.catalogs.ratings import read_feature_history, read_settled_runs

    with engine.connect() as connection:
        races, runners = read_races(connection, start, end), read_runners(connection, start, end)
        horses = pd.Series(runners["horse_id"].dropna().astype(str).unique()[:5000])
        connection.rollback()

        def rewrite() -> None:
            with connection.begin() as transaction:
                write_races_and_runners(
                    connection, races, runners, has_results=True, source="benchmark"
                )
                transaction.rollback()

        return {
            "chunk's races and runners written (rolled back)": _timed(rewrite),
            "chunk's settled runs read": _timed(
                lambda: read_settled_runs(connection, end, after=start - timedelta(days=1))
            ),
            "5,000 horses' careers read": _timed(
                lambda: read_feature_history(connection, before=start, horse_ids=horses)
            ),
        }


def feature_history(connection: Connection, start: date, end: date) -> tuple[Any, Any]:
    """The chunk's cards and the history their features read (the people window before
    ``start`` and every earlier run of the cards' horses), as a backfill reads it from the
    store for days before its held runs."""
    from raceday.ratings.features import PEOPLE_WINDOW_DAYS
    from raceday.store.catalogs.ratings import read_settled_runs, read_window_and_careers

    cards = read_settled_runs(connection, end, after=start - timedelta(days=1))
    window_from = start - timedelta(days=PEOPLE_WINDOW_DAYS)
    horses = cards["horse_id"].astype("string").fillna("").unique()
    return cards, read_window_and_careers(connection, horses, window_from, end)


def held_history(history: Any, cards: Any, start: date) -> tuple[Any, Any]:
    """What a backfill's held runs give ``build_features`` instead (``SettledRuns``): the
    cards' horses' runs only, and the people's daily counts of the window (counted here at
    once from its runs; the held runs count them day by day as they are read)."""
    from raceday.arrow_text import text_isin
    from raceday.ratings.features import PEOPLE_WINDOW_DAYS, people_daily_counts, run_rows

    horses = history["horse_id"].astype("string").fillna("")
    own = history[text_isin(horses, cards["horse_id"].astype("string").fillna("")).to_numpy()]
    days = pd.to_datetime(history["race_date"])
    window_from = pd.Timestamp(start) - pd.Timedelta(days=PEOPLE_WINDOW_DAYS)
    in_window = (days >= window_from) & run_rows(history)
    return own, people_daily_counts(history[in_window.to_numpy()])


def folded_history(own: Any, start: date, held_days: int) -> tuple[Any, Any]:
    """What a backfill's held runs give instead since they fold careers (``SettledRuns``):
    each horse's runs before the held days (``held_days`` before ``start``) but its last
    five as sums (``FoldedRuns``), the rest as runs."""
    from raceday.ratings.career_sums import FoldedRuns, folded_rows
    from raceday.ratings.features import HISTORY_COLUMNS, LAST_K, STATISTICS_COLUMNS, past_runs

    ordered = past_runs(own, None, None, HISTORY_COLUMNS)
    before = np.flatnonzero(ordered["race_date"] < pd.Timestamp(start - timedelta(days=held_days)))
    folding = np.zeros(len(ordered), dtype=bool)
    folding[before[folded_rows(ordered["horse_id"].to_numpy()[before], LAST_K)]] = True
    return ordered[~folding], FoldedRuns.of_runs(ordered.loc[folding, STATISTICS_COLUMNS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="a store with years of history (a copy)")
    parser.add_argument("--start", type=date.fromisoformat, default=None)
    parser.add_argument("--end", type=date.fromisoformat, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--held-days", type=int, default=270, help="the backfill's held days")
    args = parser.parse_args()

    from raceday.ratings.features import PEOPLE_WINDOW_DAYS, build_features
    from raceday.store.engine import SQLITE_CACHE_KIB

    load = os.getloadavg()[0]
    print(f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {load:.1f}; {args.db}")  # fmt: skip
    engines = {
        "SQLite's default cache (2,000 KiB)": _engine(args.db, 2000),
        f"the store's cache ({SQLITE_CACHE_KIB:,} KiB)": _engine(args.db, None),
    }
    start, end = _chunk(next(iter(engines.values())), args.start, args.end)
    print(f"chunk {start}..{end}")
    best: dict[str, dict[str, float]] = {name: {} for name in engines}
    for _ in range(args.repeat):
        for name, engine in engines.items():
            for what, seconds in store_timings(engine, start, end).items():
                best[name][what] = min(seconds, best[name].get(what, float("inf")))
    for name, timings in best.items():
        print(name)
        for what, seconds in timings.items():
            print(f"  {what:50s} {seconds:7.3f} s")

    with engines[f"the store's cache ({SQLITE_CACHE_KIB:,} KiB)"].connect() as connection:
        started = time.perf_counter()
        cards, history = feature_history(connection, start, end)
        read_seconds = time.perf_counter() - started
    own, people = held_history(history, cards, start)
    kept, folded = folded_history(own, start, args.held_days)
    same = build_features(own, cards, PEOPLE_WINDOW_DAYS, people).equals(
        build_features(history, cards, PEOPLE_WINDOW_DAYS)
    ) and build_features(kept, cards, PEOPLE_WINDOW_DAYS, people, folded).equals(
        build_features(own, cards, PEOPLE_WINDOW_DAYS, people)
    )
    builds: dict[str, list[float]] = {
        "with the window's runs": [],
        "the people counted": [],
        "the people counted, careers folded": [],
    }
    for _ in range(args.repeat):
        builds["with the window's runs"].append(
            _timed(lambda: build_features(history, cards, PEOPLE_WINDOW_DAYS))
        )
        builds["the people counted"].append(
            _timed(lambda: build_features(own, cards, PEOPLE_WINDOW_DAYS, people))
        )
        builds["the people counted, careers folded"].append(
            _timed(lambda: build_features(kept, cards, PEOPLE_WINDOW_DAYS, people, folded))
        )
    print(f"features of the chunk: {len(cards):,} cards, {len(history):,} history rows "
          f"(read in {read_seconds:.1f} s), {len(own):,} of the cards' horses ({len(kept):,} "
          f"with careers folded); the same features every way: {same}")  # fmt: skip
    for how, times in builds.items():
        print(f"  build_features, {how:40s} fastest {min(times):7.3f} s of {len(times)}")


if __name__ == "__main__":
    main()
