"""The production source: a PC-KEIBA PostgreSQL database (地方競馬DATA via UmaConn, JRA-VAN).

Reads ``nvd_ra`` / ``nvd_se`` / ``nvd_o1`` (NAR) and/or the JRA ``jvd_*`` tables of the same
layout, as ``circuits`` says, for a date range with parameterised SQL; values come back as the
fixed-width text PC-KEIBA stores. Rows of both circuits are concatenated into one RawDay (JRA
keibajo codes 01-10 never collide with NAR's 30-55). ``venues`` lists the keibajo codes with rows
in a range; ``read_days(..., venues=...)`` reads those venues only (an expanding ``IN``
parameter), so the day's flow reads each venue on its own connection.

A table lacking columns the pipeline knows is said once per table (one WARNING naming them);
a lacking *required* column refuses the read with one line, and absent optional columns (used by
the report only) read as blank.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import pandas as pd
from sqlalchemy import Connection, Numeric, bindparam, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, ProgrammingError, SQLAlchemyError
from sqlalchemy.types import TypeEngine

from raceday.errors import InputError, SourceUnavailable, refused_for_its_settings
from raceday.schema import (
    NVD_O1_COLUMNS,
    NVD_O1_OPTIONAL,
    NVD_O1_REQUIRED,
    NVD_RA_COLUMNS,
    NVD_RA_OPTIONAL,
    NVD_RA_REQUIRED,
    NVD_SE_COLUMNS,
    NVD_SE_OPTIONAL,
    NVD_SE_REQUIRED,
)
from raceday.sources.base import (
    RawDay,
    latest_versions,
    not_whole_number,
    whole_number_text,
    with_optional_columns,
)
from raceday.sport import CIRCUITS
from raceday.store.engine import connect_args, with_installed_driver

logger = logging.getLogger(__name__)

# A row's day as YYYYMMDD text, whatever the key columns' types or padding (text as PC-KEIBA
# writes it, a trailing space, integers that lost their zeros: 603 is 0603): a raw
# concatenation missed the range's last day ('20250603 ') or read another month ('2025603').
_DAY_KEY: Final = {
    "postgresql": (
        "(trim(CAST(kaisai_nen AS TEXT)) || lpad(trim(CAST(kaisai_tsukihi AS TEXT)), 4, '0'))"
    ),
    "sqlite": (
        "(trim(CAST(kaisai_nen AS TEXT)) || "
        "substr('0000' || trim(CAST(kaisai_tsukihi AS TEXT)), -4, 4))"
    ),
}
_VENUE_FILTER = "trim(CAST(keibajo_code AS TEXT)) IN :venues"
# suffix -> (known columns, required, optional)
_TABLES: Final = {
    "ra": (NVD_RA_COLUMNS, NVD_RA_REQUIRED, NVD_RA_OPTIONAL),
    "se": (NVD_SE_COLUMNS, NVD_SE_REQUIRED, NVD_SE_OPTIONAL),
    "o1": (NVD_O1_COLUMNS, NVD_O1_REQUIRED, NVD_O1_OPTIONAL),
}
# The tables a day may lack (or this user may not read): the odds snapshots; without them a
# day is bet on its final odds.
_OPTIONAL_TABLES: Final = ("o1",)
# circuit -> PC-KEIBA table prefix (raceday.sport): nar -> nvd, jra -> jvd
CIRCUIT_PREFIXES: Final = {circuit.name: circuit.table_prefix for circuit in CIRCUITS}


def _date_params(start: date, end: date) -> dict[str, Any]:
    return {"lo": f"{start:%Y%m%d}", "hi": f"{end:%Y%m%d}"}


def _date_filter(connection: Connection) -> str:
    """Rows dated ``:lo``..``:hi`` (YYYYMMDD), in the database's own SQL."""
    key = _DAY_KEY.get(connection.dialect.name, _DAY_KEY["postgresql"])
    return f"{key} BETWEEN :lo AND :hi"


