"""Database URLs as other tools write them: every PostgreSQL driver name reaches PostgreSQL
through the driver raceday installs (psycopg 3), its text read as UTF-8 unless the URL says."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from raceday.store.engine import connect_args, make_engine, with_installed_driver

POSTGRES_SPELLINGS = [
    "postgresql://keiba@db.example/raceday",
    "postgresql+psycopg2://keiba@db.example/raceday",
    "postgres://keiba@db.example/raceday",
    "postgresql+asyncpg://keiba@db.example/raceday",
    "postgresql+psycopg://keiba@db.example/raceday",
]


@pytest.mark.parametrize("url", POSTGRES_SPELLINGS)
def test_a_store_url_of_any_postgresql_driver_opens_with_psycopg(url: str) -> None:
    """Before, ``postgresql://`` (psycopg2's, the form most tools print) could not open the
    store: "No module named 'psycopg2'"."""
    engine = make_engine(url)
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    assert engine.url.database == "raceday" and engine.url.host == "db.example"


def test_postgresql_text_is_read_as_utf8_unless_the_url_names_an_encoding() -> None:
    assert connect_args(make_url(POSTGRES_SPELLINGS[0])) == {"client_encoding": "utf8"}
    assert connect_args(make_url(f"{POSTGRES_SPELLINGS[0]}?client_encoding=SJIS")) == {}
    assert connect_args(make_url("sqlite:///var/raceday.db")) == {}


def test_other_backends_keep_their_driver() -> None:
    for url in ("sqlite:///var/raceday.db", "mysql+pymysql://keiba@db.example/pckeiba"):
        assert with_installed_driver(make_url(url)) == make_url(url)
