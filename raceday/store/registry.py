"""The win-model registry: versions stored with their artifact, promoted by a written rule.

A version is named after its family and the last day of data it was trained on
(``gbm-YYYYMMDD``: the horses' win model; ``boat-clogit-YYYYMMDD``: boat racing's). Several
versions may have been promoted over time; the one a race day uses is the latest promoted
version of its family trained strictly before that day (:func:`version_for_day`), so a backfill
of last spring uses the model that existed then, never one trained on the days it predicts.
Every lookup is by family (the name's prefix): a horse day never gets a boat version, nor a boat
day a horse one.

Promotion (:func:`promotion_decision`): a candidate is promoted only when its blend's log loss
on the latest held-out window beats the market's and, when a version is already promoted, that
version's on the same races.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, delete, func, insert, select, update

from raceday import __version__
from raceday.boat.model import MODEL_FAMILY, BoatModel
from raceday.model.win import WinModel
from raceday.store.models import ModelVersion, table_of

MODEL_VERSIONS = table_of(ModelVersion)
SUMMARY_COLUMNS = [
    "name", "trained_until", "created_at", "library", "eval_log_loss", "promoted", "promoted_at",
]  # fmt: skip
HORSE_FAMILY = "gbm"  # the horses' win model (NAR and JRA): raceday.model.win.WinModel
BOAT_FAMILY = MODEL_FAMILY  # boat racing's: raceday.boat.model.BoatModel
FAMILIES = (HORSE_FAMILY, BOAT_FAMILY)


def version_name(until: date, family: str = HORSE_FAMILY) -> str:
    """``gbm-YYYYMMDD``: the family and the last day of training data."""
    return f"{family}-{until:%Y%m%d}"


def family_of(name: str) -> str | None:
    """The family a version's name belongs to (None: no known family)."""
    return next((family for family in FAMILIES if name.startswith(f"{family}-")), None)


def _in_family(family: str) -> ColumnElement[bool]:
    return MODEL_VERSIONS.c.name.startswith(f"{family}-", autoescape=True)


def library_version(family: str = HORSE_FAMILY) -> str:
    """The library an artifact's numbers come from, recorded with it (another one cannot be
    trusted to unpickle it, or to score alike): scikit-learn for the horses' boosted trees,
    numpy for the boat model's coefficients."""
    if family == BOAT_FAMILY:
        import numpy

        return f"numpy {numpy.__version__}"
    import sklearn

    return f"scikit-learn {sklearn.__version__}"


