"""`raceday eval model --sport boat` over days predicted without a model (the market and the
lane prior only) says why it judged no race, in one line, instead of a table of dashes alone."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from raceday.boat.model import FALLBACK_VERSION
from raceday.store.catalogs.boat import PREDICTIONS, RESULTS
from raceday.store.engine import make_engine
from raceday.store.repository import insert_rows
from tests.e2e.boat_cli_support import invoke

DAY = date(2026, 4, 1)


def _store_unmodelled_race(db: str) -> None:
    """One six-boat race predicted by the market and the prior alone, and its result."""
    boats = pd.Series(range(1, 7))
    predictions = pd.DataFrame({
        "model_version": FALLBACK_VERSION, "race_id": "2026040101R01", "boat": boats,
        "race_date": DAY, "p_prior": 1 / 6, "p_market": 1 / 6, "p_model": None,
        "p_final": 1 / 6, "odds_at": None,
    })  # fmt: skip
    results = pd.DataFrame({
        "race_id": "2026040101R01", "boat": boats, "race_date": DAY, "racer_id": None,
        "finish_code": boats.astype(str), "position": boats, "started": True,
        "refunded": False, "exhibition_s": None, "course": boats, "start_timing_s": None,
        "race_time_s": None,
    })  # fmt: skip
    with make_engine(db).begin() as connection:
        insert_rows(connection, PREDICTIONS, predictions)
        insert_rows(connection, RESULTS, results)


@pytest.mark.usefixtures("sqlite_schema")
def test_eval_over_days_without_a_trained_version_says_why_no_race_is_judged(
    sqlite_url: str,
) -> None:
    _store_unmodelled_race(sqlite_url)
    args = ("eval", "model", "--sport", "boat", "--start", str(DAY), "--end", str(DAY),
            "--db", sqlite_url)  # fmt: skip
    code, stdout, stderr = invoke(*args)
    assert code == 0, stderr
    line = (
        "no race judged: no day of 2026-04-01..2026-04-01 was predicted by a trained boat "
        "version (1 day by the market and the lane prior alone); train one with "
        "`raceday train --sport boat`"
    )
    assert line in " ".join(stdout.split()), stdout
    code, stdout, _stderr = invoke(*args, "--json")
    assert code == 0 and line in stdout
