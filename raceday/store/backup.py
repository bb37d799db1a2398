"""Backups of the store: SQLite's online backup API, ``pg_dump`` on PostgreSQL; with retention.

A backup is one file in the backup folder named ``raceday-YYYYMMDDTHHMMSS-ffffff.{db,dump}``
(UTC), so the newest sort last. ``to_prune`` picks all but the newest ``keep``; ``restore_store``
writes a backup back over the store (its schema and rows are replaced).

A backup is written to a ``.partial`` file, checked (SQLite: ``PRAGMA quick_check`` on the copy;
PostgreSQL: ``pg_restore --list`` reads the dump) and only then renamed: a file named as a
backup is complete and readable, so retention never counts a damaged copy among the ones it
keeps. A failed backup, whatever failed, removes its partial file (and SQLite's journal). A
backup killed outright (``kill -9``, a power cut) cannot: the next backup into the folder removes
what it left (:func:`remove_abandoned_partials`), knowing its writer gone by the folder's backup
lock (an ``flock`` on ``.raceday-backup.lock``, held shared by every backup while it writes, by
``pg_dump`` too, and let go by the system when they die).

A PostgreSQL password never goes on ``pg_dump``'s or ``pg_restore``'s command line (which every
local user can read in ``ps``): the URL they get has none, and names a password file
(libpq's ``passfile`` parameter; readable by this user only, deleted afterwards) instead.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from raceday.errors import BackupUnusable, InputError, RacedayError, StoreUnavailable
from raceday.store.engine import make_engine, sqlite_path
from raceday.store.file_lock import flock_waiting, try_flock
from raceday.store.models import Base

PREFIX = "raceday-"
SUFFIXES = {"sqlite": ".db", "postgresql": ".dump"}
logger = logging.getLogger(__name__)
# What SQLite may leave beside a file it wrote (the copy's connection journals in DELETE mode)
SIDECARS = ("-journal", "-wal", "-shm")
# The file whose ``flock`` backups writing in a folder hold shared (never listed as a backup)
FOLDER_LOCK = ".raceday-backup.lock"
# A backup's partial file and what SQLite may leave beside it
_PARTIAL_NAME = re.compile(
    rf"{PREFIX}\d{{8}}T\d{{6}}-\d{{6}}(\.db|\.dump)\.partial({'|'.join(SIDECARS)})?"
)
# A table's entry in ``pg_restore --list``: ``215; 1259 16390 TABLE public races postgres``
_LISTED_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", re.MULTILINE)


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql`` (anything else cannot be backed up here)."""
    name = make_url(url).get_backend_name()
    if name not in SUFFIXES:
        raise InputError(f"cannot back up a {name} store: only SQLite and PostgreSQL")
    return name


def backup_name(url: str, now: datetime) -> str:
    """The file name of a backup of ``url`` taken at ``now``."""
    return f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%S-%f}{SUFFIXES[backend(url)]}"


