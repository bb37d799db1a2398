"""A backfill resumed after a run that was killed between completing a chunk and registering
the version trained on it (the fit runs beside the next chunk) trains that version again and
ends as an uninterrupted backfill: the same versions, the same outputs (table checksums)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from config import use_store
from flows.backfill import backfill, warm_up
from flows.backfill_settings import backfill_settings
from raceday.store.engine import make_engine
from tests.store_support import TRAINING_BACKFILL, copy_store, outputs

# The scale-out test's backfill (tests.store_support.TRAINING_BACKFILL): a version after the
# first chunk (kept) and one six days later (promoted).
START, END, CHUNK_DAYS, RACES = date(2025, 3, 1), date(2025, 3, 12), 3, 20


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_backfill_that_lost_a_chunks_version_trains_it_again_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in TRAINING_BACKFILL.items():
        monkeypatch.setenv(name, value)
    template = tmp_path / "warm.db"
    with use_store(f"sqlite:///{template}"):
        warm_up(backfill_settings(RACES, None, None), START)
    uninterrupted = copy_store(template, tmp_path / "uninterrupted.db")
    killed = copy_store(template, tmp_path / "killed.db")

    with use_store(uninterrupted):
        whole = backfill(start=START, end=END, races=RACES, chunk_days=CHUNK_DAYS)
    first_version = f"gbm-{START + timedelta(days=CHUNK_DAYS - 1):%Y%m%d}"
    assert whole["trained"][0] == f"{first_version} (kept)"

    # The state a kill leaves: the first chunk's days completed, its version not registered.
    with use_store(killed):
        backfill(start=START, end=START + timedelta(days=CHUNK_DAYS - 1), races=RACES)
    with make_engine(killed).begin() as connection:
        lost = connection.execute(
            text("DELETE FROM model_versions WHERE name = :name"), {"name": first_version}
        )
        assert lost.rowcount == 1
    with use_store(killed):
        resumed = backfill(start=START, end=END, races=RACES, chunk_days=CHUNK_DAYS)
    assert resumed["chunks_skipped"] == 1
    assert resumed["trained"] == whole["trained"]
    assert outputs(killed) == outputs(uninterrupted)


def test_a_warm_up_cut_short_after_storing_its_results_is_done_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm-up killed after its results were stored and before they were derived (reference
    times, first 3F, indexes) is done again by the next run, which ends as a warm-up never
    cut short; before, the stored results read as a finished history and the days were never
    derived: every feature built on them was blank."""
    import flows.chain as chain

    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", "8")
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "12")
    whole, cut = f"sqlite:///{tmp_path / 'whole.db'}", f"sqlite:///{tmp_path / 'cut.db'}"
    with use_store(whole):
        warm_up(backfill_settings(8, None, None), START)

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # the run dies between storing the results and deriving them

    with use_store(cut):
        with monkeypatch.context() as patched:
            patched.setattr(chain, "derive_chain", killed)
            with pytest.raises(KeyboardInterrupt):
                warm_up(backfill_settings(8, None, None), START)
        warm_up(backfill_settings(8, None, None), START)
    derived = {"reference_times", "first3f", "indexes", "track_variants", "races", "runners"}
    every, again = outputs(whole), outputs(cut)
    assert all(not every[table].startswith("0:") for table in derived)  # rows "count:hash"
    assert {table: again[table] for table in derived} == {table: every[table] for table in derived}


def test_a_day_done_with_bets_still_open_runs_again(store_url: str, tmp_path: Path) -> None:
    """A backfilled day whose bets are not all settled (a race's results not published when it
    ran: the day is stored, its bets on that race open) is not done: the same command run once
    the results are in runs it again (it settles them; its placed bets are kept), as a boat
    backfill does. Before, it was skipped for good and its stakes stayed out of the cash."""
    from datetime import datetime

    from config import load_settings
    from flows.backfill import completed_days
    from raceday.store.catalogs.bets import BETS
    from raceday.store.catalogs.runs import mark_backfill_days
    from raceday.store.engine import upgrade_schema

    settled_day, open_day, other_policy_day = date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)
    settings = load_settings(db_url=store_url, var_dir=tmp_path / "var")
    engine = make_engine(store_url)
    upgrade_schema(engine)
    bet = {"model_version": "m", "p_final": 0.3, "odds_at_bet": 5.0, "edge": 1.5,
           "stake_yen": 1000, "policy_params": "{}", "payout_yen": None, "refund_yen": None,
           "pnl_yen": None}  # fmt: skip
    with engine.begin() as connection:
        mark_backfill_days(
            connection, [settled_day, open_day, other_policy_day], "run", datetime(2025, 6, 4), 1.0
        )
        connection.execute(
            BETS.insert(),
            [
                {**bet, "policy": settings.kelly.policy_name, "race_id": "202506014401",
                 "umaban": 1, "race_date": settled_day, "settled": True, "payout_yen": 0,
                 "refund_yen": 0, "pnl_yen": -1000},
                {**bet, "policy": settings.kelly.policy_name, "race_id": "202506024401",
                 "umaban": 1, "race_date": open_day, "settled": False},
                {**bet, "policy": "another", "race_id": "202506034401", "umaban": 1,
                 "race_date": other_policy_day, "settled": False},
            ],
        )  # fmt: skip
    assert completed_days(settings, settled_day, other_policy_day) == {
        settled_day,
        other_policy_day,
    }


def test_the_open_bets_warning_names_the_days_not_done() -> None:
    """The backfill's summary says which days it leaves with bets open and what to do."""
    from raceday.run_status import open_bets_warning

    assert open_bets_warning({}) == []
    (line,) = open_bets_warning({date(2025, 6, 2): 2, date(2025, 6, 9): 1})
    assert line.startswith("3 bet(s) left open on 2 day(s) (2025-06-02, 2025-06-09): ")
    assert "run the same command again once their results are in" in line
