"""What can go wrong, in three kinds that are handled differently (:func:`failure_kind`):

- ``input``: bad input a user can fix (:class:`InputError`, :class:`NothingValid`,
  :class:`RunLocked`, :class:`BackupUnusable`, a database connection refused for its settings:
  :func:`refused_for_its_settings`): one clear line, never retried (the next attempt reads the
  same input);
- ``unavailable``: a source or the store cannot be reached (:class:`SourceUnavailable`,
  :class:`StoreUnavailable`, and the operating system's, network's and databases' operational
  errors: refused connections, timeouts, SQLite's "database is locked"; the Prefect API not
  answering): retried with backoff, exit 3;
- ``defect``: anything else a stage raises (``KeyError``, ``ValueError``, ``TypeError`` ...) is
  a bug in our code: retrying cannot fix it, so it is not retried; it is alerted and reported as
  a defect naming the stage (and the race, where known), exit 5.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Final, Literal

FailureKind = Literal["input", "unavailable", "defect"]

DEFECT_EXIT_CODE = 5
UNAVAILABLE_EXIT_CODE = 3


class RacedayError(Exception):
    """Base of every error that carries a message meant for the user."""

    exit_code = 2


class InputError(RacedayError):
    """Input that cannot be used as given (bad date, missing directory, unreadable file)."""


class InvalidSettings(InputError):
    """A setting (environment variable or option) that is not valid: one plain line per
    mistake (``invalid setting kelly.fraction: Input should be a valid number``)."""


class SourceUnavailable(RacedayError):
    """A source that cannot be reached (database down, directory gone)."""

    exit_code = UNAVAILABLE_EXIT_CODE


class StoreUnavailable(RacedayError):
    """The store cannot be reached or migrated."""

    exit_code = UNAVAILABLE_EXIT_CODE


class NothingValid(RacedayError):
    """Validation left nothing usable for the day."""

    exit_code = 4


class BackupUnusable(RacedayError):
    """A backup just written failed its check (SQLite's ``quick_check`` on the copy, a dump
    ``pg_restore`` cannot list): most likely the store itself is damaged. Not a defect in our
    code, and not retried (another copy of a damaged store is as damaged); its own exit code
    (8) so that a nightly backup's failure says what to look at."""

    exit_code = 8


class RunLocked(RacedayError):
    """Another run holds the day's run lock, or a restore is replacing the store: this run (or
    a restore of the store) did nothing (exit 7; 6 is a run that completed with critical
    alerts, :mod:`raceday.run_status`). A refusal, not a failure: the flows' failure hook does
    not alert it."""

    exit_code = 7


class StageDefect(Exception):
    """A defect in our code while a stage ran, raised from the original exception (its
    ``__cause__``) with the stage and, where known, the race it was working on."""

    exit_code = DEFECT_EXIT_CODE

    def __init__(self, stage: str, error: BaseException, race_id: str | None = None) -> None:
        self.stage = stage
        self.race_id = race_id
        self.error = error
        super().__init__(describe_defect(error, stage, race_id))

    def __reduce__(self) -> tuple[object, ...]:  # picklable (Prefect stores failed states)
        return (type(self), (self.stage, self.error, self.race_id))


def first_line(error: BaseException) -> str:
    """``Type: first line of the message`` (``Type`` alone for an empty message)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def describe_defect(error: BaseException, stage: str | None, race_id: str | None = None) -> str:
    """``defect in stage first3f (race 202611204401): KeyError: 'x'`` — one line."""
    where = f" in stage {stage}" if stage else ""
    race = f" (race {race_id})" if race_id else ""
    return f"defect{where}{race}: {first_line(error)}"


# Messages of SQLite's OperationalError that another attempt can outlive (a writer holding the
# file, a disk or mount that is back); the others ("no such table", "syntax error") are defects.
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o", "disk is full", "readonly")
# A store that answers but cannot serve: a damaged SQLite file, a PostgreSQL role without the
# rights it needs. The operator's to mend (a backup restored, a GRANT), not our code's: said as
# the store being unavailable, not as a defect to report.
_STORE_FAULTS = ("malformed", "not a database", "permission denied", "insufficientprivilege")


def _dbapi_unavailable(error: BaseException) -> bool:
    """A database driver's operational error: the server or file could not serve the request."""
    if isinstance(error, sqlite3.OperationalError):
        message = str(error).lower()
        return any(part in message for part in _SQLITE_TRANSIENT)
    # psycopg / psycopg2 (imported only where used): connection lost, server shutting down,
    # deadlock or serialisation failure, lock not available — all OperationalError subclasses
    return any(
        cls.__name__ == "OperationalError" and cls.__module__.split(".")[0].startswith("psycopg")
        for cls in type(error).__mro__
    )


