"""Engines and schema upgrades for the store (SQLite by default, PostgreSQL in prod)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from raceday.errors import InputError, StoreUnavailable, refused_for_its_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

# Alembic runs a migration through one module-level context (``alembic.context``), shared by the
# whole process: two threads upgrading at once (two runs of a day in one process) clobber each
# other's context (KeyError 'config' / 'script'). One upgrade at a time per process.
_ALEMBIC_CONTEXT = threading.Lock()


# SQLite's page cache per connection, in KiB (SQLite's default is 2,000 KiB). A store of years
# has B-tree indexes of hundreds of MB (runners by horse, by date): with 2 MB of cache each
# insert of a chunk's runners re-reads the index pages it touched a moment before. At 64 MiB a
# chunk's races and runners write on a five-year store (4.7 GB) 1.05 -> 0.70 s; 16 MiB does not
# help (benchmarks/bench_long_store.py, docs/PERFORMANCE.md). Pages are taken as they are read:
# a small store's connections stay small.
SQLITE_CACHE_KIB = 65_536


def sqlite_pragmas(cache_kib: int = SQLITE_CACHE_KIB) -> Callable[[Any, Any], None]:
    """The store's SQLite settings for each new connection (a ``connect`` event listener): WAL,
    a 30-s busy wait and a page cache of ``cache_kib`` KiB (benchmarks try other caches)."""

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")  # negative: KiB, not pages
        cursor.close()

    return set_pragmas


def _make_store_folder(folder: Path) -> None:
    """Create a SQLite store's folder (``var/`` on first use), one level only: a path whose
    parent does not exist either is a mistyped ``--db``, refused rather than created."""
    if folder.exists():
        return
    if not folder.parent.exists():
        raise InputError(
            f"the store's folder {folder} does not exist, nor does {folder.parent}: "
            "check --db / RACEDAY_DB_URL"
        )
    folder.mkdir(exist_ok=True)


UNESCAPED_AT = (
    "the database URL holds an @ after its user and password: write an @ inside the password as %40"
)


def holds_unescaped_at(url: URL) -> bool:
    """``user:p@ss@host``: the password's own ``@`` makes the rest of it part of the host, and
    the driver's "cannot resolve host" message would print it. Refused before connecting, by
    the store and by the PC-KEIBA source's URL setting (:data:`UNESCAPED_AT`)."""
    return "@" in (url.host or "")


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for another backend or an in-memory store."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store's URL (:func:`sqlite_path`; None too for a URL that does not
    parse: :func:`make_engine` says why)."""
    try:
        return sqlite_path(make_url(url))
    except ArgumentError:
        return None


def with_installed_driver(url: URL) -> URL:
    """``url`` read with the PostgreSQL driver raceday installs (psycopg 3) whatever driver it
    names: ``postgresql://`` and ``postgresql+psycopg2://`` (psycopg2, most tools' URLs),
    ``postgres://`` (libpq's), ``postgresql+asyncpg://`` (Prefect's database URL) all mean the
    same database. Other backends are left as they are."""
    if url.drivername.split("+")[0] in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    return url


def connect_args(url: URL) -> dict[str, str]:
    """PostgreSQL's text read as UTF-8 unless the URL sets ``client_encoding``: a database
    created ``SQL_ASCII`` (no encoding of its own) otherwise sends its text as bytes, which
    SQLAlchemy cannot read (``cannot use a string pattern on a bytes-like object``)."""
    if url.get_backend_name() == "postgresql" and "client_encoding" not in url.query:
        return {"client_encoding": "utf8"}
    return {}


@cache
def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created (one level) and WAL mode."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        # the text is not shown whole: a mistyped URL may still hold a password
        shown = url.split("@")[-1] if "@" in url else url
        raise StoreUnavailable(
            f"not a database URL: {shown[:80]!r} (expected dialect+driver://user@host/database)"
        ) from error
    if holds_unescaped_at(parsed):
        raise StoreUnavailable(UNESCAPED_AT)
    parsed = with_installed_driver(parsed)
    if (path := sqlite_path(parsed)) is not None:
        _make_store_folder(path.parent)
    try:
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args(parsed))
    except (SQLAlchemyError, ImportError) as error:
        raise StoreUnavailable(f"cannot open the store {parsed!r}: {error}") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas())
    return engine


def check_connection(engine: Engine) -> None:
    """Raise StoreUnavailable with one clear line when the store cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if refused_for_its_settings(error):  # a mistyped database, user or password
            raise InputError(
                f"the store at {engine.url!r} refused the connection: {reason} (check the "
                "database, user and password in --db / RACEDAY_DB_URL)"
            ) from error
        raise StoreUnavailable(
            f"cannot reach the store at {engine.url!r}: {reason} (check --db / RACEDAY_DB_URL)"
        ) from error


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def _script_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """The migration scripts' head revisions and all their revisions, read once per process (a
    deployment that brings new migrations brings new code, and restarts its processes)."""
    from alembic.script import ScriptDirectory

    with _ALEMBIC_CONTEXT:  # loading the scripts runs them as modules: one thread at a time
        scripts = ScriptDirectory.from_config(_alembic_config())
        known = frozenset(script.revision for script in scripts.walk_revisions())
        return frozenset(scripts.get_heads()), known


