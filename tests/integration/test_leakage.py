"""The leakage guard, through the store and the real stage bodies (``task.fn``):

- every result on and after day D is perturbed (finish times, positions, last 3F, corners,
  margins, final odds, the race's sectional times) and re-settled: D's features, and the
  predictions of a model trained on features before D, do not change by a single bit;
- the range build of a simulated month equals the day-by-day morning builds;
- a backfill's training set, whose features come from those its chunks built and kept
  (``SettledRuns.for_training``), equals the one built from the store, and before D it is the
  same in both stores;
- the real predict stage on D uses the registry's version trained before D (never a later
  promoted one) and predicts D identically from both stores.
Both run on SQLite (minutes of settling per store); the feature store IO is tested on both
backends in test_store.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from config import Settings, load_settings
from data_checks.validate import ValidatedDay
from raceday import codec, odds_snapshots
from raceday.model.win import normalise_per_race
from raceday.pipeline import runner_view
from raceday.ratings.features import FEATURE_COLUMNS
from raceday.schema import RUNNER_RESULT_COLUMNS
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.timeline import CardTiming, card_odds
from raceday.store.catalogs.races import read_races, read_runners, write_races_and_runners
from raceday.store.catalogs.ratings import SettledRuns, read_features
from raceday.store.engine import make_engine, upgrade_schema
from tasks.derive import first3f, indexes, reference_times
from tasks.features import day_features, range_features
from tasks.train import settled_runners
from tests.store_support import copy_store

pytestmark = pytest.mark.slow  # minutes: scheduled first (tests/conftest.py)

START, D, END = date(2026, 5, 11), date(2026, 6, 1), date(2026, 6, 28)
CHUNK_DAYS = 7  # settled a week at a time, like a backfill; D starts a chunk
RACE_RESULT_COLUMNS = ["leader_first3f_s", "race_last3f_s"]


@pytest.fixture(scope="module")
def decoded() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seven simulated weeks, 30 races a day, decoded."""
    sim = simulate_days(START, END, SimulatorConfig(races_per_day=30))
    return codec.decode_races(sim.raw.nvd_ra), codec.decode_runners(sim.raw.nvd_se)


def perturb_results(
    races: pd.DataFrame, runners: pd.DataFrame, from_day: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every result field of races on or after ``from_day`` changed; cards and snapshots kept."""
    rng = np.random.default_rng(7)
    races, runners = races.copy(), runners.copy()
    late = runners["race_date"] >= pd.Timestamp(from_day)
    n = int(late.sum())
    finished = late & runners["finish_pos"].notna()
    shuffled = (
        runners.loc[finished]
        .groupby("race_id")["finish_pos"]
        .transform(lambda positions: rng.permutation(positions.to_numpy()))
    )
    runners.loc[finished, "finish_pos"] = shuffled.astype("Int64")
    runners.loc[late, "finish_time_s"] += rng.normal(0.0, 2.0, n)
    runners.loc[late, "last3f_s"] += rng.normal(0.0, 1.0, n)
    runners.loc[late, "time_behind_s"] = rng.uniform(0.0, 5.0, n)
    runners.loc[late, "win_odds"] = np.round(rng.uniform(1.1, 80.0, n), 1)
    for corner in ("corner_1", "corner_2", "corner_3", "corner_4"):
        runners.loc[late, corner] = (
            runners.loc[late, corner].sample(frac=1.0, random_state=1).to_numpy()
        )
    late_races = races["race_date"] >= pd.Timestamp(from_day)
    for column in RACE_RESULT_COLUMNS:
        races.loc[late_races, column] += rng.normal(0.0, 1.0, int(late_races.sum()))
    return races, runners


def settle_history(
    settings: Settings, races: pd.DataFrame, runners: pd.DataFrame, first: date, last: date
) -> None:
    """Store and settle ``first``..``last`` a week at a time: references, first 3F, variants,
    indexes."""
    upgrade_schema(make_engine(settings.database_url))
    chunk_start = first
    while chunk_start <= last:
        chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS - 1), last)
        dated = races["race_date"].between(pd.Timestamp(chunk_start), pd.Timestamp(chunk_end))
        chunk_races = races[dated]
        chunk_runners = runners[runners["race_id"].isin(chunk_races["race_id"])]
        with make_engine(settings.database_url).begin() as connection:
            write_races_and_runners(
                connection, chunk_races, chunk_runners, has_results=True, source="sim"
            )
        plan, references = reference_times(settings, chunk_start, chunk_end)
        view = runner_view(chunk_races, chunk_runners)
        estimates = first3f(settings, view, chunk_end, references, plan)
        indexes(settings, view, chunk_end, references, plan, estimates)
        chunk_start = chunk_end + timedelta(days=1)


def morning_card(races: pd.DataFrame, runners: pd.DataFrame, day: date) -> ValidatedDay:
    """The day's card as the morning run sees it: every result field blank."""
    day_races = races[races["race_date"] == pd.Timestamp(day)].copy()
    day_runners = runners[runners["race_id"].isin(day_races["race_id"])].copy()
    day_races[RACE_RESULT_COLUMNS] = np.nan
    for column in RUNNER_RESULT_COLUMNS:
        day_runners[column] = pd.NA if column != "abnormal_code" else 0
    empty = pd.DataFrame()
    return ValidatedDay(day_races, day_runners, empty, empty, ())


def train_and_predict(settings: Settings) -> pd.DataFrame:
    """A logistic win model trained on the features of the days before D, used on D."""
    train = range_features(settings, START + timedelta(days=7), D - timedelta(days=1))
    with make_engine(settings.database_url).connect() as connection:
        results = read_runners(connection, START, D - timedelta(days=1))
    train = train.merge(results[["race_id", "umaban", "finish_pos"]], on=["race_id", "umaban"])
    model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=500)
    )
    model.fit(
        train[FEATURE_COLUMNS].astype("float64"),
        train["finish_pos"].eq(1).fillna(False).astype(int),
    )
    today = day_features(settings, morning_card(*_stored_day(settings, D), D), D).sort_values(
        ["race_id", "umaban"], ignore_index=True
    )
    score = pd.Series(model.predict_proba(today[FEATURE_COLUMNS].astype("float64"))[:, 1])
    return today.assign(p_model=normalise_per_race(today["race_id"], score))


