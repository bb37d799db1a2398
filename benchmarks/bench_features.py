"""Times the point-in-time feature build over a simulated year (the range build of a backfill)
and for one day's card (the morning run), and prints both.

    .venv/bin/python benchmarks/bench_features.py [--days 365] [--races 200] [--cache DIR]
        [--store]

The year is simulated (not timed; ≈ 40 s), its indexes derived (timed separately: references,
first 3F, track variants, indexes), then ``build_features`` runs over every runner of the year
against the whole history at once. ``--cache DIR`` keeps the simulated runner view as Parquet
for reruns. ``--store`` also loads the year into a SQLite store (not timed; minutes) and times
the morning stage itself (``tasks.features.day_features``: read the day's history from the
store, build, write). Not a test: figures go to docs/PERFORMANCE.md with the machine they came
from.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd


def simulated_view(first: date, last: date, races: int, cache: Path | None) -> pd.DataFrame:
    """The runner view (runners with race columns) of the simulated days."""
    cached = cache / f"view-{first}-{last}-{races}.parquet" if cache else None
    if cached is not None and cached.is_file():
        return pd.read_parquet(cached)
    from raceday import codec
    from raceday.pipeline import runner_view
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days

    raw = simulate_days(first, last, SimulatorConfig(races_per_day=races)).raw
    view = runner_view(codec.decode_races(raw.nvd_ra), codec.decode_runners(raw.nvd_se))
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        view.to_parquet(cached)
    return view


def with_indexes(view: pd.DataFrame) -> pd.DataFrame:
    """The view with its indexes (references learned once from the whole year: timing only)."""
    from raceday.first3f.layers import estimate_first3f
    from raceday.ratings.indexes import compute_indexes, track_variants
    from raceday.ratings.standards import learn_reference_times

    references = learn_reference_times(view)
    estimates = estimate_first3f(view, references)
    variants = track_variants(view, references)
    computed = compute_indexes(view, estimates, references, variants)
    return view.merge(computed.drop(columns="race_date"), on=["race_id", "umaban"], how="left")


RACE_FRAME_COLUMNS = [
    "race_id", "race_date", "keibajo_code", "race_bango", "class_code", "distance_m",
    "track_code", "going_code", "entries", "field_size", "post_time", "leader_first3f_s",
    "race_last3f_s",
]  # fmt: skip


def load_store(db_url: str, history: pd.DataFrame) -> None:
    """The year's races, runners and indexes in a fresh store (bulk inserts, not timed)."""
    from raceday.store.catalogs.races import RACES, RUNNERS
    from raceday.store.catalogs.ratings import INDEXES
    from raceday.store.engine import make_engine, upgrade_schema
    from raceday.store.repository import insert_rows

    engine = make_engine(db_url)
    upgrade_schema(engine)
    races = history.drop_duplicates("race_id")[RACE_FRAME_COLUMNS]
    tables = [
        (RACES, races.assign(has_results=True, source="sim")),
        (RUNNERS, history),
        (INDEXES, history[history["speed_index"].notna()]),
    ]
    with engine.begin() as connection:
        for table, frame in tables:
            for first in range(0, len(frame), 50_000):
                insert_rows(connection, table, frame.iloc[first : first + 50_000])


def time_morning_stage(db_url: str, history: pd.DataFrame, day: pd.Timestamp) -> float:
    """Seconds for the morning ``features`` stage of ``day`` against the stored year."""
    from config import load_settings
    from data_checks.validate import ValidatedDay
    from tasks.features import day_features

    settings = load_settings(db_url=db_url)
    card = history[history["race_date"] == day]
    races = card.drop_duplicates("race_id")[RACE_FRAME_COLUMNS]
    empty = pd.DataFrame()
    validated = ValidatedDay(races, card.drop(columns=RACE_FRAME_COLUMNS[4:]), empty, empty, ())
    clock = time.perf_counter()
    day_features(settings, validated, day.date())
    return time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--last", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--store", action="store_true", help="also time the stored morning run")
    args = parser.parse_args()
    from raceday.ratings.features import build_features

    first = args.last - timedelta(days=args.days - 1)
    clock = time.perf_counter()
    view = simulated_view(first, args.last, args.races, args.cache)
    simulated_s = time.perf_counter() - clock

    clock = time.perf_counter()
    history = with_indexes(view)
    indexes_s = time.perf_counter() - clock

    clock = time.perf_counter()
    features = build_features(history, history)
    range_s = time.perf_counter() - clock

    day = pd.Timestamp(args.last)
    card = history[history["race_date"] == day]
    clock = time.perf_counter()
    build_features(history[history["race_date"] < day], card)
    day_s = time.perf_counter() - clock

    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
        f"python {platform.python_version()}, pandas {pd.__version__}"
    )
    print(f"days x races per day:      {args.days} x {args.races}")
    print(f"runner rows:               {len(history):,} ({features['race_id'].nunique():,} races)")
    print(f"simulate + decode:         {simulated_s:6.1f} s (cached: {args.cache is not None})")
    print(f"references+first3F+indexes {indexes_s:6.1f} s")
    print(f"features, whole range:     {range_s:6.1f} s  ({len(features):,} rows)")
    print(f"features, one day's card:  {day_s:6.1f} s  ({len(card):,} rows, full history)")
    if args.store:
        import tempfile

        db_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='raceday-bench-')) / 'year.db'}"
        clock = time.perf_counter()
        load_store(db_url, history[history["race_date"] < day])
        load_s = time.perf_counter() - clock
        stage = [time_morning_stage(db_url, history, day) for _ in range(2)]
        print(f"store loaded (not timed):  {load_s:6.1f} s")
        print(
            f"morning features stage:    {stage[1]:6.1f} s  (first call {stage[0]:.1f} s; "
            "SQLite read of the window + build + write)"
        )


if __name__ == "__main__":
    main()
