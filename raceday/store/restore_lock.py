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
restore's holder line is its session's ``application_name``).

A command that reads or writes the store without a run lock (a training, a monitor, a backup:
:func:`shared_restore_lock`) holds the lock shared for as long as it uses the store, and names
itself where a restore refused meanwhile reads it: on SQLite a file of its own in the folder
``<store>.restore-lock.users`` (``flock``-ed while it runs, so a killed command's file is seen
stale and removed), on PostgreSQL its dedicated session's ``application_name``."""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from raceday.store.engine import make_engine, sqlite_path
from raceday.store.file_lock import process_ended, try_flock

# The advisory lock's two keys (PostgreSQL's (int4, int4) form: ``pg_locks`` shows them as its
# classid and objid): "rd" and "rest" in ASCII, no other lock of ours.
ADVISORY_KEYS = (0x7264, 0x72657374)
LOCK_FILE_SUFFIX = ".restore-lock"
# The folder beside the lock file naming the commands that hold it shared (one file each).
USERS_FOLDER_SUFFIX = ".users"
_NAMING = ".new"  # a user's file being written (renamed once locked and named)
# Who holds the lock when its holder line cannot be read (written just after it was taken).
UNNAMED_RESTORE = "raceday restore"
_Answer = TypeVar("_Answer")


class RestoreLockBusy(Exception):
    """The restore lock could not be taken: a restore holds it (``holder``, its holder line), or
    (``holder`` None, for a restore only) commands hold it shared (``users``: their holder
    lines) or a run is taking its run locks this very moment (``users`` empty)."""

    def __init__(self, holder: str | None, users: tuple[str, ...] = ()) -> None:
        super().__init__(holder or ", ".join(users) or "runs taking their locks")
        self.holder = holder
        self.users = users


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


def _users_folder(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name + USERS_FOLDER_SUFFIX)


@contextmanager
def _named_user(lock_file: Path, holder: str) -> Iterator[None]:
    """A file of the users' folder holding ``holder``, ``flock``-ed for the block: written under
    another name and renamed once locked, so a file seen unlocked under its name is a killed
    command's (:func:`_file_users` removes it)."""
    folder = _users_folder(lock_file)
    folder.mkdir(exist_ok=True)
    named = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    naming = named.with_name(named.name + _NAMING)
    descriptor = os.open(naming, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # a file of its own: nobody else locks it
        os.write(descriptor, holder.encode("utf-8"))
        os.rename(naming, named)
        try:
            yield
        finally:
            named.unlink(missing_ok=True)
    finally:
        naming.unlink(missing_ok=True)  # left only when writing it failed
        os.close(descriptor)


def _file_users(lock_file: Path) -> tuple[str, ...]:
    """The holder lines of the commands holding a SQLite store's lock shared (their files
    locked); a killed command's file (unlocked) is removed. Nothing is held afterwards."""
    folder = _users_folder(lock_file)
    if not folder.is_dir():
        return ()
    users = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(_NAMING):
            pid = path.name.split("-", 1)[0]
            if pid.isdigit() and process_ended(int(pid)):
                path.unlink(missing_ok=True)  # a command killed while naming itself
            continue
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:  # its command let go meanwhile
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            users.append(os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip())
        else:
            path.unlink(missing_ok=True)  # no one holds it: a killed command's
        finally:
            os.close(descriptor)
    return tuple(user for user in users if user)


def _advisory_holders(mode: str) -> TextClause:
    return text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        f"WHERE l.locktype = 'advisory' AND l.granted AND l.mode = '{mode}' "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = :first AND l.objid = :second AND l.objsubid = 2 "
        "ORDER BY a.backend_start"
    )


_ADVISORY_HOLDER = _advisory_holders("ExclusiveLock")
# the sessions holding it shared: the commands (a run's transaction holds it a moment, unnamed)
_ADVISORY_USERS = _advisory_holders("ShareLock")


def _advisory_holder(connection: Connection) -> str | None:
    """The holder line of the restore holding the advisory lock exclusively; None when none."""
    first, second = ADVISORY_KEYS
    found = connection.execute(_ADVISORY_HOLDER, {"first": first, "second": second}).first()
    return None if found is None else (str(found[0] or "") or UNNAMED_RESTORE)


def _advisory_users(connection: Connection) -> tuple[str, ...]:
    """The holder lines of the commands holding the advisory lock shared (their sessions'
    ``application_name``; a run taking its locks holds it in a transaction, unnamed)."""
    first, second = ADVISORY_KEYS
    found = connection.execute(_ADVISORY_USERS, {"first": first, "second": second}).scalars()
    return tuple(str(name) for name in found if name)


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