def script_heads() -> frozenset[str]:
    """The head revisions of the migration scripts (:func:`_script_revisions`)."""
    return _script_revisions()[0]


def stored_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the store says it is at (``alembic_version``; none for a new store)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return frozenset()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(str(version) for (version,) in rows)


def schema_is_current(engine: Engine) -> bool:
    """True when the store is at the scripts' heads: an upgrade would do nothing (read
    without running Alembic's migration context, a few milliseconds)."""
    return stored_revisions(engine) == script_heads()


# The key of the PostgreSQL advisory lock a migration holds (any constant of raceday's own).
MIGRATION_LOCK_KEY = 0x7261_6365  # "race"


def _migration_lock(connection: Connection) -> None:
    """Make the migration on ``connection`` one transaction that no other process migrates
    beside. SQLite: pysqlite opens no transaction before DDL (each ``CREATE INDEX`` or batch
    step committed on its own: a migration killed or failing half-way left its first steps at
    the old revision, and every later run failed on "already exists"); ``BEGIN IMMEDIATE``
    opens one and takes the write lock, so a second process waits, then finds the store
    migrated. PostgreSQL's DDL is transactional already: an advisory lock for the transaction
    makes the second wait likewise (two first runs created the same tables at once)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def refuse_unknown_revisions(stored: frozenset[str]) -> None:
    """A store at a revision (``stored``: :func:`stored_revisions`) the scripts do not know
    (migrated by a newer raceday) is refused in one line before anything is written:
    Alembic's "Can't locate revision" was a defect."""
    unknown = sorted(stored - _script_revisions()[1])
    if unknown:  # bad input: no retry makes this raceday know a newer revision
        raise InputError(
            f"the store is at schema revision {', '.join(unknown)}, which this raceday does not "
            f"know (its latest: {', '.join(sorted(script_heads()))}): a newer raceday migrated "
            "it; run that version, or restore a backup made by this one"
        )


def upgrade_schema(engine: Engine) -> None:
    """Bring the store's schema to the latest Alembic revision (safe to repeat; a store already
    at head is only read, not migrated: every run of a day asks). All of it or nothing, one
    process at a time (:func:`_migration_lock`)."""
    from alembic import command

    check_connection(engine)
    stored = stored_revisions(engine)
    if stored == script_heads():  # :func:`schema_is_current`, the revisions read once
        return
    refuse_unknown_revisions(stored)
    config = _alembic_config()
    with _ALEMBIC_CONTEXT, engine.begin() as connection:
        _migration_lock(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def has_schema(engine: Engine) -> bool:
    """True when the store has been migrated at least once."""
    return inspect(engine).has_table("alembic_version")
