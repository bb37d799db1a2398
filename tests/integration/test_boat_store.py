"""The boat tables: revisions 2200 and 2300 create exactly what the models say, and go down
cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from raceday.store.boat_models import BOAT_TABLES
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.models import Base


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
