"""The simulator's races and real ones never meet in one store: a worker started without
RACEDAY_SOURCE reads the simulator (the default) into a store of real races, or a real source is
pointed at the store the demo filled with simulated ones; either way the two would be stored,
trained on and settled together on the same race ids. The command says so in one line before
Prefect starts; a flow run on a worker fails its ingest the same way; nothing is read or
stored."""

from __future__ import annotations

from datetime import date, timedelta
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


def stored_day(url: str, source: str, day: date = PREVIOUS_DAY) -> None:
    """``day`` (by default the day before ``DAY``) stored, card and results, as read from
    ``source``."""
    settings = load_settings(db_url=url, source=source, validation={"data_docs": False})
    upgrade_schema(make_engine(url))
    raw = simulated(day)
    for phase in ("card", "results"):
        validate_and_store(settings, raw, day, day, phase)


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


@pytest.fixture
def simulated_store(tmp_path: Path) -> str:
    """A store holding a day of the simulator's (the demo's store)."""
    url = f"sqlite:///{tmp_path / 'simulated.db'}"
    stored_day(url, "sim")
    return url


def test_a_real_source_is_refused_on_a_store_of_simulated_races(
    simulated_store: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as refused:
        configured_source(load_settings(db_url=simulated_store, source="pckeiba"))
    line = str(refused.value)
    assert "\n" not in line and refused.value.exit_code == 2
    assert "holds only simulated races" in line and "reads pckeiba" in line and "--db" in line


def test_a_run_from_files_on_the_demos_store_is_refused_in_one_line_and_stores_nothing(
    simulated_store: str, tmp_path: Path
) -> None:
    (tmp_path / "export").mkdir()
    before = data_checksums(simulated_store)
    result = CliRunner().invoke(
        app,
        ["run", "--date", DAY.isoformat(), "--db", simulated_store,
         "--source", f"files:{tmp_path / 'export'}"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert "holds only simulated races" in line and "Traceback" not in result.output
    assert data_checksums(simulated_store) == before


def test_each_store_takes_its_own_source_and_a_new_store_any(
    real_store: str, simulated_store: str, tmp_path: Path
) -> None:
    configured_source(load_settings(db_url=real_store, source=f"files:{tmp_path / 'export'}"))
    (tmp_path / "another export").mkdir()
    another_real_source = f"files:{tmp_path / 'another export'}"
    configured_source(load_settings(db_url=real_store, source=another_real_source))
    configured_source(load_settings(db_url=simulated_store))
    new = f"sqlite:///{tmp_path / 'new.db'}"
    configured_source(load_settings(db_url=new))  # no tables yet
    configured_source(load_settings(db_url=new, source=another_real_source))


def test_a_store_holding_both_already_is_left_to_the_real_source(
    real_store: str, tmp_path: Path
) -> None:
    """A store mixed before the check: the real source goes on, the simulator stays refused."""
    stored_day(real_store, "sim", PREVIOUS_DAY - timedelta(days=1))
    configured_source(load_settings(db_url=real_store, source=f"files:{tmp_path / 'export'}"))
    with pytest.raises(InputError):
        configured_source(load_settings(db_url=real_store))