def register_model(
    connection: Connection,
    model: WinModel | BoatModel,
    trained_until: date,
    meta: dict[str, Any],
    eval_log_loss: float | None,
) -> None:
    """Store (or replace) the version ``model.version``, not promoted."""
    family = family_of(model.version)
    if family is None or (family == BOAT_FAMILY) != isinstance(model, BoatModel):
        raise ValueError(f"{model.version!r} is not a {type(model).__name__} version name")
    connection.execute(delete(MODEL_VERSIONS).where(MODEL_VERSIONS.c.name == model.version))
    connection.execute(
        insert(MODEL_VERSIONS).values(
            name=model.version,
            trained_until=trained_until,
            created_at=datetime.now(),
            artifact=model.to_bytes(),
            meta=json.dumps(meta, default=str, sort_keys=True),
            library=library_version(family),
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


def version_for_day(connection: Connection, day: date, family: str = HORSE_FAMILY) -> str | None:
    """The latest promoted version of ``family`` trained strictly before ``day`` (None: none
    yet)."""
    query = (
        select(MODEL_VERSIONS.c.name)
        .where(
            and_(
                _in_family(family),
                MODEL_VERSIONS.c.promoted.is_(True),
                MODEL_VERSIONS.c.trained_until < day,
            )
        )
        .order_by(MODEL_VERSIONS.c.trained_until.desc(), MODEL_VERSIONS.c.promoted_at.desc())
        .limit(1)
    )
    return connection.execute(query).scalar_one_or_none()


def first_promoted(connection: Connection, family: str = HORSE_FAMILY) -> tuple[str, date] | None:
    """The promoted version of ``family`` with the earliest training data and its last day
    (the day before the first it covers); None when none is promoted."""
    query = (
        select(MODEL_VERSIONS.c.name, MODEL_VERSIONS.c.trained_until)
        .where(_in_family(family), MODEL_VERSIONS.c.promoted.is_(True))
        .order_by(MODEL_VERSIONS.c.trained_until, MODEL_VERSIONS.c.promoted_at)
        .limit(1)
    )
    row = connection.execute(query).one_or_none()
    return None if row is None else (str(row.name), pd.Timestamp(row.trained_until).date())


def promoted_version(connection: Connection, family: str = HORSE_FAMILY) -> str | None:
    """The version of ``family`` today's runs use: the latest promoted one."""
    return version_for_day(connection, date.max, family)


def _artifact(connection: Connection, name: str, family: str) -> bytes:
    """The stored artifact of ``name``, a version of ``family``; KeyError when absent or of
    another family, ValueError when stored by another library version (retrain it)."""
    if family_of(name) != family:
        raise KeyError(f"{name!r} is not a {family} model version")
    row = connection.execute(
        select(MODEL_VERSIONS.c.artifact, MODEL_VERSIONS.c.library).where(
            MODEL_VERSIONS.c.name == name
        )
    ).one_or_none()
    if row is None:
        raise KeyError(f"no model version {name!r} in the registry")
    if row.library != library_version(family):
        raise ValueError(
            f"model {name} was stored by {row.library}, this is {library_version(family)}: "
            "retrain it"
        )
    return bytes(row.artifact)


def load_model(connection: Connection, name: str) -> WinModel:
    """The stored horse model ``name``; KeyError when absent (or a boat version), ValueError
    when pickled by another scikit-learn (retrain it)."""
    return WinModel.from_bytes(_artifact(connection, name, HORSE_FAMILY))


def load_boat_model(connection: Connection, name: str) -> BoatModel:
    """The stored boat model ``name``; KeyError when absent (or a horse version), ValueError
    when stored by another numpy (retrain it)."""
    return BoatModel.from_bytes(_artifact(connection, name, BOAT_FAMILY))


def model_meta(connection: Connection, name: str) -> dict[str, Any] | None:
    """The stored metadata of ``name`` (None when absent)."""
    text = connection.execute(
        select(MODEL_VERSIONS.c.meta).where(MODEL_VERSIONS.c.name == name)
    ).scalar_one_or_none()
    return None if text is None else dict(json.loads(text))


def latest_trained_until(
    connection: Connection, upto: date, family: str = HORSE_FAMILY
) -> date | None:
    """The newest ``trained_until`` of any version of ``family`` (promoted or not) on or before
    ``upto``."""
    query = select(func.max(MODEL_VERSIONS.c.trained_until)).where(
        _in_family(family), MODEL_VERSIONS.c.trained_until <= upto
    )
    value = connection.execute(query).scalar_one_or_none()
    return None if value is None else pd.Timestamp(value).date()


def list_versions(connection: Connection, family: str = HORSE_FAMILY) -> pd.DataFrame:
    """Every version of ``family`` (without artifacts), newest training data first."""
    query = (
        select(*(MODEL_VERSIONS.c[column] for column in SUMMARY_COLUMNS))
        .where(_in_family(family))
        .order_by(MODEL_VERSIONS.c.trained_until.desc())
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
    market: str = "the market",
) -> PromotionDecision:
    """Promote a candidate whose blend beats the market and the current version (lower log loss
    on the same held-out races); the first version only needs to beat the market. ``market``
    names the baseline in the reason (the boats': the market, the lane prior where no odds)."""
    if not candidate_log_loss < market_log_loss:
        return PromotionDecision(
            False, f"blend log loss {candidate_log_loss:.5f} does not beat {market}'s "
            f"{market_log_loss:.5f}",
        )  # fmt: skip
    if incumbent is None or incumbent_log_loss is None:
        return PromotionDecision(
            True, f"beats {market} ({candidate_log_loss:.5f} < {market_log_loss:.5f}); "
            "no version promoted before",
        )  # fmt: skip
    if candidate_log_loss < incumbent_log_loss:
        return PromotionDecision(
            True, f"beats {incumbent} ({candidate_log_loss:.5f} < {incumbent_log_loss:.5f}) "
            f"and {market} ({market_log_loss:.5f})",
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


def boat_model_for_day(connection: Connection, race_date: date) -> tuple[BoatModel | None, str]:
    """The boat version promoted before ``race_date`` (or None) and why, in one line."""
    version = version_for_day(connection, race_date, BOAT_FAMILY)
    if version is None:
        return None, f"no boat version promoted before {race_date}"
    try:
        return load_boat_model(connection, version), version
    except (KeyError, ValueError, TypeError) as error:
        return None, f"boat version {version} cannot be loaded ({error})"


@functools.cache
def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the package version; asked once
    per process: the code a process runs is what it imported, and an edit of the checkout
    while it runs (``-dirty`` from then on) does not change it, so every version one run
    trains records the same."""
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
