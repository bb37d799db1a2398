"""A schema upgrade is all or nothing and refuses a store it does not know: a migration that
fails half-way leaves the store at its old revision with none of its steps (on SQLite each step
used to commit on its own, and every later run failed on "already exists"), and a store
migrated by a newer raceday is refused in one line before anything is written."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from raceday.errors import InputError
from raceday.store.engine import (
    MIGRATIONS_DIR,
    make_engine,
    schema_is_current,
    stored_revisions,
    upgrade_schema,
)

BEFORE = "2400"  # the revision before 2500, which adds four indexes one after another
FIRST_INDEX = ("features", "ix_features_feature_set_race_date")
CLASH = "CREATE INDEX ix_boat_bets_policy_race_date ON boat_bets (race_date)"  # 2500's last


def migrate_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def index_names(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_a_migration_failing_half_way_leaves_nothing_of_itself(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate_to(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(text(CLASH))
    with pytest.raises(DBAPIError, match="ix_boat_bets_policy_race_date"):
        upgrade_schema(engine)
    assert stored_revisions(engine) == {BEFORE}
    table, first = FIRST_INDEX
    assert first not in index_names(engine, table)  # before, on SQLite: committed on its own
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_boat_bets_policy_race_date"))
    upgrade_schema(engine)  # the cause removed: the upgrade goes through
    assert schema_is_current(engine) and first in index_names(engine, table)


def test_a_store_of_a_newer_raceday_is_refused_before_anything_is_written(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate_to(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999abc'"))
    with pytest.raises(InputError, match="revision 9999abc, which this raceday does not know"):
        upgrade_schema(engine)
    assert stored_revisions(engine) == {"9999abc"}


def test_ids_widened_to_24_characters_keep_the_stored_runners(store_url: str) -> None:
    """2800 widens the member ids (a Hong Kong export's 12-character horse ids): a runner
    stored before reads as it was, a 24-character id fits after, and autogenerate finds the
    widened columns as the models declare them."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from raceday.store.models import Base

    engine = make_engine(store_url)
    migrate_to(engine, "2700")
    insert = text(
        "INSERT INTO runners (race_id, umaban, race_date, keibajo_code, horse_id, jockey_id, "
        "trainer_id, abnormal_code) VALUES (:race, :umaban, '2026-11-20', '44', :horse, "
        ":jockey, :trainer, 0)"
    )
    with engine.begin() as connection:
        connection.execute(
            insert,
            {
                "race": "202611204401",
                "umaban": 1,
                "horse": "2019100001",
                "jockey": "01126",
                "trainer": "30120",
            },
        )
    upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(
            insert,
            {
                "race": "202611204401",
                "umaban": 2,
                "horse": "H" * 24,
                "jockey": "J" * 24,
                "trainer": "T" * 24,
            },
        )
        stored = connection.execute(
            text("SELECT umaban, horse_id, jockey_id, trainer_id FROM runners ORDER BY umaban")
        ).all()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [tuple(row) for row in stored] == [
        (1, "2019100001", "01126", "30120"),
        (2, "H" * 24, "J" * 24, "T" * 24),
    ]
    widened = [c for c in diff if any(t in repr(c) for t in ("'runners'", "'features'"))]
    assert widened == []


PERFORMANCE_ROW = (
    "INSERT INTO performance (perf_date, scope, races, runners, quarantined, bets, staked_yen, "
    "returned_yen, bankroll_yen, run_seconds) VALUES (:day, 'all', 24, 240, 0, 0, 0, 0, "
    "1000000, :seconds)"
)
STAGE_ROW = (
    "INSERT INTO pipeline_runs (flow_name, stage, race_date, run_id, status, rows_in, rows_out, "
    "started_at, duration_s, attempts) VALUES (:flow, 'record', :day, 'r', 'completed', 0, 0, "
    ":at, 1.0, 1)"
)
BACKFILLED_ROW = (
    "INSERT INTO backfill_days (race_date, run_id, completed_at, duration_s) "
    "VALUES (:day, 'b', :at, 1.0)"
)


def test_run_seconds_a_backfill_stored_before_2900_are_emptied(store_url: str) -> None:
    """A backfill before 2026-12-06 stored each replayed day's share of its replay's time
    (0.2 s) as the day's ``run_seconds``: after an upgrade every daily run for 28 race days was
    a run_seconds anomaly against them. 2900 empties them, as a backfill stores them now; a
    day a daily run recorded after its backfill, and a day no backfill replayed, keep theirs."""
    engine = make_engine(store_url)
    migrate_to(engine, "2800")
    replayed, run_after, run_before, daily_only = (
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
    )
    with engine.begin() as connection:
        for day, seconds in ((replayed, 0.19), (run_after, 31.0), (run_before, 0.19)):
            connection.execute(text(PERFORMANCE_ROW), {"day": day, "seconds": seconds})
            connection.execute(text(BACKFILLED_ROW), {"day": day, "at": "2026-11-01 10:00:00"})
        connection.execute(text(PERFORMANCE_ROW), {"day": daily_only, "seconds": 29.0})
        for day, at in (
            (run_after, "2026-11-02 09:00:00"),
            (run_before, "2026-10-03 09:00:00"),
            (daily_only, "2026-10-04 09:00:00"),
        ):
            connection.execute(text(STAGE_ROW), {"flow": "daily-run", "day": day, "at": at})
        connection.execute(
            text(STAGE_ROW), {"flow": "backfill", "day": replayed, "at": "2026-11-01 10:00:00"}
        )
    upgrade_schema(engine)
    with engine.begin() as connection:
        stored = connection.execute(
            text("SELECT perf_date, run_seconds FROM performance ORDER BY perf_date")
        ).all()
    assert [(str(day)[:10], seconds) for day, seconds in stored] == [
        (replayed, None),
        (run_after, 31.0),
        (run_before, None),
        (daily_only, 29.0),
    ]
