"""Errors a user can cause: the CLI prints their message as one line and exits non-zero."""

from __future__ import annotations


class RacedayError(Exception):
    """Base of every error that carries a message meant for the user."""

    exit_code = 2


class InputError(RacedayError):
    """Input that cannot be used as given (bad date, missing directory, unreadable file)."""


class SourceUnavailable(RacedayError):
    """A source that cannot be reached (database down, directory gone)."""

    exit_code = 3


class StoreUnavailable(RacedayError):
    """The store cannot be reached or migrated."""

    exit_code = 3


class NothingValid(RacedayError):
    """Validation left nothing usable for the day."""

    exit_code = 4


class RunLocked(RacedayError):
    """Another run of the same day holds the day's run lock: this run did nothing."""

    exit_code = 5
