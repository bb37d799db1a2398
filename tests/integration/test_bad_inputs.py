"""The bad-input corpus through the files source and the validate stage (card, then results).

Each case of ``tests/data/make_bad_inputs.py`` either is refused with one clear line (and the
store's data tables keep their exact checksums) or quarantines exactly the rows it names and
stores every other race; in every case the rows stored for the earlier day stay unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import make_url

from config import Settings, load_settings
from data_checks.validate import ValidatedDay
from raceday.codec import decode_races, decode_runners, race_ids
from raceday.errors import RacedayError
from raceday.sources.base import RawDay
from raceday.sources.files import FilesSource
from raceday.store.catalogs.quality import read_quarantine
from raceday.store.catalogs.races import ODDS, RACES, RUNNERS, read_races
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.models import Base
from raceday.store.repository import read_rows, table_checksums
from tasks.validate import validate_and_store
from tests.data.make_bad_inputs import (
    CASES,
    DAY,
    PREVIOUS_DAY,
    Case,
    Key,
    PhaseOutcome,
    assert_runners_as_written,
    make_corpus,
    simulated,
)
from tests.store_support import RECORD_TABLES, copy_store, fresh_postgres_database

DATA_TABLES = [table for name, table in Base.metadata.tables.items() if name not in RECORD_TABLES]
EARLIER_TABLES = [RACES, RUNNERS, ODDS]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Every case, generated once per session from the simulator."""
    return make_corpus(tmp_path_factory.mktemp("bad_inputs"))


def corpus_settings(url: str, source: Path | None = None) -> Settings:
    """Settings for a corpus run: its store, no Data Docs (tested on their own)."""
    return load_settings(
        db_url=url,
        source=f"files:{source}" if source else None,
        validation={"data_docs": False},
    )


@dataclass(frozen=True)
class EarlierStore:
    """A store that already holds the previous day, card and results, as a daily run leaves
    it (its URL), with what a case is checked against: its data tables' checksums and the
    rows of days before the corpus day. Built and read once; each case runs on a copy."""

    url: str
    checksums: dict[str, str]
    rows: dict[str, pd.DataFrame]


def store_the_previous_day(url: str) -> EarlierStore:
    """The previous day validated and stored, card and results, in the empty store ``url``."""
    settings = corpus_settings(url)
    upgrade_schema(make_engine(url))
    raw = simulated(PREVIOUS_DAY)
    for phase in ("card", "results"):
        validate_and_store(settings, raw, PREVIOUS_DAY, PREVIOUS_DAY, phase)
    earlier = EarlierStore(url, data_checksums(url), earlier_rows(url))
    # SQLite: the last connection folds the WAL in; PostgreSQL: no session left on a template
    make_engine(url).dispose()
    return earlier


