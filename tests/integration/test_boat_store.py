"""The boat tables: revisions 2200 and 2300 create exactly what the models say, and go down
cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from raceday.store.boat_models import BOAT_TABLES
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.models import Base
from raceday.store.repository import read_rows


def test_migration_2200_matches_the_boat_models(store_url: str) -> None:
    """After ``upgrade head`` autogenerate finds nothing to change on the boat tables."""
    engine = make_engine(store_url)
    upgrade_schema(engine)
    assert set(BOAT_TABLES) <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    boat_diff = [change for change in diff if "boat_" in repr(change)]
    assert boat_diff == []


def test_migration_2200_goes_down_to_2100(sqlite_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    config = Config("alembic.ini")
    config.cmd_opts = None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "2100")
    assert not set(BOAT_TABLES) & set(inspect(engine).get_table_names())


def test_migration_2300_goes_down_to_2200(sqlite_url: str) -> None:
    """Down to 2200: boat_course and boat_exotics gone, the 2200 tables kept."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    assert {"boat_course", "boat_exotics"} <= set(inspect(engine).get_table_names())
    config = Config("alembic.ini")
    config.cmd_opts = None
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "2200")
    tables = set(inspect(engine).get_table_names())
    assert not {"boat_course", "boat_exotics"} & tables
    assert set(BOAT_TABLES) - {"boat_course", "boat_exotics"} <= tables


def test_course_and_exotics_round_trip_and_rewrite(store_url: str) -> None:
    """The stage's rows of a simulated day are stored and read back as computed; writing the
    day again replaces them (no duplicates)."""
    from datetime import date

    import numpy as np
    import pandas as pd

    from raceday.boat.course import COURSE_COLUMNS, course_features
    from raceday.boat.exotics import day_exotics
    from raceday.boat.history import results_history
    from raceday.boat.simulate.config import BoatSimulatorConfig
    from raceday.boat.simulate.days import simulate_boat_days
    from raceday.store.catalogs import boat as catalog

    config = BoatSimulatorConfig(seed=1, venues_per_day=1)
    days = simulate_boat_days(date(2026, 4, 1), date(2026, 4, 3), config)
    dated = pd.to_datetime(days.entries["race_id"].str[:8])
    entries = days.entries.assign(race_date=dated, venue_code=days.entries["race_id"].str[8:10])
    results = days.results.assign(race_date=pd.to_datetime(days.results["race_id"].str[:8]))
    today = entries[dated == pd.Timestamp("2026-04-03")].reset_index(drop=True)
    history = results_history(entries[dated < "2026-04-03"], results)
    course = course_features(today, history[history["race_date"] < "2026-04-03"])
    predictions = course[["race_id", "boat", "race_date"]].assign(
        p_final=course["p_course"], model_version="boat-test"
    )
    exotics = day_exotics(predictions)
    day = date(2026, 4, 3)
    engine = make_engine(store_url)
    upgrade_schema(engine)
    for _ in range(2):
        with engine.begin() as connection:
            catalog.write_course(connection, course, day)
            catalog.write_exotics(connection, exotics, day)
    with engine.connect() as connection:
        stored = catalog.read_course(connection, day, day)
        stored_exotics = catalog.read_exotics(connection, day, day)
    assert len(stored) == len(course) and len(stored_exotics) == len(exotics) == 12 * 20
    stored = stored.sort_values(["race_id", "boat"]).reset_index(drop=True)[COURSE_COLUMNS]
    np.testing.assert_allclose(stored["expected_course"], course["expected_course"])
    np.testing.assert_allclose(stored["st_index"], course["st_index"])


def test_a_race_stored_again_replaces_its_results_and_payouts_as_a_set(store_url: str) -> None:
    """A day stored from a wrong K file (race 1's win line on boat 6), then from the right one:
    race 1's payouts are the right file's alone; stored again as cancelled, it keeps no result
    and no payout. Payouts were upserted line by line: win 6 and the winner's win line both
    stayed (read back as a dead heat)."""
    from datetime import date

    import pandas as pd

    from raceday.boat.simulate.config import BoatSimulatorConfig
    from raceday.boat.simulate.days import simulate_boat_days
    from raceday.store.catalogs import boat as catalog

    day = simulate_boat_days(date(2026, 4, 1), date(2026, 4, 1),
                             BoatSimulatorConfig(seed=1, venues_per_day=1))  # fmt: skip

    def dated(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(race_date=pd.to_datetime(frame["race_id"].str[:8]))

    race = sorted(day.result_races["race_id"])[0]
    win = (day.payouts["race_id"] == race) & (day.payouts["bet_type"] == "win")
    winner = day.payouts.loc[win, "combination"].tolist()
    loser = next(str(boat) for boat in range(1, 7) if str(boat) not in winner)
    wrong = day.payouts.copy()
    wrong.loc[win, "combination"] = loser
    races = day.program_races.assign(venue_code=day.program_races["race_id"].str[8:10])
    entries = dated(day.entries).assign(venue_code=day.entries["race_id"].str[8:10])
    engine = make_engine(store_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        catalog.write_card(connection, races, entries, dated(day.odds))
        catalog.write_results(connection, day.result_races, dated(day.results), dated(wrong))
        catalog.write_results(connection, day.result_races, dated(day.results), dated(day.payouts))
    with engine.connect() as connection:
        stored = read_rows(connection, BOAT_TABLES["boat_payouts"])
    stored_win = stored[(stored["race_id"] == race) & (stored["bet_type"] == "win")]
    assert stored_win["combination"].tolist() == winner
    assert len(stored) == len(day.payouts)

    cancelled = day.result_races[day.result_races["race_id"] == race].assign(status="cancelled")
    with engine.begin() as connection:
        catalog.write_results(connection, cancelled, dated(day.results.iloc[0:0]),
                              dated(day.payouts.iloc[0:0]))  # fmt: skip
    with engine.connect() as connection:
        results = read_rows(connection, BOAT_TABLES["boat_results"])
        payouts = read_rows(connection, BOAT_TABLES["boat_payouts"])
    assert not (results["race_id"] == race).any() and not (payouts["race_id"] == race).any()
    assert results["race_id"].nunique() == 11 and payouts["race_id"].nunique() == 11
    engine.dispose()
