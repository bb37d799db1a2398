"""The backfill flow on a small simulated range: point in time, resumable, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete, insert, update

from config import use_store
from flows.backfill import backfill, warm_up
from flows.backfill_plan import Chunk, chunk_grid
from flows.backfill_settings import backfill_settings
from raceday.model.win import MARKET_MODEL_VERSION
from raceday.ratings.standards import reference_version
from raceday.store import registry
from raceday.store.catalogs.performance import PERFORMANCE
from raceday.store.catalogs.predictions import PREDICTIONS
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.ratings import FIRST3F
from raceday.store.catalogs.runs import BACKFILL_DAYS
from raceday.store.engine import make_engine
from raceday.store.registry import version_name
from raceday.store.repository import read_rows
from tests.golden_outputs import table_checksums
from tests.store_support import copy_store, data_checksums

START, END = date(2025, 3, 1), date(2025, 3, 4)
CHUNK_DAYS = 2
RACES = 6
DAYS = 4


# A short warm-up and small simulated days keep the runs to seconds.
SMALL_HISTORY = {
    "RACEDAY_HISTORY__WARMUP_DAYS": "7",
    "RACEDAY_SIMULATOR__RACES_PER_DAY": str(RACES),
}
# Six weeks of warm-up and 4-week model windows, so the backfill can train after a chunk.
SMALL_TRAINING = {
    "RACEDAY_HISTORY__WARMUP_DAYS": "45",
    "RACEDAY_SIMULATOR__RACES_PER_DAY": "20",
    "RACEDAY_TRAIN__TRAIN_DAYS": "14",
    "RACEDAY_TRAIN__BLEND_DAYS": "7",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "7",
    "RACEDAY_TRAIN__MIN_RACES": "50",
    "RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS": "2",
    "RACEDAY_TRAIN__MAX_ITER": "30",
}


@pytest.fixture
def small_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short warm-up and small simulated days keep the runs to seconds."""
    for name, value in SMALL_HISTORY.items():
        monkeypatch.setenv(name, value)


def warmed_up(folder: Path, environment: dict[str, str], races: int) -> Path:
    """A store warmed up before ``START`` in ``environment`` (in-process, as the backfill's own
    warm-up of an empty store stores it: tests/integration/test_backfill_resume.py), built once
    for the tests that start from it (each backfills a copy: :func:`copy_store`)."""
    template = folder / "warm.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RACEDAY_VAR_DIR", str(folder / "var"))  # before any test's own var/
        for name, value in environment.items():
            patch.setenv(name, value)
        with use_store(f"sqlite:///{template}"):
            warm_up(backfill_settings(races, None, None), START)
    return template


@pytest.fixture(scope="module")
def warm_small_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store ``small_history``'s backfills warm up, built once for the module."""
    return warmed_up(tmp_path_factory.mktemp("small_history"), SMALL_HISTORY, RACES)


