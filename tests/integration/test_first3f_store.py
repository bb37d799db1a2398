"""First-3F models in the store (SQLite and PostgreSQL): fitted once per version and reused,
refreshed in place, and the first3f stage writing estimates with both versions, idempotently."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from config import load_settings
from raceday.codec import decode_races, decode_runners
from raceday.first3f.model import FitOptions, model_to_record
from raceday.ratings.standards import learn_reference_times
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store import learned
from raceday.store.catalogs.learned_versions import (
    FIRST3F_MODELS,
    read_reference_times,
    read_reference_versions,
    reference_history,
)
from raceday.store.catalogs.races import RunnerWindow, read_runner_view, write_races_and_runners
from raceday.store.catalogs.ratings import FIRST3F
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import read_rows

FIRST, LAST = date(2026, 6, 1), date(2026, 6, 14)
DAY = LAST + timedelta(days=1)


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    days = simulate_days(FIRST, DAY, SimulatorConfig(races_per_day=30))
    return decode_races(days.raw.nvd_ra), decode_runners(days.raw.nvd_se)


@pytest.fixture
def engine(store_url: str, simulated: tuple[pd.DataFrame, pd.DataFrame]) -> Engine:
    """A migrated store holding the settled history (validation is not under test here)."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    races, runners = simulated
    with engine.begin() as connection:
        write_races_and_runners(connection, races, runners, has_results=True, source="sim")
    return engine


def model_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(FIRST3F_MODELS)).scalar_one()
        )


def test_model_is_fitted_once_per_version_and_then_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first call fits and stores f3f-LAST; the next reads it back instead of refitting."""
    with engine.begin() as connection:
        history = reference_history(connection, FIRST, LAST)
        references = learn_reference_times(history)
        fitted = learned.first3f_model_for(connection, references, FIRST, LAST, FitOptions())
    assert fitted.version == "f3f-20260614" and model_rows(engine) == 1

    def no_refit(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a stored model must not be refitted")

    monkeypatch.setattr(learned, "fit_first3f_model", no_refit)
    with engine.begin() as connection:
        again = learned.first3f_model_for(connection, references, FIRST, LAST, FitOptions())
    assert again.pace == fitted.pace and again.details == fitted.details
    assert (again.short_ml is None) == (fitted.short_ml is None)


def test_refresh_replaces_one_version_in_place(engine: Engine) -> None:
    """Refreshing twice leaves one reference version and one model version, same content."""
    with engine.begin() as connection:
        first = learned.refresh_learned(connection, FIRST, LAST, FitOptions())
    with engine.begin() as connection:
        second = learned.refresh_learned(connection, FIRST, LAST, FitOptions())
        references = read_reference_times(connection, "ref-20260614")
        versions = read_reference_versions(connection)
    assert (first.reference_version, first.model_version) == ("ref-20260614", "f3f-20260614")
    assert first.races == second.races > 0 and len(references) == first.reference_cells
    assert versions["version"].tolist() == ["ref-20260614"] and model_rows(engine) == 1
    assert second.model.details == first.model.details


def test_first3f_stage_stores_estimates_with_both_versions(engine: Engine, store_url: str) -> None:
    """The stage fits from history before the day, writes every runner once; a rerun is equal."""
    from tasks.derive import first3f, reference_times

    settings = load_settings(db_url=store_url)
    with engine.connect() as connection:
        view = read_runner_view(connection, DAY, DAY)
    plan, references = reference_times(settings, DAY, DAY)
    assert plan.history_end == LAST and not plan.bootstrap
    estimates = first3f(settings, view, DAY, references, plan)
    assert len(estimates) == len(view)
    assert (estimates["model_version"] == "f3f-20260614").all()
    assert not estimates["method"].isin(["unavailable"]).any()
    first3f(settings, view, DAY, references, plan)
    with engine.connect() as connection:
        stored = read_rows(connection, FIRST3F, start=DAY, end=DAY)
    assert len(stored) == len(view) and model_rows(engine) == 1
    assert set(stored["reference_version"]) == {"ref-20260614"}
    assert set(stored["model_version"]) == {"f3f-20260614"}
    long = stored.merge(view[["race_id", "umaban", "distance_m"]], on=["race_id", "umaban"])
    assert (
        long.loc[long["distance_m"] > 1200, "method"].isin(["leader", "base", "not_started"]).all()
    )


def test_the_reference_window_is_read_once_for_both_learned_versions(
    engine: Engine, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new version's reference times and first-3F model learn from one read of the window:
    the first-3F stage fits on the rows the reference-times stage read (the same model as
    from a read of its own), and reads the window no second time."""
    from tasks import derive

    settings = load_settings(db_url=store_url)
    with engine.connect() as connection:
        view = read_runner_view(connection, DAY, DAY)
        window = reference_history(connection, FIRST, LAST)
        references = learn_reference_times(window)
    alone = learned.fit_first3f_model(window, references, "f3f-20260614", FitOptions())
    reads: list[tuple[date, date]] = []
    read = learned.reference_history

    def counted(connection: Any, start: date, end: date) -> pd.DataFrame:
        reads.append((start, end))
        return read(connection, start, end)

    monkeypatch.setattr(derive, "reference_history", counted)
    monkeypatch.setattr(learned, "reference_history", counted)
    plan, stage_references = derive.reference_times(settings, DAY, DAY)
    estimates = derive.first3f(settings, view, DAY, stage_references, plan)
    assert reads == [(plan.history_start, plan.history_end)]
    assert (estimates["model_version"] == "f3f-20260614").all()
    with engine.connect() as connection:
        stored = learned.model_from_record(learned.read_first3f_model(connection, "f3f-20260614"))
    assert stored is not None and stored.details == alone.details and stored.pace == alone.pace


def test_versions_learned_beside_the_chunk_are_stored_as_the_stages_learn_them(
    engine: Engine, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill's chunk learns its window's reference times and first-3F model on a thread
    (``learn_beside``) while it is validated; the two stages then store them without learning
    or fitting again: the same reference cells and the same stored model row (parameters and
    pickled ML layer) as the stages learn in turn. Once stored, nothing is learned beside."""
    from tasks import derive

    settings = load_settings(db_url=store_url)
    options = FitOptions(**settings.first3f.model_dump())
    with engine.connect() as connection:
        view = read_runner_view(connection, DAY, DAY)
        in_turn = reference_history(connection, FIRST, LAST)
    in_turn_references = learn_reference_times(in_turn)
    in_turn_model = learned.fit_first3f_model(in_turn, in_turn_references, "f3f-20260614", options)
    window = RunnerWindow()
    learning = derive.learn_beside(settings, DAY, DAY, window)
    assert learning is not None

    def never(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("learned beside: not learned again by the stages")

    learning.result()  # learned: the stages must take it as it is
    assert window.end == LAST  # the window moved on the learning thread, once it is done
    monkeypatch.setattr(derive, "learn_reference_times", never)
    monkeypatch.setattr(learned, "fit_first3f_model", never)
    plan, references = derive.reference_times(settings, DAY, DAY, window, learning)
    derive.first3f(settings, view, DAY, references, plan)
    pd.testing.assert_frame_equal(references, in_turn_references)
    with engine.connect() as connection:
        stored = read_reference_times(connection, "ref-20260614")
        row = learned.read_first3f_model(connection, "f3f-20260614")
    assert len(stored) == len(in_turn_references)
    expected = model_to_record(in_turn_model, "ref-20260614", FIRST, LAST)
    assert row is not None
    assert (row["params"], row["ml_model"]) == (expected["params"], expected["ml_model"])
    assert derive.learn_beside(settings, DAY, DAY, window) is None
