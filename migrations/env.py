"""Alembic environment: runs on a connection handed over by raceday, or on ``-x url=...``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import raceday.store.boat_models  # noqa: F401 - the boat tables, on the same Base
from raceday.store.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate on the given connection (raceday) or on a new engine (alembic CLI)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        from config import load_settings

        url = load_settings().database_url
    engine = create_engine(url)
    with engine.begin() as new_connection:
        context.configure(
            connection=new_connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
