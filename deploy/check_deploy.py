"""Documented check of the deployments against a real local Prefect server (not a unit test:
it starts a server, a worker and `raceday serve`, ~1-2 minutes on 2 cores).

    .venv/bin/python deploy/check_deploy.py

1. `prefect server start` on a free port with a throw-away PREFECT_HOME;
2. `raceday serve` must register every deployment with its schedule (Asia/Tokyo);
3. `prefect work-pool create raceday --type process`;
4. `prefect deploy --all --prefect-file deploy/prefect.yaml`, schedules as in
   flows/deployments.py;
5. `prefect deployment run backup/backup` on a fresh SQLite store, then
   `prefect worker start --pool raceday --run-once`: the run must complete and leave a backup.
Prints each step and exits non-zero on the first failure.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"FAILED: {url} did not answer within {seconds:.0f} s")


def step(title: str, command: list[str], env: dict[str, str], timeout: float = 300) -> str:
    print(f"--> {title}: {' '.join(command)}", flush=True)
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"FAILED: {title} (exit {done.returncode})")
    return done.stdout


async def deployments(pool: bool = True) -> dict[str, list[str]]:
    """Deployment name → its schedules (cron and timezone), of the work pool's deployments
    (``pool``) or of served ones (no work pool), read from the server."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        found = await client.read_deployments()
    return {
        d.name: [
            f"{getattr(s.schedule, 'cron', s.schedule)} {getattr(s.schedule, 'timezone', '')}"
            for s in d.schedules
        ]
        for d in found
        if (d.work_pool_name is not None) == pool
    }


async def flow_run_states() -> list[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return [str(run.state_name) for run in await client.read_flow_runs()]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="raceday-deploy-check-"))
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "RACEDAY_HOME": str(ROOT),
        "RACEDAY_VAR_DIR": str(work / "var"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    os.environ.update(env)  # before Prefect is imported: its settings are read once
    sys.path.insert(0, str(ROOT))
    from flows.deployments import DEPLOYMENTS, TIMEZONE, WORK_POOL

    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    serving: subprocess.Popen[str] | None = None
    try:
        clock = time.monotonic()
        wait_for(f"http://127.0.0.1:{port}/api/health", 180)
        print(f"--> server up in {time.monotonic() - clock:.0f} s: http://127.0.0.1:{port}")
        expected = {
            spec.name: [f"{spec.cron} {TIMEZONE}"] if spec.cron else [] for spec in DEPLOYMENTS
        }
        print("--> raceday serve", flush=True)
        serving = subprocess.Popen(
            [str(BIN / "raceday"), "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, text=True
        )
        deadline = time.monotonic() + 120
        served: dict[str, list[str]] = {}
        while time.monotonic() < deadline:
            served = asyncio.run(deployments(pool=False))
            if set(served) >= set(expected) and all(
                served[name] == expected[name] for name in expected
            ):
                break
            time.sleep(2)
        print(f"    served with schedules: {served}")
        if any(served.get(name) != expected[name] for name in expected):
            raise SystemExit("FAILED: raceday serve did not register every schedule")
        serving.terminate()
        serving.wait(30)
        serving = None
        step("work pool", ["prefect", "work-pool", "create", WORK_POOL, "--type", "process"], env)
        step(
            "deploy",
            ["prefect", "--no-prompt", "deploy", "--prefect-file", "deploy/prefect.yaml", "--all"],
            env,
        )
        registered = asyncio.run(deployments())
        if any(registered.get(name) != expected[name] for name in expected):
            raise SystemExit(f"FAILED: deployed schedules differ: {registered}")
        print(f"    registered: {registered}")

        from raceday.store.engine import make_engine, upgrade_schema

        store = work / "store.db"
        upgrade_schema(make_engine(f"sqlite:///{store}"))
        step("run backup", ["prefect", "deployment", "run", "backup/backup"], env)
        step(  # the worker's environment names the store: a flow takes no URL parameter
            "worker --run-once",
            ["prefect", "worker", "start", "--pool", WORK_POOL, "--run-once"],
            {**env, "RACEDAY_DB_URL": f"sqlite:///{store}"},
        )
        states = asyncio.run(flow_run_states())
        backups = list((work / "var" / "backups").glob("raceday-*.db"))
        print(f"    flow run states: {states}; backups: {[b.name for b in backups]}")
        if states != ["Completed"] or len(backups) != 1:
            raise SystemExit("FAILED: the worker did not complete the backup run")

        print("OK: deploy, worker --run-once and serve work against a local server")
    finally:
        if serving is not None:
            serving.terminate()
            serving.wait(30)
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
