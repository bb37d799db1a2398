"""The simulator never writes into a store of real races: a worker started without
RACEDAY_SOURCE reads the simulator (the default), and its simulated races, odds and bets would
be stored, trained on and settled beside the real ones on the same race ids. The command says so
in one line before Prefect starts; a flow run on a worker fails its ingest the same way;
nothing is read or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from config import load_settings
from raceday.errors import InputError
from raceday.store.engine import make_engine, upgrade_schema
from tasks.ingest import configured_source
from tasks.validate import validate_and_store
from tests.data.make_bad_inputs import DAY, PREVIOUS_DAY, simulated
from tests.store_support import data_checksums


def stored_day(url: str, source: str) -> None:
    """The day before ``DAY`` stored (card and results) as read from ``source``."""
    settings = load_settings(db_url=url, source=source, validation={"data_docs": False})
    upgrade_schema(make_engine(url))
    raw = simulated(PREVIOUS_DAY)
    for phase in ("card", "results"):
        validate_and_store(settings, raw, PREVIOUS_DAY, PREVIOUS_DAY, phase)


@pytest.fixture
def real_store(sqlite_url: str, tmp_path: Path) -> str:
    """A store holding a day read from an export folder (a real source)."""
    (tmp_path / "export").mkdir()
    stored_day(sqlite_url, f"files:{tmp_path / 'export'}")
    return sqlite_url


def test_the_simulator_is_refused_on_a_store_of_real_races(real_store: str) -> None:
    with pytest.raises(InputError) as refused:
        configured_source(load_settings(db_url=real_store))
    line = str(refused.value)
    assert "\n" not in line and refused.value.exit_code == 2
    assert "holds races read from files:" in line and "RACEDAY_SOURCE" in line


def test_a_run_on_the_simulator_is_refused_in_one_line_and_stores_nothing(
    real_store: str,
) -> None:
    before = data_checksums(real_store)
    result = CliRunner().invoke(app, ["run", "--date", DAY.isoformat(), "--db", real_store])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "holds races read from files:" in line and "Traceback" not in result.output
    assert data_checksums(real_store) == before


def test_the_stores_own_source_and_a_store_of_simulated_races_are_not_refused(
    real_store: str, tmp_path: Path
) -> None:
    configured_source(load_settings(db_url=real_store, source=f"files:{tmp_path / 'export'}"))
    simulated_store = f"sqlite:///{tmp_path / 'simulated.db'}"
    stored_day(simulated_store, "sim")
    configured_source(load_settings(db_url=simulated_store))
    configured_source(load_settings(db_url=f"sqlite:///{tmp_path / 'new.db'}"))  # no tables yet
