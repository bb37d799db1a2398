"""Boat versions in the model registry (SQLite and PostgreSQL): a family of their own, so a
horse day never gets a boat version nor a boat day a horse one; the artifact round-trips with
its library recorded; a boat day only ever gets a version trained strictly before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import update

from raceday.boat.features import DESIGN_COLUMNS
from raceday.boat.history import training_rows
from raceday.boat.model import BoatModel, predict_boats
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days
from raceday.model.condlogit import BlendParameters
from raceday.model.win import ScorerOptions, WinModel, fit_win_model, time_split
from raceday.store import registry
from raceday.store.engine import make_engine, upgrade_schema
from tasks.boat_train import model_of_day
from tests.unit.test_model import synthetic_runners

DAY = date(2026, 4, 10)
MORNING = time(9, 0)


@pytest.fixture(scope="module")
def horse_model() -> WinModel:
    runners = synthetic_runners(400, 4, date(2026, 1, 1))
    split = time_split(date(2026, 1, 1) + timedelta(days=39), 14, 13, 13)
    return fit_win_model(runners, split, "gbm-20260209", ScorerOptions(max_iter=5)).model


@pytest.fixture(scope="module")
def boat_days() -> dict[str, pd.DataFrame]:
    days = simulate_boat_days(DAY - timedelta(days=3), DAY, BoatSimulatorConfig(venues_per_day=2,
                              seed=3))  # fmt: skip
    dated = {
        name: frame.assign(race_date=pd.to_datetime(frame["race_id"].str[:8], format="%Y%m%d"))
        for name, frame in (("entries", days.entries), ("results", days.results))
    }
    return {**dated, "odds": days.odds}


def boat_model(until: date, weight: float = 1.0) -> BoatModel:
    coefficients = tuple(weight if name == "log_prior" else 0.1 for name in DESIGN_COLUMNS)
    return BoatModel(registry.version_name(until, registry.BOAT_FAMILY), coefficients,
                     BlendParameters(0.8, 0.2, 150), None, 300)  # fmt: skip


def horse_named(model: WinModel, until: date) -> WinModel:
    return WinModel(registry.version_name(until), model.scorer, model.kappa, model.blend,
                    model.inputs)  # fmt: skip


def test_horse_and_boat_lookups_never_cross(store_url: str, horse_model: WinModel) -> None:
    """Both families promoted on interleaved days: each lookup answers from its own family
    only, both ways; a name of the other family is refused by the loaders."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        for until, model in (
            (DAY - timedelta(days=9), horse_named(horse_model, DAY - timedelta(days=9))),
            (DAY - timedelta(days=5), boat_model(DAY - timedelta(days=5))),
            (DAY - timedelta(days=2), horse_named(horse_model, DAY - timedelta(days=2))),
            (DAY - timedelta(days=1), boat_model(DAY - timedelta(days=1))),
        ):
            registry.register_model(connection, model, until, {"split": {}}, 1.2)
            registry.promote(connection, model.version)
        with pytest.raises(ValueError):  # a boat model under a horse name
            registry.register_model(connection, replace(boat_model(DAY), version="gbm-20260410"),
                                    DAY, {}, None)  # fmt: skip
    with engine.connect() as connection:
        assert registry.version_for_day(connection, DAY) == "gbm-20260408"
        assert registry.version_for_day(connection, DAY, registry.BOAT_FAMILY) == (
            "boat-clogit-20260409"
        )
        assert registry.version_for_day(connection, DAY - timedelta(days=3)) == "gbm-20260401"
        assert registry.version_for_day(connection, DAY - timedelta(days=8),
                                        registry.BOAT_FAMILY) is None  # fmt: skip
        assert registry.promoted_version(connection) == "gbm-20260408"
        assert registry.promoted_version(connection, registry.BOAT_FAMILY) == (
            "boat-clogit-20260409"
        )
        assert registry.latest_trained_until(connection, DAY) == DAY - timedelta(days=2)
        assert registry.latest_trained_until(connection, DAY, registry.BOAT_FAMILY) == (
            DAY - timedelta(days=1)
        )
        assert list(registry.list_versions(connection)["name"]) == [
            "gbm-20260408", "gbm-20260401",
        ]  # fmt: skip
        assert list(registry.list_versions(connection, registry.BOAT_FAMILY)["name"]) == [
            "boat-clogit-20260409", "boat-clogit-20260405",
        ]  # fmt: skip
        horse, why = registry.model_for_day(connection, DAY)
        assert horse is not None and why == "gbm-20260408"
        boat, why = registry.boat_model_for_day(connection, DAY)
        assert boat == boat_model(DAY - timedelta(days=1)) and why == "boat-clogit-20260409"
        with pytest.raises(KeyError, match="not a gbm model version"):
            registry.load_model(connection, "boat-clogit-20260409")
        with pytest.raises(KeyError, match="not a boat-clogit model version"):
            registry.load_boat_model(connection, "gbm-20260408")
        libraries = dict(
            registry.list_versions(connection, registry.BOAT_FAMILY)[["name", "library"]].values
        )
    assert libraries["boat-clogit-20260409"] == f"numpy {np.__version__}"


def test_a_boat_day_gets_the_version_trained_strictly_before_it(
    store_url: str, boat_days: dict[str, pd.DataFrame]
) -> None:
    """Versions of the day before, the day itself and the day after, all promoted: the day is
    predicted by the day before's, which round-trips to the same probabilities. Without a
    promoted version, or one stored by another numpy, the day fits its own (``-fresh``)."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    history = {name: frame[frame["race_date"] < pd.Timestamp(DAY)]
               for name, frame in boat_days.items() if name != "odds"}  # fmt: skip
    odds = boat_days["odds"]
    odds = odds[odds["race_id"].str[:8] < f"{DAY:%Y%m%d}"]
    frames = (history["entries"], history["results"], odds)
    with engine.begin() as connection:
        chosen, why = model_of_day(connection, DAY, frames, MORNING)
        assert chosen.version.endswith("-fresh") or chosen.coefficients is None
        assert "no boat version promoted before 2026-04-10" in why
        for offset, weight in ((-1, 1.0), (0, 2.0), (1, 3.0)):
            model = boat_model(DAY + timedelta(days=offset), weight)
            registry.register_model(connection, model, DAY + timedelta(days=offset), {}, None)
            registry.promote(connection, model.version)
    with engine.connect() as connection:
        chosen, why = model_of_day(connection, DAY, frames, MORNING)
    assert chosen == boat_model(DAY - timedelta(days=1)) and "boat-clogit-20260409" in why
    rows = training_rows(boat_days["entries"], boat_days["results"], boat_days["odds"], MORNING)
    rows = rows[rows["race_date"] == pd.Timestamp(DAY)]
    pd.testing.assert_frame_equal(
        predict_boats(chosen, rows), predict_boats(boat_model(DAY - timedelta(days=1)), rows)
    )
    with engine.begin() as connection:
        connection.execute(
            update(registry.MODEL_VERSIONS)
            .where(registry.MODEL_VERSIONS.c.name == "boat-clogit-20260409")
            .values(library="numpy 0.0")
        )
        chosen, why = model_of_day(connection, DAY, frames, MORNING)
    assert "cannot be loaded" in why and "retrain it" in why
    assert chosen.version != "boat-clogit-20260409"
