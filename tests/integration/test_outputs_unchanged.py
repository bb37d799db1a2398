"""The same outputs to the yen: a simulated month run through the ``raceday`` command gives,
table by table, the checksums recorded in ``tests/golden/outputs.json`` (issue 15).

The scenario and what is compared are in ``tests/golden_outputs.py``. When a change is meant to
change a figure, re-record (``PYTHONPATH=. .venv/bin/python -m tests.golden_outputs --out
tests/golden/outputs.json``) and say in the docs which figure changed and why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.prefect_server import SERVER_LOG_NAME
from tests.golden_outputs import SMALL_MONTH, differences, golden_outputs, raceday_command

RECORDED = Path(__file__).resolve().parents[1] / "golden" / "outputs.json"


@pytest.mark.slow
def test_a_simulated_month_gives_the_recorded_outputs(tmp_path: Path, prefect_api_url: str) -> None:
    """Backfill of 2025-06-01..28 (a version trained and promoted, bets placed and settled),
    then the daily run of 06-29: every table, bet slip and --json figure as recorded. (The
    commands report to the worker's long-lived test server, ``prefect_api_url``, rather than
    each starting Prefect's temporary server: the Prefect server is not an output.)"""
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert recorded["header"]["scenario"] == SMALL_MONTH.describe(), (
        "the scenario changed since the recording: re-record tests/golden/outputs.json"
    )
    assert raceday_command().exists(), f"no raceday command at {raceday_command()}: make install"

    measured = golden_outputs(
        f"sqlite:///{tmp_path / 'store.db'}",
        tmp_path,
        SMALL_MONTH,
        extra_env={"PREFECT_API_URL": prefect_api_url},
    )
    assert not (tmp_path / "prefect" / SERVER_LOG_NAME).exists()  # no temporary server started

    found = differences(recorded, measured)
    report = [
        f"{what} differ from {RECORDED.name} (recorded at {recorded['header']['commit']}):\n  "
        + "\n  ".join(lines)
        for what, lines in (
            ("outputs", found["output"]),
            ("records of attempts (runs, validation, quarantine, alerts)", found["record"]),
        )
        if lines
    ]
    assert not report, "\n".join(report)
