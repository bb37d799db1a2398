"""Catalog of what is learned from history and kept by version: reference times (``ref-…``) and
first-3F models (``f3f-…``), each with the history it was learned from."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, delete, insert, select

from raceday.ratings.standards import REFERENCE_COLUMNS
from raceday.store.catalogs.races import runner_history
from raceday.store.models import First3FModelVersion, ReferenceTime, ReferenceVersion, table_of
from raceday.store.repository import insert_rows, read_rows

REFERENCE_TIMES = table_of(ReferenceTime)
REFERENCE_VERSIONS = table_of(ReferenceVersion)
FIRST3F_MODELS = table_of(First3FModelVersion)


# --- reference times --------------------------------------------------------------------------


def read_reference_times(connection: Connection, version: str) -> pd.DataFrame:
    """The reference times of one version (empty when it does not exist)."""
    frame = read_rows(connection, REFERENCE_TIMES, where={"version": version})
    return frame[REFERENCE_COLUMNS].astype({"distance_m": "int64", "n_samples": "int64"})


def write_reference_times(
    connection: Connection,
    version: str,
    references: pd.DataFrame,
    history_start: date | None,
    history_end: date | None,
    n_races: int,
) -> int:
    """Store one version of reference times (replacing that version if it exists)."""
    connection.execute(delete(REFERENCE_TIMES).where(REFERENCE_TIMES.c.version == version))
    connection.execute(delete(REFERENCE_VERSIONS).where(REFERENCE_VERSIONS.c.version == version))
    insert_rows(
        connection,
        REFERENCE_VERSIONS,
        pd.DataFrame(
            [
                {
                    "version": version,
                    "history_start": history_start,
                    "history_end": history_end,
                    "n_races": n_races,
                    "created_at": datetime.now(),
                }
            ]
        ),
    )
    return insert_rows(connection, REFERENCE_TIMES, references.assign(version=version))


def reference_history(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """What reference times are learned from: runner view rows dated ``start``..``end``, in
    key order (:func:`raceday.store.catalogs.races.runner_history`)."""
    return runner_history(connection, start, end)


def read_reference_versions(connection: Connection) -> pd.DataFrame:
    """Every stored version of reference times (what history each was learned from)."""
    return read_rows(connection, REFERENCE_VERSIONS).sort_values("version").reset_index(drop=True)


def reference_times_learned_between(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Every row of the reference-time versions whose history ends ``start``..``end`` (those the
    days after learned from), with ``history_start`` and ``history_end``: reference times have
    no day of their own, what dates them is their history."""
    versions = REFERENCE_VERSIONS.c
    query = select(versions.version, versions.history_start, versions.history_end).where(
        versions.history_end >= start, versions.history_end <= end
    )
    learned = pd.DataFrame(
        connection.execute(query).fetchall(), columns=list(query.selected_columns.keys())
    )
    times = read_rows(connection, REFERENCE_TIMES)
    return times.merge(learned, on="version", how="inner")


# --- first-3F models --------------------------------------------------------------------------


def read_first3f_model(connection: Connection, version: str) -> dict[str, Any] | None:
    """The stored first-3F model row of ``version`` (None when it does not exist)."""
    query = select(FIRST3F_MODELS).where(FIRST3F_MODELS.c.version == version)
    row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


def write_first3f_model(connection: Connection, record: dict[str, Any]) -> None:
    """Store one first-3F model version (replacing that version if it exists)."""
    version = record["version"]
    connection.execute(delete(FIRST3F_MODELS).where(FIRST3F_MODELS.c.version == version))
    connection.execute(insert(FIRST3F_MODELS), [record])


def read_first3f_model_summaries(connection: Connection) -> pd.DataFrame:
    """Every stored first-3F model version without its pickled ML layer."""
    columns = [column for column in FIRST3F_MODELS.c if column.name != "ml_model"]
    result = connection.execute(select(*columns).order_by(FIRST3F_MODELS.c.version))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# --- versions learned from a period -----------------------------------------------------------


def versions_learned_from(connection: Connection, start: date, end: date) -> list[str]:
    """The reference-time and first-3F versions whose history holds a day of ``start``..``end``
    (none while days are run forward: a version learns only from days before its races)."""
    names: set[str] = set()
    for table in (REFERENCE_VERSIONS, FIRST3F_MODELS):
        query = select(table.c.version).where(
            table.c.history_start <= end, table.c.history_end >= start
        )
        names |= set(connection.execute(query).scalars())
    return sorted(names)


def forget_versions(connection: Connection, versions: list[str]) -> None:
    """Delete ``versions`` (reference times and first-3F models): the stage that next needs one
    learns it again from the history as stored now."""
    tables: tuple[Table, ...] = (REFERENCE_TIMES, REFERENCE_VERSIONS, FIRST3F_MODELS)
    for table in tables:
        connection.execute(delete(table).where(table.c.version.in_(versions)))


def history_fingerprint(connection: Connection, start: date, end: date) -> str:
    """A digest of what a version learns from ``start``..``end`` (:func:`runner_history`): it
    changes when a run stores other races, runners or results for those days."""
    view = runner_history(connection, start, end)
    hashed = pd.util.hash_pandas_object(view, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(view.columns).encode()).hexdigest()
