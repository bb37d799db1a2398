"""Times the vectorised first-3F estimator on 1,000,000 runners against a per-row reference
implementation written the way seed 003's pseudo-code is (one dict per horse), and prints both
and their ratio.

    .venv/bin/python benchmarks/bench_first3f.py [--runners 1000000] [--reference-rows 200000]

The runners are simulated days (200 races a day) repeated under fresh race ids up to the wanted
count; reference times and the fitted layers are learned from the 60 days before (not timed).
The per-row implementation covers the seed's own layers (actual, T - L3F, 0.5 T, base -
0.3 SI clipped, base, distance ratio); it is checked to give the same values as the vectorised
seed layers on the rows it times, then its time is scaled to the full count. Not a test:
figures go to docs/FIRST3F.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

HISTORY_DAYS = 60
PERIOD_DAYS = 30


def simulated_view(start: date, end: date) -> pd.DataFrame:
    from raceday.codec import decode_races, decode_runners
    from raceday.pipeline import runner_view
    from raceday.simulate.days import simulate_days

    raw = simulate_days(start, end).raw
    return runner_view(decode_races(raw.nvd_ra), decode_runners(raw.nvd_se))


def repeated(view: pd.DataFrame, n_rows: int) -> pd.DataFrame:
    """``view`` repeated under fresh race ids (so races stay distinct) up to ``n_rows`` rows."""
    copies = []
    for copy in range(int(np.ceil(n_rows / len(view)))):
        copies.append(view.assign(race_id=view["race_id"] + f"-{copy}"))
    return pd.concat(copies, ignore_index=True).head(n_rows)


# --- the per-row reference: seed 003's pseudo-code, one dict per horse --------------------------


def base_time_tables(references: pd.DataFrame) -> dict[str, dict[tuple[str, int, str], float]]:
    """get_base_time / get_standard_total_time as dict lookups (like config/base_times.py)."""
    tables: dict[str, dict[tuple[str, int, str], float]] = {}
    for row in references.itertuples(index=False):
        tables.setdefault(row.kind, {})[(row.keibajo_code, int(row.distance_m), row.class_code)] = (
            float(row.value_s)
        )
    return tables


def get_base_time(
    tables: dict[str, dict[tuple[str, int, str], float]],
    kind: str,
    keibajo_code: str,
    kyori: int,
    grade_code: str | None,
) -> float | None:
    table = tables.get(kind, {})
    value = table.get((keibajo_code, kyori, grade_code or ""))
    return value if value is not None else table.get((keibajo_code, kyori, ""))


def estimate_ten3f_per_horse(horse: dict[str, Any], tables: dict[str, Any]) -> tuple[float, str]:
    """Seed 003's estimate for one horse, step by step as the seed writes it."""
    zenhan_3f = horse.get("zenhan_3f")
    if zenhan_3f is not None and zenhan_3f > 0.0:
        return zenhan_3f, "actual"
    kyori = horse["kyori"]
    time_seconds = horse.get("time_seconds")
    kohan_3f = horse.get("kohan_3f_seconds")
    if kyori <= 1200:
        if time_seconds is None:
            base = get_base_time(
                tables, "first_segment", horse["keibajo_code"], kyori, horse["grade_code"]
            )
            return (base, "base") if base is not None else (float("nan"), "unavailable")
        if kohan_3f is not None and 0 < kohan_3f < time_seconds:
            return time_seconds - kohan_3f, "baseline"
        return time_seconds * 0.50, "ratio"
    base_zenhan = get_base_time(
        tables, "leader_first3f", horse["keibajo_code"], kyori, horse["grade_code"]
    )
    std_total = get_base_time(tables, "total", horse["keibajo_code"], kyori, horse["grade_code"])
    if time_seconds is not None and base_zenhan is not None and std_total is not None:
        speed_index = std_total - time_seconds
        adjusted_zenhan = base_zenhan - (speed_index * 0.3)
        return float(np.clip(adjusted_zenhan, 30.0, 45.0)), "adjusted"
    if time_seconds is None and base_zenhan is not None:
        return float(np.clip(base_zenhan, 30.0, 45.0)), "base"
    if time_seconds is not None:
        return float(np.clip(time_seconds * 600 / kyori, 30.0, 45.0)), "distance_ratio"
    return float("nan"), "unavailable"


