"""A day read from a PC-KEIBA PostgreSQL database (nvd_* tables of text columns, as PC-KEIBA
stores them) ends in the same store as the same day read from files."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, Text, create_engine, event
from sqlalchemy.engine import make_url

from config import load_settings, use_store
from flows.daily import daily_run
from raceday.codec import decode_races, decode_runners
from raceday.errors import InputError, RacedayError
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import (
    RaceSource,
    RawDay,
    join_lanes,
    rows_of_venues,
    source_days_held,
    venues_in,
)
from raceday.sources.factory import open_source
from raceday.sources.files import write_tables
from raceday.sources.pckeiba import PcKeibaSource, day_index_statements
from tests.store_support import TIMING_COLUMNS, data_checksums, fresh_postgres_database

DAY = date(2025, 6, 3)
# Where each row came from is the one thing that differs (races.source: pckeiba vs files:...).
IGNORED = {**TIMING_COLUMNS, "races": ["source"]}


def load_pckeiba_tables(url: str, day: date, races: int) -> None:
    """Simulated nvd_ra / nvd_se / nvd_o1 rows as PC-KEIBA keeps them: every column text."""
    raw = simulate_days(day, day, SimulatorConfig(races_per_day=races)).raw
    engine = create_engine(url)
    for name, frame in (("nvd_ra", raw.nvd_ra), ("nvd_se", raw.nvd_se), ("nvd_o1", raw.nvd_o1)):
        frame.astype("string").to_sql(
            name, engine, index=False, dtype=dict.fromkeys(frame.columns, Text())
        )
    engine.dispose()


def checksums(db: str) -> dict[str, str]:
    return data_checksums(db, ignore_columns=IGNORED)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("prefect_harness")
def test_a_day_from_pckeiba_equals_the_day_from_files(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    load_pckeiba_tables(postgres_url, DAY, races=24)
    files = tmp_path / "files"
    write_tables(simulate_days(DAY, DAY, SimulatorConfig(races_per_day=24)).raw, files)

    from_pckeiba = f"sqlite:///{tmp_path / 'pckeiba.db'}"
    monkeypatch.setenv("RACEDAY_PCKEIBA_URL", postgres_url)
    with use_store(from_pckeiba):
        summary = daily_run(race_date=DAY, source="pckeiba")
    from_files = f"sqlite:///{tmp_path / 'files.db'}"
    with use_store(from_files):
        daily_run(race_date=DAY, source=f"files:{files}")

    assert summary["status"] == "completed" and summary["races"] == 24
    assert checksums(from_pckeiba) == checksums(from_files)


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


@pytest.mark.postgres
def test_pckeiba_reads_a_day_venue_by_venue_with_a_parameterised_filter(
    postgres_url: str,
) -> None:
    """``venues`` lists the day's keibajo codes; each venue's read holds exactly its rows, and
    the venues' reads together are the whole day's read."""
    config = SimulatorConfig(races_per_day=40)
    load_pckeiba_tables(postgres_url, DAY, races=40)
    whole = simulate_days(DAY, DAY, config).raw
    source = PcKeibaSource(postgres_url)
    venues = source.venues(DAY, DAY)
    assert len(venues) >= 2 and venues == venues_in(whole)
    assert source.venues(DAY + timedelta(days=1), DAY + timedelta(days=1)) == []
    lanes = [source.read_days(DAY, DAY, [venue]) for venue in venues]
    for venue, lane in zip(venues, lanes, strict=True):
        expected = rows_of_venues(whole, [venue])
        for table in ("nvd_ra", "nvd_se", "nvd_o1"):
            pd.testing.assert_frame_equal(
                sorted_rows(getattr(lane, table)), sorted_rows(getattr(expected, table))
            )
    joined, read_whole = join_lanes(lanes), source.read_days(DAY, DAY)
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(
            sorted_rows(getattr(joined, table)), sorted_rows(getattr(read_whole, table))
        )
    assert set(source.read_days(DAY, DAY, venues[:2]).nvd_ra["keibajo_code"]) == set(venues[:2])
    assert source.read_days(DAY, DAY, ["83"]).is_empty  # a venue not racing: nothing, no error


def load_tables(
    url: str, raw: RawDay, prefix: str, drop: dict[str, list[str]] | None = None
) -> None:
    """``raw`` as ``{prefix}_ra`` / ``_se`` / ``_o1`` text tables, less the ``drop`` columns."""
    engine = create_engine(url)
    for suffix, frame in (("ra", raw.nvd_ra), ("se", raw.nvd_se), ("o1", raw.nvd_o1)):
        frame = frame.drop(columns=(drop or {}).get(suffix, []))
        frame.astype("string").to_sql(
            f"{prefix}_{suffix}", engine, index=False, dtype=dict.fromkeys(frame.columns, Text())
        )
    engine.dispose()


def as_jra(raw: RawDay) -> RawDay:
    """The same day at a JRA venue (keibajo 05, 東京)."""
    tables = (raw.nvd_ra, raw.nvd_se, raw.nvd_o1)
    return RawDay(*(frame.assign(keibajo_code="05") for frame in tables))


@pytest.mark.postgres
def test_pckeiba_reads_the_circuits_it_is_set_to(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``nar`` reads nvd_*, ``jra`` jvd_*, ``nar,jra`` both into one RawDay; the circuits come
    from RACEDAY_PCKEIBA__CIRCUITS next to RACEDAY_PCKEIBA_URL."""
    nar = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=8)).raw
    jra = as_jra(nar)
    load_tables(postgres_url, nar, "nvd")
    load_tables(postgres_url, jra, "jvd")

    def source_for(circuits: str | None) -> RaceSource:
        if circuits is None:
            monkeypatch.delenv("RACEDAY_PCKEIBA__CIRCUITS", raising=False)
        else:
            monkeypatch.setenv("RACEDAY_PCKEIBA__CIRCUITS", circuits)
        monkeypatch.setenv("RACEDAY_PCKEIBA_URL", postgres_url)
        settings = load_settings(source="pckeiba")
        return open_source(
            "pckeiba",
            simulator=SimulatorConfig(),
            pckeiba_url=settings.pckeiba_url,
            pckeiba_circuits=settings.pckeiba.circuits,
            time_zones={},
        )

    nar_codes = sorted(set(nar.nvd_ra["keibajo_code"]))
    assert source_for(None).venues(DAY, DAY) == nar_codes  # the default: NAR only
    assert source_for("jra").venues(DAY, DAY) == ["05"]
    both = source_for("nar, JRA")
    assert both.venues(DAY, DAY) == ["05", *nar_codes]
    read = both.read_days(DAY, DAY)
    for table in ("nvd_ra", "nvd_se", "nvd_o1"):
        expected = pd.concat([getattr(nar, table), getattr(jra, table)], ignore_index=True)
        pd.testing.assert_frame_equal(
            sorted_rows(getattr(read, table)), sorted_rows(expected.astype("string"))
        )
    assert len(both.read_days(DAY, DAY, ["05"]).nvd_se) == len(jra.nvd_se)


