"""Store helpers shared by tests (and benchmarks): content checksums of the data tables, copies
of a store, fresh PostgreSQL databases."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from raceday.store.engine import make_engine
from raceday.store.models import Base
from raceday.store.repository import table_checksums

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
    sessions still open on it first; the cached engines' pools are dropped (nothing closed by
    hand)."""
    make_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@contextmanager
def fresh_postgres_database(
    admin_url: str, prefix: str = "raceday_test", template: str | None = None
) -> Iterator[str]:
    """A fresh database on the PostgreSQL server of ``admin_url``: its URL (with the admin's
    credentials); dropped afterwards. Empty, or a copy of the database of the URL ``template``
    (``CREATE DATABASE … TEMPLATE``, a file copy: a store built once — a warm-up — and copied
    for each run that starts from it; nothing may be connected to the template meanwhile)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_postgres_database(admin, name)
        admin.dispose()
