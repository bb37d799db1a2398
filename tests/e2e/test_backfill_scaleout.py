"""A backfill scaled out over a work pool gives the same outputs as one worker and as the
default in-process backfill (issue 17, "Scale-out on an existing engine"), against a real
`prefect server start` and `raceday worker` processes, each run on its own PostgreSQL database
(a copy of one database warmed up once with the backfill's history: the warm-up is the same for
every run and not what is compared, so it is built once, not four times):

- ``raceday backfill`` without ``--workers`` (every chunk in order, in the command's process);
- ``--workers 2`` with two workers (``--limit 1`` each: a wave's two runs go one per worker);
- ``--workers 1`` with one worker.

Every output table is compared exactly (:func:`tests.store_support.data_checksums`: the records
of attempts and measured times left out, see there), except the pickled models, compared by
what they compute: ``first3f_models.ml_model`` (the first-3F ML layer) and
``model_versions.artifact`` (the win model) are left out, the first 3F, indexes, predictions
and bets they produce are compared, and ``model_versions`` is compared column by column
without its pickle, its times (``created_at``, ``promoted_at``) and the checkout's name in its
meta (``code_version``, as :mod:`tests.golden_outputs` leaves it out). A pickle's bytes depend on
the process, not only on the model: in a process that unpickled a stored first-3F model
before, the same fitted layer (equal trees) pickles to other bytes — a worker reads the version
a chunk reuses before it fits the next, a one-process backfill resumed after a stop would too.
The scenario trains versions between
chunks (one is promoted), so predictions come from a model, not only the market. A wave run
that fails fails the backfill in one line with no day completed. Slow (a server, four
backfills, four workers): ~3-5 minutes on 2 cores; PostgreSQL required in CI
(``RACEDAY_TEST_REQUIRE_POSTGRES=1``), skipped elsewhere without it. No timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.prefect_server_support import (
    raceday_workers,
    running_prefect_server,
)
from tests.store_support import TRAINING_BACKFILL, fresh_postgres_database, outputs

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
HANG_S = 1500  # a hang limit for one command on a loaded machine, not a timing
SETTINGS = TRAINING_BACKFILL
START, RACES = "2025-03-01", "20"
BACKFILL = ["backfill", "--start", START, "--end", "2025-03-12", "--chunk-days", "3"]
BACKFILL += ["--races", RACES, "--json"]
# The backfill's own warm-up, as its command runs it (flows.backfill: prepare_history with the
# backfill's settings), done once into a template database that every backfill starts from.
WARM_UP = (
    "from datetime import date; from flows.backfill import warm_up; "
    "from flows.backfill_settings import backfill_settings; "
    f"warm_up(backfill_settings({RACES}, None, None), date.fromisoformat('{START}'))"
)


def command_env(server: str, work: Path, db_url: str) -> dict[str, str]:
    """An operator's shell: the server, the store, the scenario's settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RACEDAY_")}
    env.update(
        SETTINGS,
        PREFECT_API_URL=f"{server}/api",
        PREFECT_HOME=str(work / "prefect-client"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="2",  # workers take a wave's runs soon after they start
        RACEDAY_VAR_DIR=str(work / "var"),
        RACEDAY_DB_URL=db_url,
        PYTHONPATH=str(REPO),
    )
    return env


def raceday(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=HANG_S,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[str]:
    """The server's API without its background services or UI: the wave runs are made by
    ``run_deployment``, taken by the workers' polls and followed by the backfill's reads of
    their states — all API calls; no schedule, automation, event or task-run record is used,
    and no schedule then makes runs a worker could take."""
    home = tmp_path_factory.mktemp("scaleout-server")
    with running_prefect_server(home, postgres_server, services=(), ui=False) as base:
        yield base


@pytest.fixture(scope="module")
def work(server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The commands' var/ and Prefect client home; the deployments deployed once."""
    work = tmp_path_factory.mktemp("scaleout")
    done = raceday(command_env(server, work, "sqlite://"), "deploy")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return work


@pytest.fixture(scope="module")
def warmed(postgres_server: str, server: str, work: Path) -> Iterator[str]:
    """A database holding the warm-up before ``START`` (the backfills' history), built once:
    each backfill starts on a copy of it (its own warm-up finds the history there and is
    skipped), so the four backfills differ only in how their chunks run."""
    with fresh_postgres_database(postgres_server, "raceday_warmed") as db:
        env = command_env(server, work, db)
        done = subprocess.run(
            [sys.executable, "-c", WARM_UP],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=HANG_S,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        yield db


@pytest.fixture(scope="module")
def runs(
    postgres_server: str,
    server: str,
    work: Path,
    warmed: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The same backfill three ways, each on its own copy of the warmed store: its outputs and
    --json."""
    found: dict[str, Any] = {}
    with fresh_postgres_database(postgres_server, template=warmed) as db:
        done = raceday(command_env(server, work, db), *BACKFILL)
        assert done.returncode == 0, done.stderr[-3000:]
        found["sequential"] = (outputs(db), done.stdout)
    for name, count in (("two workers", 2), ("one worker", 1)):
        with fresh_postgres_database(postgres_server, template=warmed) as db:
            env = command_env(server, work, db)
            logs = tmp_path_factory.mktemp(name.replace(" ", "-"))
            with raceday_workers(env, count, logs):
                done = raceday(env, *BACKFILL, "--workers", str(count))
            assert done.returncode == 0, done.stderr[-3000:]
            found[name] = (outputs(db), done.stdout)
    return found


def test_two_workers_give_the_outputs_of_one_worker_and_of_the_default(
    runs: dict[str, Any],
) -> None:
    sequential, _ = runs["sequential"]
    assert sequential["bets"].split(":")[0] != "0", "the scenario places bets"
    assert any(version[5] for version in sequential["model_versions"]), "a version is promoted"
    for name in ("two workers", "one worker"):
        measured, _ = runs[name]
        differing = sorted(table for table in sequential if measured[table] != sequential[table])
        assert not differing, f"{name}: {differing} differ from the in-process backfill"


def test_the_summary_counts_the_same(runs: dict[str, Any]) -> None:

    def counts(stdout: str) -> dict[str, Any]:
        summary = json.loads(stdout.strip().splitlines()[-1])
        return {key: summary[key] for key in ("days", "chunks_run", "races", "runners", "bets")}

    expected = counts(runs["sequential"][1])
    assert expected["chunks_run"] == 4
    assert counts(runs["two workers"][1]) == expected
    assert counts(runs["one worker"][1]) == expected


def test_a_failed_wave_fails_the_backfill_in_one_line_with_no_day_completed(
    postgres_server: str,
    server: str,
    work: Path,
    warmed: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The worker's store does not exist: its wave runs fail; the command says so in one line
    (exit 5) and marks no day completed."""
    with fresh_postgres_database(postgres_server, template=warmed) as db:
        env = command_env(server, work, db)
        missing = make_url(db).set(database="raceday_no_such_database")
        worker_env = {**env, "RACEDAY_DB_URL": missing.render_as_string(hide_password=False)}
        with raceday_workers(worker_env, 1, tmp_path_factory.mktemp("failing-worker")):
            done = raceday(env, *BACKFILL, "--workers", "2")
        assert done.returncode == 5, done.stderr[-3000:]
        assert "error: backfill wave store: 2 of 2 runs did not complete" in done.stderr
        assert "Traceback" not in done.stderr
        engine = create_engine(db)
        try:
            with engine.connect() as connection:
                completed = connection.execute(text("SELECT count(*) FROM backfill_days"))
                assert completed.scalar_one() == 0
        finally:
            engine.dispose()
