"""A restore and the runs of its store exclude each other through the store's restore lock
(:mod:`raceday.store.restore_lock`), on SQLite and PostgreSQL: a run (a day's run, a backfill's
chunk, a command's preflight) starting while a restore replaces the store is refused in one line
naming the restore (exit 7), and so is a second restore; a restore is refused when a run takes
its day while the restore is asked for, or is inside the transaction taking it; the lock is let
go when a restore fails or is interrupted. No timing: each race is played by calling the other
side at the exact moment (a stand-in for the restore, the prompt, or the lock's insert)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Connection
from typer.testing import CliRunner

from cli import app
from config import Settings, load_settings
from raceday.errors import RunLocked, StoreUnavailable
from raceday.store import backup as backup_module
from raceday.store.backup import backup_name, backup_store
from raceday.store.catalogs.runs import day_lock_holder
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.restore_lock import restore_holder
from tasks import locks as locks_module
from tasks.locks import HeldDays, day_lock, refuse_locked_day

DAY = date(2025, 5, 10)
THIS_RESTORE = f"restore {socket.gethostname()} pid {os.getpid()}"


def _store_and_backup(db: str, folder: Path) -> tuple[Settings, Path]:
    upgrade_schema(make_engine(db))
    backup = backup_store(db, folder / backup_name(db, datetime.now(UTC)))
    return load_settings(db_url=db), backup


def _restore(backup: Path, db: str, *more: str) -> Any:
    return CliRunner().invoke(app, ["restore", str(backup), "--db", db, *more])


def _refusal(attempt: Callable[[], object]) -> RunLocked | None:
    try:
        attempt()
    except RunLocked as refused:
        return refused
    return None


def _day_run(settings: Settings) -> None:
    with day_lock(settings, DAY):
        pass


def _backfill_chunk(settings: Settings) -> None:
    held = HeldDays(settings)
    held.hold([DAY], "the backfill stopped before it")
    held.close()


def test_a_run_starting_during_a_restore_is_refused_naming_the_restore(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the restore replaces the store, a day's run, a backfill's chunk, a command's
    preflight and a second restore are each refused in one line naming the restore (exit 7);
    the restore completes and the day is free again afterwards."""
    settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    real_restore = backup_module.restore_store
    refusals: dict[str, RunLocked | None] = {}
    second: list[Any] = []

    def restore_meeting_runs(url: str, given: Path) -> None:
        refusals["day run"] = _refusal(lambda: _day_run(settings))
        refusals["backfill"] = _refusal(lambda: _backfill_chunk(settings))
        refusals["preflight"] = _refusal(lambda: refuse_locked_day(settings, DAY))
        second.append(_restore(backup, store_url, "--yes"))
        real_restore(url, given)

    monkeypatch.setattr(backup_module, "restore_store", restore_meeting_runs)
    result = _restore(backup, store_url, "--yes")
    assert result.exit_code == 0, result.stderr

    for what, refused in refusals.items():
        assert refused is not None, f"a {what} went ahead during the restore"
        assert refused.exit_code == 7
        line = str(refused)
        assert "\n" not in line
        assert f"{DAY} cannot be run: the store is being restored by {THIS_RESTORE}" in line
    assert "the backfill stopped before it" in str(refusals["backfill"])
    (other,) = second
    assert other.exit_code == 7, other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert f"another restore ({THIS_RESTORE} since" in line and "nothing restored" in line

    assert restore_holder(store_url) is None
    _day_run(settings)  # the lock is let go: the day runs


def test_a_run_taking_its_day_while_the_restore_is_asked_for_stops_the_restore(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before the prompt found no run; a run takes its day while the operator reads
    the prompt: after the answer the restore checks again under its lock and is refused in one
    line (exit 7), the store untouched (the run's lock still there)."""
    settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    restored: list[Path] = []
    monkeypatch.setattr(backup_module, "restore_store", lambda _url, given: restored.append(given))
    with ExitStack() as run:

        def operator_answers_while_a_run_starts(*_args: object, **_options: object) -> bool:
            run.enter_context(day_lock(settings, DAY))
            return True

        monkeypatch.setattr(typer, "confirm", operator_answers_while_a_run_starts)
        result = _restore(backup, store_url)
        assert result.exit_code == 7, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert f"{DAY} is being run by local" in line and "nothing restored" in line
        assert restored == []
        with make_engine(store_url).connect() as connection:
            assert day_lock_holder(connection, DAY) is not None
    assert restore_holder(store_url) is None


def test_a_restore_is_refused_while_a_run_is_taking_its_day(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore asked for while a run's lock is written but not yet committed (invisible to
    the restore's read of the locks) is refused in one line (exit 7); the run then holds its
    day."""
    settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    restored: list[Path] = []
    monkeypatch.setattr(backup_module, "restore_store", lambda _url, given: restored.append(given))
    real_lock_days = locks_module.lock_days
    during: list[Any] = []

    def lock_days_then_restore(connection: Connection, *args: Any) -> None:
        real_lock_days(connection, *args)
        during.append(_restore(backup, store_url, "--yes"))

    monkeypatch.setattr(locks_module, "lock_days", lock_days_then_restore)
    with day_lock(settings, DAY):
        (result,) = during
        assert result.exit_code == 7, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "a run is taking its lock at this moment" in line and "nothing restored" in line
        assert restored == []
        with make_engine(store_url).connect() as connection:
            assert day_lock_holder(connection, DAY) is not None


@pytest.mark.parametrize(
    ("failure", "exit_code"),
    [(StoreUnavailable("pg_restore failed: gone"), 3), (KeyboardInterrupt, 130)],
)
def test_the_restore_lock_is_let_go_when_the_restore_fails(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException | type[BaseException],
    exit_code: int,
) -> None:
    """A restore that fails (or is interrupted) half-way lets go of the store's restore lock:
    the next run takes its day, the next restore is not refused."""
    settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    held_during: list[str | None] = []

    def failing_restore(_url: str, _given: Path) -> None:
        held_during.append(restore_holder(store_url))
        raise failure

    monkeypatch.setattr(backup_module, "restore_store", failing_restore)
    result = _restore(backup, store_url, "--yes")
    assert result.exit_code == exit_code, result.stderr
    assert held_during and held_during[0] is not None  # it was held
    assert restore_holder(store_url) is None
    _day_run(settings)
    monkeypatch.undo()
    assert _restore(backup, store_url, "--yes").exit_code == 0


def test_a_restore_lets_go_of_its_postgresql_lock_before_its_session_ends(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore's advisory lock is let go of when the restore ends, not when the server
    notices its session gone (a moment later, in which a run was refused as if the restore
    went on): here the session outlives the restore (kept open in the engine's pool) and
    the lock must be free all the same."""
    from sqlalchemy import Engine

    from raceday.store.restore_lock import exclusive_restore_lock

    dispose = Engine.dispose
    monkeypatch.setattr(Connection, "invalidate", lambda self, exception=None: None)
    monkeypatch.setattr(Engine, "dispose", lambda self, close=True: None)
    try:
        with exclusive_restore_lock(postgres_url, "restore under test"):
            assert restore_holder(postgres_url) == "restore under test"
        assert restore_holder(postgres_url) is None
    finally:
        dispose(make_engine(postgres_url))  # the sessions kept open end: the database can go
