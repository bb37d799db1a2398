"""The production source: a PC-KEIBA PostgreSQL database (地方競馬DATA via UmaConn).

Reads ``nvd_ra`` / ``nvd_se`` / ``nvd_o1`` (or the JRA ``jvd_*`` tables) for a date range with
parameterised SQL; values come back as the fixed-width text PC-KEIBA stores. ``venues`` lists
the keibajo codes with rows in a range; ``read_days(..., venues=...)`` reads those venues only
(an expanding ``IN`` parameter), so the day's flow reads each venue on its own connection.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from raceday.errors import SourceUnavailable
from raceday.schema import NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.sources.base import RawDay

_DATE_FILTER = "(kaisai_nen || kaisai_tsukihi) BETWEEN :lo AND :hi"
_VENUE_FILTER = "keibajo_code IN :venues"
_TABLES = (("ra", NVD_RA_COLUMNS), ("se", NVD_SE_COLUMNS), ("o1", NVD_O1_COLUMNS))


def _date_params(start: date, end: date) -> dict[str, Any]:
    return {"lo": f"{start:%Y%m%d}", "hi": f"{end:%Y%m%d}"}


def _unreachable(error: SQLAlchemyError) -> SourceUnavailable:
    reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0]
    return SourceUnavailable(f"PC-KEIBA database unreachable: {reason}")


@dataclass
class PcKeibaSource:
    """Reads one PC-KEIBA database; ``prefix`` is ``nvd`` (NAR) or ``jvd`` (JRA)."""

    url: str
    prefix: str = "nvd"
    name: str = "pckeiba"

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection of its own (venues read at once each use one); SourceUnavailable when
        the database cannot be used."""
        try:
            engine = create_engine(self.url, pool_pre_ping=True)
            try:
                with engine.connect() as connection:
                    yield connection
            finally:
                engine.dispose()
        except SQLAlchemyError as error:
            raise _unreachable(error) from error

    def venues(self, start: date, end: date) -> list[str]:
        """The keibajo codes with rows dated ``start``..``end`` in any of the tables read."""
        with self._connection() as connection:
            available = set(inspect(connection).get_table_names())
            if f"{self.prefix}_ra" not in available:
                raise SourceUnavailable(f"PC-KEIBA database has no table {self.prefix}_ra")
            tables = [f"{self.prefix}_{suffix}" for suffix, _columns in _TABLES]
            selects = [
                f"SELECT DISTINCT keibajo_code FROM {table} WHERE {_DATE_FILTER}"
                for table in tables
                if table in available
            ]
            query = text(" UNION ".join(selects))
            codes = connection.execute(query, _date_params(start, end)).scalars()
            return sorted({str(code) for code in codes if code is not None})

    def read_days(self, start: date, end: date, venues: Collection[str] | None = None) -> RawDay:
        """Rows dated ``start``..``end`` of the race, runner and odds tables (of ``venues``
        only, if given)."""
        params = _date_params(start, end)
        where = _DATE_FILTER
        if venues is not None:
            params["venues"] = sorted(venues)
            where = f"{_DATE_FILTER} AND {_VENUE_FILTER}"
        with self._connection() as connection:
            available = set(inspect(connection).get_table_names())
            frames = {}
            for suffix, columns in _TABLES:
                table = f"{self.prefix}_{suffix}"
                if table not in available:
                    if suffix == "o1":
                        frames[suffix] = pd.DataFrame(columns=list(columns), dtype="string")
                        continue
                    raise SourceUnavailable(f"PC-KEIBA database has no table {table}")
                present = {c["name"] for c in inspect(connection).get_columns(table)}
                selected = ", ".join(c for c in columns if c in present)
                query = text(f"SELECT {selected} FROM {table} WHERE {where}")
                if venues is not None:
                    query = query.bindparams(bindparam("venues", expanding=True))
                frames[suffix] = pd.read_sql_query(query, connection, params=params).astype(
                    "string"
                )
        return RawDay(nvd_ra=frames["ra"], nvd_se=frames["se"], nvd_o1=frames["o1"])
