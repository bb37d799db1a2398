"""Times the win model's fit on a store's real training windows, and judges each way of fitting
it against the market on the held-out window, as ``raceday train`` would.

    .venv/bin/python benchmarks/bench_fit.py --db sqlite:///F.db --until 2025-06-17
        [--until 2025-10-07 ...] [--variant one-hot --variant categorical+stop10 ...] [--out F]

``--db``: a store with settled history (e.g. one ``bench_backfill.py`` built); ``--until``: the
days trainings end on (its ``model_versions``' ``trained_until``). Each window's runners are
loaded once (``tasks.train.load_training_set``, as the trainer loads them), then fitted once per
variant on the settings' scorer options with the variant's changes: ``one-hot`` or
``categorical`` (how the venue is read, ``ScorerOptions.venue_encoding``) and ``+stopN`` (stop
once the blend window's loss has not improved for N trees, ``ScorerOptions.stop_after``). For
each: the fit's seconds (the scorer on one thread, the temperature, the blend and the held-out
predictions), the trees fitted, and the held-out window's log loss of the blend and of the
market, the blend's pseudo-R² minus the market's (``delta_r2``), as ``raceday eval model``
reports them; ratios to the first variant. Not a test: figures go to docs with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any


def variant_options(base: Any, variant: str) -> Any:
    """``base`` (ScorerOptions) with a variant's changes: ``ENCODING[+stopN]``."""
    encoding, _, stop = variant.partition("+")
    if encoding not in ("one-hot", "categorical"):
        raise SystemExit(f"unknown venue encoding {encoding!r} in {variant!r}")
    stop_after = int(stop.removeprefix("stop")) if stop else 0
    return replace(base, venue_encoding=encoding, stop_after=stop_after)


def fit_once(runners: Any, split: Any, options: Any) -> dict[str, Any]:
    """One fit of the window, timed, and its held-out evaluation."""
    from raceday.model.evaluate import evaluate_predictions
    from raceday.model.win import fit_win_model

    clock, cpu = time.perf_counter(), time.process_time()
    fitted = fit_win_model(runners, split, "bench", options)
    seconds, cpu_s = time.perf_counter() - clock, time.process_time() - cpu
    held_out = evaluate_predictions(fitted.held_out)
    return {
        "fit_s": round(seconds, 2),
        "fit_cpu_s": round(cpu_s, 2),
        "trees": fitted.model.trees,
        "train_runners": fitted.counts["train"]["runners"],
        "held_out_races": held_out["races"],
        "blend_log_loss": held_out["blend"]["log_loss"],
        "market_log_loss": held_out["market"]["log_loss"],
        "model_pseudo_r2": held_out.get("model", {}).get("pseudo_r2"),
        "delta_r2": held_out["delta_r2"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the store's SQLAlchemy URL")
    parser.add_argument("--until", type=date.fromisoformat, action="append", required=True)
    parser.add_argument("--variant", action="append", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    variants = args.variant or ["one-hot", "categorical"]

    from config import load_settings
    from tasks.train import load_training_set

    settings = load_settings(db_url=args.db)
    base = settings.train.scorer_options()
    options = {variant: variant_options(base, variant) for variant in variants}
    results: list[dict[str, Any]] = []
    for until in args.until:
        clock = time.perf_counter()
        split, runners = load_training_set(settings, until)
        print(f"{until}: {len(runners):,} runners loaded in {time.perf_counter() - clock:.1f} s")
        first: dict[str, Any] | None = None
        for variant in variants:
            row = {
                "until": str(until),
                "variant": variant,
                **fit_once(runners, split, options[variant]),
            }
            if first is None:
                first = row
            row["fit_ratio"] = round(row["fit_s"] / first["fit_s"], 3)
            results.append(row)
            print(
                f"  {variant:<22} fit {row['fit_s']:7.2f} s ({row['fit_ratio']:.2f}x), "
                f"{row['trees']} trees; held out {row['held_out_races']} races: blend "
                f"{row['blend_log_loss']} market {row['market_log_loss']} "
                f"delta_r2 {row['delta_r2']:+.5f} model_r2 {row['model_pseudo_r2']}"
            )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    if args.out:
        args.out.write_text(json.dumps({"machine": machine, "fits": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