@pytest.mark.postgres
def test_pckeiba_says_which_columns_a_table_lacks_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A table without some columns: one WARNING per table naming them (not one per read);
    an optional column absent reads blank."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw
    load_tables(postgres_url, raw, "nvd", drop={"se": ["bamei", "yobi_1"], "ra": ["toroku_tosu"]})
    source = PcKeibaSource(postgres_url)
    with caplog.at_level(logging.WARNING, logger="raceday.sources.pckeiba"):
        first = source.read_days(DAY, DAY)
        source.read_days(DAY, DAY, source.venues(DAY, DAY)[:1])
    said = [record.getMessage() for record in caplog.records]
    assert said == [
        "PC-KEIBA table nvd_ra lacks 1 column(s), read as absent: toroku_tosu",
        "PC-KEIBA table nvd_se lacks 2 column(s), read as absent: bamei, yobi_1",
    ]
    assert (first.nvd_se["bamei"] == "").all() and (first.nvd_ra["toroku_tosu"] == "").all()


@pytest.mark.postgres
def test_pckeiba_refuses_a_table_lacking_a_required_column(postgres_url: str) -> None:
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw
    load_tables(postgres_url, raw, "nvd", drop={"se": ["umaban", "soha_time"]})
    with pytest.raises(InputError) as error:
        PcKeibaSource(postgres_url).read_days(DAY, DAY)
    assert str(error.value) == ("PC-KEIBA table nvd_se lacks required column(s): umaban, soha_time")