def _ask_once(url: str, ask: Callable[[Connection], _Answer]) -> _Answer:
    """``ask``'s answer on a connection of its own to the PostgreSQL store at ``url``, closed
    with its engine afterwards (a look that holds nothing)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return ask(connection)
    finally:
        engine.dispose()


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
    return _ask_once(url, _advisory_holder)


@contextmanager
def _sqlite_restore_lock(lock_file: Path, holder: str) -> Iterator[None]:
    descriptor = try_flock(lock_file, fcntl.LOCK_EX)
    if descriptor is None:
        shared = try_flock(lock_file, fcntl.LOCK_SH)
        if shared is None:
            raise RestoreLockBusy(_file_holder(lock_file))
        os.close(shared)  # shared was free: commands hold it, or runs were taking their locks
        raise RestoreLockBusy(None, _file_users(lock_file))
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
            restoring = _advisory_holder(connection)
            raise RestoreLockBusy(restoring, () if restoring else _advisory_users(connection))
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


def _let_go_of_advisory(connection: Connection, function: str = "pg_advisory_unlock") -> None:
    """Let go of the session's advisory lock now (``function``: ``pg_advisory_unlock``, or its
    ``_shared`` twin): a session's end lets go of it only once the server has seen the client
    gone, a moment after the restore returned (a run starting then was refused as if the
    restore went on). A connection that cannot answer any more (the restore interrupted in a
    statement) is left to its session's end."""
    first, second = ADVISORY_KEYS
    with suppress(DBAPIError):
        connection.execute(
            text(f"SELECT {function}(:first, :second)"), {"first": first, "second": second}
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


def store_users(url: str) -> tuple[str, ...]:
    """The holder lines of the commands holding the restore lock of the store at ``url``
    shared (:func:`shared_restore_lock`); a look that holds nothing afterwards (a restore's
    one-line refusal before its prompt)."""
    parsed = make_url(url)
    lock_file = restore_lock_file(parsed)
    if lock_file is not None:
        return _file_users(lock_file)
    if parsed.get_backend_name() != "postgresql":
        return ()
    return _ask_once(url, _advisory_users)


def _store_file_exists(url: URL) -> bool:
    path = sqlite_path(url)
    return path is not None and path.exists()


def _hold_shared_flock(held: ExitStack, lock_file: Path, holder: str) -> None:
    """Hold the SQLite store's lock file shared in ``held``, named ``holder`` in the users'
    folder. A folder where no file can be made (read-only) holds nothing: a restore cannot take
    the lock there either; one where only the name cannot be written holds it unnamed."""
    with suppress(OSError):
        held.enter_context(_named_user(lock_file, holder))
    try:
        descriptor = try_flock(lock_file, fcntl.LOCK_SH)
    except OSError:
        return
    if descriptor is None:
        raise RestoreLockBusy(_file_holder(lock_file))
    held.callback(os.close, descriptor)


@contextmanager
def _postgres_shared_lock(url: str, holder: str) -> Iterator[None]:
    engine = make_engine(url)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    locked = False
    try:
        name = text("SELECT set_config('application_name', :name, false)")
        connection.execute(name, {"name": holder[:63]})  # named before it holds: never unnamed
        if not _try_advisory(connection, "pg_try_advisory_lock_shared"):
            raise RestoreLockBusy(_advisory_holder(connection) or UNNAMED_RESTORE)
        locked = True
        yield  # autocommit: the session holds no table lock meanwhile
    finally:
        if locked:
            _let_go_of_advisory(connection, "pg_advisory_unlock_shared")
        connection.invalidate()  # the session ends, and its lock with it, whatever happened
        connection.close()
        engine.dispose()


@contextmanager
def shared_restore_lock(url: str, holder: str) -> Iterator[None]:
    """Hold the store's restore lock shared for the block (a command that reads or writes the
    store without a run lock), named ``holder`` for a restore refused meanwhile
    (:class:`RestoreLockBusy` ``users``); :class:`RestoreLockBusy` naming the restore when one
    holds it (nothing held). Let go when the block ends, whatever ends it. An in-memory store
    (nothing a restore can replace) holds nothing, nor does a SQLite file that is not there
    and no restore is making (no lock file left beside a mistyped ``--db``)."""
    parsed = make_url(url)
    lock_file = restore_lock_file(parsed)
    with ExitStack() as held:
        if lock_file is not None and (lock_file.exists() or _store_file_exists(parsed)):
            _hold_shared_flock(held, lock_file, holder)
        elif parsed.get_backend_name() == "postgresql":
            held.enter_context(_postgres_shared_lock(url, holder))
        yield
