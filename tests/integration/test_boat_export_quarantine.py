"""`raceday export quarantine --sport boat`: the shared quarantine's boat rows (their ``umaban``
named ``boat``); without ``--sport boat`` the horses' rows only. It was refused as an unknown
boat table (exit 2), and the horses' export listed the boat rows too."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from raceday.store.catalogs.quality import write_quarantine
from raceday.store.engine import make_engine

DAY = date(2026, 4, 4)
runner = CliRunner()


def _rows(table: str, race_id: str, boat: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_date": [pd.Timestamp(DAY)],
            "table_name": [table],
            "race_id": [race_id],
            "umaban": [boat],
            "check_name": ["class_known"],
            "detail": [f"{table}: hand-made row"],
        }
    )


def _export(db: str, *sport: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["export", "quarantine", *sport, "--start", str(DAY), "--end", str(DAY), "--db", db]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("sqlite_schema")
def test_the_boat_quarantine_exports_apart_from_the_horses(sqlite_url: str) -> None:
    with make_engine(sqlite_url).begin() as connection:
        write_quarantine(connection, _rows("boat_entries", "202604040301", 6),
                         DAY, DAY, "boat-card", "run-boat")  # fmt: skip
        write_quarantine(connection, _rows("runners", "202604044401", 7),
                         DAY, DAY, "validate", "run-horse")  # fmt: skip

    code, stdout, stderr = _export(sqlite_url, "--sport", "boat")
    assert code == 0, stderr
    boat = pd.read_csv(io.StringIO(stdout), dtype={"race_id": str})
    assert boat[["stage", "table_name", "race_id", "boat"]].values.tolist() == [
        ["boat-card", "boat_entries", "202604040301", 6]
    ]
    assert "umaban" not in boat

    code, stdout, stderr = _export(sqlite_url)
    assert code == 0, stderr
    horse = pd.read_csv(io.StringIO(stdout), dtype={"race_id": str})
    assert horse[["stage", "race_id", "umaban"]].values.tolist() == [
        ["validate", "202604044401", 7]
    ]
