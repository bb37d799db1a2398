"""What a backup killed outright (``kill -9``, a power cut) leaves in the backup folder — its
``.partial`` file, SQLite's journal beside it — is removed by the next backup there, but never
the partial file of a backup still writing (it holds the folder's backup lock); a partial file
is never listed, kept, pruned or restored as a backup."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Settings, load_settings
from raceday.errors import InputError
from raceday.store.backup import (
    FOLDER_LOCK,
    backup_name,
    backup_store,
    backups_in,
    partials_in,
    restore_store,
    to_prune,
)
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.file_lock import flock_waiting
from tasks.backup import backup_task

# A backup killed with SIGKILL half-way through its copy, in a process of its own: what the
# kernel lets go of (its open files, their locks) and what it leaves (the files) are real.
KILLED_BACKUP = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from raceday.store import backup

    def copy_then_die(source, target):
        Path(target).write_bytes(b"half a copy")
        Path(str(target) + "-journal").write_bytes(b"journal")
        os.kill(os.getpid(), signal.SIGKILL)

    backup._sqlite_copy = copy_then_die
    url, folder = sys.argv[1], Path(sys.argv[2])
    backup.backup_store(url, folder / "raceday-20250101T000000-000000.db")
    """
)
KILLED_NAMES = [
    "raceday-20250101T000000-000000.db.partial",
    "raceday-20250101T000000-000000.db.partial-journal",
]


def _settings(db: str, folder: Path) -> Settings:
    return load_settings(db_url=db).model_copy(
        update={"backup": load_settings().backup.model_copy(update={"folder": folder})}
    )


def _killed_backup(db: str, folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BACKUP, db, str(folder)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    assert [path.name for path in partials_in(folder)] == KILLED_NAMES


def test_the_next_backup_removes_what_a_killed_backup_left(sqlite_url: str, tmp_path: Path) -> None:
    """``kill -9`` during a copy leaves the partial file and its journal (no Python cleanup
    runs); the next backup into the folder removes both, says so, and keeps the rest."""
    upgrade_schema(make_engine(sqlite_url))
    folder = tmp_path / "backups"
    settings = _settings(sqlite_url, folder)
    earlier = Path(backup_task(settings)["backup"])
    (folder / "notes.txt").write_text("the operator's")
    _killed_backup(sqlite_url, folder)

    result = backup_task(settings)
    assert result["abandoned_removed"] == KILLED_NAMES
    assert partials_in(folder) == []
    assert backups_in(folder) == [earlier, Path(result["backup"])]
    assert (folder / "notes.txt").is_file() and result["kept"] == 2


def test_a_backup_still_writing_keeps_its_partial_file(store_url: str, tmp_path: Path) -> None:
    """While a backup writes (it holds the folder's backup lock shared, here taken as it takes
    it), another backup into the folder leaves its partial file alone and writes its own; the
    first backup after it ends removes what it would have left, had it been killed."""
    upgrade_schema(make_engine(store_url))
    folder = tmp_path / "backups"
    settings = _settings(store_url, folder)
    folder.mkdir()
    writing = flock_waiting(folder / FOLDER_LOCK, fcntl.LOCK_SH)
    try:
        partial = folder / (backup_name(store_url, datetime.now(UTC)) + ".partial")
        partial.write_bytes(b"being written")
        during = backup_task(settings)
        assert during["abandoned_removed"] == [] and partial.is_file()
        assert backups_in(folder) == [Path(during["backup"])]
    finally:
        os.close(writing)  # the writer gone (killed: the kernel closes its files alike)
    after = backup_task(settings)
    assert after["abandoned_removed"] == [partial.name] and partials_in(folder) == []


def test_a_partial_file_is_never_listed_pruned_or_restored(sqlite_url: str, tmp_path: Path) -> None:
    """Retention counts complete backups only (a newer partial file takes no place among the
    kept ones and is not pruned by it), and a restore refuses a partial file in one line."""
    upgrade_schema(make_engine(sqlite_url))
    folder = tmp_path / "backups"
    complete = [
        backup_store(sqlite_url, folder / f"raceday-2025010{day}T000000-000000.db")
        for day in (1, 2)
    ]
    newer = folder / "raceday-20250103T000000-000000.db.partial"
    newer.write_bytes(complete[1].read_bytes())
    (folder / (newer.name + "-journal")).write_bytes(b"journal")
    assert backups_in(folder) == complete
    assert to_prune(backups_in(folder), 1) == complete[:1]
    with pytest.raises(InputError, match="is not a backup of a sqlite store"):
        restore_store(sqlite_url, newer)


def test_a_folder_that_refuses_locks_is_backed_up_as_before(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backup folder whose filesystem refuses ``flock`` (an old SMB mount) still gets its
    backup; a partial file there is left alone (whether its writer is gone cannot be known)."""
    upgrade_schema(make_engine(sqlite_url))
    folder = tmp_path / "backups"
    folder.mkdir()
    partial = folder / "raceday-20250101T000000-000000.db.partial"
    partial.write_bytes(b"whose?")

    def refused(_descriptor: int, _operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", refused)
    result = backup_task(_settings(sqlite_url, folder))
    assert backups_in(folder) == [Path(result["backup"])]
    assert result["abandoned_removed"] == [] and partial.is_file()
