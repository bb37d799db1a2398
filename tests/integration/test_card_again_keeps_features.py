"""A day's card stored again (``run`` re-run on an export that changed since) where a race the
first run stored is now set aside: that race keeps its stored card, predictions and features
alike. The features used to be replaced for the whole day, so the set-aside race lost them
while its races, runners and predictions rows stayed (the hostile probe, stop 56: a re-run with
a runner dropped from one race and a runner added to another left 216 feature rows beside 236
stored runners)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd

from config import load_settings
from raceday.codec import race_ids
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.races import read_runners
from raceday.store.catalogs.ratings import read_features
from raceday.store.engine import make_engine, upgrade_schema
from tasks.features import day_features
from tasks.validate import validate_and_store

DAY = date(2025, 5, 10)


def _stored(url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    with make_engine(url).connect() as connection:
        return read_runners(connection, DAY, DAY), read_features(connection, DAY, DAY)


def test_a_race_set_aside_by_the_card_again_keeps_its_features(sqlite_url: str) -> None:
    settings = load_settings(db_url=sqlite_url, validation={"data_docs": False})
    upgrade_schema(make_engine(sqlite_url))
    raw = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw
    card = validate_and_store(settings, raw, DAY, DAY, "card")
    day_features(settings, card, DAY)
    runners, features = _stored(sqlite_url)
    assert len(features) == len(runners) > 0

    # the export changed: one race's field size no longer matches its runners (set aside)
    broken = str(card.races["race_id"].iloc[1])
    ra = raw.nvd_ra.copy()
    ra.loc[race_ids(ra) == broken, "shusso_tosu"] = "99"
    again = validate_and_store(settings, replace(raw, nvd_ra=ra), DAY, DAY, "card")
    assert broken not in set(again.races["race_id"])
    day_features(settings, again, DAY)

    runners_after, features_after = _stored(sqlite_url)
    key = ["race_id", "umaban"]
    assert len(runners_after) == len(runners)  # the set-aside race's stored card stays
    assert set(map(tuple, features_after[key].to_numpy())) == set(
        map(tuple, runners_after[key].to_numpy())
    )
    kept = features_after[features_after["race_id"] == broken].sort_values(key, ignore_index=True)
    before = features[features["race_id"] == broken].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(kept, before)
