"""The three kinds of failure: bad input (not retried, exit 2/4/6), an unavailable source or
store (retried, exit 3), a defect in our code (not retried, named by stage, exit 5)."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import typer
from prefect.states import Failed
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

from cli import guard
from cli.shared import answer
from raceday.errors import (
    BackupUnusable,
    InputError,
    NothingValid,
    RunLocked,
    SourceUnavailable,
    StageDefect,
    StoreUnavailable,
    as_stage_failure,
    describe_failure,
    failure_kind,
)
from tasks.common import retry_if_unavailable

E = TypeVar("E", bound=Exception)


def refused(engine: Engine, statement: str, kind: type[E]) -> E:
    """The ``kind`` of error that running ``statement`` on ``engine`` raises (then disposed)."""
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except kind as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{statement!r} was not refused")


def locked_sqlite_error(tmp_path: Path) -> OperationalError:
    """A real "database is locked": another connection holds the file's write lock."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        engine = create_engine(url, connect_args={"timeout": 0})
        return refused(engine, "INSERT INTO t VALUES (1)", OperationalError)
    finally:
        holder.close()


def missing_table_error() -> OperationalError:
    """SQLite's OperationalError for a table that does not exist: a defect, not an outage."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))
    except OperationalError as error:
        return error
    raise AssertionError("the query did not fail")


class FakePsycopgOperationalError(Exception):
    """Stands for ``psycopg.OperationalError`` (connection lost) without a server."""


FakePsycopgOperationalError.__name__ = "OperationalError"
FakePsycopgOperationalError.__module__ = "psycopg"


@pytest.mark.parametrize(
    "error",
    [InputError("bad date"), NothingValid("nothing valid"), RunLocked("already being run")],
)
def test_bad_input_is_input(error: Exception) -> None:
    assert failure_kind(error) == "input"


@pytest.mark.parametrize(
    "error",
    [
        SourceUnavailable("down"),
        StoreUnavailable("down"),
        ConnectionRefusedError("refused"),
        TimeoutError("read timed out"),  # Prefect's task timeout is a TimeoutError
        FileNotFoundError("mount gone"),
        FakePsycopgOperationalError("server closed the connection unexpectedly"),
        OperationalError("SELECT 1", {}, FakePsycopgOperationalError("connection refused")),
        httpx.ConnectError("All connection attempts failed"),  # the Prefect API is down
        RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server."),
        # PREFECT_API_URL's server not answering (down, or starting on a loaded machine): Prefect
        # wraps the transport error; it was reported as a defect, exit 5, "please report"
        RuntimeError("Failed to reach API at http://127.0.0.1:4299/api/"),
    ],
)
def test_unreachable_sources_and_stores_are_unavailable(error: Exception) -> None:
    assert failure_kind(error) == "unavailable"


def test_sqlite_database_is_locked_is_unavailable(tmp_path: Path) -> None:
    error = locked_sqlite_error(tmp_path)
    assert "database is locked" in str(error)
    assert failure_kind(error) == "unavailable"
    assert failure_kind(error.orig) == "unavailable"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        ValueError("cannot convert"),
        KeyError("time_sa"),
        TypeError("unsupported operand"),
        ZeroDivisionError("division by zero"),
        RuntimeError("dictionary changed size during iteration"),
        ProgrammingError("SELECT", {}, Exception("syntax error")),
    ],
)
def test_anything_else_is_a_defect(error: Exception) -> None:
    assert failure_kind(error) == "defect"


class FakeInsufficientPrivilege(Exception):
    """Stands for ``psycopg.errors.InsufficientPrivilege`` without a server."""


FakeInsufficientPrivilege.__name__ = "InsufficientPrivilege"


def damaged_sqlite_error(tmp_path: Path) -> DatabaseError:
    """A real "file is not a database": the store's file overwritten with garbage."""
    path = tmp_path / "damaged.db"
    path.write_bytes(b"not a store " * 1000)
    return refused(create_engine(f"sqlite:///{path}"), "SELECT * FROM sqlite_master", DatabaseError)


