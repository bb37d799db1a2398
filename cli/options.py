"""The option types the ``raceday`` commands share: the store, the output, the date range, the
sport (and its one check)."""

from __future__ import annotations

from typing import Annotated, Final

import typer

from raceday.errors import InputError

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL of the store (default: var/raceday.db)")
]
DebugOption = Annotated[bool, typer.Option("--debug", help="show tracebacks")]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object")]
StartOption = Annotated[str, typer.Option("--start", help="first day YYYY-MM-DD")]
EndOption = Annotated[str, typer.Option("--end", help="last day YYYY-MM-DD")]

SPORTS: Final = ("nar", "jra", "boat")
SportOption = Annotated[
    str,
    typer.Option(
        "--sport", help="nar or jra (horse racing, one pipeline), or boat (競艇: B/K day files)"
    ),
]


def known_sport(sport: str) -> str:
    """``sport`` when it is one of :data:`SPORTS`; else one clear line (exit 2 under the
    commands' guard)."""
    if sport not in SPORTS:
        raise InputError(f"--sport must be nar, jra or boat, not {sport!r}")
    return sport
