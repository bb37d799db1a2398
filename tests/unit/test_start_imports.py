"""What a process pays for before it does anything: the CLI (every `raceday` command's start,
`raceday --help`, `raceday worker`) loads no data library, `raceday worker` checks its Prefect
server and execs `prefect worker start` without importing Prefect (the worker imports it: ≈ 1.2 s
of CPU a worker, twice before), and the wave flow (`flows/scaleout.py`, loaded by a new process
for every flow run a worker takes) loads neither Great Expectations, scikit-learn, SciPy nor
matplotlib until a stage uses them (GX alone is ~2 s of CPU).

Checked in a fresh interpreter by the modules that importing loads, not by timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

REPO: Final = Path(__file__).resolve().parents[2]
# Loaded by importing the CLI, then the wave flow: the top-level packages in sys.modules each time.
SCRIPT: Final = """
import json, sys
import cli
at_cli = sorted({name.split(".")[0] for name in sys.modules})
import flows.scaleout
at_wave = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"cli": at_cli, "wave": at_wave}))
"""
# `raceday worker` up to its exec, against a server that answers its health check (httpx's get
# stood in for): the command it execs and the top-level packages loaded by then.
WORKER_SCRIPT: Final = """
import json, os, sys
import httpx

def health(url, timeout):
    return httpx.Response(200, request=httpx.Request("GET", url))

def execve(path, argv, env):
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print(json.dumps({"argv": argv, "home": env["RACEDAY_HOME"], "loaded": loaded}))
    sys.stdout.flush()
    os._exit(0)

httpx.get = health
os.execve = execve
sys.argv = ["raceday", "worker", "--limit", "1"]
from cli import main
main()
"""
DATA_LIBRARIES: Final = {"pandas", "numpy", "pyarrow", "sqlalchemy", "prefect"}
STAGE_LIBRARIES: Final = {"great_expectations", "sklearn", "scipy", "matplotlib"}


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[str]]:
    """The packages loaded once the CLI is imported, then once the wave flow is."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    found: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_cli_starts_without_data_libraries(loaded: dict[str, list[str]]) -> None:
    assert not DATA_LIBRARIES & set(loaded["cli"])


def test_the_wave_flow_loads_stage_libraries_only_when_a_stage_runs(
    loaded: dict[str, list[str]],
) -> None:
    assert {"pandas", "prefect", "sqlalchemy"} <= set(loaded["wave"])  # it did load the flow
    assert not STAGE_LIBRARIES & set(loaded["wave"])


def test_raceday_worker_execs_the_worker_without_importing_prefect() -> None:
    """The server checked (PREFECT_API_URL from the environment), then the exec: Prefect is
    imported once, by the worker, not also by the command before it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    env.pop("RACEDAY_HOME", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER_SCRIPT],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    execed = json.loads(done.stdout.strip().splitlines()[-1])
    assert execed["argv"][1:] == ["worker", "start", "--pool", "raceday", "--limit", "1"]
    assert execed["home"] == str(REPO)
    assert not DATA_LIBRARIES & set(execed["loaded"])
