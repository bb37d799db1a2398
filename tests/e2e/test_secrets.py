"""Issue 19: a store password given to `raceday run` shows up nowhere — not in what the command
prints (text or --json), not in logs, reports, alerts, backups' command lines, and not in
Prefect's database (flow-run parameters), under a real PostgreSQL role with a password.

The commands start Prefect's temporary server (no PREFECT_API_URL, not the tests' long-lived
server): every file of the Prefect home is read once the server that wrote it has stopped with
its command, so all it kept is on disk. A running server writes events in batches, and a scan of
its files could miss what it still holds."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cli import today_in_japan
from raceday.store.engine import make_engine
from raceday.store.models import Base
from tests.e2e.cli_process import COMMAND, HANG_LIMIT_S, ROOT, cli_environment
from tests.store_support import drop_postgres_database
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def secret_store(postgres_server: str) -> Iterator[tuple[str, str]]:
    """A database owned by a role with a password; (URL with the password, the password).
    The server trusts local connections, so the password is not checked: what matters is where
    the string shows up."""
    tag = uuid.uuid4().hex[:10]
    role, database, password = f"raceday_secret_{tag}", f"raceday_secret_{tag}", f"Pw-{tag}-zq"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER {role}'))
    url = (
        make_url(postgres_server)
        .set(username=role, password=password, database=database)
        .render_as_string(hide_password=False)
    )
    try:
        yield url, password
    finally:
        drop_postgres_database(admin, database)
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def _files_holding(root: Path, secret: bytes) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and secret in path.read_bytes()]


def test_the_store_password_shows_up_nowhere(
    secret_store: tuple[str, str], tmp_path: Path, prefect_database: Path
) -> None:
    url, password = secret_store
    masked = url.replace(f":{password}@", ":***@")
    day = today_in_japan().isoformat()  # alerts about older days are stored, not sent
    with WebhookReceiver() as receiver:
        environment = cli_environment(
            tmp_path,
            prefect_database,
            # every run is "slow": an alert is raised, stored and sent (its text is checked)
            RACEDAY_MONITOR__RUN_BUDGETS_S='{"daily-run": 0.001}',
            RACEDAY_ALERTS__WEBHOOK_URL=receiver.url,
            COLUMNS="400",  # the summary on one line per value
        )
        runs = [
            subprocess.run(
                [*COMMAND, "run", "--date", day, "--races", "8", "--db", url, *extra],
                cwd=ROOT, env=environment, capture_output=True, text=True, timeout=HANG_LIMIT_S,
                check=False,
            )
            for extra in ([], ["--json"])
        ]  # fmt: skip
        backup = subprocess.run(
            [*COMMAND, "backup", "--db", url, "--json"],
            cwd=ROOT, env=environment, capture_output=True, text=True, check=False,
            timeout=HANG_LIMIT_S,
        )  # fmt: skip
        posts = json.dumps(receiver.posts)
    for done in [*runs, backup]:
        assert done.returncode == 0, done.stderr[-2000:]
        assert password not in done.stdout and password not in done.stderr
    assert f"database: {masked}" in runs[0].stdout  # shown, masked
    assert json.loads(runs[1].stdout)["database"] == masked
    assert Path(json.loads(backup.stdout)["backup"]).is_file()

    assert receiver.posts and password not in posts  # alerts as sent
    with make_engine(url).connect() as connection:
        alerts = connection.execute(select(Base.metadata.tables["alerts"])).all()
    assert alerts and password not in repr(alerts)  # alerts as stored

    # Prefect's database: the flow runs' parameters (what the UI shows), their logs, everything
    prefect_db = tmp_path / "prefect" / "prefect.db"
    with sqlite3.connect(prefect_db) as prefect:
        rows = prefect.execute("SELECT parameters FROM flow_run").fetchall()
    parameters = [json.loads(row[0]) for row in rows]
    assert len(parameters) == 2 and all("db_url" not in run for run in parameters)
    assert _files_holding(tmp_path / "prefect", password.encode()) == []
    # reports, bet slips, backups' names, everything under var/
    assert (tmp_path / "var" / "reports").is_dir()
    assert _files_holding(tmp_path / "var", password.encode()) == []
