"""The commands and flows that read or write the store without a run lock (a training, a
monitor, a backup, the race-time settle, a features build, a references refresh) hold the
store's restore lock shared while they use it (:func:`tasks.locks.store_in_use`), on SQLite and
PostgreSQL: a restore asked for meanwhile is refused in one line naming the command (exit 7),
the store untouched; such a command started while a restore replaces the store is refused in
one line naming the restore (exit 7), nothing done; once the command has ended, a restore goes
on. No timing and no Prefect: each side is called at the exact moment of the other (inside a
stand-in for the command's work, or for the restore), the flows through their bodies (``.fn``)
with their stages recorded rather than run."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

import flows.backup
import flows.live
import flows.monitor
import flows.train
from cli import app
from config import Settings, load_settings, use_store
from raceday.errors import RunLocked
from raceday.store import backup as backup_module
from raceday.store.backup import backup_name, backup_store
from raceday.store.catalogs.alerts import ALERTS, insert_alert
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.restore_lock import restore_holder
from tasks import backup as backup_task_module
from tasks import monitor as monitor_module
from tests.golden_outputs import table_checksums

DAY = date(2025, 5, 10)
THIS_PROCESS = f"{socket.gethostname()} pid {os.getpid()} since"
THIS_RESTORE = f"restore {THIS_PROCESS}"


class Stopped(Exception):
    """A stand-in for a command's work ends the command here (its restore seen)."""


def _store_and_backup(db: str, folder: Path) -> tuple[Settings, Path]:
    """A migrated store, its backup, then one alert stored after it: a restore would lose it."""
    engine = make_engine(db)
    upgrade_schema(engine)
    backup = backup_store(db, folder / backup_name(db, datetime.now(UTC)))
    with engine.begin() as connection:
        at = datetime(2025, 5, 10, 21, 0)
        insert_alert(
            connection,
            {
                "fingerprint": "stored-after-the-backup", "rule": "probe", "severity": "info",
                "scope": "day", "race_date": DAY, "message": "stored after the backup",
                "raised_at": at, "last_seen_at": at, "delivery": "none",
            },
        )  # fmt: skip
    engine.dispose()
    return load_settings(db_url=db), backup


def _alert_count(db: str) -> int:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(ALERTS)).scalar_one())
    finally:
        engine.dispose()


def _invoke(*arguments: str) -> Any:
    return CliRunner().invoke(app, list(arguments))


def _restore(backup: Path, db: str) -> Any:
    return _invoke("restore", str(backup), "--db", db, "--yes")


def _one_line(result: Any) -> str:
    (line,) = result.stderr.strip().splitlines()
    return str(line)


