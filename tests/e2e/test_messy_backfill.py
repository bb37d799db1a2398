"""Real exports are messy: a backfill over the simulator's messy profile, read back from files,
must finish (bad races quarantined, the rest stored) instead of crashing on first contact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.retry_support import use_quick_retries

runner = CliRunner()
FIRST, LAST = "2026-10-05", "2026-10-14"  # ten days: two without racing, 盛岡's turf races


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_backfill_over_messy_files_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`raceday simulate --profile messy` then `raceday backfill --source files:DIR` exits 0,
    saying how many races validation set aside."""
    use_quick_retries(monkeypatch, races_per_day=60)
    files = tmp_path / "messy"
    simulated = runner.invoke(
        app,
        ["simulate", "--start", FIRST, "--end", LAST, "--out", str(files),
         "--races-per-day", "60", "--profile", "messy"],
    )  # fmt: skip
    assert simulated.exit_code == 0, simulated.stderr
    result = runner.invoke(
        app,
        ["backfill", "--start", FIRST, "--end", LAST, "--source", f"files:{files}",
         "--db", f"sqlite:///{tmp_path / 'store.db'}", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # The races it set aside are said, as a daily run says them (before: "warnings": []).
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed-with-warnings"
    assert any("races quarantined (set aside" in line for line in summary["warnings"])
