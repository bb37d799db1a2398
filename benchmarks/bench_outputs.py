"""Checksums of every table after a full simulated month, driven through the ``raceday`` command
(issue 15: the same outputs to the yen before and after a redesign), with the wall-clock.

    .venv/bin/python benchmarks/bench_outputs.py [--scenario full-month] [--out FILE]
        [--compare benchmarks/results/outputs-before.json]

The full month (``tests/golden_outputs.py:FULL_MONTH``): a backfill of 2025-06-01..28 at the
default 200 races a day, booster and Data Docs, with 14 / 7 / 7-day model windows so that a
version is trained and promoted and bets are placed and settled inside the month, then the
daily run of 06-29. Prints one JSON object (the recording: commit, scenario, per-table rows
and SHA-256, bet slips, the commands' --json figures, ``wall_s``); the machine line goes to
standard error. ``--compare`` names what differs from an earlier recording (exit 1 if any).
Not a test: ``tests/integration/test_outputs_unchanged.py`` is the small month's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ is not installed

from tests.golden_outputs import (
    FULL_MONTH,
    SCENARIOS,
    differences,
    golden_outputs,
    recording,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default=FULL_MONTH.name)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--compare", type=Path, default=None, help="an earlier recording")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    machine = f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"{machine}, load {os.getloadavg()[0]:.1f}; scenario {scenario.name}", file=sys.stderr)

    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-outputs-") as folder:
        work_dir = Path(folder)
        result = golden_outputs(f"sqlite:///{work_dir / 'store.db'}", work_dir, scenario)
    seconds = time.perf_counter() - clock
    recorded = recording(scenario, result)
    recorded["header"]["machine"] = machine
    recorded["header"]["load_after"] = round(os.getloadavg()[0], 1)
    recorded["wall_s"]["total"] = round(seconds, 1)
    text = json.dumps(recorded, indent=1, ensure_ascii=False) + "\n"
    sys.stdout.write(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(f"total {seconds:.1f} s = {seconds / 60:.2f} min", file=sys.stderr)

    if args.compare is not None:
        earlier = json.loads(args.compare.read_text(encoding="utf-8"))
        if earlier["header"]["scenario"] != recorded["header"]["scenario"]:
            raise SystemExit(f"{args.compare} recorded another scenario: nothing to compare")
        found = differences(earlier, recorded)
        lines = [f"{kind}: {line}" for kind, entries in found.items() for line in entries]
        print("\n".join(lines) or f"same outputs as {args.compare}", file=sys.stderr)
        if lines:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
