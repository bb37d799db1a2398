"""Console presentation of Prefect's logs for the CLI: one line per failure, no tracebacks.

Tracebacks still reach the Prefect API (the UI's flow-run logs); only the terminal is spared.
"""

from __future__ import annotations

import logging

from prefect.logging.configuration import setup_logging


class _NoTracebacks(logging.Filter):
    """Drops exception details from records shown on the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        if isinstance(record.msg, str) and "\nTraceback" in record.msg:
            record.msg = record.msg.split("\nTraceback", 1)[0]
        return True


def hide_console_tracebacks() -> None:
    """Configure Prefect's logging now and keep tracebacks off its console handler."""
    setup_logging()
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler" and not any(
            isinstance(existing, _NoTracebacks) for existing in handler.filters
        ):
            handler.addFilter(_NoTracebacks())
