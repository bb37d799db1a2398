"""A cold store: no warm-up (``RACEDAY_HISTORY__WARMUP_DAYS=0``) and nothing before the first
day. Three consecutive simulated days run through the daily stages (task bodies via ``.fn()``):
the first day ends with market probabilities and no bets, the next days learn from the days
before them as history accumulates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from config import load_settings
from flows.chain import prepare_history, settle_chain
from raceday.codec import race_dates
from raceday.model.win import MARKET_MODEL_VERSION
from raceday.ratings.standards import reference_version
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.files import write_tables
from raceday.store.catalogs.alerts import read_alerts
from raceday.store.catalogs.bets import BETS
from raceday.store.catalogs.performance import PERFORMANCE
from raceday.store.catalogs.races import RACES as RACES_TABLE
from raceday.store.catalogs.ratings import FIRST3F, INDEXES
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tasks.common import in_process
from tasks.features import day_features
from tasks.ingest import ingest
from tasks.predict import predict
from tasks.record import record_day, settle
from tasks.stake import stake
from tasks.store import prepare_store
from tasks.validate import validate_and_store

pytestmark = pytest.mark.slow  # minutes: scheduled first (tests/conftest.py)

FIRST_DAY = date(2026, 5, 1)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(3)]
RACES = 20  # two venues a day: jockeys ride again on the third day
FLOW = "daily-run"


def test_three_days_on_an_empty_store_without_warm_up(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))
    settings = load_settings(races=RACES, source=None, db_url=sqlite_url)
    assert settings.history.warmup_days == 0
    prepare_store(settings)
    features_seen = []
    for day in DAYS:
        raw = ingest(settings, day, day)
        card = validate_and_store(settings, raw, day, day, "card")
        features = day_features(settings, card, day)
        predictions = predict(settings, card, day, features)
        stake(settings, predictions, card, day)
        settle_chain(in_process, settings, raw, day, day)
        settle(settings, day)
        summary = record_day(settings, day)
        assert summary.races == RACES
        assert summary.model_version == MARKET_MODEL_VERSION
        sums = predictions.groupby("race_id")["p_final"].sum().to_numpy(dtype="float64")
        np.testing.assert_allclose(sums, 1.0, rtol=1e-9)
        assert predictions["race_id"].nunique() == RACES
        features_seen.append(features)

    with make_engine(sqlite_url).connect() as connection:
        bets = read_rows(connection, BETS, start=DAYS[0], end=DAYS[-1])
        first3f = read_rows(connection, FIRST3F, start=DAYS[0], end=DAYS[-1])
        indexes = read_rows(connection, INDEXES, start=DAYS[0], end=DAYS[-1])
        performance = read_rows(
            connection, PERFORMANCE, start=DAYS[0], end=DAYS[-1], date_column="perf_date"
        )
    # Market probabilities have no edge over the market: nothing is staked.
    assert bets.empty
    assert set(performance["perf_date"].dt.date) == set(DAYS)
    # The first day bootstraps from itself; each later day learns from the days before it.
    versions = first3f.groupby(first3f["race_date"].dt.date)["reference_version"].unique()
    assert list(versions[DAYS[0]]) == [reference_version(DAYS[0])]
    assert list(versions[DAYS[1]]) == [reference_version(DAYS[0])]
    assert list(versions[DAYS[2]]) == [reference_version(DAYS[1])]
    assert indexes["speed_index"].notna().any()
    # Features: no past ride on the first day; the jockeys' earlier rides count later (horses
    # rest weeks between runs, jockeys ride every day).
    assert (features_seen[0]["jockey_rides_window"] == 0).all()
    assert (features_seen[0]["n_past_runs"] == 0).all()
    assert (features_seen[2]["jockey_rides_window"] > 0).any()


def test_a_history_with_nothing_valid_is_skipped_and_the_valid_day_runs(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm-up whose days are all set aside (every race of the history at a distance no
    circuit runs) does not refuse the valid day after it: the day runs as on an empty store and
    a warning alert names the history. It used to end exit 4 with nothing of the day stored
    (the HK probe: a history of 12-character horse ids before a valid day)."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "3")
    day = DAYS[-1]
    raw = simulate_days(day - timedelta(days=3), day, SimulatorConfig(races_per_day=RACES)).raw
    ra = raw.nvd_ra.copy()
    ra.loc[(race_dates(ra) < pd.Timestamp(day)).to_numpy(), "kyori"] = "9999"
    write_tables(replace(raw, nvd_ra=ra), tmp_path / "files", "csv")
    settings = load_settings(races=RACES, source=f"files:{tmp_path / 'files'}", db_url=sqlite_url)

    prepare_history(in_process, settings, day)
    card = validate_and_store(settings, ingest(settings, day, day), day, day, "card")

    assert len(card.races) == RACES and card.quarantine.empty
    with make_engine(sqlite_url).connect() as connection:
        alerts = read_alerts(connection, day, day)
        stored = read_rows(connection, RACES_TABLE, start=day - timedelta(days=3), end=day)
    assert list(alerts["rule"]) == ["history_unusable"] and alerts["severity"][0] == "warning"
    assert "nothing valid left" in alerts["message"][0]
    assert set(stored["race_date"].dt.date) == {day}  # nothing of the history
