"""Catalog of what is derived per runner and day: first-3F estimates, indexes, track variants
and the model's features (with the settled runs and people counts they are built from)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    delete,
    false,
    func,
    or_,
    select,
)

from raceday.ratings.features import (
    CARD_COLUMNS,
    HISTORY_COLUMNS,
    PEOPLE_ROLES,
    RUN_WITHOUT_FINISH_CODES,
    BuiltFeatures,
)
from raceday.store.catalogs.races import RACES, RUNNER_KEY, RUNNERS, RunnerWindow
from raceday.store.models import FEATURES_TABLE, First3F, RunnerIndex, TrackVariant, table_of
from raceday.store.repository import fetch_frame, insert_rows, read_rows, replace_rows

FIRST3F = table_of(First3F)
INDEXES = table_of(RunnerIndex)
TRACK_VARIANTS = table_of(TrackVariant)

_FEATURE_WRITE_CHUNK = 20_000  # rows per executemany: bounded memory on year-long backfills


def write_by_runner(connection: Connection, table_name: str, frame: pd.DataFrame) -> int:
    """Store a per-runner derived frame (first3f, indexes) by its natural key."""
    table = {"first3f": FIRST3F, "indexes": INDEXES}[table_name]
    return replace_rows(connection, table, frame, RUNNER_KEY)


def read_indexes(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Stored indexes dated ``start``..``end``."""
    return read_rows(connection, INDEXES, start=start, end=end)


def write_track_variants(connection: Connection, variants: pd.DataFrame) -> int:
    """Store track variants by (race_date, keibajo_code, surface)."""
    return replace_rows(
        connection, TRACK_VARIANTS, variants, ["race_date", "keibajo_code", "surface"]
    )


# --- the runs features are built from ---------------------------------------------------------


def _runs_query() -> Select[Any]:
    """Runner rows with their race's columns and their indexes (runs without indexes kept)."""
    race_columns = {"distance_m", "class_code", "going_code", "field_size", "entries"}
    index_columns = {"speed_index", "ten_index", "agari_index", "composite_index"}
    wanted = dict.fromkeys([*HISTORY_COLUMNS, *CARD_COLUMNS])
    selected = [
        RACES.c[name] if name in race_columns
        else INDEXES.c[name] if name in index_columns
        else RUNNERS.c[name]
        for name in wanted
    ]  # fmt: skip
    return (
        select(*selected, RACES.c.has_results)
        .select_from(RUNNERS)
        .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
        .outerjoin(
            INDEXES,
            and_(INDEXES.c.race_id == RUNNERS.c.race_id, INDEXES.c.umaban == RUNNERS.c.umaban),
        )
    )


