"""Idempotent frame IO on the store: whole DataFrames in and out, one transaction per write.

Writes replace rows by natural key (delete the keys being written, insert them again) inside the
caller's transaction, so re-running a stage never duplicates anything and a failed stage leaves
the store as it was. Every write goes through :func:`_insert_frame`: text loses NUL bytes there
(PostgreSQL refuses them in text columns, whatever the source), and a write the database
refuses is raised as :class:`StoreWriteError` with one short line, never the rows it carried.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
    tuple_,
    type_coerce,
)

from raceday.arrow_text import text_contains

_KEY_CHUNK = 500  # keys per DELETE ... IN (...): below every backend's parameter limit
_NUL = "\x00"
ERROR_LINE_CHARS = 300  # what a refused write may say: the driver's first line, never the rows


class StoreWriteError(RuntimeError):
    """The database refused a write: the table and the driver's first line, at most 300 chars.

    SQLAlchemy's own message carries the statement and up to ten rows of parameters (≈100 KB
    for a day's runners); logged, it floods the log with race data.
    """


def refused_write(table: Table, error: BaseException) -> StoreWriteError:
    """A :class:`StoreWriteError` for ``table`` from a driver error (its first line only)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    # SQLAlchemy's class (IntegrityError, DataError, ...) names the kind on every backend.
    message = f"writing {table.name} failed: {type(error).__name__}: {lines[0]}"
    return StoreWriteError(message[:ERROR_LINE_CHARS])


def _column_dtype(sql_type: Any) -> str:
    if isinstance(sql_type, Boolean):
        return "boolean"
    if isinstance(sql_type, Integer):
        return "Int64"
    if isinstance(sql_type, Float):
        return "float64"
    if isinstance(sql_type, Date | DateTime):
        return "datetime64[ns]"
    return "string"


@cache
def _pandas_dtype(dtype: str) -> Any:
    """The pandas dtype named ``dtype`` (parsed once: every column of every write asks)."""
    return pd.api.types.pandas_dtype(dtype)


def _in_dtype(values: pd.Series, dtype: str) -> pd.Series:
    """``values`` in a table column's dtype (unchanged when already in it). NumPy datetimes and
    integers are cast straight to it: ``to_datetime`` and ``to_numeric(...).round()`` give them
    back as they are, at several times the cost of the cast on the small frames of most writes."""
    if values.dtype == _pandas_dtype(dtype):
        return values
    numpy_kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else None
    if dtype == "datetime64[ns]":
        if numpy_kind == "M":
            return values.astype("datetime64[ns]")
        return pd.to_datetime(values).astype("datetime64[ns]")
    if dtype == "Int64":
        if numpy_kind in ("i", "u"):
            return values.astype("Int64")
        return pd.to_numeric(values).round().astype("Int64")
    if dtype == "float64":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    return values.astype(dtype)


def _conformed_columns(
    frame: pd.DataFrame, table: Table, only: Sequence[str] | None = None
) -> dict[str, pd.Series]:
    """The table's columns (``only`` those) of ``frame`` in the table's dtypes, missing ones NA."""
    missing = pd.Series(np.nan, index=frame.index)
    return {
        column.name: _in_dtype(
            frame[column.name] if column.name in frame.columns else missing,
            _column_dtype(column.type),
        )
        for column in _table_columns(table, only)
    }


def conform(frame: pd.DataFrame, table: Table, only: Sequence[str] | None = None) -> pd.DataFrame:
    """The frame with exactly the table's columns (missing ones as NA) in the table's dtypes;
    ``only``: those of the table's columns, in the table's order."""
    columns = _conformed_columns(frame, table, only)
    # one frame built from arrays: inserting column by column cost as much again
    return pd.DataFrame({name: values.array for name, values in columns.items()}, index=frame.index)


