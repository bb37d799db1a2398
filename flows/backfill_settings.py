"""A backfill's settings: the daily run's, with Data Docs off and the cards' odds moment chosen.

One place for the backfill's own process (:mod:`flows.backfill`) and its waves on a work pool's
workers (:mod:`flows.scaleout`), which load them from their own environment.
"""

from __future__ import annotations

from config import Settings, load_settings
from raceday.errors import InputError
from raceday.sources.timeline import ODDS_AT


def without_data_docs(settings: Settings) -> Settings:
    """A backfill validates and stores its results and quarantine like a daily run but does not
    rebuild the Data Docs site (0.5-2 s per validation, most of a small chunk's time)."""
    validation = settings.validation.model_copy(update={"data_docs": False})
    return settings.model_copy(update={"validation": validation})


def with_odds_at(settings: Settings, odds_at: str | None) -> Settings:
    """``settings`` whose cards are read at ``odds_at`` (unchanged when None)."""
    if odds_at is None:
        return settings
    if odds_at not in ODDS_AT:
        raise InputError(f"--odds-at must be one of {', '.join(ODDS_AT)}, not {odds_at!r}")
    live = settings.live.model_copy(update={"odds_at": odds_at})
    return settings.model_copy(update={"live": live})


def backfill_settings(races: int | None, source: str | None, odds_at: str | None) -> Settings:
    """The settings a backfill runs on: this process's environment (its store), ``races`` and
    ``source`` when given, Data Docs off, the cards read at ``odds_at``."""
    return with_odds_at(without_data_docs(load_settings(races=races, source=source)), odds_at)