def _frame(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    frame = fetch_frame(connection, query)  # driver values: dates as text on SQLite
    for column in query.selected_columns:
        values = frame[column.name]
        if isinstance(column.type, Boolean):
            frame[column.name] = values.astype("boolean")
        elif isinstance(column.type, Float):
            frame[column.name] = pd.to_numeric(values).astype("float64")
        elif isinstance(column.type, Integer):
            frame[column.name] = pd.to_numeric(values).astype("Int64")
        elif isinstance(column.type, String):
            frame[column.name] = values.astype("string")
    frame["race_date"] = pd.to_datetime(frame["race_date"]).astype("datetime64[ns]")
    return frame


def read_feature_history(
    connection: Connection, before: date, horse_ids: Iterable[str]
) -> pd.DataFrame:
    """Every settled run of ``horse_ids`` dated before ``before`` (with its indexes)."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date < before)
    ids = sorted(set(horse_ids))
    frames = [
        _frame(
            connection,
            _runs_query().where(settled, RUNNERS.c.horse_id.in_(ids[first : first + 500])),
        )
        for first in range(0, len(ids), 500)
    ]
    if not frames:
        return _frame(connection, _runs_query().where(false()))
    return pd.concat(frames, ignore_index=True)


def read_people_window(connection: Connection, start: date, before: date) -> pd.DataFrame:
    """Runs and wins per jockey and per trainer over the settled days ``start`` up to
    ``before``, as one row per person dated ``start`` (the shape of
    :func:`raceday.ratings.features.people_daily_counts`, summed: exact for cards dated
    ``before``)."""
    is_run = or_(
        RUNNERS.c.finish_pos.is_not(None), RUNNERS.c.abnormal_code.in_(RUN_WITHOUT_FINISH_CODES)
    )
    frames = []
    for role in PEOPLE_ROLES:
        person = RUNNERS.c[role]
        query = (
            select(
                person.label("person_id"),
                func.count().label("runs"),
                func.sum(case((RUNNERS.c.finish_pos == 1, 1), else_=0)).label("wins"),
            )
            .select_from(RUNNERS)
            .join(RACES, RACES.c.race_id == RUNNERS.c.race_id)
            .where(
                RACES.c.has_results.is_(True),
                RUNNERS.c.race_date >= start,
                RUNNERS.c.race_date < before,
                is_run,
                person.is_not(None),
                func.trim(person) != "",
            )
            .group_by(person)
        )
        result = connection.execute(query)
        frames.append(
            pd.DataFrame.from_records(
                [tuple(row) for row in result], columns=["person_id", "runs", "wins"]
            ).assign(role=role, race_date=pd.Timestamp(start))
        )
    out = pd.concat(frames, ignore_index=True)
    return out.astype(
        {"person_id": "string", "runs": "int64", "wins": "int64", "race_date": "datetime64[ns]"}
    )[["role", "person_id", "race_date", "runs", "wins"]]


def read_settled_runs(connection: Connection, end: date, after: date | None = None) -> pd.DataFrame:
    """Every settled run dated up to ``end`` (and after ``after``), with its indexes."""
    settled = and_(RACES.c.has_results.is_(True), RUNNERS.c.race_date <= end)
    if after is not None:
        settled = and_(settled, RUNNERS.c.race_date > after)
    return _frame(connection, _runs_query().where(settled))


def read_runs_and_cards(
    connection: Connection, start: date, end: date, history: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every settled run up to ``end`` (history) and every stored runner ``start``..``end``.

    ``history``: the settled runs up to ``end`` when the caller holds them already (not read).
    """
    if history is None:
        history = read_settled_runs(connection, end)
    in_range = history["race_date"].between(pd.Timestamp(start), pd.Timestamp(end))
    unsettled = _frame(
        connection,
        _runs_query().where(
            RACES.c.has_results.is_(False),
            RUNNERS.c.race_date >= start,
            RUNNERS.c.race_date <= end,
        ),
    )
    cards = pd.concat([history[in_range], unsettled], ignore_index=True)
    return history, cards


# --- features ---------------------------------------------------------------------------------


def write_features(
    connection: Connection, features: pd.DataFrame, feature_set: str, start: date, end: date
) -> int:
    """Replace the features of ``feature_set`` dated ``start``..``end`` with ``features``."""
    connection.execute(
        delete(FEATURES_TABLE).where(
            and_(
                FEATURES_TABLE.c.feature_set == feature_set,
                FEATURES_TABLE.c.race_date >= start,
                FEATURES_TABLE.c.race_date <= end,
            )
        )
    )
    rows = features.assign(feature_set=feature_set)
    written = 0
    for first in range(0, len(rows), _FEATURE_WRITE_CHUNK):
        written += insert_rows(
            connection, FEATURES_TABLE, rows.iloc[first : first + _FEATURE_WRITE_CHUNK]
        )
    return written


def read_features(
    connection: Connection, start: date, end: date, feature_set: str | None = None
) -> pd.DataFrame:
    """Stored features dated ``start``..``end`` (optionally of one feature set)."""
    where = {"feature_set": feature_set} if feature_set else None
    return read_rows(connection, FEATURES_TABLE, start=start, end=end, where=where)


@dataclass
class SettledRuns:
    """The settled runs (with their indexes) read so far, for a process that settles days in
    date order and reads the history after each step (a backfill: every chunk's features and
    every training). Each read fetches only the days settled since the last one, so it is valid
    only while no day it holds is rewritten — one backfill run, which writes each chunk's days
    before it reads them and never an earlier day."""

    frame: pd.DataFrame | None = None
    through: date | None = None
    # The runner rows reference times and the first-3F model learn from, held the same way.
    reference_window: RunnerWindow = field(default_factory=RunnerWindow)
    # The features built from these runs (each chunk's): a training takes its window's from
    # here. Nothing is kept unless the holder says how many days (``for_training``).
    built: BuiltFeatures = field(default_factory=BuiltFeatures)

    @classmethod
    def for_training(cls, window_days: int) -> SettledRuns:
        """Settled runs that keep the features built for the last ``window_days`` days (a
        backfill that trains on windows of that many days)."""
        return cls(built=BuiltFeatures(keep_days=window_days))

    def up_to(self, connection: Connection, end: date) -> pd.DataFrame:
        """Every settled run dated up to ``end`` (reading the days after ``through``)."""
        if self.frame is None or self.through is None or end > self.through:
            new = read_settled_runs(connection, end, after=self.through)
            self.frame = new if self.frame is None else pd.concat([self.frame, new])
            self.frame = self.frame.reset_index(drop=True)
            self.through = end
        if end == self.through:
            return self.frame
        return self.frame[self.frame["race_date"] <= pd.Timestamp(end)].reset_index(drop=True)


def runs_and_cards(
    connection: Connection, start: date, end: date, settled: SettledRuns | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The settled runs up to ``end`` and the stored runners ``start``..``end``
    (:func:`read_runs_and_cards`), the runs from ``settled``
    when given."""
    history = settled.up_to(connection, end) if settled is not None else None
    return read_runs_and_cards(connection, start, end, history)