@contextmanager
def _no_prefect(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The commands that run flows start none here: a flow reached is recorded instead."""
    reached: list[str] = []

    @contextmanager
    def recorded(*_args: object, **_options: object) -> Iterator[None]:
        reached.append("flows")
        raise Stopped

    import cli.features
    import cli.model

    monkeypatch.setattr(cli.model, "running_flows", recorded)
    monkeypatch.setattr(cli.features, "running_flows", recorded)
    yield reached


def _recording_stages(monkeypatch: pytest.MonkeyPatch, reached: list[str]) -> None:
    """The flows' stages (and what they call around them) recorded, not run."""

    class Recorded:
        def __init__(self, _settings: Settings) -> None:
            pass

        def __call__(self, stage: Any, *_args: object, **_options: object) -> None:
            reached.append(stage.name)

    for module in (flows.train, flows.monitor, flows.backup, flows.live):
        monkeypatch.setattr(module, "AsTasks", Recorded)

    def train_chain(*_args: object) -> dict[str, Any]:
        reached.append("train_chain")
        return {}

    def stored_race_card(*_args: object) -> None:
        reached.append("stored_race_card")
        raise Stopped

    monkeypatch.setattr(flows.train, "train_chain", train_chain)
    monkeypatch.setattr(flows.train, "publish_model_card", lambda _summary: None)
    monkeypatch.setattr(flows.monitor, "unmonitorable", lambda *_args: "nothing to monitor")
    monkeypatch.setattr(flows.live, "stored_race_card", stored_race_card)


def _flow_refusal(db: str, body: Callable[[], object]) -> RunLocked | None:
    """The flow body's refusal; None when it went ahead (to its stand-ins, which may fail)."""
    with use_store(db):
        try:
            body()
        except RunLocked as refused:
            return refused
        except Exception:  # noqa: BLE001 - a body that went ahead past its recorded stages
            return None
    return None


def test_a_command_started_during_a_restore_is_refused_naming_the_restore(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the restore replaces the store, `raceday backup`, `monitor`, `train` (each sport)
    and `features build` are each refused in one line naming the restore (exit 7), and the
    flows of the train, monitor, backup and settle-races deployments with RunLocked: none of
    them reaches its work (no backup file, no alert, no stage run)."""
    _settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    monkeypatch.setenv("RACEDAY_BACKUP__FOLDER", str(tmp_path / "new-backups"))
    real_restore = backup_module.restore_store
    commands: dict[str, Any] = {}
    flow_refusals: dict[str, RunLocked | None] = {}
    alerts_during: list[int] = []
    reached: list[str] = []
    _recording_stages(monkeypatch, reached)

    def restore_meeting_commands(url: str, given: Path) -> None:
        with _no_prefect(monkeypatch) as flows_started:
            commands["raceday backup"] = _invoke("backup", "--db", store_url)
            commands["raceday monitor"] = _invoke("monitor", "--db", store_url, "--date", f"{DAY}")
            commands["raceday train"] = _invoke("train", "--db", store_url, "--until", f"{DAY}")
            commands["raceday train --sport boat"] = _invoke(
                "train", "--db", store_url, "--until", f"{DAY}", "--sport", "boat"
            )
            commands["raceday features build"] = _invoke(
                "features", "build", "--db", store_url, "--start", f"{DAY}", "--end", f"{DAY}"
            )
            reached.extend(flows_started)
        flow_refusals["train-model"] = _flow_refusal(
            store_url, lambda: flows.train.train_model.fn(until=DAY)
        )
        flow_refusals["train-boat-model"] = _flow_refusal(
            store_url, lambda: flows.train.train_boat_model.fn(until=DAY)
        )
        flow_refusals["monitor-day"] = _flow_refusal(
            store_url, lambda: flows.monitor.monitor_day_flow.fn(race_date=DAY)
        )
        flow_refusals["backup"] = _flow_refusal(store_url, flows.backup.backup.fn)
        flow_refusals["settle-races"] = _flow_refusal(
            store_url, lambda: flows.live.settle_races_flow.fn(race_date=DAY)
        )
        alerts_during.append(_alert_count(store_url))
        real_restore(url, given)

    monkeypatch.setattr(backup_module, "restore_store", restore_meeting_commands)
    result = _restore(backup, store_url)
    assert result.exit_code == 0, result.stderr

    for what, refused in commands.items():
        assert refused.exit_code == 7, f"{what}: {refused.stderr}"
        line = _one_line(refused)
        assert f"{what} cannot be run: the store is being restored by {THIS_RESTORE}" in line
        assert line.endswith("nothing done (run again once the restore has ended)")
    for what, flow_refused in flow_refusals.items():
        assert flow_refused is not None, f"the {what} flow went ahead during the restore"
        assert flow_refused.exit_code == 7
        assert "\n" not in str(flow_refused)
        assert f"the store is being restored by {THIS_RESTORE}" in str(flow_refused)
    assert reached == []
    assert alerts_during == [1]  # the monitor stored nothing (the alert of the store's own)
    assert not (tmp_path / "new-backups").exists() or not any((tmp_path / "new-backups").iterdir())
    assert restore_holder(store_url) is None


def test_a_restore_during_a_command_is_refused_naming_it(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore asked for while `raceday backup` copies the store, `raceday monitor` reads it,
    the train-model flow trains or the settle-races flow settles is refused in one line naming
    that command (exit 7), the store's checksums unchanged; the command goes on."""
    _settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    monkeypatch.setenv("RACEDAY_BACKUP__FOLDER", str(tmp_path / "new-backups"))
    before = table_checksums(store_url)
    restores: dict[str, Any] = {}
    reached: list[str] = []
    _recording_stages(monkeypatch, reached)
    real_backup_store = backup_task_module.backup_store

    def backup_meeting_a_restore(url: str, path: Path) -> Path:
        restores["raceday backup"] = _restore(backup, store_url)
        return real_backup_store(url, path)

    def monitor_meeting_a_restore(*_args: object) -> str:
        restores["raceday monitor"] = _restore(backup, store_url)
        return "nothing to monitor"

    def train_meeting_a_restore(*_args: object) -> dict[str, Any]:
        restores["local"] = _restore(backup, store_url)  # a flow's body outside a flow run
        return {}

    monkeypatch.setattr(backup_task_module, "backup_store", backup_meeting_a_restore)
    monkeypatch.setattr(monitor_module, "unmonitorable", monitor_meeting_a_restore)
    monkeypatch.setattr(flows.train, "train_chain", train_meeting_a_restore)

    assert _invoke("backup", "--db", store_url).exit_code == 0
    assert _invoke("monitor", "--db", store_url, "--date", f"{DAY}").exit_code == 2
    with use_store(store_url):
        flows.train.train_model.fn(until=DAY)

    assert set(restores) == {"raceday backup", "raceday monitor", "local"}
    for what, refused in restores.items():
        assert refused.exit_code == 7, f"{what}: {refused.stderr}"
        line = _one_line(refused)
        assert f"{what} {THIS_PROCESS}" in line, line
        assert line.endswith(
            "is at work on this store: nothing restored (restore when it has ended)"
        )
    assert table_checksums(store_url) == before
    assert restore_holder(store_url) is None
    assert _restore(backup, store_url).exit_code == 0
    assert table_checksums(store_url) != before  # a restore does change it: the checks can tell


def test_a_command_starting_while_the_restore_is_asked_for_stops_the_restore(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before the prompt found nothing; a command takes the store while the operator
    reads the prompt: the restore, under its lock, is refused in one line naming it (exit 7),
    the store untouched."""
    from tasks.locks import store_in_use

    settings, backup = _store_and_backup(store_url, tmp_path / "backups")
    before = table_checksums(store_url)
    with ExitStack() as command:

        def operator_answers_while_a_command_starts(*_args: object, **_options: object) -> bool:
            command.enter_context(store_in_use(settings, "raceday train"))
            return True

        monkeypatch.setattr(typer, "confirm", operator_answers_while_a_command_starts)
        result = _invoke("restore", str(backup), "--db", store_url)
        assert result.exit_code == 7, result.stderr
        line = _one_line(result)
        assert f"raceday train {THIS_PROCESS}" in line and "nothing restored" in line
    assert table_checksums(store_url) == before


def test_a_killed_commands_name_is_not_read_as_a_user(sqlite_url: str, tmp_path: Path) -> None:
    """On SQLite a command names itself in a file of its own beside the lock, locked while it
    runs: a killed command's file (unlocked) names nobody and is removed at the next look;
    the lock's users are the live ones."""
    from raceday.store.restore_lock import store_users
    from tasks.locks import store_in_use

    settings, _backup = _store_and_backup(sqlite_url, tmp_path / "backups")
    folder = Path(f"{tmp_path / 'store.db'}.restore-lock.users")
    with store_in_use(settings, "raceday monitor"):
        (users,) = store_users(sqlite_url)
        assert users.startswith(f"raceday monitor {THIS_PROCESS}")
        (folder / "999999-deadbeef").write_text("raceday train killed")
        assert store_users(sqlite_url) == (users,)
    assert store_users(sqlite_url) == ()
    assert list(folder.iterdir()) == []


def test_a_command_killed_while_naming_itself_leaves_no_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A command killed between creating its file and renaming it (``<pid>-<id>.new``) left
    it for good: the next look removes it once its process is gone, and leaves a live
    process's (it is being named at this moment) alone."""
    from raceday.store.restore_lock import store_users
    from tests.kill_support import dead_pid

    _store_and_backup(sqlite_url, tmp_path / "backups")
    folder = Path(f"{tmp_path / 'store.db'}.restore-lock.users")
    folder.mkdir(exist_ok=True)
    killed = folder / f"{dead_pid()}-deadbeef.new"
    naming = folder / f"{os.getpid()}-cafebabe.new"
    killed.write_text("raceday train killed")
    naming.write_text("")
    assert store_users(sqlite_url) == ()
    assert sorted(folder.iterdir()) == [naming]


def test_the_memory_store_holds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-memory store (nothing a restore can replace) is used as before: no lock, no file."""
    from raceday.store.restore_lock import store_users
    from tasks.locks import store_in_use

    monkeypatch.chdir(tmp_path)
    with store_in_use(load_settings(db_url="sqlite://"), "raceday monitor"):
        assert store_users("sqlite://") == ()
    assert list(tmp_path.iterdir()) == []


def test_a_command_on_a_missing_store_leaves_no_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`raceday backup` of a SQLite file that is not there is refused as before (exit 2) and
    leaves nothing beside it: no lock file, no users' folder (a mistyped --db)."""
    monkeypatch.setenv("RACEDAY_BACKUP__FOLDER", str(tmp_path / "backups"))
    (tmp_path / "store").mkdir()
    result = _invoke("backup", "--db", f"sqlite:///{tmp_path / 'store' / 'none.db'}")
    assert result.exit_code == 2, result.stderr
    assert list((tmp_path / "store").iterdir()) == []