def as_stored(frame: pd.DataFrame, table: Table, only: Sequence[str] | None = None) -> pd.DataFrame:
    """The values a write of ``frame`` stores in ``table`` (``only``: those of its columns), as
    a frame: :func:`conform`'s columns, text without NUL bytes (:func:`_storable_columns`),
    dates without a time of day and moments to the microsecond (what a ``DATE`` and SQLite's
    ``DATETIME`` text keep). What a read of those rows gives back, for a caller that holds the
    frame it wrote and would otherwise read it again."""
    columns = _storable_columns(frame, table, only)
    for column in _table_columns(table, only):
        if isinstance(column.type, DateTime):
            columns[column.name] = columns[column.name].dt.floor("us")
        elif isinstance(column.type, Date):
            columns[column.name] = columns[column.name].dt.normalize()
    return pd.DataFrame({name: values.array for name, values in columns.items()}, index=frame.index)


def _storable_columns(
    frame: pd.DataFrame, table: Table, only: Sequence[str] | None = None
) -> dict[str, pd.Series]:
    """:func:`_conformed_columns`, and text without NUL bytes: PostgreSQL text columns cannot
    hold them (one in a horse's name would refuse the whole day's write); SQLite gets the same
    values. The write paths take the columns as they are, never a frame built of them."""
    columns = _conformed_columns(frame, table, only)
    for column in _table_columns(table, only):
        text = columns[column.name]
        if _column_dtype(column.type) == "string" and text_contains(text, _NUL):
            columns[column.name] = text.str.replace(_NUL, "", regex=False)
    return columns


def _stored_columns(frame: pd.DataFrame, table: Table) -> Iterator[tuple[Column[Any], pd.Series]]:
    """Each column the store is given a value for, with ``frame``'s conformed values of it."""
    conformed = _storable_columns(frame, table)
    for column in table.columns:
        if column.autoincrement is True and column.name not in frame.columns:
            continue  # the database assigns it
        yield column, conformed[column.name]


def _plain_values(series: pd.Series) -> list[Any]:
    """A column's values as a list of plain Python values, None for each missing one.

    ``to_numpy(dtype=object, na_value=None)`` gives the values that ``astype(object)`` gives
    with every missing one as None, in one step (``.where(series.notna(), None)`` built two
    more Series per column per write: most of a small write's cost)."""
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _python_columns(frame: pd.DataFrame, table: Table) -> dict[str, list[Any]]:
    """Column lists of plain Python values (None for missing, ``date`` for dates), as stored."""
    columns: dict[str, list[Any]] = {}
    for column, series in _stored_columns(frame, table):
        if isinstance(column.type, Date) and not isinstance(column.type, DateTime):
            series = series.dt.date
        elif isinstance(column.type, DateTime):
            series = pd.Series(series.dt.to_pydatetime(), index=series.index, dtype=object)
        columns[column.name] = _plain_values(series)
    return columns


