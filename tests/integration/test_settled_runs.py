"""A backfill's bounded settled runs (``SettledRuns`` with ``held_days``: horses gone that long
evicted, read back from the store when they run again or are on a card) give build_features
exactly what the whole history gives: the same features, bit for bit, and the same cards in
the same order, while holding fewer runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from raceday.ratings.features import build_features
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.races import withdraw_results, write_races_and_runners
from raceday.store.catalogs.ratings import (
    SettledRuns,
    WrittenRuns,
    read_runs_and_cards,
    read_settled_runs,
    write_by_runner,
    written_runs,
)
from raceday.store.engine import make_engine, upgrade_schema
from tests.store_support import copy_store, fresh_postgres_database

FIRST_DAY = date(2026, 1, 1)
DAYS = 90
PEOPLE_WINDOW = 10
HELD_DAYS = 12
# a horse that runs on the first days only, then after a layoff far longer than HELD_DAYS
COMEBACK = "COMEBACK"
COMEBACK_DAYS = (0, 3, 6, 70)
RETIRED = "RETIRED"  # runs on days 1 and 5, then only on the card without results
UNSETTLED_DAY = 81  # a card without results: its horses' features read, no run added


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def stored_days(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The simulated days (:func:`store`) stored once per backend for the module, SQLite then
    PostgreSQL: the URL of a template each test reads a copy of (the tests only read)."""
    if request.param == "sqlite":
        yield stored_in(f"sqlite:///{tmp_path_factory.mktemp('settled_runs') / 'days.db'}")
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield stored_in(url)


