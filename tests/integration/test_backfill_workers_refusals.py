"""`raceday backfill --workers N` decides days as the in-process backfill does, on PostgreSQL,
with the waves run here (:func:`waves_here`: the ``backfill-wave`` flow as a subflow per run,
no work pool; the pool itself: tests/e2e/test_backfill_scaleout.py).

- A day refused for its input (nothing valid left, exit 4; a file the source cannot read,
  exit 2) is refused as the in-process backfill refuses it: the same tables, the same
  ``days_refused``, status and exit code, the day not marked done.
- The derive wave learns each version once, whatever order its runs take the chunks: on a
  store with no history before the first chunk, that chunk learns its version from itself
  (the version of its last day) and the next chunk learns the same version; two runs learning
  it at once failed on its primary key (``pk_first3f_models``), and the one that came second
  reused the other's record (its window).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import flows.scaleout as scaleout
from config import use_store
from flows.backfill_settings import backfill_settings
from flows.chain import WAVES
from raceday.run_status import result_exit_code
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.files import write_tables
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES as RACES_TABLE
from raceday.store.catalogs.runs import BACKFILL_DAYS
from tasks.common import in_process
from tasks.store import prepare_store
from tests.integration.test_backfill_refused_day import (
    BAD_DAY,
    END,
    RACES,
    START,
    backfill_files,
    stored_dates,
    with_bad_day,
)
from tests.store_support import (
    IGNORED_COLUMNS,
    RECORD_TABLES,
    data_checksums,
    fresh_postgres_database,
)

pytestmark = pytest.mark.postgres

Span = tuple[date, date]


@pytest.fixture
def no_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files hold only the range: nothing before it to warm the store up with."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")


@pytest.fixture
def waves_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run of a wave is the ``backfill-wave`` flow run here, as a subflow (the wave's own
    code: its parameters, its settings loaded from this environment), one after another."""

    def run_here(wave: str, groups: list[list[Span]], parameters: dict[str, Any]) -> None:
        for group in groups:
            scaleout.backfill_wave(wave=wave, chunks=group, **parameters)

    monkeypatch.setattr(scaleout, "run_wave", run_here)


@pytest.fixture
def two_stores(postgres_server: str) -> Iterator[tuple[str, str]]:
    with (
        fresh_postgres_database(postgres_server) as first,
        fresh_postgres_database(postgres_server) as second,
    ):
        yield first, second


def _tables(db: str) -> dict[str, str]:
    """Every output table's checksum (the records of attempts apart: see
    :func:`_same_decisions`)."""
    return data_checksums(db, exclude=RECORD_TABLES, ignore_columns=IGNORED_COLUMNS)


def _decided(result: dict[str, Any]) -> tuple[Any, ...]:
    counts = tuple(result[key] for key in ("races", "runners", "races_predicted", "bets"))
    return (result["status"], result["days_refused"], result_exit_code(result), *counts)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warm_up", "waves_here")
def test_a_day_with_nothing_valid_is_refused_with_workers_as_without(
    tmp_path: Path, two_stores: tuple[str, str]
) -> None:
    """The bad day, inside a chunk with valid days, is refused (exit 4) and not marked done;
    the other days are stored as without --workers, table by table."""
    in_order, scaled_out = two_stores
    raw = simulate_days(START, END, SimulatorConfig(races_per_day=RACES)).raw
    files = tmp_path / "files"
    write_tables(with_bad_day(raw), files)

    expected = backfill_files(in_order, files, workers=0)
    found = backfill_files(scaled_out, files, workers=2)

    assert expected["status"] == "completed-with-refusals"
    assert _decided(found) == _decided(expected)
    assert _tables(scaled_out) == _tables(in_order)
    range_days = {START + timedelta(days=n) for n in range((END - START).days + 1)}
    assert stored_dates(scaled_out, BACKFILL_DAYS.c.race_date) == range_days - {BAD_DAY}
    assert BAD_DAY not in stored_dates(scaled_out, RACES_TABLE.c.race_date)
    assert BAD_DAY in stored_dates(scaled_out, QUARANTINE.c.race_date)  # as its daily run records


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "no_warm_up", "waves_here")
def test_a_file_the_source_cannot_read_refuses_each_day_with_workers_as_without(
    tmp_path: Path, two_stores: tuple[str, str]
) -> None:
    """A runners file in EUC-JP (the daily run's exit 2 for each of its days): every day
    refused with exit 2, none stored or marked done — not a wave's failure (exit 5)."""
    in_order, scaled_out = two_stores
    raw = simulate_days(START, END, SimulatorConfig(races_per_day=RACES)).raw
    files = tmp_path / "files"
    write_tables(raw, files)
    runners = files / "nvd_se.csv"
    text = runners.read_text(encoding="utf-8")
    runners.write_bytes(text.replace("\n", ",大井\n", 2).encode("euc_jp"))

    expected = backfill_files(in_order, files, workers=0)
    found = backfill_files(scaled_out, files, workers=2)

    assert (expected["status"], result_exit_code(expected)) == ("completed-with-refusals", 2)
    assert len(expected["days_refused"]) == (END - START).days + 1
    assert _decided(found) == _decided(expected)
    assert stored_dates(scaled_out, BACKFILL_DAYS.c.race_date) == set()


def _stored_by_waves(db: str, files: Path, chunks: list[Span], dispatch: bool) -> dict[str, str]:
    """The waves over ``chunks`` on the fresh store ``db`` (no history before them): in
    order, in-process (one worker), or (``dispatch``) as the backfill dispatches them to two
    runs whose chunks the workers take in the worst order, the last chunk first."""
    with use_store(db):
        settings = backfill_settings(RACES, f"files:{files}", None)
        in_process(prepare_store, settings)
        if dispatch:
            scaleout.run_waves(settings, chunks, 2, RACES, None)
        else:
            for wave in WAVES.values():
                for start, end in chunks:
                    wave(in_process, settings, start, end)
    return _tables(db)


@pytest.mark.usefixtures("no_warm_up")
def test_the_derive_wave_learns_a_shared_version_once_whatever_order_its_runs_take(
    tmp_path: Path, two_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first chunk learns from itself the version the second chunk learns from the window
    before it: dispatched to two runs, the second chunk's run may reach it first (or at the
    same moment: one of them failed on the version's key). The stored versions, first 3F and
    indexes are those of one worker taking the chunks in order."""
    in_order, scaled_out = two_stores
    first, last = date(2025, 3, 1), date(2025, 3, 6)
    raw = simulate_days(first, last, SimulatorConfig(races_per_day=RACES)).raw
    files = tmp_path / "files"
    write_tables(raw, files)
    chunks = [(first, date(2025, 3, 3)), (date(2025, 3, 4), last)]

    def worst_order(wave: str, groups: list[list[Span]], parameters: dict[str, Any]) -> None:
        settings = backfill_settings(parameters["races"], parameters["source"], None)
        for start, end in sorted((chunk for group in groups for chunk in group), reverse=True):
            WAVES[wave](in_process, settings, start, end)

    monkeypatch.setattr(scaleout, "run_wave", worst_order)
    expected = _stored_by_waves(in_order, files, chunks, dispatch=False)
    assert _stored_by_waves(scaled_out, files, chunks, dispatch=True) == expected
