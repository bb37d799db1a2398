"""A JRA day as JRA-VAN exports it (the condition name blank, the class in the condition codes)
is stored with its classes, read from files or from PC-KEIBA tables; a day whose classes cannot
be read says so in the day's summary (the probe of real exports found every JRA race stored as
``unknown``, silently)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Text, create_engine, text

from flows.daily import day_outcome
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay
from raceday.sources.files import FilesSource, write_tables
from raceday.sources.pckeiba import PcKeibaSource
from raceday.store.catalogs.races import write_races_and_runners
from raceday.store.engine import make_engine

DAY = date(2026, 9, 5)
# What JV-Data code table 2007 says each simulated JRA race's condition code is.
CLASS_OF_CODE = {"701": "NEW", "703": "MDN", "005": "1W", "010": "2W", "016": "3W", "999": "OP"}
# JV-Data's 競走条件コード columns: an export that drops them leaves a JRA race no class.
CONDITION_CODES = [
    "kyoso_joken_code", "kyoso_joken_code_2sai", "kyoso_joken_code_3sai",
    "kyoso_joken_code_4sai", "kyoso_joken_code_5sai_ijo",
]  # fmt: skip
COUNTS = {"races_offered": 12, "races_quarantined": 0, "quarantined": 0}


@cache
def _jra_day() -> RawDay:
    return simulate_days(DAY, DAY, SimulatorConfig(circuit="jra", races_per_day=12)).raw


def stored_classes(store_url: str, raw: RawDay) -> dict[str, int]:
    """``raw`` decoded, stored as the validate stage stores it, and the classes counted back."""
    engine = make_engine(store_url)
    with engine.begin() as connection:
        write_races_and_runners(connection, raw.races, raw.runners, has_results=True, source="test")
    with engine.connect() as connection:
        query = text("SELECT class_code, count(*) FROM races GROUP BY class_code")
        return {str(code): int(n) for code, n in connection.execute(query)}


def expected_classes(raw: RawDay) -> dict[str, int]:
    codes = raw.nvd_ra["kyoso_joken_code"].map(CLASS_OF_CODE)
    return {str(code): int(n) for code, n in codes.value_counts().items()}


@pytest.mark.usefixtures("sqlite_schema")
def test_a_jra_day_with_blank_condition_names_stores_the_classes_of_its_codes(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Read from jvd_* files, JRA races with a blank kyoso_joken_meisho are stored with the
    class their kyoso_joken_code gives: none ``unknown``, and no warning."""
    raw = _jra_day()
    assert raw.nvd_ra["kyoso_joken_meisho"].str.strip().eq("").all()  # as JRA-VAN writes it
    write_tables(raw, tmp_path / "jra", prefix="jvd")
    read = FilesSource(tmp_path / "jra").read_days(DAY, DAY)

    assert stored_classes(sqlite_url, read) == expected_classes(raw)
    assert "unknown" not in expected_classes(raw) and len(expected_classes(raw)) >= 3
    assert day_outcome(read, COUNTS, None, [], night=False)["warnings"] == []


def test_pc_keiba_jvd_tables_give_the_same_classes(tmp_path: Path) -> None:
    """The same day in PC-KEIBA's jvd_ra (every column text, the condition name blank as
    JRA-VAN leaves it) decodes to the classes of its codes."""
    raw = _jra_day()
    raw = replace(raw, nvd_ra=raw.nvd_ra.assign(kyoso_joken_meisho="\u3000" * 30))
    database = f"sqlite:///{tmp_path / 'pckeiba.db'}"
    engine = create_engine(database)
    for name, frame in (("jvd_ra", raw.nvd_ra), ("jvd_se", raw.nvd_se), ("jvd_o1", raw.nvd_o1)):
        frame.to_sql(name, engine, index=False, dtype=dict.fromkeys(frame.columns, Text()))
    engine.dispose()
    read = PcKeibaSource(database, circuits=("jra",)).read_days(DAY, DAY)
    classes = read.races["class_code"].value_counts().to_dict()
    assert {str(code): int(n) for code, n in classes.items()} == expected_classes(raw)


def test_a_day_whose_classes_cannot_be_read_warns_in_its_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without its condition codes (an export that drops them), a JRA day with blank names is
    of no known class: the day's summary warns, once, naming the circuit and the columns, and
    the run completes with warnings (the log says it as well)."""
    raw = _jra_day()
    blind = replace(raw, nvd_ra=raw.nvd_ra.drop(columns=CONDITION_CODES))
    with caplog.at_level("WARNING"):
        summary = day_outcome(blind, COUNTS, None, [], night=False)
    assert summary["status"] == "completed-with-warnings"
    assert summary["warnings"] == [
        "12 of 12 JRA races of no known class (neither the condition name kyoso_joken_meisho "
        "nor the condition code kyoso_joken_code names one): reference times, first 3F, pools "
        "and features lose their class; check the export's columns"
    ]
    assert [r.getMessage() for r in caplog.records if "no known class" in r.getMessage()] == (
        summary["warnings"]
    )


@pytest.mark.usefixtures("sqlite_schema")
def test_a_backfill_and_a_live_day_whose_classes_cannot_be_read_warn_as_a_day_run_does(
    sqlite_url: str,
) -> None:
    """The same blind JRA day warns in a live run's summary (its card) and in a backfill's,
    read from the races its chunks stored: one line naming the circuit and how many days of
    the range it held on (said only by ``raceday run`` before)."""
    from config.reference import circuits
    from data_checks.suites import venue_codes_for
    from data_checks.validate import validate_day
    from flows.backfill import classless_warning
    from flows.live import live_warnings
    from raceday.sources.base import card_only
    from raceday.store.catalogs.performance import races_judged_between

    blind = replace(_jra_day(), nvd_ra=_jra_day().nvd_ra.drop(columns=CONDITION_CODES))
    day_line = day_outcome(blind, COUNTS, None, [], night=False)["warnings"]
    card = validate_day(card_only(blind), phase="card", venue_codes=venue_codes_for(circuits()))
    assert card.quarantine.empty and len(card.races) == 12
    assert live_warnings([], 0, card) == day_line

    assert stored_classes(sqlite_url, blind) == {"unknown": 12}
    with make_engine(sqlite_url).connect() as connection:
        judged = races_judged_between(connection, DAY, DAY)
    what = f"{DAY}..{DAY}"
    assert classless_warning([judged], what) == [
        f"JRA races mostly of no known class on 1 day(s) of {what} (12 of 12 races on those "
        "days; neither the condition name kyoso_joken_meisho nor the condition code "
        "kyoso_joken_code names one): reference times, first 3F, pools and features lose "
        "their class; check the export's columns"
    ]
