"""A backfill's moving history window (``RunnerWindow``) gives what a read of the whole window
gives (``runner_history``: in key order), row for row and in the same order, while it reads
only the days it did not hold."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection

from config import load_settings
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs import races as races_catalog
from raceday.store.catalogs.races import RunnerWindow, in_key_order
from raceday.store.engine import make_engine, upgrade_schema
from tests.staking_support import decode_days, store_days

FIRST_DAY = date(2026, 3, 1)


def day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


def test_a_moving_window_equals_a_read_of_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows moving forward (overlapping, then past a gap) and back, each compared with a
    fresh read; forward moves read only the new days."""
    settings = load_settings(db_url=f"sqlite:///{tmp_path / 'store.db'}", var_dir=tmp_path)
    upgrade_schema(make_engine(settings.database_url))
    simulated = simulate_days(day(0), day(11), SimulatorConfig(races_per_day=6))
    store_days(settings, decode_days(simulated))
    reads: list[tuple[date, date]] = []
    read = races_catalog.read_runner_view

    def counted(connection: Connection, start: date, end: date) -> pd.DataFrame:
        reads.append((start, end))
        return read(connection, start, end)

    monkeypatch.setattr(races_catalog, "read_runner_view", counted)
    window = RunnerWindow()
    moves = [(0, 4), (2, 6), (3, 9), (9, 11), (1, 5)]
    with make_engine(settings.database_url).connect() as connection:
        for first, last in moves:
            held = window.between(connection, day(first), day(last))
            whole = in_key_order(read(connection, day(first), day(last)))
            pd.testing.assert_frame_equal(held, whole)
            assert not held.empty

    assert reads == [
        (day(0), day(4)),
        (day(5), day(6)),
        (day(7), day(9)),
        (day(10), day(11)),
        (day(1), day(5)),  # moved back: read whole
    ]


def test_new_rows_whose_keys_come_first_are_sorted_in() -> None:
    """Race ids that do not begin with the date: the window stays in key order, as a read of
    the whole window gives it."""
    from raceday.store.catalogs.races import _appended_in_key_order

    held = pd.DataFrame({"race_id": ["b1", "c1"], "umaban": [1, 2], "race_date": [1, 1]})
    later = pd.DataFrame({"race_id": ["d1"], "umaban": [1], "race_date": [2]})
    earlier_key = pd.DataFrame({"race_id": ["a1"], "umaban": [3], "race_date": [2]})

    assert list(_appended_in_key_order(held, later)["race_id"]) == ["b1", "c1", "d1"]
    assert list(_appended_in_key_order(held, earlier_key)["race_id"]) == ["a1", "b1", "c1"]
