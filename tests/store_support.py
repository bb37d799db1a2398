"""Store helpers shared by tests (and benchmarks): content checksums of the data tables, copies
of a store, fresh PostgreSQL databases."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from raceday.store.engine import make_engine
from raceday.store.models import Base
from raceday.store.repository import table_checksums
from tests.golden_outputs import VOLATILE_JSON_KEYS

# Records of attempts (how often a stage ran, what was quarantined when, the alert a failed run
# raised, who held a day's lock, which run completed a backfill day): not the data itself.
RECORD_TABLES = {
    "quarantine",
    "validation_results",
    "pipeline_runs",
    "alerts",
    "run_locks",
    "backfill_days",
}
OBJECT_IN_USE = "55006"  # PostgreSQL's SQLSTATE for "database is being accessed by other users"
HANG_LIMIT_S = 600  # how long a copy may wait for the sessions on its template to end: a hang
# Measured, not derived: how long the day's stages took, when a version was learned.
TIMING_COLUMNS = {
    "performance": ["run_seconds"],
    "reference_versions": ["created_at"],
    "first3f_models": ["created_at"],
}


def data_checksums(
    db: str,
    *,
    exclude: set[str] = RECORD_TABLES,
    ignore_columns: dict[str, list[str]] = TIMING_COLUMNS,
) -> dict[str, str]:
    """Checksums of every data table (the records of attempts and measured times excluded)."""
    tables = [table for name, table in Base.metadata.tables.items() if name not in exclude]
    with make_engine(db).connect() as connection:
        return table_checksums(connection, tables, ignore_columns)


def copy_store(template: Path, target: Path) -> str:
    """A copy of the SQLite store ``template`` at ``target`` (SQLite's backup API: a consistent
    copy); its URL. A store built once (a warm-up, a settled history) and copied for each run
    that starts from it, instead of building it again."""
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


def drop_postgres_database(admin: Engine, name: str) -> None:
    """Drop the database ``name`` (``admin``: an AUTOCOMMIT engine on its server), ending the
    sessions still open on it (``WITH (FORCE)``: PostgreSQL would otherwise wait only 5 s for
    a session that lingers on a loaded machine, then refuse); the cached engines' pools are
    dropped (nothing closed by hand)."""
    make_engine.cache_clear()
    with admin.connect() as connection:
        end_sessions_on(connection, name)
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def end_sessions_on(connection: Connection, name: str) -> None:
    """Ask every other session on the database ``name`` to end (it ends a moment later)."""
    connection.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )


def copy_postgres_database(admin: Engine, template: str, name: str) -> None:
    """Create the database ``name`` as a copy of ``template`` (``admin``: an AUTOCOMMIT engine
    on their server). PostgreSQL copies only a database nobody is on, and a session that ended
    (the process that built the template exited) or an autovacuum worker may still be on it for
    a moment, longer on a loaded machine: they are asked to end and the copy is tried again,
    for as long as a hang limit allows (not a speed limit)."""
    deadline = time.monotonic() + HANG_LIMIT_S
    while True:
        with admin.connect() as connection:
            end_sessions_on(connection, template)
            try:
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                return
            except OperationalError as error:
                in_use = getattr(error.orig, "sqlstate", None) == OBJECT_IN_USE
                if not in_use or time.monotonic() > deadline:
                    raise
        time.sleep(0.5)


@contextmanager
def fresh_postgres_database(
    admin_url: str, prefix: str = "raceday_test", template: str | None = None, options: str = ""
) -> Iterator[str]:
    """A fresh database on the PostgreSQL server of ``admin_url``: its URL (with the admin's
    credentials); dropped afterwards. Empty (created with ``options``, e.g. an encoding), or a
    copy of the database of the URL ``template`` (``CREATE DATABASE … TEMPLATE``, a file copy:
    a store built once — a warm-up — and copied for each run that starts from it; nothing may
    be connected to the template meanwhile)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    if template is None:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" {options}'))
    else:
        copy_postgres_database(admin, str(make_url(template).database), name)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_postgres_database(admin, name)
        admin.dispose()


# What two runs of the same backfill are compared on (tests/e2e/test_backfill_scaleout.py has
# why): every output table but the pickled models, compared by what they compute.
IGNORED_COLUMNS = {**TIMING_COLUMNS, "first3f_models": ["created_at", "ml_model"]}


def without_code_version(meta: Any) -> Any:
    """A version's meta without the checkout that trained it (``git describe --dirty``): the
    compared backfills are processes of their own, and an edit of the checkout between them
    would differ there and nowhere else."""
    found = json.loads(meta) if isinstance(meta, str) else meta
    return {key: value for key, value in found.items() if key not in VOLATILE_JSON_KEYS}


def model_versions(db_url: str) -> list[tuple[Any, ...]]:
    """The versions trained: their windows, metrics and promotion (not the pickle, not the
    checkout's name)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT name, trained_until, meta, library, eval_log_loss, promoted "
                    "FROM model_versions ORDER BY name"
                )
            ).all()
    finally:
        engine.dispose()
    return [(name, until, without_code_version(meta), *rest) for name, until, meta, *rest in rows]


def outputs(db_url: str) -> dict[str, Any]:
    """Every output table's checksum and the trained versions."""
    sums: dict[str, Any] = data_checksums(
        db_url, exclude=RECORD_TABLES | {"model_versions"}, ignore_columns=IGNORED_COLUMNS
    )
    sums["model_versions"] = model_versions(db_url)
    return sums


# A short backfill that trains: 42 warm-up days, then 4 chunks of 3 days of 20 races; a version
# (trained on 14 + 7 + 7 days) after the first chunk, kept (the market is better), and one six
# days later, after the third, promoted: the last chunk bets on its predictions. (Every three
# days trained two more versions that nothing used: after the second chunk, kept, and after the
# last, predicting nothing.)
TRAINING_BACKFILL = {
    "RACEDAY_SIMULATOR__RACES_PER_DAY": "20",
    "RACEDAY_HISTORY__WARMUP_DAYS": "42",
    "RACEDAY_TRAIN__TRAIN_DAYS": "14",
    "RACEDAY_TRAIN__BLEND_DAYS": "7",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "7",
    "RACEDAY_TRAIN__MIN_RACES": "40",
    "RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS": "6",
    "RACEDAY_TRAIN__MAX_ITER": "20",
    "RACEDAY_VALIDATION__DATA_DOCS": "false",
}


def hold_backfill_lock(db: str, sport: str, what: str, pid: int, run_id: str) -> str:
    """The store's backfill lock of ``sport`` (``HORSE_LOCK``, ``BOAT_LOCK``) held by process
    ``pid`` on this machine (this one: a live backfill; an ended one: a killed backfill), its
    holder line ``<what> <host> pid <pid>``, as a backfill writes it; that line."""
    import socket

    from raceday.store.catalogs.runs import BACKFILL_LOCK_DAY, BACKFILL_LOCKS, lock_day
    from raceday.store.engine import upgrade_schema

    upgrade_schema(make_engine(db))
    holder = f"{what} {socket.gethostname()} pid {pid}"
    with make_engine(db).begin() as connection:
        lock_day(connection, BACKFILL_LOCK_DAY, holder, run_id, BACKFILL_LOCKS[sport])
    return holder


def checksums_and_run_locks(db: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Every table's checksum (records of attempts too) and the run locks held (read apart:
    a lock of the whole store is on a day pandas cannot hold)."""
    from raceday.store.catalogs.runs import run_locks_held

    checksums = data_checksums(db, exclude={"run_locks"}, ignore_columns={})
    with make_engine(db).connect() as connection:
        return checksums, run_locks_held(connection)
