"""Morning odds vs odds before the close: the same simulated days backfilled twice, betting on the
odds published by ``live.morning_odds_at`` (the daily run) and on each race's odds
``live.lead_minutes`` before its post time (race-time betting), with the same day-level sizing.

    .venv/bin/python benchmarks/bench_odds_timing.py [--start 2025-03-01] [--days 112]
        [--races 100] [--chunk-days 28] [--seed 20261121]

In-process (the stage chain without Prefect, as ``bench_backfill.py --direct``), on two temporary
SQLite stores that start from one warm-up (copied). The model windows are shortened so that a
version is trained and can be promoted inside the range (``TRAINING`` below); each store trains
its own, on its own bet-time odds. Prints per mode: bets, turnover, return, ROI, drawdown
and final bankroll of the ledger, the model versions bet with, and the market's log loss at bet
time (``raceday eval staking``'s ``market_at_bet_time``). Not a test: the figures go to
docs/STAKING.md with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

# Windows short enough for a version inside a few months of 100-race days: 56 + 14 + 14 days
# (1,400 races in each of the blend and evaluation windows, over min_races 500), retrained after
# every 28-day chunk; the warm-up holds the first version's 84 days.
TRAINING = {
    "RACEDAY_HISTORY__WARMUP_DAYS": "84",
    "RACEDAY_TRAIN__TRAIN_DAYS": "56",
    "RACEDAY_TRAIN__BLEND_DAYS": "14",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "14",
    "RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS": "28",
    "RACEDAY_TRAIN__MAX_ITER": "100",
}
MODES = ("morning", "lead")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", default="2025-03-01")
    parser.add_argument("--days", type=int, default=112)
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--chunk-days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-odds-timing-"))
    os.environ.setdefault("RACEDAY_VAR_DIR", str(work))
    os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"] = str(args.races)
    os.environ["RACEDAY_SIMULATOR__SEED"] = str(args.seed)
    os.environ.update(TRAINING)
    start = date.fromisoformat(args.start)
    end = start + timedelta(days=args.days - 1)
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"{machine}; seed {args.seed}; {start}..{end} ({args.days} days x {args.races} races), "
        f"chunks of {args.chunk_days} days; store SQLite in {work}",
        flush=True,
    )
    clock = time.perf_counter()
    stores = {mode: work / f"{mode}.db" for mode in MODES}
    _warm_up(stores["morning"], args.races, start)
    shutil.copyfile(stores["morning"], stores["lead"])
    print(f"warm-up (once, copied): {time.perf_counter() - clock:.1f} s", flush=True)
    figures = {}
    for mode in MODES:
        mode_clock = time.perf_counter()
        _backfill(stores[mode], args.races, start, end, args.chunk_days, mode)
        figures[mode] = _figures(stores[mode], start, end)
        print(f"{mode}: backfill and evaluation {time.perf_counter() - mode_clock:.1f} s")
    _print_table(figures)
    print(f"total {(time.perf_counter() - clock) / 60:.1f} min")


def _settings(store: Path, races: int, odds_at: str = "morning") -> Any:
    from config import load_settings
    from flows.backfill_settings import with_odds_at, without_data_docs

    settings = without_data_docs(load_settings(races=races, db_url=f"sqlite:///{store}"))
    return with_odds_at(settings, odds_at)


def _warm_up(store: Path, races: int, start: date) -> None:
    from flows.backfill import warm_up

    warm_up(_settings(store, races), start)


def _backfill(store: Path, races: int, start: date, end: date, chunk_days: int, mode: str) -> None:
    """The backfill flow's chunks and retraining, in-process."""
    from flows.backfill import after_chunk
    from flows.backfill_plan import chunk_grid
    from flows.chain import chunk_chain
    from raceday.store.catalogs.ratings import SettledRuns
    from tasks.common import in_process

    settings = _settings(store, races, mode)
    settled = SettledRuns()
    for chunk in chunk_grid(start, end, chunk_days):
        clock = time.perf_counter()
        counts = chunk_chain(in_process, settings, chunk.start, chunk.end, chunk.days, settled)
        trained = after_chunk(settings, chunk.end, settled)
        version = "" if trained is None else f"; trained {trained['version']} ({trained['reason']})"
        print(f"  {mode} {chunk.start}..{chunk.end}: {counts['bets']} bets, "
              f"{time.perf_counter() - clock:.1f} s{version}", flush=True)  # fmt: skip


def _figures(store: Path, start: date, end: date) -> dict[str, Any]:
    """The ledger's figures (``raceday eval staking``'s ``policy`` from the ledger), the market's
    log loss at bet time, and when the stored bet-time odds were published."""
    from raceday.staking.evaluate import market_log_loss_at_bet_time, summarise
    from raceday.store.catalogs.bets import read_bets
    from raceday.store.catalogs.races import read_odds, read_races, read_win_results
    from raceday.store.engine import make_engine

    settings = _settings(store, int(os.environ["RACEDAY_SIMULATOR__RACES_PER_DAY"]))
    with make_engine(settings.database_url).connect() as connection:
        odds = read_odds(connection, start, end)
        bets = read_bets(connection, start, end)
        races = read_races(connection, start, end)
        results = read_win_results(connection, start, end)
    days = sorted(pd.to_datetime(races["race_date"]).dt.date.unique())
    ledger = bets.merge(races[["race_id", "post_time"]], on="race_id", how="left")
    policy = summarise(ledger, int(settings.bankroll_yen), days).to_dict()
    market = market_log_loss_at_bet_time(odds, results)
    stamps = odds.drop_duplicates("race_id")["snapshot_at"].astype("string")
    return {
        **{key: policy[key] for key in ("bets", "turnover_yen", "return_yen", "roi", "hit_rate",
                                        "max_drawdown", "final_bankroll_yen")},
        "market_log_loss": market["market_log_loss"],
        "scored_races": market["scored_races"],
        "odds_at_0900": float(stamps.str.endswith("0900").mean()),
        "odds_final": float((stamps == "final").mean()),
        "models": ", ".join(sorted(set(bets["model_version"].dropna().astype(str)))),
    }  # fmt: skip


def _print_table(figures: dict[str, dict[str, Any]]) -> None:
    rows = list(next(iter(figures.values())))
    print(f"{'figure':<20}" + "".join(f"{mode:>28}" for mode in figures))
    for row in rows:
        cells = []
        for mode in figures:
            value = figures[mode][row]
            text = (
                "–" if value is None
                else f"{value:+.2%}" if row == "roi"
                else f"{value:,}" if isinstance(value, int)
                else f"{value:.4f}" if isinstance(value, float)
                else str(value)
            )  # fmt: skip
            cells.append(f"{text:>28}")
        print(f"{row:<20}" + "".join(cells))


if __name__ == "__main__":
    main()
