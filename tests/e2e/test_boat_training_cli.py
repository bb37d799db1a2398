"""Boat training as a user runs it: a backfill that retrains at chunk boundaries (every day
predicted by a version trained strictly before it), `raceday train --sport boat`, the versions
listed per sport, a day predicted by the promoted version, the boat tables exported, the day's
boat lock, and one shared check of --sport on every command."""

from __future__ import annotations

import csv
import json
import socket
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.boat_cli_support import invoke, simulated_boat_files

FIRST, LAST = "2026-04-04", "2026-04-25"
DAY = date(2026, 4, 25)
SHORT_WINDOWS = {  # 36 races a day: four held-out days, a version every four days
    "RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS": "4",
    "RACEDAY_BOAT__EVALUATE_DAYS": "4",
    "RACEDAY_BOAT__MIN_RACES": "100",
}


@pytest.fixture(scope="module")
def boat_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """22 days of 3 venues x 12 races: the 14 days the first version is trained on, the
    backfill's 7 and the day after it."""
    return simulated_boat_files(tmp_path_factory.mktemp("boat"), FIRST, LAST)


@pytest.fixture
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SHORT_WINDOWS.items():
        monkeypatch.setenv(name, value)


def as_json(*args: str) -> dict:  # type: ignore[type-arg]
    code, stdout, stderr = invoke(*args, "--json")
    assert code == 0, stderr
    return dict(json.loads(stdout))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "short_windows")
