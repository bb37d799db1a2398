"""The suite's own housekeeping: every pytest process (the xdist controller and each worker)
makes a Prefect home of its own under the temporary directory (tests/conftest.py) and takes it
away as it ends — every `make test` used to leave four behind in /tmp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_pytest_run_takes_its_prefect_homes_away(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
         "tests/unit/test_docs_index.py"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
    assert sorted(path.name for path in temporary.glob("raceday-prefect-*")) == []
