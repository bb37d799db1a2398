"""The scale-out's pure parts and refusals: how chunks are dealt to a wave's runs, and
`raceday backfill --workers` refused in one line where it cannot work (a SQLite store, no
Prefect server). The runs themselves: tests/e2e/test_backfill_scaleout.py."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from flows.chain import WAVES
from flows.scaleout import wave_groups
from raceday.errors import InputError

runner = CliRunner()


def spans(count: int) -> list[tuple[date, date]]:
    first = date(2025, 1, 1)
    return [
        (first + timedelta(days=3 * n), first + timedelta(days=3 * n + 2)) for n in range(count)
    ]


def test_every_chunk_goes_to_exactly_one_run_early_and_late_spread() -> None:
    chunks = spans(5)
    groups = wave_groups(chunks, 2)
    assert groups == [[chunks[0], chunks[2], chunks[4]], [chunks[1], chunks[3]]]
    assert sorted(chunk for group in groups for chunk in group) == chunks


def test_no_empty_run_when_workers_outnumber_chunks() -> None:
    assert wave_groups(spans(2), 4) == [[spans(2)[0]], [spans(2)[1]]]


def test_workers_must_be_positive() -> None:
    with pytest.raises(InputError):
        wave_groups(spans(2), 0)


def test_the_waves_run_in_dependency_order() -> None:
    assert list(WAVES) == ["store", "derive", "features"]


def test_workers_refused_on_sqlite_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["backfill", "--start", "2025-03-01", "--end", "2025-03-03", "--workers", "2",
         "--db", f"sqlite:///{tmp_path / 'store.db'}"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "needs a PostgreSQL store" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_refused_without_a_prefect_server(postgres_url: str) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # whatever earlier tests set
        result = runner.invoke(
            app,
            ["backfill", "--start", "2025-03-01", "--end", "2025-03-03", "--workers", "2",
             "--db", postgres_url],
        )  # fmt: skip
    assert result.exit_code == 2
    assert "PREFECT_API_URL" in result.stderr
    assert "Traceback" not in result.stderr