def test_a_store_that_answers_but_cannot_serve_is_unavailable_not_a_defect(
    tmp_path: Path,
) -> None:
    """A damaged SQLite file, a read-only one, a PostgreSQL role without rights: the operator's
    to mend, said in one line as the store being unavailable (each was "defect … please
    report", exit 5, in the store probe)."""
    for error in (
        damaged_sqlite_error(tmp_path),
        DatabaseError("SELECT", {}, sqlite3.DatabaseError("database disk image is malformed")),
        OperationalError(
            "INSERT", {}, sqlite3.OperationalError("attempt to write a readonly database")
        ),
        ProgrammingError(
            "INSERT", {}, FakeInsufficientPrivilege("permission denied for table bets")
        ),
    ):
        assert failure_kind(error) == "unavailable", error


def test_a_missing_table_is_a_defect_not_an_outage() -> None:
    assert failure_kind(missing_table_error()) == "defect"


def test_a_stage_names_its_defect_and_leaves_other_kinds_alone() -> None:
    cause = KeyError("time_sa")
    defect = as_stage_failure(cause, "first3f", "202611204401")
    assert isinstance(defect, StageDefect) and defect.error is cause
    assert str(defect) == "defect in stage first3f (race 202611204401): KeyError: 'time_sa'"
    assert as_stage_failure(defect, "outer") is defect  # the innermost stage names it
    down = SourceUnavailable("down")
    assert as_stage_failure(down, "ingest") is down
    copy = pickle.loads(pickle.dumps(defect))
    assert (copy.stage, copy.race_id, str(copy)) == ("first3f", "202611204401", str(defect))


def test_a_failure_is_described_by_its_kind(tmp_path: Path) -> None:
    assert describe_failure(StageDefect("indexes", ValueError("bad\nsecond line"))) == (
        "defect in stage indexes: ValueError: bad — please report"
    )
    assert describe_failure(ValueError("x")) == "defect: ValueError: x — please report"
    assert describe_failure(locked_sqlite_error(tmp_path)).startswith(
        "source or store unavailable: OperationalError: (sqlite3.OperationalError) database is"
    )
    assert describe_failure(SourceUnavailable("pckeiba down")) == "SourceUnavailable: pckeiba down"


def failed_with(error: BaseException) -> Any:
    return Failed(data=error, message=str(error))


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (SourceUnavailable("down"), True),
        (TimeoutError("timed out"), True),
        (InputError("bad file"), False),
        (NothingValid("nothing valid"), False),
        (ValueError("a bug"), False),
        (KeyError("a bug"), False),
        (StageDefect("ingest", ValueError("a bug")), False),
    ],
)
def test_the_retry_condition_retries_only_unavailability(
    error: BaseException, retried: bool
) -> None:
    assert retry_if_unavailable(None, None, failed_with(error)) is retried  # type: ignore[arg-type]


def test_the_retry_condition_retries_a_locked_sqlite_store(tmp_path: Path) -> None:
    state = failed_with(locked_sqlite_error(tmp_path))
    assert retry_if_unavailable(None, None, state) is True  # type: ignore[arg-type]