def test_backfill_train_and_a_day_on_the_promoted_version(
    boat_files: Path, sqlite_url: str, tmp_path: Path
) -> None:
    from raceday.store import registry
    from raceday.store.boat_models import BOAT_TABLES
    from raceday.store.engine import make_engine
    from raceday.store.repository import read_rows

    source, db = f"files:{boat_files}", sqlite_url
    backfill = ("backfill", "--sport", "boat", "--start", "2026-04-18", "--end", "2026-04-24",
                "--chunk-days", "4", "--source", source, "--db", db)  # fmt: skip
    summary = as_json(*backfill)
    assert summary["days_run"] == 7
    # Trained before each chunk, on the days before it only: 04-18.. and 04-22..
    assert [name.split(" ")[0] for name in summary["trained"]] == [
        "boat-clogit-20260417", "boat-clogit-20260421",
    ]  # fmt: skip
    assert summary["trained"][0].endswith("(promoted)")  # the first only has to beat the market
    engine = make_engine(db)
    with engine.connect() as connection:
        predictions = read_rows(connection, BOAT_TABLES["boat_predictions"])
        used = predictions.groupby("race_date")["model_version"].unique()
        for day, versions in used.items():
            (version,) = versions
            assert version == registry.version_for_day(connection, day.date(), registry.BOAT_FAMILY)
            assert pd.Timestamp(version[-8:]) < day  # trained strictly before the day

    trained = as_json("train", "--sport", "boat", "--until", "2026-04-24", "--db", db)
    assert trained["version"] == "boat-clogit-20260424" and trained["sport"] == "boat"
    assert trained["split"]["eval_start"] == "2026-04-21" and trained["evaluation"]["races"] > 100
    assert trained["incumbent"] == "boat-clogit-20260421" or not summary["trained"][1].endswith(
        "(promoted)"
    )
    boat_names = [v["name"] for v in as_json("models", "list", "--sport", "boat", "--db", db)
                  ["versions"]]  # fmt: skip
    assert boat_names == ["boat-clogit-20260424", "boat-clogit-20260421", "boat-clogit-20260417"]
    assert as_json("models", "list", "--db", db)["versions"] == []  # no horse version

    day = as_json("run", "--sport", "boat", "--date", DAY.isoformat(), "--source", source,
                  "--db", db)  # fmt: skip
    with engine.connect() as connection:
        promoted = registry.version_for_day(connection, DAY, registry.BOAT_FAMILY)
    assert day["model_version"] == promoted and day["model_source"] == "registered"
    assert day["open_bets"] == 0 and day["races"] == 36

    with engine.connect() as connection:
        stored = {name: read_rows(connection, BOAT_TABLES[f"boat_{name}"]) for name in
                  ("predictions", "bets", "performance")}  # fmt: skip
    for name, frame in stored.items():
        out = tmp_path / f"{name}.csv"
        code, _stdout, stderr = invoke("export", name, "--sport", "boat", "--start",
                                       "2026-04-18", "--end", DAY.isoformat(), "--out",
                                       str(out), "--db", db)  # fmt: skip
        assert code == 0, stderr
        with out.open() as handle:
            exported = list(csv.DictReader(handle))
        assert len(exported) == len(frame) > 0
    assert "odds" in exported[0] or "perf_date" in exported[0]
    code, _stdout, stderr = invoke("export", "bets", "--sport", "boat", "--start", "2026-04-25",
                                   "--end", "2026-04-20", "--db", db)  # fmt: skip
    assert code == 2 and "--end 2026-04-20 is before --start" in stderr
    code, _stdout, stderr = invoke("export", "runners", "--sport", "boat", "--start",
                                   "2026-04-20", "--end", "2026-04-25", "--db", db)  # fmt: skip
    assert code == 2 and "unknown boat table 'runners'" in stderr
    assert len(stderr.strip().splitlines()) == 1

    again = as_json(*backfill)
    assert again["days_skipped"] == 7 and again["trained"] == []


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_boat_day_run_twice_at_once_is_refused_and_a_horse_day_does_not_block_it(
    boat_files: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's boat lock held by another run: one line, exit 7, nothing stored. The same
    date's horse lock held: the boat day runs."""
    # the locks are what is tested: the day warms up on its last week, not all 21 days before
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "7")
    from raceday.store.boat_models import BOAT_TABLES
    from raceday.store.catalogs.runs import BOAT_LOCK, day_lock_holder, lock_day, unlock_day
    from raceday.store.engine import make_engine, upgrade_schema
    from raceday.store.repository import read_rows

    engine = make_engine(sqlite_url)
    upgrade_schema(engine)
    elsewhere = f"boat-day {socket.gethostname()}-other pid 1"
    with engine.begin() as connection:
        lock_day(connection, DAY, elsewhere, "run-elsewhere", BOAT_LOCK)
        lock_day(connection, DAY, "daily-run another-host pid 2", "run-horse")
    args = ("run", "--sport", "boat", "--date", DAY.isoformat(), "--source",
            f"files:{boat_files}", "--db", sqlite_url)  # fmt: skip
    code, _stdout, stderr = invoke(*args)
    assert code == 7, stderr
    assert "boat day 2026-04-25 is already being run" in stderr
    assert len(stderr.strip().splitlines()) == 1
    with engine.connect() as connection:
        assert read_rows(connection, BOAT_TABLES["boat_predictions"]).empty
    with engine.begin() as connection:
        unlock_day(connection, DAY, "run-elsewhere", BOAT_LOCK)
    code, _stdout, stderr = invoke(*args)
    assert code == 0, stderr  # the horse lock of the same date blocks nothing here
    with engine.connect() as connection:
        assert day_lock_holder(connection, DAY, BOAT_LOCK) is None  # released when done
        horse = day_lock_holder(connection, DAY)
    assert horse is not None and horse["run_id"] == "run-horse"  # left as it was


@pytest.mark.parametrize(
    "command",
    [
        ("run", "--date", "2026-04-25"),
        ("live", "--date", "2026-04-25", "--replay"),
        ("backfill", "--start", "2026-04-01", "--end", "2026-04-02"),
        ("eval", "model", "--start", "2026-04-01", "--end", "2026-04-02"),
        ("train", "--until", "2026-04-24"),
        ("simulate", "--start", "2026-04-01", "--end", "2026-04-01", "--out", "unused"),
        ("export", "bets", "--start", "2026-04-01", "--end", "2026-04-02"),
        ("models", "list"),
    ],
)
def test_an_unknown_sport_is_one_line_and_exit_2(command: tuple[str, ...]) -> None:
    code, _stdout, stderr = invoke(*command, "--sport", "horse")
    assert code == 2
    assert stderr.strip() == "error: --sport must be nar, jra or boat, not 'horse'"


def test_live_boat_is_refused_in_one_line() -> None:
    code, _stdout, stderr = invoke("live", "--sport", "boat", "--date", "2026-04-25", "--replay")
    assert code == 2 and "raceday live --sport boat is not built" in stderr
    assert len(stderr.strip().splitlines()) == 1
