"""The win-model registry: versions stored with their artifact, promoted by a written rule.

A version is named after the last day of data it was trained on (``gbm-YYYYMMDD``). Several
versions may have been promoted over time; the one a race day uses is the latest promoted
version trained strictly before that day (:func:`version_for_day`), so a backfill of last
spring uses the model that existed then, never one trained on the days it predicts.

Promotion (:func:`promotion_decision`): a candidate is promoted only when its blend's log loss
on the latest held-out window beats the market's and, when a version is already promoted, that
version's on the same races.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from raceday import __version__
from raceday.model.win import WinModel
from raceday.store.models import ModelVersion, table_of

MODEL_VERSIONS = table_of(ModelVersion)
SUMMARY_COLUMNS = [
    "name", "trained_until", "created_at", "library", "eval_log_loss", "promoted", "promoted_at",
]  # fmt: skip


def version_name(until: date, family: str = "gbm") -> str:
    """``gbm-YYYYMMDD``: the family and the last day of training data."""
    return f"{family}-{until:%Y%m%d}"


def library_version() -> str:
    """The library that pickled an artifact (another one cannot be trusted to unpickle it)."""
    import sklearn

    return f"scikit-learn {sklearn.__version__}"


def register_model(
    connection: Connection,
    model: WinModel,
    trained_until: date,
    meta: dict[str, Any],
    eval_log_loss: float | None,
) -> None:
    """Store (or replace) the version ``model.version``, not promoted."""
    connection.execute(delete(MODEL_VERSIONS).where(MODEL_VERSIONS.c.name == model.version))
    connection.execute(
        insert(MODEL_VERSIONS).values(
            name=model.version,
            trained_until=trained_until,
            created_at=datetime.now(),
            artifact=model.to_bytes(),
            meta=json.dumps(meta, default=str, sort_keys=True),
            library=library_version(),
            eval_log_loss=eval_log_loss,
            promoted=False,
            promoted_at=None,
        )
    )


def promote(connection: Connection, name: str) -> None:
    """Mark ``name`` promoted (from now on, race days after its training data use it)."""
    result = connection.execute(
        update(MODEL_VERSIONS)
        .where(MODEL_VERSIONS.c.name == name)
        .values(promoted=True, promoted_at=datetime.now())
    )
    if result.rowcount == 0:
        raise KeyError(f"no model version {name!r} in the registry")


def version_for_day(connection: Connection, day: date) -> str | None:
    """The latest promoted version trained strictly before ``day`` (None: none yet)."""
    query = (
        select(MODEL_VERSIONS.c.name)
        .where(and_(MODEL_VERSIONS.c.promoted.is_(True), MODEL_VERSIONS.c.trained_until < day))
        .order_by(MODEL_VERSIONS.c.trained_until.desc(), MODEL_VERSIONS.c.promoted_at.desc())
        .limit(1)
    )
    return connection.execute(query).scalar_one_or_none()


def promoted_version(connection: Connection) -> str | None:
    """The version today's runs use: the latest promoted one."""
    return version_for_day(connection, date.max)


def load_model(connection: Connection, name: str) -> WinModel:
    """The stored model ``name``; KeyError when absent, ValueError when pickled by another
    scikit-learn (retrain it)."""
    row = connection.execute(
        select(MODEL_VERSIONS.c.artifact, MODEL_VERSIONS.c.library).where(
            MODEL_VERSIONS.c.name == name
        )
    ).one_or_none()
    if row is None:
        raise KeyError(f"no model version {name!r} in the registry")
    if row.library != library_version():
        raise ValueError(
            f"model {name} was stored by {row.library}, this is {library_version()}: retrain it"
        )
    return WinModel.from_bytes(bytes(row.artifact))


def model_meta(connection: Connection, name: str) -> dict[str, Any] | None:
    """The stored metadata of ``name`` (None when absent)."""
    text = connection.execute(
        select(MODEL_VERSIONS.c.meta).where(MODEL_VERSIONS.c.name == name)
    ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))


def latest_trained_until(connection: Connection, upto: date) -> date | None:
    """The newest ``trained_until`` of any version (promoted or not) on or before ``upto``."""
    query = select(func.max(MODEL_VERSIONS.c.trained_until)).where(
        MODEL_VERSIONS.c.trained_until <= upto
    )
    value = connection.execute(query).scalar_one_or_none()
    return None if value is None else pd.Timestamp(value).date()


def list_versions(connection: Connection) -> pd.DataFrame:
    """Every version (without artifacts), newest training data first."""
    query = select(*(MODEL_VERSIONS.c[column] for column in SUMMARY_COLUMNS)).order_by(
        MODEL_VERSIONS.c.trained_until.desc()
    )
    return pd.DataFrame(connection.execute(query).all(), columns=SUMMARY_COLUMNS)


@dataclass(frozen=True)
class PromotionDecision:
    """Whether a candidate is promoted, and why (one line)."""

    promote: bool
    reason: str


def promotion_decision(
    candidate_log_loss: float,
    market_log_loss: float,
    incumbent: str | None = None,
    incumbent_log_loss: float | None = None,
) -> PromotionDecision:
    """Promote a candidate whose blend beats the market and the current version (lower log loss
    on the same held-out races); the first version only needs to beat the market."""
    if not candidate_log_loss < market_log_loss:
        return PromotionDecision(
            False, f"blend log loss {candidate_log_loss:.5f} does not beat the market's "
            f"{market_log_loss:.5f}",
        )  # fmt: skip
    if incumbent is None or incumbent_log_loss is None:
        return PromotionDecision(
            True, f"beats the market ({candidate_log_loss:.5f} < {market_log_loss:.5f}); "
            "no version promoted before",
        )  # fmt: skip
    if candidate_log_loss < incumbent_log_loss:
        return PromotionDecision(
            True, f"beats {incumbent} ({candidate_log_loss:.5f} < {incumbent_log_loss:.5f}) "
            f"and the market ({market_log_loss:.5f})",
        )  # fmt: skip
    return PromotionDecision(
        False, f"does not beat {incumbent} ({candidate_log_loss:.5f} >= "
        f"{incumbent_log_loss:.5f})",
    )  # fmt: skip


def model_for_day(connection: Connection, race_date: date) -> tuple[WinModel | None, str]:
    """The model promoted for ``race_date`` (or None) and why, in one line."""
    version = version_for_day(connection, race_date)
    if version is None:
        return None, f"no model promoted before {race_date}"
    try:
        return load_model(connection, version), version
    except (KeyError, ValueError, TypeError) as error:
        return None, f"model {version} cannot be loaded ({error})"


def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the package version."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    return f"raceday {__version__}" + (f" ({described})" if described else "")