def backups_in(folder: Path) -> list[Path]:
    """Backup files in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.name.startswith(PREFIX) and path.suffix in SUFFIXES.values()
    )


def partials_in(folder: Path) -> list[Path]:
    """Partial backup files in ``folder`` (and SQLite's sidecars of theirs), by name."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if _PARTIAL_NAME.fullmatch(path.name))


def remove_abandoned_partials(folder: Path) -> list[Path]:
    """Remove the partial files backups killed outright left in ``folder`` (a failed backup
    removes its own); those removed. Only when no backup is writing there (the folder's backup
    lock free): a live backup's partial file is never touched, and its folder is cleaned by the
    next backup after it."""
    if not folder.is_dir():
        return []
    try:
        cleaning = try_flock(folder / FOLDER_LOCK, fcntl.LOCK_EX)
    except OSError as error:  # a folder that refuses flock (or the lock file): none known gone
        logger.warning("partial backups in %s left alone: cannot lock it (%s)", folder, error)
        return []
    if cleaning is None:
        return []
    try:
        left = partials_in(folder)
        for path in left:
            path.unlink(missing_ok=True)
        return left
    finally:
        os.close(cleaning)


def to_prune(backups: list[Path], keep: int) -> list[Path]:
    """The backups beyond the newest ``keep`` (oldest first)."""
    return backups[: max(len(backups) - keep, 0)]


def _sqlite_path(url: URL) -> Path:
    path = sqlite_path(url)
    if path is None:
        raise InputError(f"cannot back up an in-memory SQLite store: {url!r}")
    return path


def _passfile_line(password: str) -> str:
    """A ``.pgpass`` line matching any server, database and user with ``password``."""
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


@contextmanager
def _libpq_url(url: URL) -> Iterator[str]:
    """The URL as ``pg_dump`` / ``pg_restore`` take it (no SQLAlchemy driver suffix), without
    its password: that goes into a password file of this user's only (0600), named by the URL's
    ``passfile`` parameter and deleted when the block ends."""
    plain = URL.create(  # URL.set cannot unset a password
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    if url.password is None:
        yield plain.render_as_string(hide_password=False)
        return
    with tempfile.TemporaryDirectory(prefix="raceday-pgpass-") as folder:
        passfile = Path(folder) / "pgpass"
        descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(_passfile_line(str(url.password)))
        with_file = plain.update_query_dict({"passfile": str(passfile)})
        yield with_file.render_as_string(hide_password=False)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Page-by-page online copy (SQLite's backup API): consistent while others write."""
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _sqlite_problem(path: Path) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong with the SQLite file at ``path`` (None: "ok").
    The backup API copies pages as they are, a damaged one too, so the copy shows the store's
    damage. Opened immutable: nothing else writes a copy, and no journal is left beside it."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)) as copy:
            found = [str(row[0]) for row in copy.execute("PRAGMA quick_check")]
    except sqlite3.OperationalError:
        raise  # locked, unable to open, disk I/O: not the file's content
    except sqlite3.DatabaseError as error:  # "database disk image is malformed", "not a database"
        return str(error)
    return None if found == ["ok"] else "; ".join(found[:3])


def _run(
    command: list[str],
    what: str,
    failure: type[RacedayError] = StoreUnavailable,
    pass_fds: tuple[int, ...] = (),
) -> str:
    """Run a PostgreSQL client tool (given the open files ``pass_fds``); its standard output. A
    non-zero exit raises ``failure`` with the tool's last line of standard error."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, pass_fds=pass_fds
        )
    except FileNotFoundError as error:
        raise StoreUnavailable(f"{command[0]} is not installed: needed to {what}") from error
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise failure(f"{command[0]} failed to {what}: {reason}")
    return done.stdout


def _dump_tables(dump: Path, failure: type[RacedayError]) -> frozenset[str]:
    """The names of the tables a ``pg_dump --format=custom`` file holds (read from its table of
    contents, not its data: cheap); ``failure`` when ``pg_restore`` cannot read it."""
    listing = _run(["pg_restore", "--list", str(dump)], f"read {dump.name}", failure)
    return frozenset(name for _schema, name in _LISTED_TABLE.findall(listing))


def _write_checked_copy(url: str, partial: Path, folder_lock: tuple[int, ...]) -> None:
    """The store copied to ``partial`` and checked; :class:`BackupUnusable` when the copy
    fails its check. ``pg_dump`` holds the folder's backup lock too (``folder_lock``, its
    descriptor): killed with us, it may write on."""
    parsed = make_url(url)
    if backend(url) == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.exists():
            raise InputError(f"no store at {source_path} to back up")
        try:
            _sqlite_copy(source_path, partial)
        except sqlite3.OperationalError:
            raise  # disk full, locked: the store or the folder is unavailable, retried
        except sqlite3.DatabaseError as error:  # the store's own file cannot be read as one
            raise BackupUnusable(f"the store {source_path} cannot be copied: {error}") from error
        problem = _sqlite_problem(partial)
        if problem is not None:
            raise BackupUnusable(
                f"the copy of {source_path} fails PRAGMA quick_check ({problem}): the store is "
                "damaged; no backup kept, none pruned"
            )
        return
    with _libpq_url(parsed) as libpq_url:
        _run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", libpq_url],
            "back up the store",
            pass_fds=folder_lock,
        )
    _dump_tables(partial, BackupUnusable)


def _remove_partial(partial: Path) -> None:
    """Delete a failed backup's partial file and what SQLite left beside it."""
    for path in (partial, *(partial.with_name(partial.name + end) for end in SIDECARS)):
        path.unlink(missing_ok=True)


def backup_store(url: str, target: Path) -> Path:
    """A consistent, checked copy of the store at ``target`` while it may be in use; nothing
    at ``target`` or beside it when the copy or its check fails."""
    backend(url)  # refused before any file is made
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    writing = _writing_lock(target.parent)  # held while the partial file exists
    try:
        _write_checked_copy(url, partial, () if writing is None else (writing,))
        partial.replace(target)  # a backup file is complete, checked, or absent
    except BaseException:  # an interrupt too: each failed nightly backup would leave one
        _remove_partial(partial)
        raise
    finally:
        if writing is not None:
            os.close(writing)
    return target


def _writing_lock(folder: Path) -> int | None:
    """The folder's backup lock held shared (its descriptor): no other backup takes this one's
    partial file for a killed backup's. None where the folder refuses it (a filesystem without
    ``flock``, a read-only folder): the backup goes on as before the lock, and no backup
    removes leftovers there (:func:`remove_abandoned_partials` cannot lock it either)."""
    try:
        return flock_waiting(folder / FOLDER_LOCK, fcntl.LOCK_SH)
    except OSError as error:
        logger.warning("backing up into %s without its backup lock: %s", folder, error)
        return None


def _drop_tables_the_dump_lacks(url: str, dumped: frozenset[str]) -> list[str]:
    """Drop the store's own tables (raceday's and ``alembic_version``) that a restored dump does
    not hold, in one transaction; their names. ``pg_restore --clean`` drops only what the dump
    holds: a dump of an older revision restored over a newer store left the newer revision's
    tables beside an older ``alembic_version``, and the next upgrade failed on them. Other
    tables of the database are not ours and stay."""
    ours = {*Base.metadata.tables, "alembic_version"}
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            extra = sorted((set(inspect(connection).get_table_names()) & ours) - dumped)
            quote = connection.dialect.identifier_preparer.quote
            for name in extra:
                connection.exec_driver_sql(f"DROP TABLE {quote(name)}")
    finally:
        engine.dispose()
    return extra


def restore_store(url: str, backup: Path) -> None:
    """Replace the store's contents with ``backup`` (taken from the same kind of store): the
    store is left as the backup was, its schema revision and tables included. A backup that
    fails its check (the one a backup passed when written) is refused before the store is
    touched."""
    if not backup.is_file():
        raise InputError(f"no backup file {backup}")
    parsed = make_url(url)
    if backup.suffix != SUFFIXES[backend(url)]:
        raise InputError(f"{backup.name} is not a backup of a {backend(url)} store")
    if backend(url) == "sqlite":
        problem = _sqlite_problem(backup)  # as a dump is read before it is restored
        if problem is not None:
            raise InputError(
                f"{backup.name} fails PRAGMA quick_check ({problem}): not a usable backup; "
                "the store is unchanged"
            )
        target = _sqlite_path(parsed)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(backup, target)
        return
    dumped = _dump_tables(backup, InputError)
    with _libpq_url(parsed) as libpq_url:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={libpq_url}",
                str(backup),
            ],
            "restore the store",
        )
    # after the restore, not before: a restore that fails leaves the store as it was (one
    # transaction), with these tables too; a failure here is mended by restoring again
    _drop_tables_the_dump_lacks(url, dumped)