def test_a_store_that_cannot_serve_is_not_retried(tmp_path: Path) -> None:
    """A damaged SQLite file or a PostgreSQL role without rights fails every attempt the same
    way: one line at once (unavailable, exit 3), not a minute of retries first."""
    for error in (
        damaged_sqlite_error(tmp_path),
        DatabaseError("SELECT", {}, sqlite3.DatabaseError("database disk image is malformed")),
        ProgrammingError(
            "INSERT", {}, FakeInsufficientPrivilege("permission denied for table bets")
        ),
    ):
        assert failure_kind(error) == "unavailable", error
        assert retry_if_unavailable(None, None, failed_with(error)) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (InputError("not a date: 'x'"), 2, "error: not a date: 'x'"),
        (SourceUnavailable("cannot reach pckeiba"), 3, "error: cannot reach pckeiba"),
        (
            ConnectionResetError("reset by peer"),
            3,
            "error: source or store unavailable: ConnectionResetError: reset by peer",
        ),
        (NothingValid("nothing valid for 2026-11-20"), 4, "error: nothing valid for 2026-11-20"),
        (
            StageDefect("first3f", KeyError("time_sa"), "202611204401"),
            5,
            "defect in stage first3f (race 202611204401): KeyError: 'time_sa' — please report; "
            "--debug for the traceback",
        ),
        (
            ValueError("bad [value]\nmore"),
            5,
            "defect: ValueError: bad [value] — please report; --debug for the traceback",
        ),
        (RunLocked("2026-11-20 is already being run"), 7, "error: 2026-11-20 is already being"),
        (BackupUnusable("the copy fails PRAGMA quick_check"), 8, "error: the copy fails PRAGMA"),
    ],
)
def test_the_cli_ends_each_kind_with_its_exit_code_and_one_line(
    error: Exception, code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def action() -> None:
        raise error

    with pytest.raises(typer.Exit) as ended:
        guard(False, action)
    assert ended.value.exit_code == code
    printed = capsys.readouterr()
    assert printed.out == ""
    assert len(printed.err.strip().splitlines()) == 1 and printed.err.startswith(line)


def test_debug_prints_the_traceback_and_keeps_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--debug`` shows the traceback, then the same line and exit code as without it (it
    used to let the exception out: every failure exited 1, the fuzz probe)."""

    def defect() -> None:
        raise StageDefect("first3f", KeyError("time_sa"))

    def nothing() -> None:
        raise NothingValid("nothing valid for 2026-11-20")

    for action, code in ((defect, 5), (nothing, 4)):
        with pytest.raises(typer.Exit) as ended:
            guard(True, action)
        assert ended.value.exit_code == code
        said = capsys.readouterr().err
        assert said.startswith("Traceback (most recent call last)")
        assert said.rstrip().splitlines()[-1].startswith(("defect in stage first3f", "error:"))


def test_a_setting_that_cannot_be_parsed_is_bad_input_not_a_defect(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import settings_from

    monkeypatch.setenv("RACEDAY_RETRY__DELAYS_S", "[0.1,")  # not JSON: pydantic-settings' error
    with pytest.raises(typer.Exit) as ended:
        guard(False, settings_from)
    assert ended.value.exit_code == 2
    assert capsys.readouterr().err.startswith(
        'error: invalid settings: error parsing value for field "retry"'
    )


@pytest.mark.parametrize(
    ("error", "code", "kind"),
    [
        (InputError("not a date: 'x'"), 2, "input"),
        (SourceUnavailable("cannot reach pckeiba"), 3, "unavailable"),
        (NothingValid("nothing valid left for 2026-11-20 (card): 12 races set aside"), 4, "input"),
        (StageDefect("first3f", KeyError("time_sa")), 5, "defect"),
        (RunLocked("2026-11-20 is already being run by daily-run h pid 1"), 7, "input"),
        (KeyboardInterrupt(), 130, None),
    ],
)
def test_json_ends_every_failure_with_one_json_object_on_stdout(
    error: BaseException, code: int, kind: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``--json`` a failure still prints one JSON object on standard output — its status,
    exit code, kind and the very line said on standard error (which stays as it is) — so a
    script reading standard output gets an answer on every exit (it got nothing on 4 and 7)."""

    def action() -> dict[str, Any]:
        raise error

    with pytest.raises(typer.Exit) as ended:
        answer(False, True, action, print)
    assert ended.value.exit_code == code
    printed = capsys.readouterr()
    (line,) = printed.err.strip().splitlines()
    (said,) = printed.out.splitlines()
    status = "interrupted" if kind is None else "failed"
    assert json.loads(said) == {"status": status, "exit_code": code, "kind": kind, "error": line}

    with pytest.raises(typer.Exit):  # without --json: the line only, standard output empty
        answer(False, False, action, print)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "said",
    [
        'connection failed: … failed: FATAL:  database "pckeib" does not exist',
        'connection failed: … failed: FATAL:  role "keibaa" does not exist',
        'connection failed: … failed: FATAL:  password authentication failed for user "keiba"',
        'connection failed: … failed: FATAL:  no pg_hba.conf entry for host "10.0.0.2"',
        "connection failed: … failed: fe_sendauth: no password supplied",
    ],
)
def test_a_connection_refused_for_its_settings_is_bad_input_not_an_outage(said: str) -> None:
    """A mistyped database, user or password (SQLSTATE 3D000, 28000, 28P01; libpq gives no
    SQLSTATE for a refused connection, so its message is read): the same answer on every
    attempt, so not retried as an outage for a minute then exit 3."""
    error = OperationalError("SELECT 1", {}, FakePsycopgOperationalError(said))
    assert failure_kind(error) == "input"
    assert retry_if_unavailable(None, None, failed_with(error)) is False  # type: ignore[arg-type]