def horse_dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The runners as the seed's code receives them: one dict per horse (not timed)."""
    records = []
    for row in frame.itertuples(index=False):
        records.append(
            {
                "zenhan_3f": None,
                "kyori": int(row.distance_m),
                "keibajo_code": row.keibajo_code,
                "grade_code": None if pd.isna(row.class_code) else row.class_code,
                "time_seconds": None if pd.isna(row.finish_time_s) else float(row.finish_time_s),
                "kohan_3f_seconds": None if pd.isna(row.last3f_s) else float(row.last3f_s),
            }
        )
    return records


def best_of(runs: int, action: Any) -> tuple[float, float, Any]:
    """Best wall-clock and CPU seconds of ``runs`` runs (CPU time shows through contention)."""
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _run in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", type=int, default=1_000_000)
    parser.add_argument("--reference-rows", type=int, default=200_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 1))
    args = parser.parse_args()

    from raceday.first3f.layers import estimate_first3f
    from raceday.first3f.model import fit_first3f_model
    from raceday.ratings.standards import learn_reference_times

    history_start = args.start - timedelta(days=HISTORY_DAYS)
    history = simulated_view(history_start, args.start - timedelta(days=1))
    period = simulated_view(args.start, args.start + timedelta(days=PERIOD_DAYS - 1))
    references = learn_reference_times(history)
    clock = time.perf_counter()
    model = fit_first3f_model(history, references, "f3f-bench")
    fit_s = time.perf_counter() - clock
    frame = repeated(period, args.runners)
    seed_frame = frame.assign(leader_first3f_s=np.nan, abnormal_code=0)

    full_s, full_cpu_s, full = best_of(5, lambda: estimate_first3f(frame, references, model))
    seed_s, seed_cpu_s, seed = best_of(5, lambda: estimate_first3f(seed_frame, references))

    sample = seed_frame.head(args.reference_rows)
    horses = horse_dicts(sample)
    tables = base_time_tables(references)
    per_row_s, per_row_cpu_s, per_row = best_of(
        1, lambda: [estimate_ten3f_per_horse(h, tables) for h in horses]
    )
    values = np.array([value for value, _method in per_row], dtype="float64")
    methods = [method for _value, method in per_row]
    expected = seed.head(len(sample))
    same_methods = (
        expected["method"].to_numpy(dtype=object) == np.array(methods, dtype=object)
    ).all()
    same_values = np.allclose(expected["first3f_s"].to_numpy(), values, equal_nan=True)
    per_row_full_s = per_row_s * len(frame) / len(sample)
    per_row_full_cpu_s = per_row_cpu_s * len(frame) / len(sample)

    methods_count = full["method"].value_counts().to_dict()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"runners: {len(frame):,} ({len(period):,} simulated, repeated); "
        f"history: {len(history):,} runners"
    )
    print(f"fit (pace, leader deficit, ML; not in the timings): {fit_s:.1f} s")
    print("best of 5, wall / CPU seconds:")
    print(f"vectorised, every layer:      {full_s:.3f} / {full_cpu_s:.3f} s   {methods_count}")
    print(f"vectorised, seed layers only: {seed_s:.3f} / {seed_cpu_s:.3f} s")
    print(
        f"per-row seed reference (dict per horse): {per_row_s:.2f} / {per_row_cpu_s:.2f} s for "
        f"{len(sample):,} rows -> {per_row_full_s:.1f} / {per_row_full_cpu_s:.1f} s for "
        f"{len(frame):,} (scaled)"
    )
    print(f"same values and methods as the vectorised seed layers: {same_values and same_methods}")
    print(
        f"ratio per-row / vectorised seed layers: {per_row_full_s / seed_s:.0f}x wall, "
        f"{per_row_full_cpu_s / seed_cpu_s:.0f}x CPU"
    )
    print(
        f"ratio per-row (seed layers) / vectorised every layer: {per_row_full_s / full_s:.0f}x "
        f"wall, {per_row_full_cpu_s / full_cpu_s:.0f}x CPU"
    )


if __name__ == "__main__":
    main()