@pytest.mark.postgres
def test_tables_loaded_by_another_tool_read_as_pc_keibas(postgres_url: str) -> None:
    """The same day loaded as a user's own tool may load it: the date's columns as integers
    (``0603`` is 603) or with a trailing space, a weight column of integers with a NULL, the
    distance as numeric, blanks as NULL, the tables behind views: every race and runner
    decodes as from PC-KEIBA's text tables (before: no race read, or every race set aside)."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=8)).raw
    load_tables(postgres_url, raw, "nvd")
    expected = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        for statement in (
            "ALTER TABLE nvd_ra ALTER COLUMN kaisai_tsukihi TYPE integer "
            "USING kaisai_tsukihi::integer",
            "ALTER TABLE nvd_ra ALTER COLUMN kyori TYPE numeric USING kyori::numeric",
            "UPDATE nvd_se SET kaisai_tsukihi = kaisai_tsukihi || ' '",
            "UPDATE nvd_se SET bataiju = NULL WHERE umaban = '01'",
            "ALTER TABLE nvd_se ALTER COLUMN bataiju TYPE integer USING bataiju::integer",
            "UPDATE nvd_se SET zogen_fugo = NULL WHERE zogen_fugo = ' '",
            "ALTER TABLE nvd_o1 RENAME TO odds_as_loaded",
            "CREATE VIEW nvd_o1 AS SELECT * FROM odds_as_loaded",
        ):
            connection.exec_driver_sql(statement)
    engine.dispose()
    source = PcKeibaSource(postgres_url)
    assert source.venues(DAY, DAY) == venues_in(raw)
    assert source.venues(DAY + timedelta(days=1), DAY + timedelta(days=1)) == []
    read = source.read_days(DAY, DAY)

    def decoded(day: RawDay) -> tuple[pd.DataFrame, pd.DataFrame]:
        races, runners = decode_races(day.nvd_ra), decode_runners(day.nvd_se)
        return sorted_rows(races), runners.sort_values(["race_id", "umaban"], ignore_index=True)

    (races, runners), (expected_races, expected_runners) = decoded(read), decoded(expected)
    pd.testing.assert_frame_equal(races, expected_races)
    weighed = (expected_runners["umaban"] != 1).to_numpy()
    pd.testing.assert_frame_equal(runners[weighed], expected_runners[weighed])
    assert runners.loc[~weighed, "body_weight_kg"].isna().all()
    assert (read.nvd_se["zogen_fugo"].isin(["", "+", "-"])).all()
    assert len(read.nvd_o1) == len(expected.nvd_o1)


@pytest.mark.postgres
def test_value_columns_of_number_types_read_as_their_digits(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Value columns a loader declared ``numeric(6,2)``, ``real`` or ``integer`` come back as
    ``540.00``, ``1400`` or ``480``: a whole number written with decimals reads as its digits,
    and every race and runner decodes as from text tables (before: ``fields_parse`` set every
    race aside, naming no type). A value with a fraction is read as written (validation sets
    its race aside) and said in one WARNING naming the column and its type."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=8)).raw
    load_tables(postgres_url, raw, "nvd")
    expected = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        for statement in (
            "ALTER TABLE nvd_se ALTER COLUMN futan_juryo TYPE numeric(6,2) "
            "USING futan_juryo::numeric",
            "ALTER TABLE nvd_ra ALTER COLUMN kyori TYPE numeric(6,2) USING kyori::numeric",
            "ALTER TABLE nvd_ra ALTER COLUMN shusso_tosu TYPE real USING shusso_tosu::real",
            "ALTER TABLE nvd_se ALTER COLUMN bataiju TYPE integer USING bataiju::integer",
            "ALTER TABLE nvd_se ALTER COLUMN tansho_odds TYPE double precision "
            "USING tansho_odds::double precision",
        ):
            connection.exec_driver_sql(statement)
    with caplog.at_level(logging.WARNING, logger="raceday.sources.pckeiba"):
        read = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    assert caplog.records == []
    pd.testing.assert_frame_equal(
        sorted_rows(decode_races(read.nvd_ra)), sorted_rows(decode_races(expected.nvd_ra))
    )
    pd.testing.assert_frame_equal(
        sorted_rows(decode_runners(read.nvd_se)), sorted_rows(decode_runners(expected.nvd_se))
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE nvd_se SET futan_juryo = 540.5 WHERE umaban IN ('01', '02')"
        )
    engine.dispose()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="raceday.sources.pckeiba"):
        read = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    fractional = read.nvd_se["umaban"].isin(["01", "02"]).to_numpy(bool)
    assert set(read.nvd_se.loc[fractional, "futan_juryo"]) == {"540.50"}
    [warning] = [record.getMessage() for record in caplog.records]
    assert warning.startswith(
        "PC-KEIBA column nvd_se.futan_juryo is NUMERIC(6, 2): "
        f"{int(fractional.sum())} value(s) not whole (e.g. 540.50)"
    ), warning


@pytest.mark.postgres
def test_a_table_the_database_cannot_read_is_bad_input_not_an_outage(postgres_url: str) -> None:
    """A query the database refuses (here a view whose rows fail: division by zero) is one
    line of bad input (not retried), not 'unreachable'."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw
    load_tables(postgres_url, raw, "nvd")
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE nvd_se RENAME TO runners_as_loaded")
        connection.exec_driver_sql("ALTER TABLE runners_as_loaded RENAME yobi_1 TO yobi_raw")
        connection.exec_driver_sql(
            "CREATE VIEW nvd_se AS SELECT *, (1 / (length(umaban) - 2))::text AS yobi_1 "
            "FROM runners_as_loaded"
        )
    engine.dispose()
    with pytest.raises(InputError, match="cannot be read as PC-KEIBA's: division by zero"):
        PcKeibaSource(postgres_url).read_days(DAY, DAY)


