"""Backups of the store: SQLite's online backup API, ``pg_dump`` on PostgreSQL; with retention.

A backup is one file in the backup folder named ``raceday-YYYYMMDDTHHMMSS-ffffff.{db,dump}``
(UTC), so the newest sort last. ``to_prune`` picks all but the newest ``keep``; ``restore_store``
writes a backup back over the store (its schema and rows are replaced).

A PostgreSQL password never goes on ``pg_dump``'s or ``pg_restore``'s command line (which every
local user can read in ``ps``): the URL they get has none, and names a password file
(libpq's ``passfile`` parameter; readable by this user only, deleted afterwards) instead.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from raceday.errors import InputError, StoreUnavailable

PREFIX = "raceday-"
SUFFIXES = {"sqlite": ".db", "postgresql": ".dump"}


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


def to_prune(backups: list[Path], keep: int) -> list[Path]:
    """The backups beyond the newest ``keep`` (oldest first)."""
    return backups[: max(len(backups) - keep, 0)]


def _sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise InputError(f"cannot back up an in-memory SQLite store: {url!r}")
    return Path(str(url.database))


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


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise StoreUnavailable(f"{command[0]} is not installed: needed to {what}") from error
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise StoreUnavailable(f"{command[0]} failed to {what}: {reason}")


def backup_store(url: str, target: Path) -> Path:
    """A consistent copy of the store at ``target`` while it may be in use."""
    parsed = make_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if backend(url) == "sqlite":
        source_path = _sqlite_path(parsed)
        if not source_path.exists():
            raise InputError(f"no store at {source_path} to back up")
        _sqlite_copy(source_path, partial)
    else:
        with _libpq_url(parsed) as libpq_url:
            _run(
                ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", libpq_url],
                "back up the store",
            )
    partial.replace(target)  # a backup file is complete or absent
    return target


def restore_store(url: str, backup: Path) -> None:
    """Replace the store's contents with ``backup`` (taken from the same kind of store)."""
    if not backup.is_file():
        raise InputError(f"no backup file {backup}")
    parsed = make_url(url)
    if backup.suffix != SUFFIXES[backend(url)]:
        raise InputError(f"{backup.name} is not a backup of a {backend(url)} store")
    if backend(url) == "sqlite":
        target = _sqlite_path(parsed)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(backup, target)
        return
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
