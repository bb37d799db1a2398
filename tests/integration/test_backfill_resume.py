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