def _stored_day(settings: Settings, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    with make_engine(settings.database_url).connect() as connection:
        return read_races(connection, day, day), read_runners(connection, day, day)


@pytest.fixture(scope="module")
def stores(
    decoded: tuple[pd.DataFrame, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, Settings]:
    """Two SQLite stores settled START..END: the results as simulated, and the same with every
    result from D on scrambled. The weeks before D (the same results in both) are settled once
    and the store copied; each store settles D..END from its own results."""
    races, runners = decoded
    folder = tmp_path_factory.mktemp("leakage")
    original = load_settings(db_url=f"sqlite:///{folder / 'original.db'}")
    settle_history(original, races, runners, START, D - timedelta(days=1))
    perturbed = load_settings(db_url=copy_store(folder / "original.db", folder / "perturbed.db"))
    settle_history(original, races, runners, D, END)
    settle_history(perturbed, *perturb_results(races, runners, D), D, END)
    return original, perturbed


def test_results_on_and_after_d_never_reach_d(stores: tuple[Settings, Settings]) -> None:
    """Same history before D, scrambled results from D on: D's features and a trained model's
    predictions for D are identical; later days' features do change (the guard has teeth)."""
    original, perturbed = stores
    predicted = {name: train_and_predict(s) for name, s in (("a", original), ("b", perturbed))}
    assert len(predicted["a"]) > 200
    assert predicted["a"]["p_model"].notna().all()
    assert predicted["a"]["p_model"].nunique() > 100, "a model that actually discriminates"
    assert_frame_equal(predicted["a"], predicted["b"], check_exact=True)

    after = D + timedelta(days=1)
    after_a = range_features(original, after, END).sort_values(["race_id", "umaban"])
    after_b = range_features(perturbed, after, END).sort_values(["race_id", "umaban"])
    changed = (after_a[FEATURE_COLUMNS] != after_b[FEATURE_COLUMNS]) & ~(
        after_a[FEATURE_COLUMNS].isna() & after_b[FEATURE_COLUMNS].isna()
    )
    assert changed.any(axis=1).mean() > 0.5, "perturbed results must move later features"


def test_range_build_equals_the_daily_builds_for_a_month(
    decoded: tuple[pd.DataFrame, pd.DataFrame], stores: tuple[Settings, Settings]
) -> None:
    """`features-range` over four weeks equals 28 morning `features` runs, row for row."""
    races, runners = decoded
    settings = stores[0]
    first = END - timedelta(days=27)
    ranged = range_features(settings, first, END)
    daily = pd.concat(
        [
            day_features(settings, morning_card(races, runners, day), day)
            for day in (first + timedelta(days=k) for k in range((END - first).days + 1))
        ],
        ignore_index=True,
    )
    key = ["race_id", "umaban"]
    assert len(ranged) == len(daily) > 1000
    assert_frame_equal(
        ranged.sort_values(key, ignore_index=True),
        daily.sort_values(key, ignore_index=True),
        check_exact=True,
    )
    with make_engine(settings.database_url).connect() as connection:
        stored = read_features(connection, first, END)
    assert len(stored) == len(ranged), "the daily runs replaced the range's rows, not added"


def training_set_from_chunks(
    settings: Settings, start: date, end: date, held_days: int | None = None
) -> pd.DataFrame:
    """The runners ``start``..``end`` as a backfill's training takes them: every week from
    START + 7 to END built as a chunk (features kept; the horses gone ``held_days`` evicted),
    then the training set read."""
    settled = SettledRuns.for_training((END - START).days, held_days)
    chunk_start = START + timedelta(days=7)
    while chunk_start <= END:
        chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS - 1), END)
        range_features(settings, chunk_start, chunk_end, settled)
        chunk_start = chunk_end + timedelta(days=1)
    assert len(settled.built.days) == (END - START).days + 1 - 7
    with make_engine(settings.database_url).connect() as connection:
        return settled_runners(connection, settings, start, end, settled)