def to_records(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Row dicts with plain Python values (None for missing, ``date`` for dates), as stored."""
    columns = _python_columns(frame, table)
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def replace_rows(
    connection: Connection, table: Table, frame: pd.DataFrame, key_columns: Sequence[str]
) -> int:
    """Delete the rows whose key is in ``frame`` and insert ``frame``; returns rows written."""
    if frame.empty:
        return 0
    if connection.dialect.name == "sqlite" and _is_indexed(table, key_columns):
        _delete_keys_sqlite(connection, table, frame, key_columns)
    else:
        keys = frame[list(key_columns)].drop_duplicates()
        key_tuples = [tuple(row) for row in keys.astype(object).itertuples(index=False)]
        key_exprs = [table.c[name] for name in key_columns]
        for chunk in _chunks(key_tuples, _KEY_CHUNK):
            connection.execute(delete(table).where(_key_condition(key_exprs, chunk)))
    return _insert_frame(connection, table, frame)


def _is_indexed(table: Table, columns: Sequence[str]) -> bool:
    """Whether ``columns`` lead the primary key or an index of ``table``: a delete by one
    value of them is an index search, never a scan of the table."""
    leading = [[column.name for column in table.primary_key.columns]]
    leading += [[column.name for column in index.columns] for index in table.indexes]
    return any(set(names[: len(columns)]) == set(columns) for names in leading)


def _delete_keys_sqlite(
    connection: Connection, table: Table, frame: pd.DataFrame, key_columns: Sequence[str]
) -> int:
    """Delete the rows of ``frame``'s keys on SQLite: one ``DELETE ... WHERE k = ?`` run by the
    driver's executemany over the distinct keys (each an index search). SQLAlchemy's
    expanding ``IN`` lists cost more to compile than the deletes themselves (≈ 7 s of a
    three-month backfill's writes). Returns the rows deleted."""
    columns = _sqlite_columns(frame, table, only=key_columns)
    keys = list(dict.fromkeys(zip(*(columns[name] for name in key_columns), strict=True)))
    quote = connection.dialect.identifier_preparer.quote
    where = " AND ".join(f"{quote(name)} = ?" for name in key_columns)
    result = connection.exec_driver_sql(f"DELETE FROM {quote(table.name)} WHERE {where}", keys)
    return int(result.rowcount or 0)  # the driver sums an executemany's rows


def _key_condition(key_exprs: Sequence[Any], keys: Sequence[tuple[Any, ...]]) -> Any:
    """Rows whose key is one of ``keys``. Multi-column keys also get an IN per column, which lets
    SQLite search the key's index (a row-value IN alone scanned the whole table per chunk)."""
    if len(key_exprs) == 1:
        return key_exprs[0].in_([key[0] for key in keys])
    per_column = [
        expr.in_(list(dict.fromkeys(key[position] for key in keys)))
        for position, expr in enumerate(key_exprs)
    ]
    return and_(*per_column, tuple_(*key_exprs).in_(list(keys)))


def delete_in(connection: Connection, table: Table, column: str, values: Sequence[Any]) -> int:
    """Delete rows whose ``column`` is one of ``values``; returns rows deleted."""
    distinct = list(dict.fromkeys(values))
    if connection.dialect.name == "sqlite" and distinct and _is_indexed(table, [column]):
        keys = pd.DataFrame({column: distinct})
        return _delete_keys_sqlite(connection, table, keys, [column])
    deleted = 0
    for chunk in _chunks(distinct, _KEY_CHUNK):
        result = connection.execute(delete(table).where(table.c[column].in_(list(chunk))))
        deleted += int(result.rowcount or 0)
    return deleted


def insert_rows(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` (the caller makes the write idempotent)."""
    if frame.empty:
        return 0
    return _insert_frame(connection, table, frame)


def _insert_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """One bulk write of the frame by the database's fast path: on PostgreSQL through psycopg
    a ``COPY ... FROM STDIN`` (:func:`_copy_frame`), on SQLite one executemany INSERT straight
    through the driver with values formatted column-wise as SQLAlchemy stores them (its
    per-value processing dominated large writes), elsewhere an executemany INSERT through
    SQLAlchemy. A refused write raises :class:`StoreWriteError`."""
    from sqlalchemy.exc import DBAPIError

    try:
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            return _copy_frame(connection, table, frame)
        if connection.dialect.name != "sqlite":
            records = to_records(frame, table)
            connection.execute(insert(table), records)
            return len(records)
        columns = _sqlite_columns(frame, table)
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in columns)
        marks = ", ".join("?" for _ in columns)
        rows = list(zip(*columns.values(), strict=True))
        connection.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows
        )
        return len(rows)
    except DBAPIError as error:
        # ``from None``: the chained error's text is the statement with rows of data.
        raise refused_write(table, error) from None


def _copy_frame(connection: Connection, table: Table, frame: pd.DataFrame) -> int:
    """The frame's rows by PostgreSQL's ``COPY ... FROM STDIN`` on the connection's own psycopg
    connection, so inside the caller's transaction (several times faster than an executemany
    INSERT: a day's runners are one stream, not a statement per batch of rows). The values are
    the ones an INSERT would send (:func:`to_records`'); a refusal is raised as SQLAlchemy's
    error of its kind (``IntegrityError``, ``DataError``, ...), as an INSERT's would be."""
    from sqlalchemy.exc import DBAPIError

    columns = _python_columns(frame, table)
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    rows = list(zip(*columns.values(), strict=True))
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        psycopg_connection: Any = connection.connection.driver_connection
        with psycopg_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except driver_error as error:
        raise DBAPIError.instance(statement, None, error, driver_error) from None
    return len(rows)


_SQLITE_DATE = "%Y-%m-%d"
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format


def _sqlite_columns(
    frame: pd.DataFrame, table: Table, only: Sequence[str] | None = None
) -> dict[str, list[Any]]:
    """Column lists of driver values for SQLite: dates as SQLAlchemy's ISO text, booleans 0/1
    (of the columns named in ``only`` when given)."""
    columns: dict[str, list[Any]] = {}
    if only is None:
        stored = list(_stored_columns(frame, table))
    else:
        conformed = _storable_columns(frame, table, only)
        stored = [(table.c[name], conformed[name]) for name in only]
    for column, series in stored:
        if isinstance(column.type, DateTime):
            series = series.dt.strftime(_SQLITE_DATETIME)
        elif isinstance(column.type, Date):
            series = series.dt.strftime(_SQLITE_DATE)
        elif isinstance(column.type, Boolean):
            series = series.astype("Int64")
        columns[column.name] = _plain_values(series)
    return columns


def read_rows(
    connection: Connection,
    table: Table,
    *,
    start: date | None = None,
    end: date | None = None,
    date_column: str = "race_date",
    where: dict[str, Any] | None = None,
    only: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``table`` (optionally dated ``start``..``end`` inclusive) in pipeline dtypes;
    ``only``: those of its columns (as a read of every column gives them)."""
    query = select(*_raw_columns(table, only))
    if start is not None:
        query = query.where(table.c[date_column] >= start)
    if end is not None:
        query = query.where(table.c[date_column] <= end)
    for name, value in (where or {}).items():
        query = query.where(table.c[name] == value)
    return conform(fetch_frame(connection, query), table, only).reset_index(drop=True)


def _table_columns(table: Table, only: Sequence[str] | None = None) -> list[Column[Any]]:
    """The table's columns (those named in ``only``), in the table's order."""
    if only is None:
        return list(table.columns)
    unknown = set(only) - set(table.columns.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
    return [column for column in table.columns if column.name in only]


def _raw_columns(table: Table, only: Sequence[str] | None = None) -> list[Any]:
    """The table's columns, dates read as the driver returns them (``conform`` parses them
    column-wise: SQLAlchemy's per-value date parsing on SQLite dominated large reads)."""
    return [
        type_coerce(column, String).label(column.name)
        if isinstance(column.type, Date | DateTime)
        else column
        for column in _table_columns(table, only)
    ]


def distinct_between(
    connection: Connection, column: Column[Any], dated_by: Column[Any], start: date, end: date
) -> set[Any]:
    """The distinct values of ``column`` on the rows ``dated_by`` ``start`` to ``end``
    inclusive."""
    query = select(column).where(and_(dated_by >= start, dated_by <= end)).distinct()
    return {value for (value,) in connection.execute(query).all()}


def dates_between(connection: Connection, column: Column[Any], start: date, end: date) -> set[date]:
    """The distinct dates of ``column`` from ``start`` to ``end`` inclusive."""
    dates = distinct_between(connection, column, column, start, end)
    return {pd.Timestamp(value).date() for value in dates}


def fetch_frame(connection: Connection, query: Any) -> pd.DataFrame:
    """A query's rows as a frame, fetched from the driver's cursor in one go."""
    result = connection.execute(query)
    names = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=False)


def table_checksums(
    connection: Connection,
    tables: Iterable[Table],
    ignore_columns: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """A content hash per table (row order independent): 'nothing changed' checks in tests/ops.

    ``ignore_columns`` leaves out columns per table (e.g. measured run times)."""
    sums: dict[str, str] = {}
    for table in tables:
        frame = read_rows(connection, table).drop(
            columns=list((ignore_columns or {}).get(table.name, ()))
        )
        hashed = pd.util.hash_pandas_object(frame.astype("string"), index=False)
        sums[table.name] = f"{len(frame)}:{int(np.sort(hashed.to_numpy()).sum()) & (2**64 - 1):x}"
    return sums
