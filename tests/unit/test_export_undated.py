"""``raceday export`` of a table whose rows have no day of their own (reference times: by the
version learned from a history): the versions whose history ends in the range, with that history,
never a defect."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cli import app


def test_reference_times_export_the_versions_learned_from_a_history_ending_in_the_range(
    tmp_path: Path,
) -> None:
    """`export reference_times` ended in exit 5 ("defect: KeyError: 'race_date'"): the table has
    no day. It gives the versions whose history ends in --start..--end, with that history."""
    from raceday.store.catalogs.learned_versions import write_reference_times
    from raceday.store.engine import make_engine, upgrade_schema

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    cell = {"kind": "standard", "keibajo_code": "44", "surface": "dirt", "class_code": ""}
    with engine.begin() as connection:
        for version, end, distance in (("ref-20261014", 14, 1200), ("ref-20261021", 21, 1400)):
            times = pd.DataFrame(
                [{**cell, "distance_m": distance, "value_s": 74.0, "n_samples": 9}]
            )
            write_reference_times(
                connection, version, times, date(2026, 10, end - 13), date(2026, 10, end), 40
            )
    args = ["export", "reference_times", "--start", "2026-10-15", "--end", "2026-10-31"]
    for _run in range(2):
        result = CliRunner().invoke(app, [*args, "--db", url])
        assert result.exit_code == 0, result.stderr
        frame = pd.read_csv(io.StringIO(result.stdout))
        assert frame["version"].tolist() == ["ref-20261021"]
        assert frame["distance_m"].tolist() == [1400]
        assert frame[["history_start", "history_end"]].values.tolist() == [
            ["2026-10-08", "2026-10-21"]
        ]
