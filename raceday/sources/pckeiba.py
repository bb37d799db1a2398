"""The production source: a PC-KEIBA PostgreSQL database (地方競馬DATA via UmaConn).

Reads ``nvd_ra`` / ``nvd_se`` / ``nvd_o1`` (or the JRA ``jvd_*`` tables) for a date range with
parameterised SQL; values come back as the fixed-width text PC-KEIBA stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from raceday.errors import SourceUnavailable
from raceday.schema import NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.sources.base import RawDay

_DATE_FILTER = "(kaisai_nen || kaisai_tsukihi) BETWEEN :lo AND :hi"


@dataclass
class PcKeibaSource:
    """Reads one PC-KEIBA database; ``prefix`` is ``nvd`` (NAR) or ``jvd`` (JRA)."""

    url: str
    prefix: str = "nvd"
    name: str = "pckeiba"

    def read_days(self, start: date, end: date) -> RawDay:
        """Rows dated ``start``..``end`` of the race, runner and odds tables."""
        params = {"lo": f"{start:%Y%m%d}", "hi": f"{end:%Y%m%d}"}
        try:
            engine = create_engine(self.url, pool_pre_ping=True)
            with engine.connect() as connection:
                available = set(inspect(connection).get_table_names())
                frames = {}
                for suffix, columns in (
                    ("ra", NVD_RA_COLUMNS),
                    ("se", NVD_SE_COLUMNS),
                    ("o1", NVD_O1_COLUMNS),
                ):
                    table = f"{self.prefix}_{suffix}"
                    if table not in available:
                        if suffix == "o1":
                            frames[suffix] = pd.DataFrame(columns=list(columns), dtype="string")
                            continue
                        raise SourceUnavailable(f"PC-KEIBA database has no table {table}")
                    present = {c["name"] for c in inspect(connection).get_columns(table)}
                    selected = ", ".join(c for c in columns if c in present)
                    query = text(f"SELECT {selected} FROM {table} WHERE {_DATE_FILTER}")
                    frames[suffix] = pd.read_sql_query(query, connection, params=params).astype(
                        "string"
                    )
            engine.dispose()
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", error) or error).strip().splitlines()[0]
            raise SourceUnavailable(f"PC-KEIBA database unreachable: {reason}") from error
        return RawDay(nvd_ra=frames["ra"], nvd_se=frames["se"], nvd_o1=frames["o1"])
