"""A real `prefect server start` for the tests that need one (the browser checks, the work-pool
path): on a free 127.0.0.1 port, with its own PREFECT_HOME, stopped with its process group, its
database on PostgreSQL where the tests have one (as OPERATIONS recommends for a server: on its
own SQLite file the server's event services, writing at once, were refused the lock under load
and dropped or doubled an automation's action); and Prefect's database migrated once per test
run, copied into the new PREFECT_HOME of a `raceday` command so that its temporary server does
not migrate a new database again. A test's server can leave out the background services and
the UI its tests do not rely on (:func:`server_settings`)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from cli.prefect_server import free_port
from tests.store_support import copy_store, fresh_postgres_database

STARTUP_S = 600.0  # a hang limit: a loaded 2-core machine takes longer, never fails sooner
# The background services a setting of Prefect 3.8's server turns off
# (PREFECT_SERVER_SERVICES_<NAME>_ENABLED). A test's server runs those its tests rely on: the
# others poll the database, and persist or act on every event, for nothing the test checks.
SERVER_SERVICES = frozenset({
    "cancellation_cleanup", "cleanup_reconciler", "event_persister", "foreman", "late_runs",
    "pause_expirations", "repossessor", "scheduler", "task_run_recorder", "triggers",
})  # fmt: skip


def api(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST ``body`` (GET without one) to the server's ``/api<path>``; the JSON answer."""
    request = urllib.request.Request(
        f"{base}/api{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=STARTUP_S) as response:
        return json.load(response)


@contextmanager
def running_prefect_server(
    home: Path,
    postgres_admin_url: str | None,
    services: Collection[str] = SERVER_SERVICES,
    ui: bool = True,
) -> Iterator[str]:
    """`prefect server start` with ``home`` as its PREFECT_HOME; its base URL while inside. Its
    database: a new one on the PostgreSQL server of ``postgres_admin_url`` (migrated as the
    server starts, dropped after it stops), or without one the SQLite file in ``home``. It runs
    the background ``services`` of :data:`SERVER_SERVICES` (all by default), and its UI unless
    ``ui`` is false."""
    settings = server_settings(services, ui)
    with (
        _server_database(postgres_admin_url) as database_url,
        _prefect_server(home, database_url, settings) as base,
    ):
        yield base


def server_settings(services: Collection[str], ui: bool) -> dict[str, str]:
    """The environment of a server that runs only ``services`` of :data:`SERVER_SERVICES`, and
    its UI if ``ui``."""
    unknown = set(services) - SERVER_SERVICES
    if unknown:
        raise ValueError(f"not a service of SERVER_SERVICES: {sorted(unknown)}")
    settings = {
        f"PREFECT_SERVER_SERVICES_{name.upper()}_ENABLED": "false"
        for name in sorted(SERVER_SERVICES - set(services))
    }
    if not ui:
        settings["PREFECT_SERVER_UI_ENABLED"] = "false"
    return settings


@contextmanager
def _server_database(postgres_admin_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database's URL for Prefect (its asyncpg driver), or None."""
    if postgres_admin_url is None:
        yield None
        return
    with fresh_postgres_database(postgres_admin_url, "raceday_prefect_server") as url:
        yield (
            make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        )


def _server_environment() -> dict[str, str]:
    """This process's environment without a Prefect API to call or a server database to use:
    what a server of the tests' own starts from."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_API_", "PREFECT_SERVER_DATABASE_"))
    }


@contextmanager
def _prefect_server(
    home: Path, database_url: str | None, settings: dict[str, str]
) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _server_environment()
    env.update(
        settings,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_API_URL=f"{base}/api",  # the UI's browser code calls this
        PREFECT_UI_URL=base,  # links in notifications
    )
    if database_url is not None:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    log_path = server_log(home)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_for_health(base, server, log_path)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def server_log(home: Path) -> Path:
    """Where :func:`running_prefect_server` with PREFECT_HOME ``home`` writes the server's
    output."""
    return home / "server.log"


def server_log_tail(log: Path, chars: int = 3000) -> str:
    """The last ``chars`` of a server's log (for a failure message), or a note that it has none."""
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def _wait_for_health(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            if api(base, "/health") is True:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"prefect server did not start: {server_log_tail(log_path)}")
        time.sleep(1)


def migrated_prefect_database(folder: Path) -> Path:
    """Prefect's own database migrated to this Prefect's latest revision, built once in
    ``folder`` (under a file lock: the pytest-xdist workers of a run share it). Copied into a
    new PREFECT_HOME (:func:`seed_prefect_home`), it spares a server's first start the
    migration of a new database (~4 s of CPU of the ~8 s that start takes)."""
    import prefect

    database = folder / f"prefect-{prefect.__version__}.db"
    with (folder / "prefect-database.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            home = Path(tempfile.mkdtemp(prefix="prefect-home-", dir=folder))
            env = _server_environment()
            env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
            subprocess.run(
                [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                env=env, capture_output=True, check=True, timeout=STARTUP_S,
            )  # fmt: skip
            partial = folder / f"{database.name}.partial"
            copy_store(home / "prefect.db", partial)
            partial.rename(database)
    return database


def seed_prefect_home(home: Path, database: Path) -> Path:
    """``home`` (made) with a copy of the migrated ``database`` as its Prefect database."""
    home.mkdir(parents=True, exist_ok=True)
    copy_store(database, home / "prefect.db")
    return home


def stop_process_groups(started: list[subprocess.Popen[Any]]) -> None:
    """SIGTERM to each process group, then SIGKILL to what is left of it (`prefect worker
    start`, the child of `raceday worker`, may outlive its parent's SIGTERM)."""
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with suppress(ProcessLookupError):  # unless the whole group is gone
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def raceday_workers(
    env: dict[str, str], count: int, logs: Path, log_name: str = "worker"
) -> Iterator[None]:
    """``count`` `raceday worker --limit 1` processes with ``env``, each logging to
    ``logs/<log_name>-<n>.log``; stopped with their process groups."""
    started = []
    for number in range(count):
        log = (logs / f"{log_name}-{number}.log").open("w")
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--limit", "1"],
                env=env,
                cwd=logs,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    try:
        yield
    finally:
        stop_process_groups(started)
