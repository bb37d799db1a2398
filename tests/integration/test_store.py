"""The store against real SQLite and PostgreSQL: migrations, idempotent writes, natural keys."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, select

from raceday.store.catalogs.races import RACES, RUNNERS, write_races_and_runners
from raceday.store.catalogs.runs import RUNS, record_stage_run
from raceday.store.engine import (
    SQLITE_CACHE_KIB,
    make_engine,
    schema_is_current,
    script_heads,
    stored_revisions,
    upgrade_schema,
)
from raceday.store.models import Base
from raceday.store.repository import StoreWriteError, insert_rows, read_rows, table_checksums

DAY = date(2026, 11, 20)


def races(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_id": [f"2026112044{i + 1:02d}" for i in range(n)],
            "race_date": pd.Timestamp(DAY),
            "keibajo_code": "44",
            "race_bango": range(1, n + 1),
            "distance_m": 1200,
            "field_size": 2,
            "class_code": pd.array(["C3"] * n, dtype="string"),
        }
    )


def runners(race_frame: pd.DataFrame, finish_time: float | None = 74.0) -> pd.DataFrame:
    rows = []
    for race_id in race_frame["race_id"]:
        for umaban in (1, 2):
            rows.append(
                {
                    "race_id": race_id, "umaban": umaban, "race_date": pd.Timestamp(DAY),
                    "keibajo_code": "44", "horse_id": f"20230{umaban:05d}",
                    "finish_pos": umaban if finish_time else None,
                    "finish_time_s": finish_time, "abnormal_code": 0,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(store_url)
    upgrade_schema(engine)
    return engine


def test_migrations_create_every_model_table_and_repeat_safely(engine) -> None:  # type: ignore[no-untyped-def]
    """alembic upgrade head creates the models' tables; running it again changes nothing."""
    upgrade_schema(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_a_store_at_head_is_only_read_and_one_behind_is_upgraded(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every run of a day asks for an upgrade: a store at the scripts' head is only read
    (Alembic's upgrade does not run); a store a revision behind is brought to head."""
    from alembic import command
    from alembic.config import Config

    upgrades: list[str] = []
    original = command.upgrade
    monkeypatch.setattr(
        command,
        "upgrade",
        lambda config, revision: upgrades.append(revision) or original(config, revision),
    )
    assert schema_is_current(engine) and stored_revisions(engine) == script_heads()
    upgrade_schema(engine)
    assert upgrades == []
    config = Config("alembic.ini")
    config.cmd_opts = None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    assert not schema_is_current(engine)
    upgrade_schema(engine)
    assert upgrades == ["head"] and schema_is_current(engine)


def test_a_new_store_has_no_revision(sqlite_url: str) -> None:
    """A store never migrated is at no revision, so not current (the upgrade creates it)."""
    engine = make_engine(sqlite_url)
    assert stored_revisions(engine) == frozenset() and not schema_is_current(engine)


def test_a_sqlite_store_connection_keeps_a_page_cache_for_a_store_of_years(
    sqlite_url: str,
) -> None:
    # SQLite's default of 2 MB re-reads a years-long store's index pages on every chunk's insert
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        cache_kib = -connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    assert cache_kib == SQLITE_CACHE_KIB >= 64 * 1024
    assert journal == "wal"


def test_upgrades_from_threads_at_once_all_succeed(tmp_path: Path) -> None:
    """Two runs of a day in one process upgrade a new store at once (their run lock lives in
    the store): Alembic's context is one per process, and unguarded, one thread's upgrade lost
    its context to the other's (KeyError 'config' / 'script') in nearly every round."""
    failures: list[BaseException] = []

    def upgrade(engine: Engine, start: threading.Barrier) -> None:
        start.wait()
        try:
            upgrade_schema(engine)
        except Exception as error:  # noqa: BLE001 - every failure is asserted on below
            failures.append(error)

    for round_ in range(5):  # a new store each round: a store at head is not migrated again
        engine = make_engine(f"sqlite:///{tmp_path / f'store-{round_}.db'}")
        start = threading.Barrier(2)
        threads = [threading.Thread(target=upgrade, args=(engine, start)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert schema_is_current(engine)
    assert failures == []


def test_rewriting_a_day_never_duplicates(engine) -> None:  # type: ignore[no-untyped-def]
    """Writing the same races and runners twice leaves one row per natural key."""
    race_frame = races()
    for _ in range(2):
        with engine.begin() as connection:
            write_races_and_runners(
                connection, race_frame, runners(race_frame), has_results=True, source="test"
            )
    with engine.connect() as connection:
        assert len(read_rows(connection, RACES)) == 2
        assert len(read_rows(connection, RUNNERS)) == 4
        checksum = table_checksums(connection, [RACES, RUNNERS])
    with engine.begin() as connection:
        write_races_and_runners(
            connection, race_frame, runners(race_frame), has_results=True, source="test"
        )
    with engine.connect() as connection:
        assert table_checksums(connection, [RACES, RUNNERS]) == checksum


def test_a_card_never_overwrites_settled_results(engine) -> None:  # type: ignore[no-untyped-def]
    """Re-running the morning stage after the night one keeps the results."""
    race_frame = races()
    with engine.begin() as connection:
        write_races_and_runners(
            connection, race_frame, runners(race_frame), has_results=True, source="test"
        )
        write_races_and_runners(
            connection, race_frame, runners(race_frame, None), has_results=False, source="test"
        )
    with engine.connect() as connection:
        stored = read_rows(connection, RUNNERS)
    assert stored["finish_time_s"].notna().all()


def test_natural_key_is_enforced_by_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    """A second row with the same (race_id, umaban) is refused by the schema itself."""
    race_frame = races(1)
    with engine.begin() as connection:
        insert_rows(connection, RUNNERS, runners(race_frame))
    # The store reports the refusal in one short line (StoreWriteError), naming its kind.
    with pytest.raises(StoreWriteError, match="IntegrityError"), engine.begin() as connection:
        insert_rows(connection, RUNNERS, runners(race_frame).iloc[:1])


def test_failed_stage_writes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    """An error inside a stage's transaction rolls back everything it wrote."""
    race_frame = races()
    with pytest.raises(RuntimeError), engine.begin() as connection:
        write_races_and_runners(
            connection, race_frame, runners(race_frame), has_results=True, source="test"
        )
        raise RuntimeError("crash between writes")
    with engine.connect() as connection:
        assert connection.execute(select(RACES.c.race_id)).first() is None


def test_stage_runs_are_upserted_with_attempts(engine) -> None:  # type: ignore[no-untyped-def]
    """Re-running a stage updates its row and counts the attempt."""
    from datetime import datetime

    run = {
        "flow_name": "daily-run", "stage": "ingest", "race_date": DAY, "run_id": "x",
        "status": "completed", "rows_in": 0, "rows_out": 5, "started_at": datetime.now(),
        "duration_s": 0.1, "message": None,
    }  # fmt: skip
    for _ in range(3):
        with engine.begin() as connection:
            record_stage_run(connection, run)
    with engine.connect() as connection:
        stored = read_rows(connection, RUNS)
    assert len(stored) == 1 and stored["attempts"].iloc[0] == 3


@pytest.mark.postgres
def test_two_runs_recording_a_stage_of_one_day_at_once_both_land(postgres_url: str) -> None:
    """The race runs of a race-time day (``serve --race-time``) record the same stage of the
    same day (key flow, stage, day): the second, writing while the first's row is not yet
    committed, waits for it and then counts its attempt; it failed with a duplicate key (the
    read, delete, insert saw no row), its flow run failed and its race went unbet."""
    import threading
    import time
    from datetime import datetime

    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    run = {
        "flow_name": "race", "stage": "decide", "race_date": DAY, "run_id": "R01",
        "status": "completed", "rows_in": 0, "rows_out": 5, "started_at": datetime.now(),
        "duration_s": 0.1, "message": None,
    }  # fmt: skip
    failures: list[BaseException] = []
    pids: list[int] = []

    def second_run() -> None:
        try:
            with engine.begin() as connection:
                pids.append(int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()))
                record_stage_run(connection, {**run, "run_id": "R02"})
        except BaseException as error:  # noqa: BLE001 - the test reports it
            failures.append(error)

    with engine.begin() as first:
        record_stage_run(first, run)
        thread = threading.Thread(target=second_run)
        thread.start()
        deadline = time.monotonic() + 120  # a loaded machine only waits longer
        waiting = False
        while not waiting and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            if pids:
                waiting = bool(
                    first.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = %s "
                        "AND wait_event_type = 'Lock'",
                        (pids[0],),
                    ).scalar()
                )
        assert waiting or not thread.is_alive(), "the second run never reached its write"
    thread.join(timeout=120)
    assert not failures, failures
    with engine.connect() as connection:
        stored = read_rows(connection, RUNS)
    assert len(stored) == 1 and stored["attempts"].iloc[0] == 2
    assert stored["run_id"].iloc[0] == "R02"
    engine.dispose()


def test_replacing_by_key_deletes_exactly_the_keys_written(engine) -> None:  # type: ignore[no-untyped-def]
    """Keys of every kind (text, integer, date) replace their rows and no other: a second
    write of some keys leaves one row per key, the values of the second write."""
    from raceday.store.catalogs.ratings import TRACK_VARIANTS
    from raceday.store.repository import delete_in, replace_rows

    variants = pd.DataFrame(
        {
            "race_date": [pd.Timestamp(DAY), pd.Timestamp(DAY), pd.Timestamp(date(2026, 11, 21))],
            "keibajo_code": ["44", "44", "44"],
            "surface": ["dirt", "turf", "dirt"],
            "variant_s_per_km": [0.1, 0.2, 0.3],
            "n_races": [3, 4, 5],
            "n_runners": [30, 40, 50],
        }
    )
    with engine.begin() as connection:
        replace_rows(connection, TRACK_VARIANTS, variants, ["race_date", "keibajo_code", "surface"])
        again = variants.iloc[[0, 2]].assign(variant_s_per_km=[-1.0, -3.0])
        replace_rows(connection, TRACK_VARIANTS, again, ["race_date", "keibajo_code", "surface"])
        stored = read_rows(connection, TRACK_VARIANTS).sort_values(["race_date", "surface"])
    assert stored["variant_s_per_km"].tolist() == [-1.0, 0.2, -3.0]
    with engine.begin() as connection:
        write_races_and_runners(connection, races(), runners(races()), has_results=True, source="t")
        deleted = delete_in(connection, RUNNERS, "race_id", ["202611204401", "202611204401", "x"])
        left = read_rows(connection, RUNNERS)
    assert deleted == 2 and set(left["race_id"]) == {"202611204402"}


def test_a_key_delete_searches_an_index_or_falls_back_to_in_lists() -> None:
    """Deletes by one key at a time are used only where the key leads an index (in any column
    order); other keys are deleted by IN lists (a per-key delete would scan the table)."""
    from raceday.store.catalogs.ratings import TRACK_VARIANTS
    from raceday.store.repository import _is_indexed

    assert _is_indexed(RUNNERS, ["race_id", "umaban"])
    assert _is_indexed(RUNNERS, ["umaban", "race_id"])
    assert _is_indexed(RUNNERS, ["race_id"]) and _is_indexed(RUNNERS, ["race_date"])
    assert _is_indexed(TRACK_VARIANTS, ["surface", "race_date", "keibajo_code"])
    assert not _is_indexed(RUNNERS, ["umaban"]) and not _is_indexed(RUNNERS, ["jockey_id"])


def test_db_upgrade_says_what_it_did(sqlite_url: str) -> None:
    """Created, upgraded from one revision to another, or already at the latest: the line said
    "is at the latest schema" after an upgrade from an old release's revision too."""
    from alembic import command
    from alembic.config import Config
    from typer.testing import CliRunner

    from cli import app

    head = ", ".join(sorted(script_heads()))

    def upgrade() -> str:
        result = CliRunner().invoke(app, ["db", "upgrade", "--db", sqlite_url])
        assert result.exit_code == 0, result.output
        return " ".join(result.stdout.split())

    assert upgrade().endswith(f"created at schema {head}")
    assert upgrade().endswith(f"is at the latest schema ({head})")
    engine = make_engine(sqlite_url)
    config = Config("alembic.ini")
    config.cmd_opts = None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    (behind,) = stored_revisions(engine)
    engine.dispose()
    assert upgrade().endswith(f"upgraded from schema {behind} to {head}")