@pytest.fixture(scope="module")
def warm_small_training(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store ``small_training``'s backfills warm up, built once for the module."""
    return warmed_up(tmp_path_factory.mktemp("small_training"), SMALL_TRAINING, 20)


@pytest.fixture
def warm_history_url(warm_small_history: Path, tmp_path: Path) -> str:
    """A copy of the warmed-up ``small_history`` store: the backfill starts at ``START``."""
    return copy_store(warm_small_history, tmp_path / "store.db")


@pytest.fixture
def warm_training_url(warm_small_training: Path, tmp_path: Path) -> str:
    """A copy of the warmed-up ``small_training`` store: the backfill starts at ``START``."""
    return copy_store(warm_small_training, tmp_path / "store.db")


def _run(db: str, force: bool = False) -> dict[str, object]:
    with use_store(db):
        result: dict[str, object] = backfill(
            start=START, end=END, races=RACES, chunk_days=CHUNK_DAYS, force=force
        )
    return result


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_backfill_is_point_in_time_resumable_and_idempotent(warm_history_url: str) -> None:
    first = _run(warm_history_url)
    assert (first["chunks"], first["chunks_run"], first["chunks_skipped"]) == (2, 2, 0)
    assert first["races"] == RACES * DAYS
    once = data_checksums(warm_history_url)

    with make_engine(warm_history_url).connect() as connection:
        first3f = read_rows(connection, FIRST3F, start=START, end=END)
        predictions = read_rows(connection, PREDICTIONS, start=START, end=END)
        performance = read_rows(
            connection, PERFORMANCE, start=START, end=END, date_column="perf_date"
        )
    assert predictions["race_id"].nunique() == RACES * DAYS
    assert set(performance["perf_date"].dt.date) == set(chunk_grid(START, END, DAYS)[0].days)
    # A replayed day has no run time of its own: none stored, so the first daily run after a
    # backfill is not judged against a twentieth of a daily run's time (a run_seconds anomaly).
    assert performance["run_seconds"].isna().all()
    # Every chunk's first-3F layers were learned from the days before the chunk, never its own.
    for chunk in chunk_grid(START, END, CHUNK_DAYS):
        in_chunk = first3f[first3f["race_date"].dt.date.between(chunk.start, chunk.end)]
        expected = reference_version(date.fromordinal(chunk.start.toordinal() - 1))
        assert set(in_chunk["reference_version"]) == {expected}

    again = _run(warm_history_url)
    assert (again["chunks_run"], again["chunks_skipped"]) == (0, 2)
    assert data_checksums(warm_history_url) == once

    # As if killed before the second chunk (3..4) finished: none of its days are marked (one
    # transaction), so only it reruns.
    with make_engine(warm_history_url).begin() as connection:
        connection.execute(
            delete(BACKFILL_DAYS).where(BACKFILL_DAYS.c.race_date >= date(2025, 3, 3))
        )
    resumed = _run(warm_history_url)
    assert (resumed["chunks_run"], resumed["chunks_skipped"]) == (1, 1)
    assert data_checksums(warm_history_url) == once

    forced = _run(warm_history_url, force=True)
    assert forced["chunks_run"] == 2
    assert data_checksums(warm_history_url) == once

    # A resumed run's summary counts what it ran: races the first chunk set aside are not its.
    with make_engine(warm_history_url).begin() as connection:
        connection.execute(
            delete(BACKFILL_DAYS).where(BACKFILL_DAYS.c.race_date >= date(2025, 3, 3))
        )
        connection.execute(  # a race of the first chunk set aside by an earlier run
            insert(QUARANTINE).values(
                race_date=START, stage="validate", table_name="races", race_id="202503014401",
                check_name="distance_in_range", detail="", run_id="earlier",
            )
        )  # fmt: skip
        first_day = PERFORMANCE.c.perf_date == START  # and recorded so
        connection.execute(update(PERFORMANCE).where(first_day).values(races_quarantined=1))
    resumed = _run(warm_history_url)
    assert resumed["chunks_run"] == 1
    assert (resumed["status"], resumed["warnings"]) == ("completed", ())


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_asked_to_stop_it_stops_after_the_chunk_and_the_same_command_resumes(
    warm_history_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first Ctrl-C (STOP_AT_SAFE_POINT) lets the chunk under way finish and store, then
    stops: status ``stopped`` (exit 130) saying how to resume; the same command then runs only
    the rest and says how many days it skipped; predicted and stored races are counted apart."""
    import flows.backfill as module

    finish_chunk = module.start_training

    def stop_after_the_first_chunk(*args: object, **kwargs: object) -> object:
        module.STOP_AT_SAFE_POINT.set()  # as the command's SIGINT handler does
        return finish_chunk(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "start_training", stop_after_the_first_chunk)
    try:
        stopped = _run(warm_history_url)
    finally:
        module.STOP_AT_SAFE_POINT.clear()
    monkeypatch.setattr(module, "start_training", finish_chunk)
    assert (stopped["status"], stopped["stopped"], stopped["chunks_run"]) == ("stopped", True, 1)
    assert "run the same command again to resume" in " ".join(stopped["warnings"])  # type: ignore[arg-type]
    assert stopped["races"] == RACES * CHUNK_DAYS == stopped["races_predicted"]

    resumed = _run(warm_history_url)
    assert resumed["status"] == "completed" and not resumed["stopped"]
    assert (resumed["chunks_run"], resumed["days_skipped"]) == (1, CHUNK_DAYS)


@pytest.fixture
def small_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Six weeks of warm-up and 4-week model windows, so the backfill can train after a chunk."""
    for name, value in SMALL_TRAINING.items():
        monkeypatch.setenv(name, value)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_training")
def test_backfill_retrains_between_chunks_and_predicts_point_in_time(
    warm_training_url: str,
) -> None:
    """After each chunk a version of the chunk's last day is trained; every chunk predicts with
    the version promoted before its first day (market-v1 before any), never a later one."""
    with use_store(warm_training_url):
        summary = backfill(start=START, end=END, races=20, chunk_days=CHUNK_DAYS)
    chunks = chunk_grid(START, END, CHUNK_DAYS)
    assert [name.split(" ")[0] for name in summary["trained"]] == [  # type: ignore[union-attr]
        version_name(chunk.end) for chunk in chunks
    ]
    with make_engine(warm_training_url).connect() as connection:
        versions = registry.list_versions(connection).set_index("name")
        predictions = read_rows(connection, PREDICTIONS, start=START, end=END)
        expected = {
            chunk.start: registry.version_for_day(connection, chunk.start) for chunk in chunks
        }
    assert expected[chunks[0].start] is None  # nothing was trained before the backfill
    for chunk in chunks:
        days = predictions["race_date"].dt.date.between(chunk.start, chunk.end)
        assert set(predictions.loc[days, "model_version"]) == {
            expected[chunk.start] or MARKET_MODEL_VERSION
        }
    trained_until = versions["trained_until"].map(lambda value: pd.Timestamp(value).date())
    for version, rows in predictions.groupby("model_version"):
        if version != MARKET_MODEL_VERSION:
            assert trained_until[version] < rows["race_date"].dt.date.min()


@pytest.mark.slow
@pytest.mark.usefixtures("small_training")
def test_a_fit_overlapped_with_the_next_chunks_trains_and_stores_what_training_in_turn_does(
    warm_small_training: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backfill fits on a thread of its own while the next chunk runs up to its predictions
    and the chunk after it is prepared ahead (``run_chunks``): the same versions with the same
    metrics and promotions, and the same predictions, bets and every other table, as training
    between the chunks (``after_chunk``); the last chunk's training (no next chunk) is finished
    too. Three chunks of two days, a version every three days: trained after the first chunk
    (the second runs beside its fit and the third, the first chunk after it, is always
    prepared meanwhile) and after the last."""
    from config import load_settings
    from flows.backfill import after_chunk, chunk_preparer, run_chunks
    from flows.backfill_settings import without_data_docs
    from flows.chain import PreparedChunk, chunk_chain
    from raceday.store.catalogs.ratings import SettledRuns
    from tasks.common import in_process

    monkeypatch.setenv("RACEDAY_TRAIN__BACKFILL_RETRAIN_DAYS", "3")
    end = date(2025, 3, 6)
    chunks = chunk_grid(START, end, CHUNK_DAYS)
    trained, metrics, tables, ahead = {}, {}, {}, {}
    for way in ("in turn", "overlapped"):
        url = copy_store(warm_small_training, tmp_path / f"{way}.db")
        settings = without_data_docs(load_settings(races=20, db_url=url))
        settled = SettledRuns.for_training(settings.train.window_days())
        ahead[way] = []

        def chunk_run(
            chunk: Chunk,
            model_ready: Callable[[], object],
            prepared: Future[PreparedChunk] | None = None,
        ) -> dict[str, int]:
            ahead[way].append(prepared is not None)  # noqa: B023
            days = (chunk.start, chunk.end, chunk.days)
            return chunk_chain(in_process, settings, *days, settled, model_ready, prepared)  # noqa: B023

        if way == "in turn":
            versions = []
            for chunk in chunks:
                chunk_run(chunk, lambda: None)
                summary = after_chunk(settings, chunk.end, settled)
                versions.append(summary["version"] if summary else None)
            versions = [version for version in versions if version is not None]
        else:
            prepare = chunk_preparer(settings, settled)
            done = run_chunks(settings, chunks, settled, chunk_run, prepare)
            versions = [name.split(" ")[0] for name in done.versions]
        trained[way] = versions
        with make_engine(url).connect() as connection:
            metas = {name: registry.model_meta(connection, name) or {} for name in versions}
            metrics[way] = {
                name: [meta.get(key) for key in ("metrics", "params", "promotion")]
                for name, meta in metas.items()
            }
        tables[way] = {
            name: table["sha256"]
            for name, table in table_checksums(url).items()
            if table["kind"] == "output"
        }
    assert ahead == {"in turn": [False, False, False], "overlapped": [False, False, True]}
    expected = [version_name(chunks[0].end), version_name(chunks[-1].end)]
    assert trained["overlapped"] == trained["in turn"] == expected
    assert metrics["overlapped"] == metrics["in turn"]  # to the last bit: not rounded
    assert tables["overlapped"] == tables["in turn"]


def test_the_chunks_prepared_ahead_end_where_a_training_may_be_due() -> None:
    """A year's default grid (28-day chunks, a version every 91 days): the chunk running beside
    the fit of the version of its previous chunk's end may have the next three prepared ahead,
    not a fourth (a training may be due after the third: 112 days after the version)."""
    from types import SimpleNamespace

    from config import load_settings
    from flows.backfill import preparable_ahead

    settings = load_settings()
    assert settings.train.backfill_retrain_days == 91
    chunks = chunk_grid(date(2025, 1, 1), date(2025, 12, 31), 28)
    training: Any = SimpleNamespace(until=chunks[1].end)  # trained after the second chunk
    assert preparable_ahead(settings, training, chunks[2], chunks[3:]) == chunks[3:6]
    assert preparable_ahead(settings, training, chunks[4], chunks[5:]) == chunks[5:6]
    assert preparable_ahead(settings, training, chunks[5], chunks[6:]) == []
    assert preparable_ahead(settings, training, chunks[2], []) == []


@pytest.mark.usefixtures("prefect_harness", "small_history")
def test_backfill_bets_on_the_odds_its_timing_allows(
    warm_history_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same days backfilled at ``morning`` store the 09:00 snapshots; at ``lead`` each race's
    latest snapshot by its post time less live.lead_minutes — never a later one, never final."""
    from raceday.codec import decode_races
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.store.catalogs.races import read_odds

    stamps = {}
    # the lead's store empty: warmed up by the backfill itself (the others start warm)
    lead_db = f"sqlite:///{tmp_path_factory.mktemp('lead') / 'lead.db'}"
    for odds_at, db in (("morning", warm_history_url), ("lead", lead_db)):
        with use_store(db):
            summary = backfill(start=START, end=START, races=RACES, odds_at=odds_at)
        assert summary["odds_at"] == odds_at
        with make_engine(db).connect() as connection:
            stamps[odds_at] = read_odds(connection, START, START).drop_duplicates("race_id")
    assert stamps["morning"]["snapshot_at"].str.endswith("0900").all()
    races = decode_races(
        simulate_days(START, START, SimulatorConfig(races_per_day=RACES)).raw.nvd_ra
    )
    post = races.set_index("race_id")["post_time"].astype(int)
    lead = stamps["lead"].set_index("race_id")["snapshot_at"].str[4:].astype(int)
    minutes = (post // 100 * 60 + post % 100).loc[lead.index] - (lead // 100 * 60 + lead % 100)
    assert len(lead) == RACES and (minutes == 5).all()  # the −5 snapshot: published at the deadline
