"""Console presentation of Prefect's logs for the CLI: one line per failure, no tracebacks, and
no line the command says itself.

Tracebacks and every line still reach the Prefect API (the UI's flow-run logs); only the
terminal is spared.
"""

from __future__ import annotations

import logging

from prefect.logging.configuration import setup_logging

from tasks.common import OFF_TERMINAL


class _NoTracebacks(logging.Filter):
    """Drops exception details from records shown on the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if isinstance(record.msg, str) and "\nTraceback" in record.msg:
            record.msg = record.msg.split("\nTraceback", 1)[0]
        return True


class _SaidByTheCommand(logging.Filter):
    """Drops the records the command says on its terminal itself (:data:`OFF_TERMINAL`: a
    backfill's refused days, said once beside its summary)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, OFF_TERMINAL, False)


def prepare_console(debug: bool) -> None:
    """Configure Prefect's logging now and keep off its console handler the lines the command
    says itself and, unless ``debug``, tracebacks."""
    setup_logging()
    filters: list[type[logging.Filter]] = [_SaidByTheCommand]
    if not debug:
        filters.append(_NoTracebacks)
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ != "PrefectConsoleHandler":
            continue
        for kind in filters:
            if not any(isinstance(existing, kind) for existing in handler.filters):
                handler.addFilter(kind())
