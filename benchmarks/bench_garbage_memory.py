"""Peak memory of the files source reading a large garbage ``nvd_se.csv`` (issue 19).

    .venv/bin/python benchmarks/bench_garbage_memory.py [--mb 200] [--ceiling-mb 600]
                                                        [--valid-mb 50]

Writes, next to a small valid ``nvd_ra.csv``, an ``nvd_se.csv`` of ``--mb`` MB of each kind of
garbage: base64 text, random bytes, a valid header then base64 lines, a valid header then one
line without end. Each read runs in a fresh subprocess that reports its peak resident set
(``resource.getrusage``'s ``ru_maxrss``) and the one line the read was refused with; a
subprocess that only imports the source gives the floor. Fails (exit 1) when a read peaks above
``--ceiling-mb``: the garbage must be refused before it is held in memory (before the header
check, 1.8 GB for 200 MB of base64). For contrast, a valid ``nvd_se.csv`` of ``--valid-mb`` MB
(the day's rows repeated) is read too: its memory follows the rows kept (no ceiling). Not a
test: the figures go to docs/PERFORMANCE.md with the machine they came from.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

DAY = date(2026, 11, 20)
CHUNK = 1024 * 1024

_CHILD = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from raceday.errors import InputError
from raceday.sources.files import FilesSource
outcome = "imported"
started = time.perf_counter()
if sys.argv[1] != "-":
    try:
        FilesSource(Path(sys.argv[1])).read_days(date(2026, 11, 20), date(2026, 11, 20))
        outcome = "read"
    except InputError as error:
        outcome = str(error).rsplit("/", 1)[-1]
seconds = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "peak_mb": peak_kib / 1024, "seconds": seconds}))
"""


def _write(path: Path, size: int, head: bytes, block: Callable[[], bytes]) -> None:
    with path.open("wb") as handle:
        handle.write(head)
        written = len(head)
        while written < size:
            data = block()[: size - written]
            handle.write(data)
            written += len(data)


def _base64_block() -> bytes:
    return base64.encodebytes(os.urandom(CHUNK * 3 // 4))  # 76-character lines


def _measure(directory: Path | None) -> dict[str, object]:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    finished = subprocess.run(
        [sys.executable, "-c", _CHILD, str(directory) if directory else "-"],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    result: dict[str, object] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of each garbage file")
    parser.add_argument("--ceiling-mb", type=float, default=600.0, help="peak RSS allowed")
    parser.add_argument("--valid-mb", type=int, default=50, help="size of the valid file (0: none)")
    args = parser.parse_args()

    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.files import write_tables

    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=12)).raw
    header = raw.nvd_se.iloc[:0].to_csv(index=False).encode()
    size = args.mb * 1024 * 1024
    kinds: dict[str, tuple[bytes, Callable[[], bytes]]] = {
        "base64 text": (b"", _base64_block),
        "random bytes": (b"", lambda: os.urandom(CHUNK)),
        "header, then base64 lines": (header, _base64_block),
        "header, then one line without end": (header, lambda: b"Q" * CHUNK),
    }
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    floor = _measure(None)
    print(f"{'import only':36s} peak {floor['peak_mb']:7.1f} MB")
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for kind, (head, block) in kinds.items():
            directory = Path(folder) / "day"
            write_tables(raw, directory)
            started = time.perf_counter()
            _write(directory / "nvd_se.csv", size, head, block)
            written = time.perf_counter() - started
            result = _measure(directory)
            peak = float(str(result["peak_mb"]))
            worst = max(worst, peak)
            print(
                f"{kind:36s} peak {peak:7.1f} MB  read {float(str(result['seconds'])):5.2f} s "
                f"(written in {written:4.1f} s): {result['outcome']}"
            )
        if args.valid_mb:
            directory = Path(folder) / "day"
            rows = raw.nvd_se.to_csv(index=False, header=False).encode()
            _write(directory / "nvd_se.csv", args.valid_mb * 1024 * 1024, header, lambda: rows)
            result = _measure(directory)
            print(
                f"{f'valid rows, {args.valid_mb} MB':36s} peak {float(str(result['peak_mb'])):7.1f}"
                f" MB  read {float(str(result['seconds'])):5.2f} s: {result['outcome']}"
            )
    if worst > args.ceiling_mb:
        print(f"FAIL: a {args.mb} MB garbage file peaked at {worst:.1f} MB > {args.ceiling_mb} MB")
        sys.exit(1)
    print(f"ok: every read peaked at or below {worst:.1f} MB (ceiling {args.ceiling_mb} MB)")


if __name__ == "__main__":
    main()