def test_training_sets_from_the_chunks_features_equal_the_stores(
    stores: tuple[Settings, Settings],
) -> None:
    """A training set whose features the chunks built (and kept) equals the one built from
    the store bit for bit, days built before the first chunk included; up to D - 1 it is the
    same in both stores, though the chunks kept features of days after D too."""
    original, perturbed = stores
    start = START + timedelta(days=3)  # before the first chunk: built by the training
    kept = training_set_from_chunks(original, start, END)
    with make_engine(original.database_url).connect() as connection:
        built = settled_runners(connection, original, start, END)
    assert len(kept) == len(built) > 1000
    key = ["race_id", "umaban"]
    assert_frame_equal(
        kept.sort_values(key, ignore_index=True),
        built.sort_values(key, ignore_index=True),
        check_exact=True,
    )
    bounded = training_set_from_chunks(original, start, END, held_days=7)  # evicts, reads back
    assert_frame_equal(
        bounded.sort_values(key, ignore_index=True),
        built.sort_values(key, ignore_index=True),
        check_exact=True,
    )
    before = {
        name: training_set_from_chunks(settings, start, D - timedelta(days=1)).sort_values(
            key, ignore_index=True
        )
        for name, settings in (("a", original), ("b", perturbed))
    }
    assert len(before["a"]) > 1000
    assert_frame_equal(before["a"], before["b"], check_exact=True)


def test_predict_stage_uses_only_a_model_trained_before_the_day(
    stores: tuple[Settings, Settings],
) -> None:
    """The real predict stage on D with a registry holding a version trained up to D-1 and a
    later, promoted one trained on the store up to END (results after D included): D is
    predicted by the D-1 version in both stores, bit for bit the same, never by the later one."""
    from flows.chain import train_chain
    from raceday.model.win import ScorerOptions, fit_win_model, time_split
    from raceday.store import registry
    from tasks.common import in_process
    from tasks.predict import predict
    from tests.unit.test_model import synthetic_runners

    before = D - timedelta(days=1)
    raw = simulate_days(D, D, SimulatorConfig(races_per_day=30)).raw
    morning_odds = odds_snapshots.decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
    # Three weeks of history leave too few horses with a past run to train on before D: the
    # D-1 version is fitted on synthetic runners (it reads the same feature columns).
    split = time_split(before, 20, 20, 20)
    early = fit_win_model(
        synthetic_runners(600, 9, split.train_start), split, registry.version_name(before),
        ScorerOptions(max_iter=20),
    ).model  # fmt: skip
    predicted = {}
    for name, settings in zip("ab", stores, strict=True):
        windows = {"train_days": 14, "blend_days": 7, "evaluate_days": 7, "min_races": 100}
        small = settings.model_copy(
            update={"train": settings.train.model_copy(update={**windows, "max_iter": 20})}
        )
        later = train_chain(in_process, small, END)["version"]
        with make_engine(settings.database_url).begin() as connection:
            registry.register_model(connection, early, before, {"split": split.to_dict()}, None)
            registry.promote(connection, early.version)
            registry.promote(connection, later)
            assert registry.version_for_day(connection, END + timedelta(days=1)) == later
        stored = morning_card(*_stored_day(settings, D), D)
        card = ValidatedDay(stored.races, stored.runners, morning_odds, stored.quarantine, ())
        features = day_features(settings, card, D)
        predicted[name] = predict(settings, card, D, features).sort_values(
            ["race_id", "umaban"], ignore_index=True
        )
    a = predicted["a"]
    assert set(a["model_version"]) == {"gbm-20260531"}
    assert a["p_model"].notna().all() and a["p_model"].nunique() > 100
    assert np.allclose(a.groupby("race_id")["p_final"].sum(), 1.0)
    assert_frame_equal(a, predicted["b"], check_exact=True)
