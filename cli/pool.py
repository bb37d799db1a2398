"""The work-pool path: ``raceday deploy`` (the deployments of deploy/prefect.yaml into the
``raceday`` process pool) and ``raceday worker`` (a Prefect worker that runs them from this
checkout). Both talk to a running Prefect server (``PREFECT_API_URL``).

A worker runs a flow in the directory its deployment's pull step names, ``$RACEDAY_HOME``,
resolved on the worker when the run starts: ``raceday worker`` sets it to this checkout, so a
worker started from any directory, on any machine with a checkout, finds the flows.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.options import DebugOption
from cli.shared import app, err, guard, out
from raceday.errors import UNAVAILABLE_EXIT_CODE, InputError, RacedayError

CHECKOUT = Path(__file__).resolve().parents[1]
PREFECT_FILE = CHECKOUT / "deploy" / "prefect.yaml"


class PrefectApiUnavailable(RacedayError):
    """The Prefect server named by PREFECT_API_URL does not answer."""

    exit_code = UNAVAILABLE_EXIT_CODE


def checkout_env() -> dict[str, str]:
    """This process's environment with ``RACEDAY_HOME`` = this checkout (kept when set)."""
    return {**os.environ, "RACEDAY_HOME": os.environ.get("RACEDAY_HOME") or str(CHECKOUT)}


def prefect_command() -> str:
    """The ``prefect`` executable of this environment (the one raceday is installed in)."""
    return str(Path(sys.executable).with_name("prefect"))


def configured_api_url() -> str | None:
    """PREFECT_API_URL as Prefect reads it. In a process that has not imported Prefect, the
    environment's value when set: no settings context can differ from it yet, and Prefect's
    settings read the environment first (before ``.env``, ``prefect.toml`` and the profile).
    Otherwise (unset, or Prefect loaded: ``temporary_settings`` may hold another) Prefect's
    settings. So ``raceday worker`` checks the server without importing Prefect (≈ 1.2 s of
    CPU) before it execs ``prefect worker start``, which imports it again."""
    url = os.environ.get("PREFECT_API_URL")
    if url and "prefect" not in sys.modules:
        return url
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def require_running_server() -> str:
    """PREFECT_API_URL, checked to answer; one line (exit 2 or 3) otherwise."""
    import httpx

    url = configured_api_url()
    if not url:
        raise InputError(
            "set PREFECT_API_URL to the Prefect server (e.g. http://127.0.0.1:4200/api): work "
            "pools and workers need a running `prefect server start`"
        )
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as error:
        raise PrefectApiUnavailable(
            f"the Prefect server at {url} does not answer: {error}"
        ) from None
    return str(url)


def refuse_taking_over(to_pool: bool) -> None:
    """One line when the server already has our deployments the other way (served ↔ pool)."""
    from flows.deployments import full_names, read_deployed, taken_over

    clashing = taken_over(asyncio.run(read_deployed()), full_names(), to_pool=to_pool)
    if not clashing:
        return
    if to_pool:
        raise InputError(
            f"{len(clashing)} deployments are served by `raceday serve` ({', '.join(clashing)}): "
            "stop it and pass --take-over to move them to the work pool"
        )
    raise InputError(
        f"{len(clashing)} deployments belong to the work pool ({', '.join(clashing)}): "
        "workers run them; pass --take-over to serve them from this process instead"
    )


TakeOverOption = Annotated[
    bool,
    typer.Option("--take-over", help="replace deployments the server has the other way"),
]


@app.command()
def deploy(take_over: TakeOverOption = False, debug: DebugOption = False) -> None:
    """Deploy every scheduled deployment (deploy/prefect.yaml) into the `raceday` process work
    pool of the running Prefect server; workers (`raceday worker`) run them."""

    def action() -> str:
        from config import load_settings
        from flows.deployments import WORK_POOL, cap_runs_at_once, ensure_work_pool

        at_once = load_settings().live.race_runs_at_once
        require_running_server()
        if not take_over:
            refuse_taking_over(to_pool=True)
        created = asyncio.run(ensure_work_pool())
        done = subprocess.run(
            [prefect_command(), "--no-prompt", "deploy", "--all", "--prefect-file",
             str(PREFECT_FILE)],
            cwd=CHECKOUT, env=checkout_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            raise PrefectApiUnavailable(f"prefect deploy failed: {tail[0]}")
        asyncio.run(cap_runs_at_once(at_once))
        pool = f"work pool {WORK_POOL}" + (" (created)" if created else "")
        return (
            f"deployed deploy/prefect.yaml into {pool}, at most {at_once} race runs at once "
            "(live.race_runs_at_once); start workers with `raceday worker`"
        )

    out.print(guard(debug, action))


@app.command()
def worker(
    run_once: Annotated[
        bool, typer.Option("--run-once", help="take the runs due now, then stop")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="flow runs at once (default: no limit)")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Start a Prefect worker on the `raceday` work pool that runs the flows from this checkout
    (RACEDAY_HOME), whatever the current directory; RACEDAY_DB_URL names the store. The
    command becomes the worker (exec, no process of its own left around it): a SIGTERM or
    Ctrl-C reaches the worker itself, which stops, rather than a wrapper whose worker would
    go on taking runs, re-parented, against the store it was started with."""

    def action() -> None:
        from flows.deployments import WORK_POOL

        require_running_server()
        command = [prefect_command(), "worker", "start", "--pool", WORK_POOL]
        command += ["--run-once"] if run_once else []
        command += ["--limit", str(limit)] if limit else []
        err.print(f"worker on pool {WORK_POOL}, flows from {checkout_env()['RACEDAY_HOME']}")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(command[0], command, checkout_env())

    guard(debug, action)
