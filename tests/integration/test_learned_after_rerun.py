"""A day whose stored history changes when it is run again (a venue read again after an outage,
results that were still to come) leaves the versions learned from it stale: they are learned
again from the history as stored now — what a store that had the whole day from the start
learns — while a re-run that changes nothing keeps them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

from config import Settings, load_settings
from raceday.first3f.model import FitOptions, first3f_model_version
from raceday.ratings.standards import reference_version
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay, rows_of_venues, venues_in
from raceday.store.catalogs.learned_versions import (
    read_first3f_model,
    read_reference_times,
    read_reference_versions,
)
from raceday.store.catalogs.ratings import write_by_runner
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.learned import first3f_model_for
from tasks.derive import reference_times
from tasks.validate import validate_and_store

DAY = date(2026, 5, 1)
NEXT_DAY = DAY + timedelta(days=1)
MEASURED = ("created_at", "ml_model")  # when it was fitted; the pickled layer's bytes


def learn_for_next_day(settings: Settings) -> None:
    """What the next day's run learns before its first 3F: reference times, the first-3F model."""
    plan, references = reference_times(settings, NEXT_DAY, NEXT_DAY)
    with make_engine(settings.database_url).begin() as connection:
        first3f_model_for(
            connection,
            references,
            plan.history_start,
            plan.history_end,
            FitOptions(**settings.first3f.model_dump()),
        )


def learned(settings: Settings) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    with make_engine(settings.database_url).connect() as connection:
        references = read_reference_times(connection, reference_version(DAY))
        model = read_first3f_model(connection, first3f_model_version(DAY))
        versions = read_reference_versions(connection)
    assert model is not None
    return references, {k: v for k, v in model.items() if k not in MEASURED}, versions


def store_with(tmp_path: Any, name: str, *days: RawDay) -> Settings:
    settings = load_settings(db_url=f"sqlite:///{tmp_path / name}.db")
    upgrade_schema(make_engine(settings.database_url))
    for raw in days:
        validate_and_store(settings, raw, DAY, DAY, "results")
    return settings


@pytest.mark.slow
def test_versions_learned_from_a_day_run_again_with_more_races_are_learned_again(
    tmp_path: Any,
) -> None:
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=20)).raw
    venues = venues_in(raw)
    assert len(venues) == 2
    partial = rows_of_venues(raw, venues[:1])  # the other venue was down

    rerun = store_with(tmp_path, "rerun", partial)
    learn_for_next_day(rerun)
    stale, _, _ = learned(rerun)
    validate_and_store(rerun, raw, DAY, DAY, "results")  # the day run again, the venue back
    learn_for_next_day(rerun)

    whole = store_with(tmp_path, "whole", raw)
    learn_for_next_day(whole)
    references, model, versions = learned(whole)
    assert set(stale["keibajo_code"]) == {venues[0]}  # before: kept as learned from one venue
    again_references, again_model, _ = learned(rerun)
    pd.testing.assert_frame_equal(again_references, references)
    assert again_model == model

    # The same day stored again unchanged: nothing is learned again.
    validate_and_store(whole, raw, DAY, DAY, "results")
    learn_for_next_day(whole)
    _, _, versions_after = learned(whole)
    pd.testing.assert_frame_equal(versions_after, versions)


def stored_indexes(settings: Settings, *days: date) -> None:
    """An index row for each of ``days``: days run after DAY (their indexes stored)."""
    rows = pd.DataFrame(
        {
            "race_id": [f"{day:%Y%m%d}4401" for day in days],
            "umaban": [1] * len(days),
            "race_date": list(days),
            "speed_index": [50.0] * len(days),
        }
    )
    with make_engine(settings.database_url).begin() as connection:
        write_by_runner(connection, "indexes", rows)


@pytest.mark.slow
def test_a_changed_day_names_the_later_days_already_run_and_the_command_to_run_them(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning that a day's history changed said 'later days already run keep their
    indexes until run again', naming neither the days nor how: it names the later days with
    stored indexes (first and last) and the backfill that runs them again; of a day no later
    day ran after, it says nothing of later days."""
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=20)).raw
    partial = rows_of_venues(raw, venues_in(raw)[:1])  # the other venue was down

    def rerun(name: str, *later: date) -> str:
        """The day stored with one venue, ``later`` days' indexes stored, the day run again
        with both venues: the warning."""
        settings = store_with(tmp_path, name, partial)
        settings = settings.model_copy(update={"source": "files:/data/my exports"})
        learn_for_next_day(settings)
        stored_indexes(settings, *later)
        caplog.clear()
        with caplog.at_level("WARNING"):
            validate_and_store(settings, raw, DAY, DAY, "results")
        [line] = [r.getMessage() for r in caplog.records if "changed" in r.getMessage()]
        return line

    alone = rerun("alone", DAY)  # no later day ran
    assert alone.startswith("the history of 2026-05-01 changed: ") and "later" not in alone
    named = rerun("later", DAY, NEXT_DAY, NEXT_DAY + timedelta(days=5))
    assert "the later days already run, 2026-05-02..2026-05-07, keep what they derived" in named
    assert named.endswith(
        ": raceday backfill --start 2026-05-02 --end 2026-05-07 --force "
        "--source 'files:/data/my exports'"
    )