@pytest.mark.postgres
def test_a_days_reads_use_the_documented_day_indexes(postgres_url: str) -> None:
    """With the expression indexes docs/OPERATIONS.md gives (:func:`day_index_statements`),
    every query a day's read sends (its venues, its tables, a venue's tables) can use an index:
    PostgreSQL, told not to scan a table, plans no sequential scan for any of them."""
    load_pckeiba_tables(postgres_url, DAY, races=12)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        for statement in day_index_statements(["nvd"]):
            connection.exec_driver_sql(statement)
    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        _connection, _cursor, statement, parameters, *_rest = args
        if "kaisai_tsukihi" in statement:  # a day's query, not the inspector's
            sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        source = PcKeibaSource(postgres_url)
        venues = source.venues(DAY, DAY)
        source.read_days(DAY, DAY)
        source.read_days(DAY, DAY, venues[:1])
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    assert len(sent) == 7  # the venues, then three tables twice
    documented = (Path(__file__).parents[2] / "docs" / "OPERATIONS.md").read_text("utf-8")
    assert all(f"{statement};" in documented for statement in day_index_statements())
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
            assert not any("Seq Scan" in line for line in plan), "\n".join(plan)
    engine.dispose()


def as_driver(url: str, drivername: str) -> str:
    return make_url(url).set(drivername=drivername).render_as_string(hide_password=False)