def day_index_statements(prefixes: Collection[str] = ("nvd", "jvd")) -> list[str]:
    """The expression indexes (PostgreSQL) that let a day's read use an index instead of
    scanning every row of a PC-KEIBA table: statements for the user to run on their database
    (docs/OPERATIONS.md); raceday never changes a source."""
    return [
        f"CREATE INDEX IF NOT EXISTS {prefix}_{suffix}_raceday_day "
        f"ON {prefix}_{suffix} ({_DAY_KEY['postgresql']})"
        for prefix in prefixes
        for suffix in _TABLES
    ]


def _reason(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", error) or error).strip().splitlines()[0]


def _unreachable(error: SQLAlchemyError) -> SourceUnavailable:
    return SourceUnavailable(f"PC-KEIBA database unreachable: {_reason(error)}")


def _refused(error: SQLAlchemyError) -> InputError:
    """A connection refused for its settings (no such database or user, a wrong password):
    bad input, said at once (retrying cannot help)."""
    return InputError(
        f"PC-KEIBA database refused the connection: {_reason(error)}: check the database, "
        "user and password in RACEDAY_PCKEIBA_URL"
    )


def _unreadable(error: SQLAlchemyError) -> InputError:
    """A query the database refused (a table of other types than PC-KEIBA's, say): bad input,
    said in one line, not a database that is down (retrying it cannot help)."""
    return InputError(
        f"PC-KEIBA database: its tables cannot be read as PC-KEIBA's: {_reason(error)}"
    )


def _not_utf8(error: UnicodeDecodeError) -> InputError:
    """Text that is not UTF-8 (a ``SQL_ASCII`` database that a Windows tool filled with
    Shift-JIS, say): bad input, with the setting that reads it."""
    return InputError(
        f"PC-KEIBA database: its text is not UTF-8 ({error.reason}): name its encoding in "
        "RACEDAY_PCKEIBA_URL, e.g. ?client_encoding=SJIS"
    )


def _relations(connection: Connection) -> set[str]:
    """The tables and views a query can read (a user may expose PC-KEIBA's tables as views, or
    as foreign tables of another server's PC-KEIBA database: postgres_fdw)."""
    inspector = inspect(connection)
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    with suppress(NotImplementedError):  # the dialect has none (SQLite)
        names |= set(inspector.get_materialized_view_names())
    foreign_tables = getattr(inspector, "get_foreign_table_names", None)  # PostgreSQL's alone
    if foreign_tables is not None:
        names |= set(foreign_tables())
    return names


def _may_select(connection: Connection, table: str) -> bool:
    """Whether this user may read ``table`` (PostgreSQL's privileges; other databases have
    none to ask)."""
    if connection.dialect.name != "postgresql":
        return True
    query = text("SELECT has_table_privilege(:table, 'SELECT')")
    return bool(connection.execute(query, {"table": table}).scalar())


def _held_day(key: object) -> date | None:
    """A YYYYMMDD day key as its date; None for none or one that is no date (a stray row)."""
    try:
        return datetime.strptime(str(key), "%Y%m%d").date() if key is not None else None
    except ValueError:
        return None


def _other_case(table: str, available: Collection[str]) -> str:
    """Where ``available`` holds ``table`` in another letter case (``"NVD_RA"``, created quoted:
    PostgreSQL keeps it apart from ``nvd_ra``), a clause naming it and its rename; else ``""``."""
    found = sorted(name for name in available if name.lower() == table and name != table)
    if not found:
        return ""
    return (
        f' (found "{found[0]}", a name of another letter case, created quoted: rename it, '
        f'ALTER TABLE "{found[0]}" RENAME TO {table})'
    )


def _no_table(table: str, available: Collection[str]) -> InputError:
    """A table the database does not show this user: bad input (retrying cannot help), with
    where to look (a table of the name in another letter case, named)."""
    return InputError(
        f"PC-KEIBA database has no table {table} that this user can see"
        f"{_other_case(table, available)}: check the database in RACEDAY_PCKEIBA_URL, the "
        "schema (search_path) and the user's USAGE and SELECT rights, and "
        "RACEDAY_PCKEIBA__CIRCUITS (nar reads nvd_*, jra jvd_*)"
    )


@dataclass
class PcKeibaSource:
    """Reads one PC-KEIBA database; ``circuits`` is ``("nar",)``, ``("jra",)`` or both."""

    url: str
    circuits: Sequence[str] = ("nar",)
    name: str = "pckeiba"
    _warned: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [circuit for circuit in self.circuits if circuit not in CIRCUIT_PREFIXES]
        if unknown or not self.circuits:
            names = [circuit.name for circuit in CIRCUITS]
            raise InputError(
                f"PC-KEIBA circuits {','.join(self.circuits) or '(none)'}: "
                f"use {', '.join(names)} or {','.join(names)}"
            )

    @property
    def prefixes(self) -> list[str]:
        """The table prefixes read: ``nvd`` (NAR) and/or ``jvd`` (JRA)."""
        return [CIRCUIT_PREFIXES[circuit] for circuit in dict.fromkeys(self.circuits)]

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection of its own (venues read at once each use one); SourceUnavailable when
        the database cannot be used, InputError when what it holds cannot be read."""
        try:
            url = with_installed_driver(make_url(self.url))
            engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args(url))
            try:
                with engine.connect() as connection:
                    try:
                        yield connection
                    except (ProgrammingError, DataError) as error:
                        raise _unreadable(error) from error
                    except UnicodeDecodeError as error:
                        raise _not_utf8(error) from error
            finally:
                engine.dispose()
        except SQLAlchemyError as error:
            if refused_for_its_settings(error):
                raise _refused(error) from error
            raise _unreachable(error) from error

    def venues(self, start: date, end: date) -> list[str]:
        """The keibajo codes with rows dated ``start``..``end`` in any of the tables read (each
        table's required columns checked first)."""
        with self._connection() as connection:
            available = self._readable(connection)
            selects = []
            for prefix in self.prefixes:
                if f"{prefix}_ra" not in available:
                    raise _no_table(f"{prefix}_ra", available)
                for suffix in _TABLES:
                    table = f"{prefix}_{suffix}"
                    if table in available:
                        self._selected_columns(connection, table, suffix)
                        selects.append(
                            "SELECT DISTINCT trim(CAST(keibajo_code AS TEXT)) AS code "
                            f"FROM {table} WHERE {_date_filter(connection)}"
                        )
            query = text(" UNION ".join(selects))
            codes = connection.execute(query, _date_params(start, end)).scalars()
            return sorted({str(code) for code in codes if code is not None})

    def _readable(self, connection: Connection) -> set[str]:
        """The tables a query can read (:func:`_relations`), less an optional table
        (:data:`_OPTIONAL_TABLES`: the odds) this user has no SELECT on: read as missing (the
        day runs on final odds), said once per table; a required table is left in, for its
        read to be refused."""
        available = _relations(connection)
        optional = [f"{prefix}_{suffix}" for prefix in self.prefixes for suffix in _OPTIONAL_TABLES]
        for table in optional:
            if table not in available and (other := _other_case(table, available)):
                self._warn_once(
                    f"{table} case",
                    "PC-KEIBA has no table %s%s: read as absent, the day's bets sized on "
                    "final odds",
                    table,
                    other,
                )
            if table in available and not _may_select(connection, table):
                available.discard(table)
                self._warn_once(
                    f"{table} unreadable",
                    "PC-KEIBA table %s cannot be read by this user (no SELECT privilege): "
                    "read as absent, the day's bets sized on final odds; GRANT SELECT ON "
                    "%s to read it",
                    table,
                    table,
                )
        return available

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        """A WARNING said once per source (``key``), not once per read."""
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)

    def _selected_columns(
        self, connection: Connection, table: str, suffix: str
    ) -> dict[str, TypeEngine[Any]]:
        """The known columns ``table`` has, with their types; says once which it lacks, refuses
        a required one."""
        known, required, _optional = _TABLES[suffix]
        present = {
            column["name"]: column["type"] for column in inspect(connection).get_columns(table)
        }
        missing = [column for column in known if column not in present]
        lacking = [column for column in required if column not in present]
        if lacking:
            raise InputError(
                f"PC-KEIBA table {table} lacks required column(s): {', '.join(lacking)}"
            )
        if missing and table not in self._warned:
            self._warned.add(table)
            logger.warning(
                "PC-KEIBA table %s lacks %d column(s), read as absent: %s",
                table,
                len(missing),
                ", ".join(missing),
            )
        return {column: present[column] for column in known if column in present}

    def _whole_numbers(
        self, frame: pd.DataFrame, table: str, types: dict[str, TypeEngine[Any]], dialect: Any
    ) -> pd.DataFrame:
        """``frame`` with the text of each column of a number type with decimals (``numeric``,
        ``real``) as PC-KEIBA writes its value (:func:`whole_number_text`: ``540.00`` is
        ``540``); a value with a fraction stays as written, said once per column (its column,
        its type), for validation to set its race aside."""
        numbers = [column for column, kind in types.items() if isinstance(kind, Numeric)]
        if not numbers:
            return frame
        whole = {column: whole_number_text(frame[column]) for column in numbers}
        for column, values in whole.items():
            fractional = values[not_whole_number(values).to_numpy(bool)]
            if len(fractional):
                self._warn_once(
                    f"{table}.{column} fractional",
                    "PC-KEIBA column %s.%s is %s: %d value(s) not whole (e.g. %s): read as "
                    "written, for validation to judge (PC-KEIBA writes its numbers as digits)",
                    table,
                    column,
                    types[column].compile(dialect=dialect),
                    len(fractional),
                    fractional.iloc[0],
                )
        return frame.assign(**whole)

    def _read_table(
        self, connection: Connection, table: str, suffix: str, where: str, params: dict[str, Any]
    ) -> pd.DataFrame:
        known, _required, optional = _TABLES[suffix]
        # Every value as text, as PC-KEIBA stores it: a column of another type (an integer
        # column with a NULL came back as the float 1600.0) reads as its digits; a NULL is a
        # blank field (a loader's empty string), not a record cut short.
        types = self._selected_columns(connection, table, suffix)
        selected = ", ".join(f"CAST({column} AS TEXT) AS {column}" for column in types)
        query = text(f"SELECT {selected} FROM {table} WHERE {where}")
        if "venues" in params:
            query = query.bindparams(bindparam("venues", expanding=True))
        result = connection.execute(query, params)  # not pandas: it hides the database's error
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype="string")
        frame = self._whole_numbers(frame.fillna(""), table, types, connection.dialect)
        frame = with_optional_columns(frame, optional)
        return frame[[column for column in known if column in frame.columns]]

    def days_held(self) -> tuple[date, date] | None:
        """The first and last race day of the race tables read (one MIN/MAX of their day keys,
        asked when a day has no races: is the day outside what the database holds?); None
        when they hold no race."""
        with self._connection() as connection:
            available = _relations(connection)
            key = _DAY_KEY.get(connection.dialect.name, _DAY_KEY["postgresql"])
            selects = [
                f"SELECT MIN({key}) AS first, MAX({key}) AS last FROM {prefix}_ra"
                for prefix in self.prefixes
                if f"{prefix}_ra" in available
            ]
            if not selects:
                return None
            rows = connection.execute(text(" UNION ALL ".join(selects))).all()
        days = [_held_day(value) for row in rows for value in row]
        known = [day for day in days if day is not None]
        return (min(known), max(known)) if known else None

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Rows dated ``start``..``end`` of the race, runner and odds tables of every circuit
        read (of ``venues`` only, if given)."""
        params = _date_params(start, end)
        frames: dict[str, list[pd.DataFrame]] = {suffix: [] for suffix in _TABLES}
        with self._connection() as connection:
            where = _date_filter(connection)
            if venues is not None:
                params["venues"] = sorted(venues)
                where = f"{where} AND {_VENUE_FILTER}"
            available = self._readable(connection)
            for prefix in self.prefixes:
                for suffix in _TABLES:
                    table = f"{prefix}_{suffix}"
                    if table in available:
                        frames[suffix].append(
                            self._read_table(connection, table, suffix, where, params)
                        )
                    elif suffix not in _OPTIONAL_TABLES:
                        raise _no_table(table, available)

        def joined(suffix: str) -> pd.DataFrame:
            parts = frames[suffix]
            if not parts:
                return pd.DataFrame(columns=list(_TABLES[suffix][0]), dtype="string")
            return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

        # A database another tool filled may hold each version of a record (PC-KEIBA upserts).
        return latest_versions(
            RawDay(nvd_ra=joined("ra"), nvd_se=joined("se"), nvd_o1=joined("o1"))
        )