# A PostgreSQL server that answered a connection and refused it for its settings: SQLSTATE
# 3D000 invalid_catalog_name (no such database), 28000 invalid_authorization_specification (no
# such role, no pg_hba.conf entry, a role that may not log in), 28P01 invalid_password. The
# same answer on every attempt: a setting to mend, not an outage. libpq gives no SQLSTATE for a
# refused connection, so its message is read too (the server's English or Japanese lc_messages).
_REFUSED_SETTINGS_SQLSTATES: Final = frozenset({"3D000", "28000", "28P01"})
_REFUSED_SETTINGS_MESSAGES: Final = (
    re.compile(r'database ".*" does not exist'),
    re.compile(r'role ".*" does not exist'),
    re.compile(r"authentication failed for user"),  # password, peer, ident
    re.compile(r"no pg_hba\.conf entry"),
    re.compile(r'role ".*" is not permitted to log in'),
    re.compile(r"fe_sendauth: no password supplied"),
    re.compile(r"データベース.*は存在しません"),
    re.compile(r"ロール.*は存在しません"),
    re.compile(r"パスワード認証に失敗しました"),
)


def refused_for_its_settings(error: BaseException) -> bool:
    """A database connection refused for its settings (a mistyped database name, user or
    password: :data:`_REFUSED_SETTINGS_SQLSTATES`), not because the server is down or busy."""
    orig = getattr(error, "orig", None) or error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _REFUSED_SETTINGS_SQLSTATES:
        return True
    said = str(orig)
    return any(pattern.search(said) for pattern in _REFUSED_SETTINGS_MESSAGES)


def _store_fault(error: BaseException) -> bool:
    """A database error that says the store itself cannot serve (:data:`_STORE_FAULTS`)."""
    orig = getattr(error, "orig", None)
    said = f"{type(orig).__name__} {orig}".lower()
    return any(part in said for part in _STORE_FAULTS)


def is_store_fault(error: BaseException) -> bool:
    """A store that answers but cannot serve (a damaged SQLite file, a role without rights):
    unavailable to the user, but no outage another attempt outlives — the operator mends it."""
    from sqlalchemy import exc as sa_exc

    return (
        isinstance(error, sa_exc.DBAPIError)
        and not isinstance(error, sa_exc.OperationalError)
        and _store_fault(error)
    )


_API_UNREACHED: Final = "Failed to reach API at "  # Prefect's client, its version check


def _orchestrator_unavailable(error: BaseException) -> bool:
    """The Prefect API could not be reached: its HTTP client's transport errors (httpx, named
    here rather than imported), the temporary server not starting in time, or Prefect's own
    "Failed to reach API at URL" (the server of ``PREFECT_API_URL`` down or not answering)."""
    if any(
        cls.__name__ == "TransportError" and cls.__module__.split(".")[0] == "httpx"
        for cls in type(error).__mro__
    ):
        return True
    return type(error) is RuntimeError and str(error).startswith(
        ("Timed out while attempting to connect to ephemeral Prefect API server", _API_UNREACHED)
    )


def failure_kind(error: BaseException) -> FailureKind:
    """Which of the three kinds ``error`` is (see the module docstring)."""
    from sqlalchemy import exc as sa_exc  # here: the CLI's start needs errors, not SQLAlchemy

    if isinstance(error, StageDefect):
        return "defect"
    if isinstance(error, SourceUnavailable | StoreUnavailable):
        return "unavailable"
    if isinstance(error, RacedayError):
        return "input"
    if isinstance(error, OSError):  # refused connections, timeouts (TimeoutError), lost files
        return "unavailable"
    if isinstance(error, sa_exc.DBAPIError):
        if refused_for_its_settings(error):  # a mistyped database, user or password
            return "input"
        if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
            return "unavailable"
        if isinstance(error, sa_exc.OperationalError):
            orig = error.orig
            return "unavailable" if orig is None or _dbapi_unavailable(orig) else "defect"
        return "unavailable" if is_store_fault(error) else "defect"
    if isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError):  # pool exhausted
        return "unavailable"
    if _dbapi_unavailable(error) or _orchestrator_unavailable(error):
        return "unavailable"
    return "defect"


def as_stage_failure(error: BaseException, stage: str, race_id: str | None = None) -> BaseException:
    """``error`` as a stage lets it out: a defect becomes a :class:`StageDefect` naming the stage
    (raise it ``from error``); input and unavailability errors stay as they are."""
    if isinstance(error, StageDefect) or not isinstance(error, Exception):
        return error  # already named by an inner stage; KeyboardInterrupt, SystemExit as is
    if failure_kind(error) != "defect":
        return error
    return StageDefect(stage, error, race_id)


def describe_failure(error: BaseException) -> str:
    """One line saying what kind of failure ``error`` is and what it was (alerts, logs)."""
    kind = failure_kind(error)
    if kind == "defect":
        defect = str(error) if isinstance(error, StageDefect) else describe_defect(error, None)
        return f"{defect} — please report"
    if kind == "unavailable" and not isinstance(error, RacedayError):
        return f"source or store unavailable: {first_line(error)}"
    return first_line(error)