def stored_in(url: str) -> str:
    """``url``'s store migrated and holding the simulated days; nothing left connected to it
    (a PostgreSQL template is copied only while nobody is on it)."""
    engine = make_engine(url)
    upgrade_schema(engine)
    store(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(stored_days: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A copy of the stored days, this test's own."""
    if stored_days.startswith("sqlite"):
        template = Path(make_url(stored_days).database or "")
        yield make_engine(copy_store(template, tmp_path / "store.db"))
        return
    admin = request.getfixturevalue("postgres_server")
    with fresh_postgres_database(admin, template=stored_days) as url:
        yield make_engine(url)


def day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


def simulated_days(seed: int = 7) -> list[tuple[int, list[str]]]:
    """(day, horses) of one race a day: a pool of 30 horses with careers of 10-60 days, the
    comeback horse, the retired horse and a blank horse id."""
    rng = np.random.default_rng(seed)
    debut = rng.integers(0, DAYS - 20, 30)
    career = rng.integers(10, 60, 30)
    races = []
    for offset in range(DAYS):
        active = [f"H{k:02d}" for k in range(30) if debut[k] <= offset < debut[k] + career[k]]
        field = list(rng.choice(active, size=min(len(active), 5), replace=False)) if active else []
        if offset in COMEBACK_DAYS:
            field.append(COMEBACK)
        if offset % 17 == 0:
            field.append("")  # a blank horse id: one group, never evicted
        if offset in (1, 5, UNSETTLED_DAY):
            field.append(RETIRED)  # long gone by then: read back for the card
        if field:
            races.append((offset, field))
    return races


def store(engine: Engine, seed: int = 7) -> None:
    rng = np.random.default_rng(seed + 1)
    for offset, field in simulated_days(seed):
        race_id = f"{day(offset):%Y%m%d}4401"
        race = pd.DataFrame(
            [{"race_id": race_id, "race_date": pd.Timestamp(day(offset)), "keibajo_code": "44",
              "race_bango": 1, "distance_m": 1200, "field_size": len(field),
              "entries": len(field), "class_code": "C3", "going_code": int(rng.integers(1, 5)),
              "track_code": "24"}]
        ).astype({"class_code": "string"})  # fmt: skip
        order = rng.permutation(len(field)) + 1
        runners = pd.DataFrame(
            [{"race_id": race_id, "umaban": umaban, "race_date": pd.Timestamp(day(offset)),
              "keibajo_code": "44", "horse_id": horse,
              "jockey_id": f"J{rng.integers(0, 4)}", "trainer_id": f"T{rng.integers(0, 3)}",
              "weight_carried_kg": 55.0, "finish_pos": int(order[umaban - 1]),
              "finish_time_s": 74.0 + order[umaban - 1], "abnormal_code": 0}
             for umaban, horse in enumerate(field, 1)]
        )  # fmt: skip
        indexes = pd.DataFrame(
            {"race_id": race_id, "umaban": np.arange(1, len(field) + 1),
             "race_date": pd.Timestamp(day(offset)),
             "speed_index": rng.normal(50.0, 13.7, len(field))}  # sums that round
        )  # fmt: skip
        with engine.begin() as connection:
            write_races_and_runners(
                connection, race, runners, has_results=offset != UNSETTLED_DAY, source="test"
            )
            write_by_runner(connection, "indexes", indexes)


def test_bounded_runs_give_the_features_of_the_whole_history(engine: Engine) -> None:
    """Chunk after chunk, then trainings over windows reaching before the held days: the same
    cards (in order, for chunks) and the same features as from the whole history; horses are
    evicted and read back (the comeback horse after 64 days away, a retired horse on a card
    without results), long careers folded into sums; the runs held stay below the runs
    settled."""
    settled = SettledRuns(held_days=HELD_DAYS)
    with engine.connect() as connection:
        for first in range(20, DAYS, 10):
            start, end = day(first), day(min(first + 9, DAYS - 1))
            cards = settled.cards(connection, start, end)
            history, people, folded = settled.history_for(connection, cards, PEOPLE_WINDOW)
            whole, whole_cards = read_runs_and_cards(connection, start, end)
            pd.testing.assert_frame_equal(cards, whole_cards, check_exact=True)
            pd.testing.assert_frame_equal(
                build_features(history, cards, PEOPLE_WINDOW, people, folded),
                build_features(whole, whole_cards, PEOPLE_WINDOW),
                check_exact=True,
            )
            # the cards' horses' runs only: the people window comes as the counts kept by day
            assert people is not None
            assert set(history["horse_id"].fillna("")) <= set(cards["horse_id"].fillna(""))
            if settled.held_from is not None:  # the counts of evicted days are dropped
                since = pd.Timestamp(settled.held_from)
                assert all((days["race_date"] >= since).all() for days in settled.people)
                assert all(len(days) for days in settled.people)
            held = sum(len(block) for block in settled.blocks)
            assert held <= settled.runs_through == len(whole)
            # the horses' last runs, kept as blocks come, are those of the runs held
            runs_held = pd.concat(settled.blocks)
            last_held = runs_held.groupby(runs_held["horse_id"].fillna(""))["race_date"].max()
            pd.testing.assert_series_equal(
                settled.last_runs.sort_index(), last_held.sort_index(), check_names=False
            )
            if first <= COMEBACK_DAYS[-1] <= first + 9:  # back after 64 days: held again
                assert COMEBACK not in settled.evicted
            elif first == COMEBACK_DAYS[-1] - 10:
                assert COMEBACK in settled.evicted
        assert RETIRED in settled.evicted  # on a card without results: read back, not held
        assert settled.read_back >= 2 and held < 0.75 * settled.runs_through
        # the careers' runs before the held days but the last five are held as sums only
        assert settled.folded_runs > 0 and len(settled.folded) > 0
        for first, last in [(40, 89), (80, 89), (25, 60)]:  # a training's window
            start, end = day(first), day(last)
            cards = settled.cards(connection, start, end)
            history, people, folded = settled.history_for(connection, cards, PEOPLE_WINDOW)
            whole, whole_cards = read_runs_and_cards(connection, start, end)
            key = ["race_id", "umaban"]
            pd.testing.assert_frame_equal(
                build_features(history, cards, PEOPLE_WINDOW, people, folded).sort_values(
                    key, ignore_index=True
                ),
                build_features(whole, whole_cards, PEOPLE_WINDOW).sort_values(
                    key, ignore_index=True
                ),
                check_exact=True,
            )


def test_the_features_of_a_range_are_those_of_the_whole_history(engine: Engine) -> None:
    """``SettledRuns.features``: chunk after chunk (built and kept), then a training's window of
    kept days and one reaching before them (those days built, the kept ones taken): the
    features of the whole history, the days kept as the window says."""
    settled = SettledRuns.for_training(window_days=40, held_days=HELD_DAYS)
    key = ["race_id", "umaban"]

    def in_key_order(features: pd.DataFrame) -> pd.DataFrame:
        return features.sort_values(key, ignore_index=True)

    with engine.connect() as connection:

        def whole_history_features(start: date, end: date) -> pd.DataFrame:
            whole, cards = read_runs_and_cards(connection, start, end)
            return in_key_order(build_features(whole, cards, PEOPLE_WINDOW))

        for first in range(20, DAYS, 10):
            start, end = day(first), day(min(first + 9, DAYS - 1))
            features = settled.features(connection, start, end, PEOPLE_WINDOW)
            expected = whole_history_features(start, end)
            pd.testing.assert_frame_equal(in_key_order(features), expected, check_exact=True)
        kept = sorted(settled.built.days)
        assert kept[0] == pd.Timestamp(day(50)) and kept[-1] == pd.Timestamp(day(DAYS - 1))
        for first, last in [(55, 89), (35, 70)]:
            start, end = day(first), day(last)
            features = settled.features(connection, start, end, PEOPLE_WINDOW)
            expected = whole_history_features(start, end)
            pd.testing.assert_frame_equal(in_key_order(features), expected, check_exact=True)


def test_without_held_days_nothing_is_evicted(engine: Engine) -> None:
    """The default holds every run: nothing evicted, nothing read back."""
    settled = SettledRuns()
    with engine.connect() as connection:
        for first in range(20, DAYS, 30):
            settled.cards(connection, day(first), day(first + 29))
    assert not settled.evicted and settled.read_back == 0
    assert sum(len(block) for block in settled.blocks) == settled.runs_through


def written_days(engine: Engine, first: int, last: int) -> WrittenRuns:
    """Simulated days ``first``..``last`` (decoded as a chunk's results are; the runners in
    reverse, a NUL in a horse's id, a float where an integer goes, a runner of a race not
    written) written as the
    results stage and the indexes stage write them (two thirds of the runs with an index row,
    some of those NaN); :func:`written_runs` of them."""
    raw = simulate_days(day(first), day(last), SimulatorConfig(races_per_day=24)).raw
    races, runners = raw.races, raw.runners.iloc[::-1].copy()  # written not in day order
    runners.loc[3, "horse_id"] = "12\x0034"
    runners["weight_carried_kg"] = runners["weight_carried_kg"].astype("float64")
    runners["age"] = runners["age"].astype("float64") + 0.25
    races = races[races["race_id"] != runners["race_id"].iloc[-1]]  # its runners only
    rng = np.random.default_rng(3)
    indexes = runners.loc[rng.random(len(runners)) < 2 / 3, ["race_id", "umaban", "race_date"]]
    indexes = indexes.assign(speed_index=rng.normal(50.0, 13.7, len(indexes)), ten_index=np.nan)
    indexes.loc[indexes.index[::7], "speed_index"] = np.nan
    with engine.begin() as connection:
        write_races_and_runners(connection, races, runners, has_results=True, source="sim")
        write_by_runner(connection, "indexes", indexes)
    return written_runs(races, runners, indexes)


def test_the_runs_written_are_those_read_back(engine: Engine) -> None:
    """``written_runs`` of a chunk's results and indexes is what ``read_settled_runs`` reads of
    them: the same columns, dtypes, values (as stored: NUL dropped, integers rounded) and, on
    SQLite, the same order (by day, then as written; another backend's read has no order).
    ``SettledRuns`` takes them instead of reading them back."""
    after, end = day(DAYS + 9), day(DAYS + 12)
    written = written_days(engine, DAYS + 10, DAYS + 12)
    with engine.connect() as connection:
        read = read_settled_runs(connection, end, after=after)
        taken = written.stored_between(connection, after, end)
    assert taken is not None and len(read) > 500
    assert read["speed_index"].notna().any() and read["speed_index"].isna().any()
    if engine.dialect.name != "sqlite":
        read, taken = (
            runs.sort_values(["race_id", "umaban"], ignore_index=True) for runs in (read, taken)
        )
    pd.testing.assert_frame_equal(taken, read, check_exact=True)
    # the runs held so far, then the chunk's: taken, not read
    settled = SettledRuns()
    with engine.connect() as connection:
        settled.extend(connection, after)
        settled.wrote(written)
        settled.extend(connection, end)
    assert settled.blocks[-1] is written.runs and settled.written is None
    assert settled.taken_as_written == 1


def test_runs_written_are_read_when_the_store_holds_others(engine: Engine) -> None:
    """The store holding anything else for the days written — a race settled before and not
    written again, a race's results taken back, an index row left from an earlier run — or
    runs written of other days: ``stored_between`` says so (None) and they are read."""
    after, end = day(DAYS + 9), day(DAYS + 12)
    written = written_days(engine, DAYS + 10, DAYS + 12)
    runs = written.runs
    with engine.connect() as connection:
        assert written.stored_between(connection, after, end) is not None
        assert written.stored_between(connection, after, end - timedelta(days=1)) is None
    without_a_race = written_runs(
        pd.DataFrame({"race_id": pd.Series([], dtype="string")}), runs.iloc[:0], runs.iloc[:0]
    )
    unindexed = runs.loc[written.indexed.__invert__()].iloc[0]
    with engine.begin() as connection:
        withdraw_results(connection, [runs["race_id"].iloc[0]])
        assert written.stored_between(connection, after, end) is None
        connection.rollback()
    with engine.begin() as connection:
        stale = pd.DataFrame(
            {"race_id": [unindexed["race_id"]], "umaban": [unindexed["umaban"]],
             "race_date": [unindexed["race_date"]], "speed_index": [1.0]}
        )  # fmt: skip
        write_by_runner(connection, "indexes", stale)
        assert written.stored_between(connection, after, end) is None
        connection.rollback()
    with engine.connect() as connection:
        assert without_a_race.stored_between(connection, after, end) is None
        settled = SettledRuns()
        settled.extend(connection, after)
        settled.wrote(without_a_race)
        settled.extend(connection, end)
        pd.testing.assert_frame_equal(
            settled.blocks[-1], read_settled_runs(connection, end, after=after), check_exact=True
        )
        assert settled.taken_as_written == 0
