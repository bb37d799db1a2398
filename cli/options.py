"""The option types the ``raceday`` commands share: the store, the output, the date range."""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL of the store (default: var/raceday.db)")
]
DebugOption = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]
StartOption = Annotated[str, typer.Option("--start", help="first day YYYY-MM-DD")]
EndOption = Annotated[str, typer.Option("--end", help="last day YYYY-MM-DD")]
