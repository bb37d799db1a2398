"""The win model's windows short of races: one line that says which, and what mends it."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from raceday.errors import InputError
from raceday.model.registry import check_windows
from raceday.model.win import time_split

UNTIL = date(2026, 8, 30)


def weekend_races(start: date, end: date, races_per_day: int) -> pd.DataFrame:
    """One row a race, on the Saturdays and Sundays of ``start..end`` (JRA's calendar)."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    race_days = [day for day in days if day.weekday() >= 5]
    return pd.DataFrame(
        {
            "race_id": [f"{day:%Y%m%d}{n:04d}" for day in race_days for n in range(races_per_day)],
            "race_date": pd.to_datetime([day for day in race_days for _ in range(races_per_day)]),
        }
    )


def test_a_weekend_circuit_is_told_the_settings_that_fill_its_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JRA races on weekends (~3,450 races a year): at three venues of 12 races, 45 days hold 12
    or 14 race days, 432 or 504 races, and a 45-day window rarely fills 500, however much history
    is stored or however late --until is. The line names the settings that do fill it (real
    names: setting them changes the windows and the need) and the days that would at the
    window's rate."""
    from config import load_settings

    split = time_split(UNTIL, 180, 45, 45)
    runners = weekend_races(split.train_start, UNTIL, 36)
    with pytest.raises(InputError) as short:
        check_windows(runners, split, 500)
    said = str(short.value)
    assert said.startswith("the blend window 2026-06-02..2026-07-16 has 432 settled races")
    assert "RACEDAY_TRAIN__BLEND_DAYS (now 45; about 53 days at this rate)" in said
    assert "RACEDAY_TRAIN__MIN_RACES (now 500)" in said and "\n" not in said
    for name, value in (("BLEND_DAYS", 53), ("EVALUATE_DAYS", 53), ("MIN_RACES", 400)):
        monkeypatch.setenv(f"RACEDAY_TRAIN__{name}", str(value))
    train = load_settings().train
    assert (train.blend_days, train.evaluate_days, train.min_races) == (53, 53, 400)


def test_an_empty_window_says_only_to_store_more_history() -> None:
    """Three months of history under the default windows leave the train window empty: no
    setting fills a window before the history starts (a longer one reaches further back), so
    the line says to store more history and names no setting."""
    split = time_split(UNTIL, 180, 45, 45)
    runners = weekend_races(split.blend_start, UNTIL, 36)
    with pytest.raises(InputError) as short:
        check_windows(runners, split, 500)
    said = str(short.value)
    assert said == (
        "the train window 2025-12-04..2026-06-01 has 0 settled races, 500 needed: store more "
        "history (raceday run / backfill) or use a later --until"
    )
