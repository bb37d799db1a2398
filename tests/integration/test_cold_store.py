"""A cold store: no warm-up (``RACEDAY_HISTORY__WARMUP_DAYS=0``) and nothing before the first
day. Three consecutive simulated days run through the daily stages (task bodies via ``.fn()``):
the first day ends with market probabilities and no bets, the next days learn from the days
before them as history accumulates."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from config import load_settings
from flows.chain import settle_chain
from raceday.model.win import MARKET_MODEL_VERSION
from raceday.ratings.standards import reference_version
from raceday.store.catalogs.bets import BETS
from raceday.store.catalogs.performance import PERFORMANCE
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
