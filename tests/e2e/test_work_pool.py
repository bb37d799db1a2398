"""The work-pool path exactly as docs/OPERATIONS.md writes it, against a real `prefect server
start`: `raceday deploy` puts the deployments into the `raceday` process pool; a run of the
`backup` deployment is executed by `raceday worker --run-once`, and another by the plain
`prefect worker start --pool raceday --run-once` with RACEDAY_HOME exported — both started
from a directory that is not the checkout. `serve` and `deploy` refuse to take each other's
deployments over. Slow (a server, two workers): ~1–2 minutes on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_process import HANG_LIMIT_S
from tests.prefect_server_support import api, running_prefect_server

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
SCHEDULER_HANG_S = 600  # the scheduler's first passes (one a minute) on a loaded machine
WORKER_START_HANG_S = 300  # `raceday worker` becoming the worker (its imports) on a loaded one


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, prefect_server_postgres: str | None
) -> Iterator[str]:
    """The server's API and its scheduler (what the scheduled runs' test checks), without the
    other background services or the UI: the runs the tests ask for are made, taken and
    followed by API calls."""
    home = tmp_path_factory.mktemp("pool-server")
    with running_prefect_server(
        home, prefect_server_postgres, services={"scheduler"}, ui=False
    ) as base:
        yield base


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that is not the checkout: the workers start here, var/ and the store too."""
    return tmp_path_factory.mktemp("elsewhere")


def operator_env(server: str, work: Path) -> dict[str, str]:
    """An operator's shell: the server, the store, no RACEDAY_HOME."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RACEDAY_")}
    env.update(
        PREFECT_API_URL=f"{server}/api",
        PREFECT_HOME=str(work / "prefect-client"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        RACEDAY_VAR_DIR=str(work / "var"),
        RACEDAY_DB_URL=f"sqlite:///{work / 'store.db'}",
        PYTHONPATH=str(REPO),  # the checkout under test, whatever the install points at
    )
    return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=HANG_LIMIT_S
    )


def raceday(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "cli", *args], env, cwd)


def backup_runs(server: str) -> list[dict[str, object]]:
    """The backup runs asked for (``deployment run``), not those its schedule made ahead."""
    found = api(server, "/flow_runs/filter", {"flows": {"name": {"any_": ["backup"]}}})
    asked = [item for item in found if not item["auto_scheduled"]]
    return sorted(asked, key=lambda item: str(item["created"]))


def scheduled_deployments(server: str) -> set[str]:
    """The deployments the server's scheduler has made runs of (ahead of their times)."""

    def made_ahead(deployment_id: str) -> bool:
        body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 20}
        return any(item["auto_scheduled"] for item in api(server, "/flow_runs/filter", body))

    deployments = api(server, "/deployments/filter", {})
    return {item["name"] for item in deployments if made_ahead(item["id"])}


@pytest.fixture(scope="module")
def deployed(server: str, work: Path) -> dict[str, str]:
    env = {**operator_env(server, work), "RACEDAY_LIVE__RACE_RUNS_AT_ONCE": "3"}
    done = raceday(env, REPO, "db", "upgrade")
    assert done.returncode == 0, done.stderr[-2000:]
    done = raceday(env, REPO, "deploy")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "work pool raceday (created)" in done.stdout
    return env


def test_deploy_puts_every_deployment_in_the_pool_tagged_raceday(
    server: str, deployed: dict[str, str]
) -> None:
    from flows.deployments import DEPLOYMENTS

    found = api(server, "/deployments/filter", {})
    names = {item["name"]: item for item in found}
    assert set(names) == {spec.name for spec in DEPLOYMENTS}
    assert all(item["work_pool_name"] == "raceday" for item in found)
    assert all("raceday" in item["tags"] for item in found)
    # only the race runs are capped, at live.race_runs_at_once; the others wait for a slot
    limits = {name: item["global_concurrency_limit"] for name, item in names.items()}
    assert {name for name, limit in limits.items() if limit} == {"race"}
    assert limits["race"]["limit"] == 3
    assert names["race"]["concurrency_options"]["collision_strategy"] == "ENQUEUE"


def test_raceday_worker_runs_a_deployment_from_another_directory(
    server: str, work: Path, deployed: dict[str, str]
) -> None:
    """No RACEDAY_HOME in the shell: `raceday worker` sets it to its checkout."""
    done = run([PREFECT, "deployment", "run", "backup/backup"], deployed, work)
    assert done.returncode == 0, done.stderr[-2000:]
    done = raceday(deployed, work, "worker", "--run-once")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    states = [run_["state_name"] for run_ in backup_runs(server)]
    assert states == ["Completed"], states
    assert len(list((work / "var" / "backups").glob("raceday-*.db"))) == 1


def test_the_plain_prefect_worker_runs_it_with_raceday_home_exported(
    server: str, work: Path, deployed: dict[str, str]
) -> None:
    """The documented raw path: `export RACEDAY_HOME=<checkout>`, `prefect worker start`."""
    env = {**deployed, "RACEDAY_HOME": str(REPO)}
    done = run([PREFECT, "deployment", "run", "backup/backup"], env, work)
    assert done.returncode == 0, done.stderr[-2000:]
    done = run([PREFECT, "worker", "start", "--pool", "raceday", "--run-once"], env, work)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    states = [run_["state_name"] for run_ in backup_runs(server)]
    assert states[-1] == "Completed", states


def test_serve_refuses_to_take_over_the_pool_deployments(
    deployed: dict[str, str], work: Path
) -> None:
    done = raceday(deployed, work, "serve")
    assert done.returncode == 2
    assert "belong to the work pool" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_deploy_again_is_safe(deployed: dict[str, str]) -> None:
    done = raceday(deployed, REPO, "deploy")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "(created)" not in done.stdout


def test_the_servers_scheduler_makes_the_scheduled_runs(
    server: str, deployed: dict[str, str]
) -> None:
    """What `raceday serve` and the pool rely on: the server's scheduler makes the runs of the
    deployments' schedules. With SQLAlchemy 2.1 it made none (Prefect 3.8's bulk insert of
    scheduled runs fails there: "Can't evaluate bulk DML statement", logged every pass); the
    scheduler passes every 60 s, so this waits for it (a hang limit, not a timing)."""
    from flows.deployments import DEPLOYMENTS

    daily = {spec.name for spec in DEPLOYMENTS if spec.cron and spec.active(race_time=False)}
    deadline = time.monotonic() + SCHEDULER_HANG_S
    while not daily <= (found := scheduled_deployments(server)) and time.monotonic() < deadline:
        time.sleep(2)
    assert daily <= found, (
        f"no scheduled runs of {sorted(daily - found)} after {SCHEDULER_HANG_S} s"
    )


def test_raceday_worker_is_the_worker_a_sigterm_stops(
    server: str, work: Path, deployed: dict[str, str]
) -> None:
    """`raceday worker` becomes the Prefect worker (exec): a SIGTERM to the pid an operator
    started stops the worker itself. Before, it went to a wrapper, and its `prefect worker`
    child, re-parented, went on taking runs against the store it was started with."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=deployed, cwd=work,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + WORKER_START_HANG_S
        cmdline = Path(f"/proc/{worker.pid}/cmdline")
        while b"worker\x00start" not in cmdline.read_bytes() and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker ended by itself"
            time.sleep(0.5)
        assert b"worker\x00start" in cmdline.read_bytes(), cmdline.read_bytes()
        worker.terminate()
        worker.wait(timeout=HANG_LIMIT_S)
    finally:
        worker.kill()
        worker.wait()
