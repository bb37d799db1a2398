"""Store URLs are shown masked, reach flows through the settings (never a flow parameter), and
pg_dump / pg_restore never get a password on their command line."""

from __future__ import annotations

import inspect
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from config import load_settings, mask_credentials, mask_url, use_store
from flows.deployments import DEPLOYMENTS, load_flow

PASSWORD = "p@ss:w0rd\\x"  # '@', ':' and '\\' need escaping in a URL and in a password file
PG_URL = "postgresql+psycopg://raceday:p%40ss%3Aw0rd%5Cx@db.example:5432/raceday?sslmode=require"


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url(PG_URL) == (
        "postgresql+psycopg://raceday:***@db.example:5432/raceday?sslmode=require"
    )
    assert mask_url("postgresql+psycopg://raceday@db/raceday") == (
        "postgresql+psycopg://raceday@db/raceday"
    )
    assert mask_url("sqlite:////srv/var/raceday.db") == "sqlite:////srv/var/raceday.db"
    assert mask_url(None) is None


def test_mask_credentials_masks_urls_inside_text() -> None:
    text = "cannot reach postgresql://bob:hunter2@db/x; see https://sqlalche.me/e/20/e3q8"
    assert mask_credentials(text) == (
        "cannot reach postgresql://bob:***@db/x; see https://sqlalche.me/e/20/e3q8"
    )


def test_use_store_is_what_load_settings_reads_in_every_thread(sqlite_url: str) -> None:
    assert load_settings().db_url is None
    seen: list[str | None] = []
    with use_store(sqlite_url):
        assert load_settings().database_url == sqlite_url
        assert load_settings(db_url="sqlite:///other.db").db_url == "sqlite:///other.db"
        worker = threading.Thread(target=lambda: seen.append(load_settings().db_url))
        worker.start()
        worker.join()
    assert seen == [sqlite_url]
    assert load_settings().db_url is None  # restored when the block ends


def test_use_store_none_leaves_the_environment_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACEDAY_DB_URL", "sqlite:///from-env.db")
    with use_store(None):
        assert load_settings().db_url == "sqlite:///from-env.db"


@pytest.mark.parametrize(
    "module_and_flow",
    [
        ("flows.daily", "predict_day"),
        ("flows.daily", "settle_day"),
        ("flows.daily", "daily_run"),
        ("flows.backfill", "backfill"),
        ("flows.backup", "backup"),
        ("flows.features", "features_range"),
        ("flows.monitor", "monitor_day_flow"),
        ("flows.train", "train_model"),
    ],
)
def test_no_flow_takes_a_url(module_and_flow: tuple[str, str]) -> None:
    """Flow-run parameters are stored in Prefect's database and shown in its UI."""
    import importlib

    module, name = module_and_flow
    flow = getattr(importlib.import_module(module), name)
    parameters = inspect.signature(flow.fn).parameters
    assert not [name for name in parameters if "url" in name or name in {"db", "dsn"}]


def test_no_deployment_parameter_carries_a_url() -> None:
    for spec in DEPLOYMENTS:
        assert not any("url" in key for key in spec.parameters)
        assert "db_url" not in inspect.signature(load_flow(spec).fn).parameters


def _fake_run(calls: list[dict[str, Any]]) -> Any:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        passfiles = [
            part.split("passfile=", 1)[1].split("&", 1)[0]
            for part in command
            if "passfile=" in part
        ]
        from urllib.parse import unquote

        files = [Path(unquote(path)) for path in passfiles]
        calls.append(
            {
                "argv": list(command),
                "env": kwargs.get("env"),
                "files": [
                    (path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode))
                    for path in files
                ],
                "paths": files,
            }
        )
        if command[0] == "pg_dump":
            target = next(part for part in command if part.startswith("--file="))
            Path(target.removeprefix("--file=")).write_bytes(b"dump")
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_pg_dump_and_pg_restore_get_no_password_on_their_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import raceday.store.backup as backup

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(backup.subprocess, "run", _fake_run(calls))
    monkeypatch.setattr(backup, "_drop_tables_the_dump_lacks", lambda url, dumped: [])
    dump = backup.backup_store(PG_URL, tmp_path / "raceday-20260101T000000-000000.dump")
    backup.restore_store(PG_URL, dump)

    # each dump's table of contents is read too (``pg_restore --list FILE``: no server, no URL)
    connecting = [call for call in calls if "--list" not in call["argv"]]
    assert [call["argv"][0] for call in connecting] == ["pg_dump", "pg_restore"]
    assert [call["argv"][:2] for call in calls if call not in connecting] == [
        ["pg_restore", "--list"]
    ] * 2
    for call in connecting:
        argv = " ".join(call["argv"])
        assert PASSWORD not in argv and "p%40ss" not in argv and "w0rd" not in argv
        assert "postgresql://raceday@db.example:5432/raceday?" in argv  # user, host, db kept
        assert "sslmode=require" in argv
        # the password is in a password file of this user's only, gone afterwards
        assert call["files"] == [("*:*:*:*:p@ss\\:w0rd\\\\x\n", 0o600)]
        assert not any(path.exists() for path in call["paths"])


def test_a_url_without_password_gets_no_password_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import raceday.store.backup as backup

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(backup.subprocess, "run", _fake_run(calls))
    backup.backup_store(
        "postgresql+psycopg://raceday@db/raceday", tmp_path / "raceday-20260101T000000-1.dump"
    )
    assert calls[0]["argv"][-1] == "postgresql://raceday@db/raceday"


def test_a_url_that_cannot_be_parsed_is_refused_without_its_password() -> None:
    """A mistyped URL (here the ':' after the scheme is missing) still holds the password."""
    from raceday.errors import StoreUnavailable
    from raceday.store.engine import make_engine

    with pytest.raises(StoreUnavailable, match="not a database URL") as refused:
        make_engine("postgresql+psycopg//raceday:s3cret-pw@db.example/raceday")
    assert "s3cret-pw" not in str(refused.value)


def test_a_password_holding_an_unescaped_at_sign_is_refused_without_its_parts() -> None:
    """``user:pw@Leak@host``: the URL parses with ``Leak@host`` as the host, so the driver's
    'cannot resolve host' message printed part of the password. The store's and PC-KEIBA's
    URLs are refused first, saying how to write it, without echoing any of it."""
    from raceday.errors import RacedayError, StoreUnavailable
    from raceday.store.engine import make_engine

    url = "postgresql+psycopg://raceday:pw@Leak@db.example/raceday"
    with pytest.raises(StoreUnavailable, match="%40") as refused:
        make_engine(url)
    assert "Leak" not in str(refused.value) and "pw" not in str(refused.value)
    with pytest.raises(RacedayError, match="%40") as invalid:
        load_settings(pckeiba_url=url)
    assert "Leak" not in str(invalid.value)
    assert load_settings(pckeiba_url=url.replace("pw@Leak", "pw%40Leak")).pckeiba_url
