"""`raceday features build` and the index / feature exports as a user runs them, and the
report's top runners by composite index."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from raceday.ratings.features import FEATURE_COLUMNS, FEATURE_SET_VERSION

DAY = "2026-11-20"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def export(table: str, db: str, start: str = DAY) -> pd.DataFrame:
    code, stdout, stderr = invoke("export", table, "--start", start, "--end", DAY, "--db", db)
    assert code == 0, stderr
    return pd.read_csv(io.StringIO(stdout), dtype={"race_id": str})


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_day_stores_variants_indexes_features_and_a_range_build_matches(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `raceday run`: the day's variants, indexes with provenance and morning features are
    exportable, the report ranks runners by composite index, and `features build` over the
    warm-up and the day replaces the day's features with identical values."""
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", "60")
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "14")
    code, stdout, stderr = invoke("run", "--date", DAY, "--db", sqlite_url, "--json")
    assert code == 0, stderr
    report = Path(json.loads(stdout)["report"]).read_text(encoding="utf-8")
    assert "<h2>Top runners by composite index</h2>" in report

    variants = export("track_variants", sqlite_url)
    assert len(variants) >= 3 and variants["n_races"].min() >= 1
    assert set(variants["surface"]) == {"dirt"}
    indexes = export("indexes", sqlite_url)
    assert indexes["index_version"].eq("idx-v2").all()
    assert indexes["track_variant_s_per_km"].notna().all()
    assert indexes["reference_version"].str.startswith("ref-").all()

    morning = export("features", sqlite_url)
    assert set(morning["feature_set"]) == {FEATURE_SET_VERSION}
    stored = export("runners", sqlite_url, start="2026-11-01")
    earlier = stored[(stored["race_date"] < DAY) & stored["finish_pos"].notna()]
    today = stored[stored["race_date"] == DAY].merge(morning, on=["race_id", "umaban"])
    assert (~today["no_history"]).sum() == today["horse_id_x"].isin(earlier["horse_id"]).sum() > 0
    code, stdout, stderr = invoke(
        "features", "build", "--start", "2026-11-10", "--end", DAY, "--db", sqlite_url, "--json"
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["runners"] > len(morning) and summary["feature_set"] == FEATURE_SET_VERSION
    rebuilt = export("features", sqlite_url)
    key = ["race_id", "umaban"]
    pd.testing.assert_frame_equal(
        morning.sort_values(key, ignore_index=True)[FEATURE_COLUMNS],
        rebuilt.sort_values(key, ignore_index=True)[FEATURE_COLUMNS],
    )
    assert len(export("features", sqlite_url, start="2026-11-10")) == summary["runners"]


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["features", "build", "--start", DAY, "--end", "2026-11-01"], 2, "before"),
        (["features", "build", "--start", "2026-11-40", "--end", DAY], 2, "not a date"),
    ],
)
def test_bad_feature_build_input_is_one_clear_line(
    args: list[str], exit_code: int, needle: str
) -> None:
    """Bad input ends in one line on stderr and a non-zero exit."""
    code, stdout, stderr = invoke(*args)
    assert code == exit_code
    assert needle in stderr and "Traceback" not in stderr + stdout
    assert len(stderr.strip().splitlines()) == 1


def test_building_features_in_an_empty_store_says_so(sqlite_url: str) -> None:
    """No schema yet: one line telling the user to run a day first."""
    code, _stdout, stderr = invoke(
        "features", "build", "--start", DAY, "--end", DAY, "--db", sqlite_url
    )
    assert code == 2 and "is empty" in stderr
