"""A day's validation with GX's own metric ids and type names against the short ways
(``data_checks.gx_runner._fast_metric_ids``, ``_cache_expectation_types``), alternated run by
run in one process so that the machine's load weighs on both alike; CPU seconds.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_gx_ids.py [--races 36] [--pairs 12]

Not a test: figures go to docs/PERFORMANCE.md with the load they were measured at.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

DAY = date(2026, 11, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=36, help="races of the simulated day")
    parser.add_argument("--pairs", type=int, default=12, help="runs of each way, alternated")
    args = parser.parse_args()

    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations import expectation

    from config.reference import circuit_venue_codes
    from data_checks.gx_runner import gx_context
    from data_checks.validate import validate_day
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.base import card_only

    gx_context()  # installs the short ways
    short_id, gx_id = IDDict.to_id, IDDict.to_id.gx_to_id  # type: ignore[attr-defined]
    short_name = expectation.camel_to_snake
    gx_name = short_name.__wrapped__  # type: ignore[attr-defined]
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=args.races)).raw
    card, venues = card_only(raw), circuit_venue_codes("nar")

    def day() -> float:
        started = time.process_time()
        validate_day(card, phase="card", venue_codes=venues)
        validate_day(raw, phase="results", venue_codes=venues)
        return time.process_time() - started

    def use(short: bool) -> None:
        IDDict.to_id = short_id if short else gx_id  # type: ignore[method-assign]
        expectation.camel_to_snake = short_name if short else gx_name  # type: ignore[attr-defined]

    day()  # warm-up: suites registered
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for pair in range(args.pairs):
        for short in (False, True) if pair % 2 == 0 else (True, False):
            use(short)
            seconds[short].append(day())
    use(True)
    gx, short = statistics.median(seconds[False]), statistics.median(seconds[True])
    print(
        f"{args.races} races, {len(raw.nvd_se)} runners, {args.pairs} runs each: CPU per day "
        f"(card + results) GX's own ways {gx:.3f} s, short ways {short:.3f} s ({short / gx:.2f}x)"
    )


if __name__ == "__main__":
    main()
