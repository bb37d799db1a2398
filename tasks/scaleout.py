"""Stages of a backfill scaled out over a work pool (``flows/scaleout.py``): what a wave or the
ordered pass reads back from the store that a sequential chunk holds in memory.

A wave runs in a worker's process, the ordered pass in the backfill's: nothing but the store
passes between them. Each read is bounded by the chunk's dates, so a wave that runs after
later chunks were stored still sees only what a sequential chunk would have seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, func, select

from config import Settings
from data_checks.validate import ValidatedDay
from raceday.errors import NothingValid
from raceday.pipeline import runner_view
from raceday.ratings.features import feature_set_name
from raceday.run_status import DayRefusal
from raceday.sources.base import RawDay
from raceday.store.catalogs.races import RACES, RUNNERS, read_races, read_runners
from raceday.store.catalogs.ratings import SettledRuns, read_features
from raceday.store.catalogs.runs import REFUSAL_STAGE, refusal_messages, replace_refusals
from tasks.common import engine_for, logger, stage, stage_run, stage_run_row
from tasks.validate import validated_phase, with_betting_odds


@stage("stored-results")
def stored_results(settings: Settings, start: date, end: date) -> pd.DataFrame:
    """The settled runners dated ``start``..``end`` as stored (with their race's columns): what
    the results validation of the chunk stored, for the chunk's derivations."""
    with stage_run(settings, "stored_results", end) as record:
        with engine_for(settings).connect() as connection:
            races = read_races(connection, start, end)
            runners = read_runners(connection, start, end)
        races = races[races["has_results"].fillna(False).astype(bool)]
        view = runner_view(races, runners).reset_index(drop=True)
        record.rows_out = len(view)
    return view


@stage("replay-card", run_name="validate-card")
def replay_card(settings: Settings, raw: RawDay, start: date, end: date) -> ValidatedDay:
    """The chunk's card validated again as its wave stored it, with its bet-time odds: the
    card the ordered pass predicts and stakes (nothing written; the wave wrote it)."""
    with stage_run(settings, "validate_card", end) as record:
        card = with_betting_odds(raw, validated_phase(settings, raw, "card"))
        record.rows_in, record.rows_out = len(raw.nvd_se), len(card.runners)
        record.message = f"{start}..{end} (stored by its wave)"
    return card


@stage("stored-features")
def stored_features(
    settings: Settings, start: date, end: date, settled: SettledRuns | None = None
) -> pd.DataFrame:
    """The point-in-time features of the runners dated ``start``..``end`` as their wave stored
    them; ``settled`` (the backfill's settled runs, for its trainings) is extended to ``end``
    as a sequential chunk's features stage extends it."""
    feature_set = feature_set_name(settings.features.people_window_days)
    with stage_run(settings, "stored_features", end) as record:
        with engine_for(settings).connect() as connection:
            features = read_features(connection, start, end, feature_set)
            if settled is not None:
                settled.extend(connection, end)
        record.rows_out = len(features)
        record.message = f"{feature_set} {start}..{end}"
    logger().info("features %s %s..%s: %d runners stored", feature_set, start, end, len(features))
    return features


def settled_counts(settings: Settings, start: date, end: date) -> tuple[int, int]:
    """Settled races and their runners stored dated ``start``..``end``."""
    query = (
        select(func.count(func.distinct(RACES.c.race_id)), func.count())
        .select_from(RUNNERS)
        .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
        .where(and_(RACES.c.race_date >= start, RACES.c.race_date <= end, RACES.c.has_results))
    )
    with engine_for(settings).connect() as connection:
        races, runners = connection.execute(query).one()
    return int(races), int(runners)


def record_refusals(
    settings: Settings,
    start: date,
    end: date,
    refused: Sequence[DayRefusal],
    whole: NothingValid | None = None,
) -> None:
    """The days of ``start``..``end`` the store wave refused for their input, for the ordered
    pass (:func:`recorded_refusals`): a ``pipeline_runs`` row each, its refusal as its summary
    entry; ``whole``: the chunk refused as a range (rows of no day and nothing valid left), a
    row dated ``start`` with its line; those recorded before for these days (a day mended
    since) replaced."""
    now = datetime.now()
    rows = [
        {
            **stage_run_row(REFUSAL_STAGE, refusal.day, "refused", now),
            "message": json.dumps(refusal.as_summary(), ensure_ascii=False),
        }
        for refusal in refused
    ]
    if whole is not None:
        chunk = {"start": start.isoformat(), "end": end.isoformat(), "reason": str(whole)}
        rows.append(
            {
                **stage_run_row(REFUSAL_STAGE, start, "refused", now),
                "message": json.dumps(chunk, ensure_ascii=False),
            }
        )
    with engine_for(settings).begin() as connection:
        replace_refusals(connection, start, end, pd.DataFrame(rows))


def recorded_refusals(settings: Settings, start: date, end: date) -> tuple[DayRefusal, ...]:
    """The days of ``start``..``end`` the store wave refused (:func:`record_refusals`), by day;
    a chunk it refused as a range raises its :class:`NothingValid` here, in the ordered pass,
    where the in-process backfill raises it (the same line, exit 4: its wave run failed, and
    the backfill with it, as a wave that did not complete, exit 5)."""
    with engine_for(settings).connect() as connection:
        messages = refusal_messages(connection, start, end)
    entries = [json.loads(message) for message in messages]
    for entry in entries:
        if "start" in entry:
            raise NothingValid(str(entry["reason"]))
    return tuple(DayRefusal.from_summary(entry) for entry in entries)