@pytest.mark.postgres
def test_a_sql_ascii_database_under_any_postgresql_driver_name_reads_as_the_day(
    postgres_server: str, postgres_url: str
) -> None:
    """A PC-KEIBA database created ``SQL_ASCII`` (before: ``TypeError`` from SQLAlchemy, exit 5
    "defect"), named with another tool's driver: ``postgresql://`` and ``+psycopg2`` (before:
    "No module named 'psycopg2'", a defect), ``postgres://`` and ``+asyncpg`` (before: retried
    as unreachable, exit 3). Each reads the day as the UTF-8 database under psycopg does."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw
    load_tables(postgres_url, raw, "nvd")
    expected = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    options = "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    with fresh_postgres_database(postgres_server, "raceday_ascii", options=options) as ascii_url:
        load_tables(f"{ascii_url}?client_encoding=utf8", raw, "nvd")  # SQLAlchemy's own needs it
        for driver in ("postgresql+psycopg", "postgresql", "postgresql+psycopg2", "postgres",
                       "postgresql+asyncpg"):  # fmt: skip
            read = PcKeibaSource(as_driver(ascii_url, driver)).read_days(DAY, DAY)
            for name in ("nvd_ra", "nvd_se", "nvd_o1"):
                pd.testing.assert_frame_equal(getattr(read, name), getattr(expected, name))


def test_a_pc_keiba_url_of_another_database_kind_is_refused_in_one_line() -> None:
    """PC-KEIBA keeps PostgreSQL: a MySQL URL was a "defect" (no module pymysql), exit 5."""
    with pytest.raises(RacedayError, match="PC-KEIBA's database is PostgreSQL, not mysql"):
        load_settings(pckeiba_url="mysql+pymysql://keiba@db.example/pckeiba")
    assert load_settings(pckeiba_url="postgresql://keiba@db.example/pckeiba").pckeiba_url


@pytest.mark.postgres
def test_a_table_this_user_cannot_see_is_bad_input_saying_where_to_look(
    postgres_url: str,
) -> None:
    """A table missing, or in a schema off the search_path (here: jvd_ra of a NAR-only
    database), is one line of bad input naming what to check, not an outage retried for a
    minute then exit 3."""
    load_tables(postgres_url, simulate_days(DAY, DAY, SimulatorConfig(races_per_day=2)).raw, "nvd")
    with pytest.raises(InputError, match=r"no table jvd_ra that this user can see.*search_path"):
        PcKeibaSource(postgres_url, circuits=("nar", "jra")).read_days(DAY, DAY)
    with pytest.raises(InputError, match="no table jvd_ra"):
        PcKeibaSource(postgres_url, circuits=("jra",)).venues(DAY, DAY)


@pytest.mark.postgres
def test_pc_keibas_tables_as_foreign_tables_read_as_the_day(
    postgres_server: str, postgres_url: str
) -> None:
    """PC-KEIBA's tables reached through postgres_fdw (another server's database imported as
    foreign tables) read as the tables themselves (before: "has no table nvd_ra", exit 3)."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=4)).raw
    load_tables(postgres_url, raw, "nvd")
    expected = PcKeibaSource(postgres_url).read_days(DAY, DAY)
    remote = make_url(postgres_url)
    with fresh_postgres_database(postgres_server, "raceday_fdw") as local_url:
        engine = create_engine(local_url)
        with engine.begin() as connection:
            for statement in (
                "CREATE EXTENSION postgres_fdw",
                "CREATE SERVER pckeiba FOREIGN DATA WRAPPER postgres_fdw OPTIONS "
                f"(host '{remote.host}', port '{remote.port or 5432}', dbname '{remote.database}')",
                "CREATE USER MAPPING FOR CURRENT_USER SERVER pckeiba "
                f"OPTIONS (user '{remote.username}')",
                "IMPORT FOREIGN SCHEMA public LIMIT TO (nvd_ra, nvd_se, nvd_o1) "
                "FROM SERVER pckeiba INTO public",
            ):
                connection.exec_driver_sql(statement)
        engine.dispose()
        read = PcKeibaSource(local_url).read_days(DAY, DAY)
    for name in ("nvd_ra", "nvd_se", "nvd_o1"):
        pd.testing.assert_frame_equal(getattr(read, name), getattr(expected, name))


@pytest.mark.postgres
def test_a_mistyped_database_or_user_is_bad_input_said_at_once(postgres_server: str) -> None:
    """``database "x" does not exist`` / ``role "x" does not exist`` from the PC-KEIBA URL or the
    store's ``--db``: a setting to mend, one line, not an outage retried for a minute (exit 3)."""
    from raceday.errors import failure_kind
    from raceday.store.engine import check_connection, make_engine

    server = make_url(postgres_server)
    no_database = server.set(database="probe_pckeiba_no_such_database").render_as_string(False)
    no_user = server.set(username="probe_pckeiba_no_such_role").render_as_string(False)
    for url, said in ((no_database, "database"), (no_user, "role")):
        with pytest.raises(InputError, match=f'{said} "probe_pckeiba_no_such_.*" does not exist'):
            PcKeibaSource(url).venues(DAY, DAY)
        with pytest.raises(InputError, match=r"does not exist.*--db") as refused:
            check_connection(make_engine(url))
        assert failure_kind(refused.value) == "input"
    refused_port = server.set(port=1).render_as_string(False)  # nothing listens: an outage
    with pytest.raises(RacedayError, match="unreachable") as down:
        PcKeibaSource(refused_port).venues(DAY, DAY)
    assert failure_kind(down.value) == "unavailable"


@contextmanager
def reader_role(url: str, tables: Sequence[str]) -> Iterator[str]:
    """``url`` as a login role (probe_pckeiba_reader_*) that may SELECT ``tables`` only; the
    role dropped afterwards."""
    role = f"probe_pckeiba_reader_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        for table in tables:
            connection.exec_driver_sql(f"GRANT SELECT ON {table} TO {role}")
    try:
        yield make_url(url).set(username=role).render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")
        engine.dispose()


