"""The store's restore lock: one lock for the whole store, held exclusively by a restore for as
long as it replaces the store, and shared by every run for the transaction in which it takes its
run locks (``run_locks`` rows). Of a restore and a run starting at once exactly one goes on: a
run that takes its day while a restore holds the lock is refused, and a restore that takes the
lock sees every run lock taken before it (and refuses to restore under them).

The lock lives outside the tables a restore replaces (a SQLite file is copied over, PostgreSQL's
tables are dropped and made again), and the operating system or the server lets go of it when
its holder dies (``kill -9``): on SQLite an ``flock`` on a file beside the store
(``<store>.restore-lock``, holding the restore's holder line while it is held); on PostgreSQL an
advisory lock of the database (the restore's session lock, each run's transaction lock; the
restore's holder line is its session's ``application_name``)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from raceday.store.engine import make_engine, sqlite_path
from raceday.store.file_lock import try_flock

# The advisory lock's two keys (PostgreSQL's (int4, int4) form: ``pg_locks`` shows them as its
# classid and objid): "rd" and "rest" in ASCII, no other lock of ours.
ADVISORY_KEYS = (0x7264, 0x72657374)
LOCK_FILE_SUFFIX = ".restore-lock"
# Who holds the lock when its holder line cannot be read (written just after it was taken).
UNNAMED_RESTORE = "raceday restore"


class RestoreLockBusy(Exception):
    """The restore lock could not be taken: a restore holds it (``holder``, its holder line), or
    (``holder`` None, for a restore only) a run is taking its run locks this very moment."""

    def __init__(self, holder: str | None) -> None:
        super().__init__(holder or "runs taking their locks")
        self.holder = holder


def restore_lock_file(url: URL) -> Path | None:
    """The file beside a SQLite store whose ``flock`` is its restore lock; None for PostgreSQL
    or an in-memory store (nothing a restore can replace)."""
    path = sqlite_path(url)
    if path is None:
        return None
    real = path.resolve()  # one lock file for every spelling of the store's path (a symlink)
    return real.with_name(real.name + LOCK_FILE_SUFFIX)


def _file_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or UNNAMED_RESTORE
    except OSError:
        return UNNAMED_RESTORE


_ADVISORY_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = :first AND l.objid = :second AND l.objsubid = 2"
)


def _advisory_holder(connection: Connection) -> str | None:
    """The holder line of the restore holding the advisory lock exclusively; None when none."""
    first, second = ADVISORY_KEYS
    found = connection.execute(_ADVISORY_HOLDER, {"first": first, "second": second}).first()
    return None if found is None else (str(found[0] or "") or UNNAMED_RESTORE)


def _try_advisory(connection: Connection, function: str) -> bool:
    first, second = ADVISORY_KEYS
    statement = text(f"SELECT {function}(:first, :second)")
    return bool(connection.execute(statement, {"first": first, "second": second}).scalar())


@contextmanager
def run_lock_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction on the store (committed when the block ends) during which no restore can
    start: the restore lock held shared until after the commit. :class:`RestoreLockBusy` naming
    the restore when one holds it (nothing done)."""
    lock_file = restore_lock_file(engine.url)
    if lock_file is None:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql" and not _try_advisory(
                connection, "pg_try_advisory_xact_lock_shared"
            ):
                raise RestoreLockBusy(_advisory_holder(connection) or UNNAMED_RESTORE)
            yield connection  # the transaction's lock goes with its commit or rollback
        return
    descriptor = try_flock(lock_file, fcntl.LOCK_SH)
    if descriptor is None:
        raise RestoreLockBusy(_file_holder(lock_file))
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        os.close(descriptor)  # after the commit: a restore taking the lock sees the run's locks


def restore_holder(url: str) -> str | None:
    """The holder line of the restore under way on the store at ``url`` (None: none); a look
    that holds nothing afterwards (a command's one-line refusal before it starts)."""
    parsed = make_url(url)
    lock_file = restore_lock_file(parsed)
    if lock_file is not None:
        if not lock_file.exists():
            return None
        descriptor = try_flock(lock_file, fcntl.LOCK_SH)
        if descriptor is None:
            return _file_holder(lock_file)
        os.close(descriptor)
        return None
    if parsed.get_backend_name() != "postgresql":
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return _advisory_holder(connection)
    finally:
        engine.dispose()


@contextmanager
def _sqlite_restore_lock(lock_file: Path, holder: str) -> Iterator[None]:
    descriptor = try_flock(lock_file, fcntl.LOCK_EX)
    if descriptor is None:
        shared = try_flock(lock_file, fcntl.LOCK_SH)
        if shared is None:
            raise RestoreLockBusy(_file_holder(lock_file))
        os.close(shared)  # shared was free: runs were taking their locks
        raise RestoreLockBusy(None)
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, holder.encode("utf-8"), 0)
        yield
    finally:
        # a holder line a killed restore leaves is never read: only while the lock is held
        os.ftruncate(descriptor, 0)
        os.close(descriptor)


@contextmanager
def _postgres_restore_lock(url: str, holder: str) -> Iterator[None]:
    engine = make_engine(url)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    locked = False
    try:
        if not _try_advisory(connection, "pg_try_advisory_lock"):
            raise RestoreLockBusy(_advisory_holder(connection))
        locked = True
        name = text("SELECT set_config('application_name', :name, false)")
        connection.execute(name, {"name": holder[:63]})
        yield  # autocommit: the session holds no table lock meanwhile (pg_restore drops them)
    finally:
        if locked:
            _let_go_of_advisory(connection)
        connection.invalidate()  # the session ends, and its lock with it, whatever happened
        connection.close()
        engine.dispose()


def _let_go_of_advisory(connection: Connection) -> None:
    """Let go of the restore's advisory lock now: a session's end lets go of it only once the
    server has seen the client gone, a moment after the restore returned (a run starting
    then was refused as if the restore went on). A connection that cannot answer any more
    (the restore interrupted in a statement) is left to its session's end."""
    first, second = ADVISORY_KEYS
    with suppress(DBAPIError):
        connection.execute(
            text("SELECT pg_advisory_unlock(:first, :second)"), {"first": first, "second": second}
        )


@contextmanager
def exclusive_restore_lock(url: str, holder: str) -> Iterator[None]:
    """Hold the store's restore lock exclusively for the block (a restore), named ``holder``;
    :class:`RestoreLockBusy` when a restore holds it or a run is taking its locks. Let go when
    the block ends, whatever ends it."""
    parsed = make_url(url)
    lock_file = restore_lock_file(parsed)
    if lock_file is not None:
        with _sqlite_restore_lock(lock_file, holder):
            yield
    elif parsed.get_backend_name() == "postgresql":
        with _postgres_restore_lock(url, holder):
            yield
    else:
        yield
