"""Parameters learned from history and kept by version: reference times and first-3F models.

A version is named after the last day of history it was learned from (``ref-YYYYMMDD``,
``f3f-YYYYMMDD``): estimating day D uses the versions learned up to the day before, so a day
can be recomputed exactly, and a refresh replaces one version without touching others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection

from raceday.first3f.layers import First3FModel
from raceday.first3f.model import (
    FitOptions,
    first3f_model_version,
    fit_first3f_model,
    model_from_record,
    model_to_record,
)
from raceday.ratings.standards import learn_reference_times, reference_version
from raceday.store.catalogs.learned_versions import (
    forget_versions,
    history_fingerprint,
    read_first3f_model,
    reference_history,
    versions_learned_from,
    write_first3f_model,
    write_reference_times,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnedVersion:
    """What a refresh learned: versions, history and sizes."""

    reference_version: str
    model_version: str
    history_start: date
    history_end: date
    races: int
    reference_cells: int
    model: First3FModel


def first3f_model_for(
    connection: Connection,
    references: pd.DataFrame,
    history_start: date,
    history_end: date,
    options: FitOptions,
    history: pd.DataFrame | None = None,
    fitted: First3FModel | None = None,
) -> First3FModel:
    """The stored first-3F model learned up to ``history_end``; fitted and stored when missing
    (from ``history``, the window's runner rows, when the caller holds them; else read), or
    ``fitted`` stored, when the caller fitted that version already from the same window and
    ``references`` (beside other stages: :func:`tasks.derive.learn_beside`).

    A stored model whose ML layer was pickled by another scikit-learn version is refitted.
    """
    version = first3f_model_version(history_end)
    stored = read_first3f_model(connection, version)
    model = model_from_record(stored) if stored is not None else None
    if model is not None:
        return model
    if fitted is not None and fitted.version == version:
        model = fitted
        logger.info("first-3F model %s fitted beside the chunk's validation", version)
    else:
        if history is None:
            history = reference_history(connection, history_start, history_end)
        model = fit_first3f_model(history, references, version, options)
        logger.info("fitted first-3F model %s on %d runners", version, len(history))
    write_first3f_model(
        connection,
        model_to_record(model, reference_version(history_end), history_start, history_end),
    )
    return model


def refresh_learned(
    connection: Connection, history_start: date, history_end: date, options: FitOptions
) -> LearnedVersion:
    """Learn reference times and the first-3F model from ``history_start..history_end`` again,
    replacing the versions of ``history_end`` (one transaction: the caller's)."""
    history = reference_history(connection, history_start, history_end)
    references = learn_reference_times(history)
    ref_version = reference_version(history_end)
    races = int(history["race_id"].nunique()) if not history.empty else 0
    write_reference_times(connection, ref_version, references, history_start, history_end, races)
    model = fit_first3f_model(history, references, first3f_model_version(history_end), options)
    write_first3f_model(connection, model_to_record(model, ref_version, history_start, history_end))
    return LearnedVersion(
        reference_version=ref_version,
        model_version=model.version,
        history_start=history_start,
        history_end=history_end,
        races=races,
        reference_cells=len(references),
        model=model,
    )


@dataclass(frozen=True)
class LearnedFrom:
    """The versions learned from days a run is about to rewrite, with a digest of what they
    learned from (:func:`before`). A run that changes those days (a venue read again after an
    outage, results that were still to come, results taken back) leaves them stale: they are
    forgotten (:meth:`forget_if_changed`) and learned again when a stage next needs them. Days
    run forward have none (a version learns only from days before its races): then nothing
    is read."""

    start: date
    end: date
    versions: list[str]
    fingerprint: str | None

    @classmethod
    def before(cls, connection: Connection, start: date, end: date) -> LearnedFrom:
        versions = versions_learned_from(connection, start, end)
        fingerprint = history_fingerprint(connection, start, end) if versions else None
        return cls(start, end, versions, fingerprint)

    def forget_if_changed(self, connection: Connection) -> list[str]:
        """The versions forgotten: all of them when the days changed since :meth:`before`."""
        if not self.versions:
            return []
        if history_fingerprint(connection, self.start, self.end) == self.fingerprint:
            return []
        forget_versions(connection, self.versions)
        return self.versions
