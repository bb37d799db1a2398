"""Store helpers shared by tests: content checksums of the data tables."""

from __future__ import annotations

from raceday.store.engine import make_engine
from raceday.store.models import Base
from raceday.store.repository import table_checksums

# Records of attempts (how often a stage ran, what was quarantined when): not the data itself.
RECORD_TABLES = {"quarantine", "validation_results", "pipeline_runs"}
# Measured, not derived: how long the day's stages took.
TIMING_COLUMNS = {"performance": ["run_seconds"]}


def data_checksums(db: str, *, exclude: set[str] = RECORD_TABLES) -> dict[str, str]:
    """Checksums of every data table (the records of attempts excluded)."""
    tables = [table for name, table in Base.metadata.tables.items() if name not in exclude]
    with make_engine(db).connect() as connection:
        return table_checksums(connection, tables, TIMING_COLUMNS)