@pytest.mark.postgres
def test_an_odds_table_the_user_may_not_read_is_read_as_missing_with_a_warning(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No SELECT on the optional nvd_o1: read as a missing odds table (the day runs on final
    odds), with one WARNING naming it; it refused the whole run ("permission denied for table
    nvd_o1", exit 2). A required table the user may not read stays refused."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=2)).raw
    load_tables(postgres_url, raw, "nvd")
    with reader_role(postgres_url, ["nvd_ra", "nvd_se"]) as url:
        source = PcKeibaSource(url)
        with caplog.at_level(logging.WARNING, logger="raceday.sources.pckeiba"):
            venues = source.venues(DAY, DAY)
            read = source.read_days(DAY, DAY, venues)
        assert venues and len(read.nvd_se) == len(raw.nvd_se) and read.nvd_o1.empty
        said = [record.getMessage() for record in caplog.records]
        assert said == [
            "PC-KEIBA table nvd_o1 cannot be read by this user (no SELECT privilege): read "
            "as absent, the day's bets sized on final odds; GRANT SELECT ON nvd_o1 to read it"
        ]
    refused = pytest.raises(InputError, match="permission denied for table nvd_se")
    with reader_role(postgres_url, ["nvd_ra", "nvd_o1"]) as url, refused:
        PcKeibaSource(url).read_days(DAY, DAY)


@pytest.mark.postgres
def test_pckeiba_says_the_first_and_last_race_day_it_holds(postgres_url: str) -> None:
    """One MIN/MAX of the race tables' day keys (asked only when a day has no races)."""
    first, last = DAY - timedelta(days=3), DAY
    raw = simulate_days(first, last, SimulatorConfig(races_per_day=1)).raw
    load_tables(postgres_url, raw, "nvd")
    assert PcKeibaSource(postgres_url).days_held() == (first, last)
    source = open_source(
        "pckeiba", simulator=SimulatorConfig(), pckeiba_url=postgres_url, time_zones={}
    )
    assert source_days_held(source) == (first, last)
    assert source_days_held(open_source("sim", simulator=SimulatorConfig(), time_zones={})) is None


@pytest.mark.postgres
def test_a_table_of_another_letter_case_is_named_in_the_refusal(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``"NVD_RA"`` created quoted is not ``nvd_ra``: the refusal names the table found and how
    to rename it, where it only said to check the schema (search_path); the optional odds
    table of another case is read as absent with a WARNING naming it."""
    load_tables(postgres_url, simulate_days(DAY, DAY, SimulatorConfig(races_per_day=2)).raw, "nvd")
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql('ALTER TABLE nvd_o1 RENAME TO "NVD_O1"')
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="raceday.sources.pckeiba"):
        assert PcKeibaSource(postgres_url).read_days(DAY, DAY).nvd_o1.empty
    assert [record.getMessage() for record in caplog.records] == [
        'PC-KEIBA has no table nvd_o1 (found "NVD_O1", a name of another letter case, created '
        'quoted: rename it, ALTER TABLE "NVD_O1" RENAME TO nvd_o1): read as absent, the day\'s '
        "bets sized on final odds"
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql('ALTER TABLE nvd_ra RENAME TO "NVD_RA"')
    engine.dispose()
    found = r'no table nvd_ra .*found "NVD_RA".*ALTER TABLE "NVD_RA" RENAME TO nvd_ra'
    with pytest.raises(InputError, match=found):
        PcKeibaSource(postgres_url).venues(DAY, DAY)
    with pytest.raises(InputError, match=found):
        PcKeibaSource(postgres_url).read_days(DAY, DAY)


@pytest.mark.postgres
def test_a_source_down_when_asked_its_days_says_nothing_and_fails_no_run(
    postgres_server: str,
) -> None:
    """The days held are a note of a day without races: a database down since the day was
    read answers None (logged), not a failure of the run that ends."""
    from tasks.ingest import days_the_source_holds

    down = make_url(postgres_server).set(port=1).render_as_string(hide_password=False)
    settings = load_settings(source="pckeiba", pckeiba_url=down)
    assert days_the_source_holds(settings) is None
