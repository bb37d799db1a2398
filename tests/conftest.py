"""Shared fixtures: isolated Prefect home, store URLs (SQLite always, PostgreSQL when present)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests check invariants, not speed: on a loaded 2-core machine hypothesis's default
# 200 ms deadline fails examples that are merely slow.
hypothesis_settings.register_profile("raceday", deadline=None)
hypothesis_settings.load_profile("raceday")

# Prefect reads these when first imported: keep tests off the user's ~/.prefect and offline.
_PREFECT_HOME = tempfile.mkdtemp(prefix="raceday-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The tests' own switches stay (read after this: test_browser.py's at its import).
_TEST_SWITCHES = {
    "RACEDAY_TEST_REQUIRE_POSTGRES",
    "RACEDAY_TEST_PG_URL",
    "RACEDAY_TEST_REQUIRE_BROWSER",
}
for _name in [name for name in os.environ if name.startswith("RACEDAY_")]:
    if _name not in _TEST_SWITCHES:
        del os.environ[_name]
# Great Expectations' Data Docs (HTML pages rendered after every check, 1-4 s a call) are
# tested on their own (tests/integration/test_validate.py turns them on); rendered after every
# stake, first 3F and validation of every test they were half of the suite's staking runs. Set
# here, not in a fixture, so that module-scoped fixtures (set up before any function fixture)
# see it too; a child process inherits it.
os.environ["RACEDAY_VALIDATION__DATA_DOCS"] = "false"

PG_ADMIN_URL = os.environ.get(
    "RACEDAY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("RACEDAY_TEST_REQUIRE_POSTGRES") == "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    """This process's Prefect home (made above) goes with it: the xdist controller's and each
    worker's (every `make test` left four in /tmp). Its servers are stopped by then (their
    session fixtures); a file a straggler still writes is left to the temporary directory."""
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Test files with a ``slow`` test first, the rest after, each kept in its own order. With
    ``--dist loadfile --no-loadscope-reorder`` (``make test``) the workers take whole files in
    this order, so the suite's last minutes are short files on every core rather than one
    long end-to-end file on one."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(autouse=True)
def _console_logs_on_a_live_stream() -> None:
    """Prefect's console log handler keeps the stream it was created with. Created inside an
    earlier test's CLI runner, that stream is closed by now and every log line would print a
    "--- Logging error ---" traceback into this test's output (a real command runs in a process
    of its own): point it back at the stream pytest captures."""
    import logging
    import sys

    for handler in logging.getLogger().handlers:
        stream = getattr(handler, "stream", None)
        if type(handler).__name__ == "PrefectConsoleHandler" and getattr(stream, "closed", False):
            handler.stream = sys.stderr  # type: ignore[attr-defined]
            handler.console.file = sys.stderr  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _prefect_workers_stopped_after_the_test() -> Iterator[None]:
    """A flow run in this process (on the worker's test harness) starts Prefect's events worker,
    whose websocket to the server stayed open for the rest of the session: its keepalive ping
    (every 20 s, ``websockets`` draws the ping's payload from the global ``random``) on
    Prefect's GlobalEventLoopThread changed ``random``'s state under a later property test's
    draw, and hypothesis took it for the strategy's doing ("Do not use the `random` module
    inside strategies"). Drained after each test, as Prefect's harness and our temporary server
    do at their end."""
    yield
    if "prefect.events.worker" in sys.modules:  # a test that never imported Prefect started none
        from cli.prefect_server import drain_prefect_workers

        drain_prefect_workers()


@pytest.fixture(autouse=True)
def _isolated_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own var/ (reports, default SQLite store)."""
    var_dir = tmp_path / "var"
    monkeypatch.setenv("RACEDAY_VAR_DIR", str(var_dir))
    return var_dir


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store file."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def sqlite_schema(sqlite_url: str) -> None:
    """The test's SQLite store (``sqlite_url``) migrated to the latest schema."""
    from raceday.store.engine import make_engine, upgrade_schema

    upgrade_schema(make_engine(sqlite_url))


def _postgres_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not available here"
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    """Why PostgreSQL is not reachable (None: it is), asked once per session; a failure when
    it is required and not reachable."""
    problem = _postgres_available()
    if problem is not None and REQUIRE_POSTGRES:
        pytest.fail(_unreachable(problem) + " (required: RACEDAY_TEST_REQUIRE_POSTGRES=1)")
    return problem


def _unreachable(problem: str) -> str:
    return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}"


@pytest.fixture(scope="session")
def postgres_server(postgres_problem: str | None) -> Iterator[str]:
    """The admin URL of a reachable PostgreSQL server, or a skip (a failure when required)."""
    if postgres_problem is not None:
        pytest.skip(
            _unreachable(postgres_problem)
            + " (set RACEDAY_TEST_REQUIRE_POSTGRES=1 to make this a failure)"
        )
    yield PG_ADMIN_URL


@pytest.fixture(scope="session")
def prefect_server_postgres(postgres_problem: str | None) -> str | None:
    """Where the tests' `prefect server start` keeps its database: the PostgreSQL server's admin
    URL when one is reachable (a failure when required), else None (Prefect's SQLite file).
    Unlike ``postgres_server`` it never skips: the tests that start a Prefect server run
    without PostgreSQL too (tests/prefect_server_support.py)."""
    return PG_ADMIN_URL if postgres_problem is None else None


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    from tests.store_support import fresh_postgres_database

    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store backend in turn: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a temporary server, ~13 s once per session)."""
    from prefect.testing.utilities import prefect_test_harness

    # a busy machine is no fault: the server may take minutes to answer (as for the commands)
    with prefect_test_harness(server_startup_timeout=600):
        yield


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness: None) -> str:
    """The API URL of this worker's test-harness server (``prefect_harness``), for the `raceday`
    processes of the tests that are not about Prefect's temporary server: given as their
    PREFECT_API_URL, a command starts no temporary server of its own (8-15 s of CPU a command,
    half of it importing the server as it starts). One server per pytest process (per xdist
    worker), started once, stopped at the session's end with the harness; it holds every flow
    run of the worker's tests, one test at a time, so a test reads back only the flow runs it
    made (by their ids, names or start). The tests that stay on the temporary server say why."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the Prefect test harness set no PREFECT_API_URL"
    return str(url)


@pytest.fixture(scope="session")
def prefect_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prefect's database migrated once per test run (the xdist workers share it), for the new
    PREFECT_HOME of a `raceday` command (tests/prefect_server_support.py)."""
    from tests.prefect_server_support import migrated_prefect_database

    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent  # the run's own, above each worker's
    return migrated_prefect_database(run_folder)
