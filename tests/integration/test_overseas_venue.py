"""A race abroad as JV-Data codes it (``G0``, Hong Kong: a letter and a digit) flows through
every stage like any venue. Three simulated days run through the daily stages (task bodies
called directly) twice from files: as simulated, and with one venue's races recoded ``G0`` in
every table. The recoded venue is kept, predicted and rated, and what each stage stores for it
is what it stores for the venue it was."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from config import load_settings
from flows.chain import daily_chain, prepare_history, settle_chain
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay
from raceday.sources.files import write_tables
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES, RUNNERS
from raceday.store.catalogs.ratings import FIRST3F, INDEXES
from raceday.store.engine import make_engine
from raceday.store.repository import read_rows
from tasks.common import in_process
from tasks.features import day_features
from tasks.ingest import ingest, ingest_by_venue
from tasks.predict import predict
from tasks.record import record_day, settle
from tasks.stake import stake
from tasks.store import prepare_store
from tasks.validate import validate_and_store

pytestmark = pytest.mark.slow  # minutes: scheduled first (tests/conftest.py)

DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(3)]
RACES_PER_DAY = 20
ABROAD = "G0"  # JV-Data code table 2001: 香港


def recoded(raw: RawDay, venue: str) -> RawDay:
    """``raw`` with ``venue``'s races written as Hong Kong's in every table."""

    def recode(table: pd.DataFrame) -> pd.DataFrame:
        return table.assign(keibajo_code=table["keibajo_code"].replace({venue: ABROAD}))

    return RawDay(nvd_ra=recode(raw.nvd_ra), nvd_se=recode(raw.nvd_se), nvd_o1=recode(raw.nvd_o1))


def run_days(db_url: str, files: Path) -> dict[str, pd.DataFrame]:
    """The three days through the daily stages; what the store then holds."""
    settings = load_settings(races=RACES_PER_DAY, source=f"files:{files}", db_url=db_url)
    prepare_store(settings)
    for day in DAYS:
        raw = ingest(settings, day, day)
        card = validate_and_store(settings, raw, day, day, "card")
        features = day_features(settings, card, day)
        stake(settings, predict(settings, card, day, features), card, day)
        settle_chain(in_process, settings, raw, day, day)
        settle(settings, day)
        record_day(settings, day)
    stored = {}
    with make_engine(db_url).connect() as connection:
        for name, table in (
            ("races", RACES), ("runners", RUNNERS), ("first3f", FIRST3F), ("indexes", INDEXES),
        ):  # fmt: skip
            stored[name] = read_rows(connection, table, start=DAYS[0], end=DAYS[-1])
        stored["quarantine"] = read_rows(connection, QUARANTINE)
    return stored


def as_abroad(race_ids: pd.Series, venue: str) -> pd.Series:
    """Race ids of ``venue`` as they read once the venue is written ``G0``."""
    return (
        race_ids.str.slice(0, 8)
        + race_ids.str.slice(8, 10).replace(venue, ABROAD)
        + (race_ids.str.slice(10, 12))
    )


def of_venue(frame: pd.DataFrame, venue: str, columns: list[str]) -> pd.DataFrame:
    rows = frame[frame["race_id"].str.slice(8, 10) == venue]
    return rows[columns].sort_values(columns[:2], ignore_index=True)


def test_a_race_abroad_is_kept_and_learned_like_the_venue_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES_PER_DAY))
    raw = simulate_days(DAYS[0], DAYS[-1], SimulatorConfig(races_per_day=RACES_PER_DAY)).raw
    venue = str(raw.nvd_ra["keibajo_code"].value_counts().index[0])  # the busiest venue
    write_tables(raw, tmp_path / "home", "csv")
    write_tables(recoded(raw, venue), tmp_path / "abroad", "csv")

    home = run_days(f"sqlite:///{tmp_path / 'home.db'}", tmp_path / "home")
    abroad = run_days(f"sqlite:///{tmp_path / 'abroad.db'}", tmp_path / "abroad")

    assert home["quarantine"].empty and abroad["quarantine"].empty  # nothing set aside
    assert len(abroad["races"]) == len(home["races"]) == RACES_PER_DAY * len(DAYS)
    kept = abroad["races"][abroad["races"]["keibajo_code"] == ABROAD]
    assert len(kept) == (raw.nvd_ra["keibajo_code"] == venue).sum() > 0
    assert set(kept["race_id"]) == set(
        as_abroad(home["races"]["race_id"], venue)[home["races"]["keibajo_code"] == venue]
    )
    # Each stage stores for the venue abroad what it stored for the venue it was.
    for table, columns in (
        ("runners", ["race_id", "umaban", "finish_time_s", "horse_id"]),
        ("first3f", ["race_id", "umaban", "first3f_s", "method", "reference_version"]),
        ("indexes", ["race_id", "umaban", "speed_index", "ten_index", "composite_index"]),
    ):
        was = of_venue(home[table], venue, columns)
        was["race_id"] = as_abroad(was["race_id"], venue)
        now = of_venue(abroad[table], ABROAD, columns)
        assert len(now) > 0, table
        pd.testing.assert_frame_equal(now, was, check_dtype=False, obj=table)
    assert (
        abroad["indexes"]
        .loc[abroad["indexes"]["race_id"].str.slice(8, 10) == ABROAD, "speed_index"]
        .notna()
        .any()
    )


def test_a_run_says_once_per_read_that_a_venue_is_of_no_circuit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``raceday run`` on an empty store (its chain in-process, the day read by venue lanes):
    the warm-up's read and the day's each say once that G0 is of no circuit, naming their days.
    Every validation said it (the warm-up's results, the screen's card and results): three
    times alike in one run."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "1")
    history, day = DAYS[0], DAYS[1]
    raw = simulate_days(history, day, SimulatorConfig(races_per_day=8)).raw
    first = raw.nvd_ra.groupby("kaisai_tsukihi")["keibajo_code"].first()  # each day's

    def abroad(table: pd.DataFrame) -> pd.DataFrame:  # each day's first venue written G0
        of_first = table["keibajo_code"] == table["kaisai_tsukihi"].map(first)
        return table.assign(keibajo_code=table["keibajo_code"].mask(of_first, ABROAD))

    write_tables(
        RawDay(abroad(raw.nvd_ra), abroad(raw.nvd_se), abroad(raw.nvd_o1)), tmp_path, "csv"
    )
    settings = load_settings(
        races=8, source=f"files:{tmp_path}", db_url=f"sqlite:///{tmp_path / 'store.db'}"
    )
    with caplog.at_level("WARNING"):
        prepare_history(in_process, settings, day)
        daily_chain(in_process, settings, ingest_by_venue(settings, day, day), day)
    said = [r.getMessage() for r in caplog.records if "neither NAR nor JRA" in r.getMessage()]
    assert [line.split(" are neither")[0] for line in said] == [
        f"venue code(s) G0 in {history}",
        f"venue code(s) G0 in {day}",
    ]