@pytest.fixture(scope="session")
def earlier_store(tmp_path_factory: pytest.TempPathFactory) -> EarlierStore:
    """The earlier store on SQLite (copied for each case: SQLite's backup API)."""
    path = tmp_path_factory.mktemp("earlier") / "store.db"
    return store_the_previous_day(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def earlier_postgres_store(postgres_server: str) -> Iterator[EarlierStore]:
    """The earlier store on PostgreSQL (copied for each case: ``CREATE DATABASE … TEMPLATE``)."""
    with fresh_postgres_database(postgres_server) as url:
        yield store_the_previous_day(url)


def earlier_rows(url: str) -> dict[str, pd.DataFrame]:
    """The rows stored for days before the corpus day."""
    with make_engine(url).connect() as connection:
        return {
            table.name: read_rows(connection, table, end=PREVIOUS_DAY) for table in EARLIER_TABLES
        }


def data_checksums(url: str) -> dict[str, str]:
    """A checksum of every data table (records of attempts excluded)."""
    with make_engine(url).connect() as connection:
        return table_checksums(connection, DATA_TABLES)


def quarantined_keys(quarantine: pd.DataFrame) -> set[Key]:
    """(table, race_id, umaban) of each quarantined row about races, runners or odds."""
    rows = quarantine[quarantine["table_name"] != "input"]
    return {
        (str(table), str(race_id), None if pd.isna(umaban) else int(umaban))
        for table, race_id, umaban in rows[["table_name", "race_id", "umaban"]].itertuples(
            index=False
        )
    }


def runner_keys_of(raw: RawDay, races: set[str]) -> int:
    """How many distinct runners the raw tables hold for ``races``."""
    keys = pd.DataFrame({"race_id": race_ids(raw.nvd_se), "umaban": raw.nvd_se["umaban"]})
    return len(keys[keys["race_id"].isin(races)].drop_duplicates())


def assert_phase(valid: ValidatedDay, raw: RawDay, case: Case, outcome: PhaseOutcome) -> None:
    """Exactly the expected rows are quarantined; every other race is kept with its runners."""
    kept = case.expected.all_races - outcome.set_aside
    assert set(valid.races["race_id"]) == kept
    assert len(valid.runners) == runner_keys_of(raw, kept)
    assert quarantined_keys(valid.quarantine) == outcome.quarantined
    assert outcome.checks <= set(valid.quarantine["check_name"])
    assert (valid.quarantine["check_name"] == "row_not_repeated").sum() == outcome.repeated
    assert (valid.quarantine["table_name"] == "input").sum() == case.expected.input_rows


def run_case(case: Case, url: str, earlier_store: EarlierStore) -> None:
    """Run one case on ``url``, a copy of ``earlier_store`` (its checksums and earlier rows
    are the copy's), and check every promise it makes."""
    expected = case.expected
    settings = corpus_settings(url, case.directory)
    before, earlier = earlier_store.checksums, earlier_store.rows
    validated: dict[str, ValidatedDay] = {}
    try:
        raw = FilesSource(case.directory).read_days(expected.start, expected.end)
        for phase in ("card", "results"):
            validated[phase] = validate_and_store(
                settings, raw, expected.start, expected.end, phase
            )
    except RacedayError as error:
        assert expected.refused is not None, f"{case.name} refused: {error}"
        assert expected.refused in str(error)
        assert "\n" not in str(error) and error.exit_code == expected.exit_code
        assert data_checksums(url) == before, "a refused input wrote data"
        return
    assert expected.refused is None, f"{case.name} was not refused"
    assert_phase(validated["card"], raw, case, expected.card)
    assert_phase(validated["results"], raw, case, expected.results)

    with make_engine(url).connect() as connection:
        stored = read_races(connection, DAY, expected.end)
        quarantine = read_quarantine(connection, expected.start, expected.end)
    card_ids = set(validated["card"].races["race_id"])
    result_ids = set(validated["results"].races["race_id"])
    assert set(stored["race_id"]) == card_ids | result_ids
    assert set(stored.loc[stored["has_results"].astype(bool), "race_id"]) == result_ids
    assert len(quarantine) == len(validated["card"].quarantine) + len(
        validated["results"].quarantine
    )
    for table, rows in earlier_rows(url).items():
        pd.testing.assert_frame_equal(rows, earlier[table], obj=table)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_quarantined_or_refused(
    name: str, corpus: dict[str, Case], earlier_store: EarlierStore, tmp_path: Path
) -> None:
    """Refused with one line and nothing written, or exactly the bad rows quarantined; the
    earlier day's rows never change (SQLite)."""
    template = Path(str(make_url(earlier_store.url).database))
    run_case(corpus[name], copy_store(template, tmp_path / "store.db"), earlier_store)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "name",
    [
        "missing_column",
        "duplicated_keys",
        "venue_part_corrupt",
        "overlong_fields",
        "overlong_text",
        "nul_in_names",
    ],
)
def test_bad_input_on_postgresql(
    name: str, corpus: dict[str, Case], postgres_server: str, earlier_postgres_store: EarlierStore
) -> None:
    """The same promises on PostgreSQL, whose columns hold no more than their width."""
    template = earlier_postgres_store.url
    with fresh_postgres_database(postgres_server, template=template) as url:
        run_case(corpus[name], url, earlier_postgres_store)


def test_the_corpus_covers_the_issue() -> None:
    """At least 30 cases, refusals and quarantines both represented."""
    assert len(CASES) >= 30
    assert {"shift_jis", "utf8_bom", "duplicated_day_10x", "venue_part_corrupt"} <= set(CASES)


@pytest.mark.parametrize(
    "name", ["spreadsheet_zeros", "pandas_floats", "full_width_digits", "shift_jis"]
)
def test_a_day_written_another_way_decodes_as_the_day(name: str, corpus: dict[str, Case]) -> None:
    """A day re-saved by a spreadsheet (leading zeros and signs dropped) or by pandas (digits as
    floats), typed with full-width digits or written in CP932 decodes to the races and runners
    of the day as written (a margin of zero aside: a spreadsheet writes it as it writes none)."""
    day = FilesSource(corpus["clean"].directory).read_days(DAY, DAY)
    other = FilesSource(corpus[name].directory).read_days(DAY, DAY)
    pd.testing.assert_frame_equal(decode_races(other.nvd_ra), decode_races(day.nvd_ra))
    runners, written = decode_runners(other.nvd_se), decode_runners(day.nvd_se)
    if name == "spreadsheet_zeros":
        assert_runners_as_written(runners, written)
    else:
        pd.testing.assert_frame_equal(runners, written)
