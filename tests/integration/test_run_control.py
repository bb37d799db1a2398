"""Run control in its own tables (SQLite and PostgreSQL): the day's run lock and backfill marks,
and the migration that moved them out of ``pipeline_runs`` and back."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from raceday.store.catalogs.runs import (
    BACKFILL_DAYS,
    RUN_LOCKS,
    RUNS,
    completed_backfill_days,
    day_lock_holder,
    lock_day,
    mark_backfill_days,
    unlock_day,
)
from raceday.store.engine import MIGRATIONS_DIR, make_engine, upgrade_schema
from raceday.store.repository import read_rows

DAY = date(2026, 11, 20)
STARTED = datetime(2026, 12, 1, 9, 0, 0)


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def run_row(flow: str, stage: str, day: date, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "flow_name": flow, "stage": stage, "race_date": day, "run_id": "run-a",
        "status": "completed", "rows_in": 0, "rows_out": 0, "started_at": STARTED,
        "duration_s": 0.0, "attempts": 1, "message": None,
    }  # fmt: skip
    return {**row, **values}


# Stand-in rows as revision 1900 stored them: a lock, a chunk of two days and one of one day.
OLD_ROWS = [
    run_row("lock", "day", DAY, status="running", message="daily-run host pid 42"),
    run_row("backfill", "day", DAY - timedelta(days=3), duration_s=5.0, message="chunk a"),
    run_row("backfill", "day", DAY - timedelta(days=2), duration_s=5.0, message="chunk a"),
    run_row(
        "backfill",
        "day",
        DAY - timedelta(days=1),
        run_id="run-b",
        duration_s=7.5,
        started_at=STARTED + timedelta(hours=1),
        message="chunk b",
    ),
    run_row("daily-run", "ingest", DAY, rows_out=12, duration_s=1.5, message="ok"),
]


@pytest.fixture
def engine(store_url: str) -> Engine:
    engine = make_engine(store_url)
    upgrade_schema(engine)
    return engine


def test_a_second_lock_of_the_day_is_refused_by_the_key_and_only_its_holder_releases_it(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        lock_day(connection, DAY, "daily-run host pid 1", "run-a")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        lock_day(connection, DAY, "settle-day host pid 2", "run-b")
    with engine.begin() as connection:
        unlock_day(connection, DAY, "run-b")  # not its lock: nothing released
        holder = day_lock_holder(connection, DAY)
        lock_day(connection, DAY + timedelta(days=1), "daily-run host pid 1", "run-a")
    assert holder is not None
    assert (holder["run_id"], holder["holder"]) == ("run-a", "daily-run host pid 1")
    with engine.begin() as connection:
        unlock_day(connection, DAY, "run-a")
        assert day_lock_holder(connection, DAY) is None
        assert day_lock_holder(connection, DAY + timedelta(days=1)) is not None


def test_backfill_marks_replace_earlier_marks_and_share_the_chunk_time(engine: Engine) -> None:
    days = [DAY - timedelta(days=1), DAY]
    with engine.begin() as connection:
        mark_backfill_days(connection, days, "run-a", STARTED, 10.0)
        mark_backfill_days(connection, days[1:], "run-b", STARTED, 3.0)
    with engine.connect() as connection:
        marks = read_rows(connection, BACKFILL_DAYS).sort_values("race_date")
        done = completed_backfill_days(connection, DAY - timedelta(days=5), DAY)
        stage_runs = read_rows(connection, RUNS)
    assert done == set(days)
    assert marks["run_id"].tolist() == ["run-a", "run-b"]
    assert marks["duration_s"].tolist() == [5.0, 3.0]
    assert marks["completed_at"].tolist() == [
        pd.Timestamp(STARTED + timedelta(seconds=10)),
        pd.Timestamp(STARTED + timedelta(seconds=3)),
    ]
    assert stage_runs.empty  # the marks are not stage runs


def test_the_migration_moves_locks_and_marks_out_of_pipeline_runs_and_back(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate(engine, "1900")
    with engine.begin() as connection:
        connection.execute(insert(RUNS), OLD_ROWS)
        before = read_rows(connection, RUNS).drop(columns="id")

    migrate(engine, "head")
    with engine.connect() as connection:
        locks = read_rows(connection, RUN_LOCKS)
        marks = read_rows(connection, BACKFILL_DAYS).sort_values("race_date")
        left = connection.execute(select(RUNS.c.flow_name, RUNS.c.stage)).all()
    assert locks[["holder", "run_id"]].values.tolist() == [["daily-run host pid 42", "run-a"]]
    assert locks["since"].tolist() == [pd.Timestamp(STARTED)]
    assert marks["run_id"].tolist() == ["run-a", "run-a", "run-b"]
    assert marks["completed_at"].tolist() == [  # the chunk's start plus the chunk's time
        pd.Timestamp(STARTED + timedelta(seconds=10)),
        pd.Timestamp(STARTED + timedelta(seconds=10)),
        pd.Timestamp(STARTED + timedelta(hours=1, seconds=7.5)),
    ]
    assert [tuple(row) for row in left] == [("daily-run", "ingest")]

    migrate(engine, "1900", down=True)
    assert not {"run_locks", "backfill_days"} & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        after = read_rows(connection, RUNS).drop(columns="id")
    order = ["flow_name", "race_date"]
    restored = after.sort_values(order).reset_index(drop=True)
    original = before.sort_values(order).reset_index(drop=True)
    # the downgrade names a chunk by its days, as revision 1900 wrote it
    original["message"] = original["message"].replace(
        {"chunk a": f"chunk {DAY - timedelta(days=3)}..{DAY - timedelta(days=2)}",
         "chunk b": f"chunk {DAY - timedelta(days=1)}..{DAY - timedelta(days=1)}"}
    )  # fmt: skip
    pd.testing.assert_frame_equal(restored, original)


def test_a_day_is_done_for_the_circuits_of_the_sources_that_completed_it(engine: Engine) -> None:
    """A day a NAR source completed is not done for a JRA source (a backfill from JRA's tables
    over the same days skipped them all and stored no JRA race); once both completed it, it is
    done for either and both; a mark without circuits (before revision 3000) is done for any."""
    nar_day, old_day = DAY - timedelta(days=1), DAY - timedelta(days=2)
    with engine.begin() as connection:
        mark_backfill_days(connection, [nar_day, DAY], "run-a", STARTED, 2.0, {"nar"})
        mark_backfill_days(connection, [old_day], "run-0", STARTED, 1.0)
    span = (DAY - timedelta(days=5), DAY)
    with engine.connect() as connection:
        assert completed_backfill_days(connection, *span, {"jra"}) == {old_day}
        assert completed_backfill_days(connection, *span, {"nar"}) == {old_day, nar_day, DAY}
        assert completed_backfill_days(connection, *span) == {old_day, nar_day, DAY}
    with engine.begin() as connection:
        mark_backfill_days(connection, [DAY], "run-b", STARTED, 1.0, {"jra"})
    with engine.connect() as connection:
        assert completed_backfill_days(connection, *span, {"jra"}) == {old_day, DAY}
        assert completed_backfill_days(connection, *span, {"nar", "jra"}) == {old_day, DAY}
        marks = read_rows(connection, BACKFILL_DAYS).set_index("run_id")["circuits"]
    assert marks.to_dict() == {"run-0": None, "run-a": "nar", "run-b": "jra,nar"}


def test_the_migration_marks_earlier_days_done_for_the_circuits_stored(store_url: str) -> None:
    """Revision 3000: a day completed before it is done for the circuits of its stored races
    (JRA's venues 01-10, NAR's other two-digit venues; a race abroad, G0, is neither); a day
    without a stored race keeps no circuits (done for any source, as before)."""
    engine = make_engine(store_url)
    migrate(engine, "2900")
    days = {"nar": DAY, "jra": DAY - timedelta(days=1), "both": DAY - timedelta(days=2),
            "abroad": DAY - timedelta(days=3), "none": DAY - timedelta(days=4)}  # fmt: skip
    venues = {"nar": ["44"], "jra": ["05"], "both": ["05", "30"], "abroad": ["G0"], "none": []}
    with engine.begin() as connection:
        for kind, day in days.items():
            connection.execute(
                insert(BACKFILL_DAYS),
                {"race_date": day, "run_id": kind, "completed_at": STARTED, "duration_s": 1.0},
            )
            for number, venue in enumerate(venues[kind], start=1):
                connection.exec_driver_sql(
                    "INSERT INTO races (race_id, race_date, keibajo_code, race_bango, distance_m,"
                    " field_size, has_results, source) VALUES"
                    f" ('{day:%Y%m%d}{venue}{number:02d}', '{day}', '{venue}', {number}, 1200,"
                    " 10, TRUE, 'test')"
                )
    migrate(engine, "head")
    with engine.connect() as connection:
        marks = read_rows(connection, BACKFILL_DAYS).set_index("run_id")["circuits"]
    assert marks.to_dict() == {
        "nar": "nar", "jra": "jra", "both": "jra,nar", "abroad": None, "none": None
    }  # fmt: skip
