"""Track variants, stored features and the features' history read against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from raceday.ratings.features import CARD_COLUMNS, FEATURE_COLUMNS, build_features
from raceday.store.catalogs.races import write_races_and_runners
from raceday.store.catalogs.ratings import (
    TRACK_VARIANTS,
    read_feature_history,
    read_features,
    read_people_window,
    write_by_runner,
    write_features,
    write_track_variants,
)
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import read_rows

DAY = date(2026, 11, 20)


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(store_url)
    upgrade_schema(engine)
    return engine


def race(race_id: str, day: str, venue: str = "44") -> dict[str, object]:
    return {
        "race_id": race_id, "race_date": pd.Timestamp(day), "keibajo_code": venue,
        "race_bango": int(race_id[-2:]), "distance_m": 1200, "field_size": 2, "entries": 2,
        "class_code": "C3", "going_code": 1, "track_code": "24",
    }  # fmt: skip


def runner(race_id: str, day: str, umaban: int, horse: str, jockey: str) -> dict[str, object]:
    return {
        "race_id": race_id, "umaban": umaban, "race_date": pd.Timestamp(day),
        "keibajo_code": "44", "horse_id": horse, "jockey_id": jockey, "trainer_id": "T1",
        "weight_carried_kg": 55.0, "finish_pos": umaban, "finish_time_s": 74.0 + umaban,
        "abnormal_code": 0,
    }  # fmt: skip


def store_day(engine, races: list[dict[str, object]], runners: list[dict[str, object]],  # type: ignore[no-untyped-def]
              settled: bool = True) -> None:  # fmt: skip
    race_frame = pd.DataFrame(races).astype({"class_code": "string"})
    with engine.begin() as connection:
        write_races_and_runners(
            connection, race_frame, pd.DataFrame(runners), has_results=settled, source="test"
        )


def test_feature_history_reads_the_horses_settled_runs_before_the_day(engine) -> None:  # type: ignore[no-untyped-def]
    """Before D: every run of horse H, however old, with its indexes; not horse Z's runs, not a
    card without results, not D itself. The people counts cover the window's settled runs."""
    store_day(engine, [race("202501014401", "2025-01-01")],
              [runner("202501014401", "2025-01-01", 1, "H", "J1"),
               runner("202501014401", "2025-01-01", 2, "Z", "J2")])  # fmt: skip
    store_day(engine, [race("202611014401", "2026-11-01")],
              [runner("202611014401", "2026-11-01", 1, "Z", "J2"),
               runner("202611014401", "2026-11-01", 2, "H", "J2")])  # fmt: skip
    store_day(engine, [race("202611104401", "2026-11-10")],
              [runner("202611104401", "2026-11-10", 1, "H", "J2")], settled=False)  # fmt: skip
    store_day(engine, [race("202611204401", "2026-11-20")],
              [runner("202611204401", "2026-11-20", 1, "H", "J1")])  # fmt: skip
    with engine.begin() as connection:
        write_by_runner(
            connection, "indexes",
            pd.DataFrame({"race_id": ["202501014401"], "umaban": [1],
                          "race_date": [pd.Timestamp("2025-01-01")], "speed_index": [77.0]}),
        )  # fmt: skip
        history = read_feature_history(connection, before=DAY, horse_ids=["H"])
        people = read_people_window(connection, date(2026, 5, 24), DAY)
    assert sorted(history["race_id"]) == ["202501014401", "202611014401"]
    assert set(history["horse_id"]) == {"H"}
    by_race = history.set_index("race_id")["speed_index"]
    assert by_race["202501014401"] == 77.0 and np.isnan(by_race["202611014401"])
    jockeys = people[people["role"] == "jockey_id"]
    assert jockeys[["person_id", "runs", "wins"]].values.tolist() == [["J2", 2, 1]]
    assert people[people["role"] == "trainer_id"]["runs"].tolist() == [2]
    cards = pd.DataFrame([{**dict.fromkeys(CARD_COLUMNS), **race("202611204402", "2026-11-20"),
                           **runner("202611204402", "2026-11-20", 1, "H", "J2")}])  # fmt: skip
    features = build_features(history, cards, 180, people)
    assert features["n_past_runs"].iloc[0] == 2 and features["speed_mean5"].iloc[0] == 77.0
    assert features["jockey_rides_window"].iloc[0] == 2
    assert features["jockey_win_rate_window"].iloc[0] == 0.5


def test_features_and_variants_are_replaced_not_duplicated(engine) -> None:  # type: ignore[no-untyped-def]
    """Writing a day's features or variants twice leaves one row per key, values and dtypes
    round-trip (NaN stays NaN, flags stay booleans)."""
    keys = pd.DataFrame(
        {"race_id": ["202611204401", "202611204401"], "umaban": [1, 2],
         "race_date": pd.Timestamp(DAY), "keibajo_code": "44", "horse_id": ["H", "G"]}
    )  # fmt: skip
    features = keys.assign(**{name: 1.5 for name in FEATURE_COLUMNS})
    features["no_history"] = [True, False]
    features["n_past_runs"] = [0, 4]
    features["speed_last1"] = [np.nan, 81.25]
    variants = pd.DataFrame(
        {"race_date": [pd.Timestamp(DAY)], "keibajo_code": ["44"], "surface": ["dirt"],
         "variant_s_per_km": [0.35], "n_races": [12], "n_runners": [36],
         "reference_version": ["ref-20261119"]}
    )  # fmt: skip
    for _ in range(2):
        with engine.begin() as connection:
            write_features(connection, features, "pp-v1", DAY, DAY)
            write_track_variants(connection, variants)
    with engine.connect() as connection:
        stored = read_features(connection, DAY, DAY, "pp-v1")
        stored_variants = read_rows(connection, TRACK_VARIANTS)
    assert len(stored) == 2 and len(stored_variants) == 1
    stored = stored.sort_values("umaban", ignore_index=True)
    assert stored["no_history"].tolist() == [True, False]
    assert stored["n_past_runs"].tolist() == [0, 4]
    assert np.isnan(stored["speed_last1"].iloc[0]) and stored["speed_last1"].iloc[1] == 81.25
    assert stored_variants["variant_s_per_km"].iloc[0] == 0.35
