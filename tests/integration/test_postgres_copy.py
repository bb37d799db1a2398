"""PostgreSQL writes go through COPY: they store exactly what an INSERT of the same frame stores."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from raceday.store.engine import make_engine
from raceday.store.repository import StoreWriteError, _copy_frame, insert_rows, to_records

pytestmark = pytest.mark.postgres

HOSTILE_TEXT = [
    "plain",
    "",  # an empty string is not a NULL
    "tab\there",
    "line\nbreak\r\n",
    "back\\slash \\N",  # COPY's own NULL marker, as text
    "quote \" and ' ,comma",
    "ｻﾝﾌﾟﾙ 全角カナ 🐎",
    None,
]


def _table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("count", Integer),
        Column("ratio", Float),
        Column("flag", Boolean),
        Column("day", Date),
        Column("at", DateTime),
        Column("code", String(20)),
        Column("note", Text),
    )


def _frame() -> pd.DataFrame:
    rows = len(HOSTILE_TEXT)
    return pd.DataFrame(
        {
            "id": range(rows),
            "count": pd.array([7, None, 0, -3, 2**31 - 1, 1, None, 5], dtype="Int64"),
            "ratio": [0.1, float("nan"), 1e-300, -2.5, 1 / 3, 123456789.125, 0.0, None],
            "flag": pd.array([True, False, None, True, False, None, True, False], "boolean"),
            "day": pd.to_datetime(["2026-11-20", None] + ["1999-12-31"] * (rows - 2)),
            "at": pd.to_datetime(["2026-11-20 09:30:01.250000", None] * (rows // 2)),
            "code": ["44", None, "A\tB", "x", "", "y", "z", "w"],
            "note": HOSTILE_TEXT,
        }
    )


def test_copy_stores_what_an_insert_stores(postgres_url: str) -> None:
    """Every type and hostile text (tabs, line breaks, backslashes, ``\\N``, empty strings,
    half-width kana, NULLs) comes back from a COPY write as from an executemany INSERT."""
    metadata = MetaData()
    by_copy, by_insert = _table(metadata, "by_copy"), _table(metadata, "by_insert")
    engine = make_engine(postgres_url)
    metadata.create_all(engine)
    frame = _frame()
    with engine.begin() as connection:
        assert _copy_frame(connection, by_copy, frame) == len(frame)
        connection.execute(insert(by_insert), to_records(frame, by_insert))
    with engine.connect() as connection:
        copied = connection.execute(select(by_copy).order_by(by_copy.c.id)).all()
        inserted = connection.execute(select(by_insert).order_by(by_insert.c.id)).all()
    assert copied == inserted
    assert copied[4].note == "back\\slash \\N" and copied[1].note == ""
    assert copied[7].note is None and copied[1].count is None
    assert copied[0].day == date(2026, 11, 20)
    assert copied[0].at == datetime(2026, 11, 20, 9, 30, 1, 250000)
    engine.dispose()


def test_a_copy_the_database_refuses_is_one_line_of_its_kind(postgres_url: str) -> None:
    """A duplicate key refused inside COPY is a StoreWriteError naming SQLAlchemy's kind
    (IntegrityError), and the caller's transaction writes nothing."""
    metadata = MetaData()
    table = _table(metadata, "refused")
    engine = make_engine(postgres_url)
    metadata.create_all(engine)
    frame = _frame()
    with pytest.raises(StoreWriteError, match="IntegrityError") as raised, engine.begin() as conn:
        insert_rows(conn, table, frame.iloc[:3])
        insert_rows(conn, table, frame.iloc[2:])
    assert "\n" not in str(raised.value)
    with engine.connect() as connection:
        assert connection.execute(select(table)).first() is None
    engine.dispose()
