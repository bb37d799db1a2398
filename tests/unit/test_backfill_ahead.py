"""The chunks a backfill prepares ahead while a training fits (flows/backfill.py:run_chunks): which,
in what order, what a failure does, and how a chunk's run uses what was prepared for it
(flows/chain.py:chunk_chain). The stages are stand-ins; the outputs are checked end to end in
tests/integration/test_backfill.py."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest

import flows.backfill
from config import load_settings
from flows.backfill import prepared_ahead, run_chunks
from flows.backfill_plan import Chunk, chunk_grid
from flows.chain import PreparedChunk, chunk_chain
from raceday.errors import InputError
from raceday.sources.base import empty_raw_day

NOTHING = PreparedChunk(card=None, features=pd.DataFrame())


class FakeTraining:
    """A training under way: its fit never ends by itself, so every chunk allowed is prepared."""

    def __init__(self, until: date) -> None:
        self.until = until
        self.fitting: Future[None] = Future()

    def finish(self) -> None:
        """The version registered (nothing to register here)."""


def run_with_training_after_the_first_chunk(
    monkeypatch: pytest.MonkeyPatch, prepare: Callable[[Chunk], PreparedChunk]
) -> tuple[list[Chunk], list[tuple[date, str]]]:
    """Six 28-day chunks, a version due after the first only; each chunk's run records whether
    it was handed what was prepared for it."""
    chunks = chunk_grid(date(2025, 1, 1), date(2025, 6, 17), 28)
    trainings = {chunks[0].end: FakeTraining(chunks[0].end)}

    def start_training(_settings: Any, last_day: date, _settled: Any) -> FakeTraining | None:
        return trainings.get(last_day)

    monkeypatch.setattr(flows.backfill, "start_training", start_training)
    runs: list[tuple[date, str]] = []

    def run_chunk(
        chunk: Chunk, model_ready: Callable[[], object], prepared: Future[PreparedChunk] | None
    ) -> dict[str, int]:
        model_ready()
        model_ready()  # as a retried run of the chunk would
        if prepared is None:
            runs.append((chunk.start, "not prepared ahead"))
        else:
            runs.append((chunk.start, "failed" if prepared.exception() else "prepared ahead"))
        return {"races": 0, "runners": 0, "predicted": 0, "bets": 0}

    run_chunks(load_settings(), chunks, None, run_chunk, prepare)
    return chunks, runs


def recording_preparer(
    refused: int | None = None,
) -> tuple[list[date], Callable[[Chunk], PreparedChunk]]:
    """A stand-in ``prepare`` that records the chunks it is asked for (their first days) and
    refuses the ``refused``-th (counting from 1), when given."""
    prepared: list[date] = []

    def prepare(chunk: Chunk) -> PreparedChunk:
        prepared.append(chunk.start)
        if len(prepared) == refused:
            raise InputError(f"{chunk.start}: refused")
        return NOTHING

    return prepared, prepare


def test_the_chunks_after_the_one_beside_the_fit_are_prepared_ahead_until_a_training_may_be_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared, prepare = recording_preparer()
    chunks, runs = run_with_training_after_the_first_chunk(monkeypatch, prepare)
    # beside the fit of the version of chunk 1's end, chunk 2 runs and prepares 3, 4 and 5 (a
    # version every 91 days: none can be due after chunk 4, 84 days on; after chunk 5, 112
    # days on, one may be); each once, though chunk 2's run asked twice
    assert prepared == [chunk.start for chunk in chunks[2:5]]
    assert [how for _, how in runs] == ["not prepared ahead"] * 2 + ["prepared ahead"] * 3 + [
        "not prepared ahead"
    ]


def test_a_chunk_that_failed_ahead_stops_the_preparing_and_is_handed_its_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared, prepare = recording_preparer(refused=2)
    chunks, runs = run_with_training_after_the_first_chunk(monkeypatch, prepare)
    assert prepared == [chunks[2].start, chunks[3].start]  # none after the failure
    assert [how for _, how in runs] == [
        "not prepared ahead",
        "not prepared ahead",
        "prepared ahead",
        "failed",  # its own run prepares it again (chunk_chain)
        "not prepared ahead",
        "not prepared ahead",
    ]


def test_a_chunks_training_starts_once_the_chunk_is_prepared_before_it_predicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The training of the version of a chunk's last day starts when the chunk asks whether its
    model is ready (prepared: everything a training reads is stored), so its fit runs beside
    the chunk's predictions and ledger pass; once, though a retried run asks again. A chunk
    without races never asks: its training starts after its run, as before."""
    chunks = chunk_grid(date(2025, 1, 1), date(2025, 3, 25), 28)  # three chunks
    events: list[tuple[str, date]] = []

    def start_training(_settings: Any, last_day: date, _settled: Any) -> None:
        events.append(("training of", last_day))

    monkeypatch.setattr(flows.backfill, "start_training", start_training)

    def run_chunk(
        chunk: Chunk, model_ready: Callable[[], object], _prepared: Any
    ) -> dict[str, int]:
        if chunk is not chunks[1]:  # the second has no races: its model is never asked for
            model_ready()
            model_ready()  # as a retried run of the chunk would
            events.append(("predicts", chunk.start))
        return {"races": 0, "runners": 0, "predicted": 0, "bets": 0}

    run_chunks(load_settings(), chunks, None, run_chunk)
    assert events == [
        ("training of", chunks[0].end),
        ("predicts", chunks[0].start),
        ("training of", chunks[1].end),  # after the run of the chunk without races
        ("training of", chunks[2].end),
        ("predicts", chunks[2].start),
    ]


def test_a_failure_ahead_is_kept_for_the_chunks_own_run() -> None:
    def refused(chunk: Chunk) -> PreparedChunk:
        raise InputError(f"{chunk.start}: refused")

    outcome = prepared_ahead(refused, chunk_grid(date(2025, 3, 1), date(2025, 3, 4), 2)[1])
    with pytest.raises(InputError, match="2025-03-03: refused"):
        outcome.result()


def stages_run() -> tuple[list[str], Callable[..., Any]]:
    """A stage runner that records the stages it runs; ingest finds no races (an empty day)."""
    names: list[str] = []

    def run(stage: Any, *_args: Any, **_kwargs: Any) -> Any:
        names.append(getattr(stage, "__name__", str(stage)))
        return empty_raw_day()

    return names, run


def test_a_chunks_run_takes_what_was_prepared_for_it_or_prepares_it_again_after_a_failure() -> None:
    settings = load_settings()
    day = date(2025, 3, 1)
    days = (day, day + timedelta(days=1), [day, day + timedelta(days=1)])

    done: Future[PreparedChunk] = Future()
    done.set_result(NOTHING)
    names, run = stages_run()
    assert chunk_chain(run, settings, *days, None, lambda: None, done)["races"] == 0
    assert names == []  # nothing run again

    failed: Future[PreparedChunk] = Future()
    failed.set_exception(InputError("refused ahead"))
    names, run = stages_run()
    assert chunk_chain(run, settings, *days, None, lambda: None, failed)["races"] == 0
    assert names == ["ingest"]  # prepared here, in the chunk's own run


def test_a_chunk_names_its_card_races_without_odds_for_the_backfill_summary() -> None:
    """A chunk's card races left without odds by their deadline (stored, not predicted or bet)
    reach the backfill's summary (:class:`flows.chain.ChunkNotes`), as a day's run names them:
    a backfill said nothing of them."""
    from data_checks.validate import ValidatedDay
    from flows.chain import ChunkNotes

    day = date(2025, 3, 1)
    races = pd.DataFrame({"race_id": ["202503014401", "202503014402"]})
    card = ValidatedDay(
        races, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), (), ("202503014402",)
    )
    prepared: Future[PreparedChunk] = Future()
    prepared.set_result(PreparedChunk(card, pd.DataFrame(), races=2))

    def run(stage: Any, *_args: Any, **_kwargs: Any) -> Any:
        predicted = getattr(stage, "__name__", "") == "predict"
        return pd.DataFrame({"race_id": ["202503014401"]}) if predicted else 0

    notes = ChunkNotes()
    chunk_chain(run, load_settings(), day, day, [day], None, lambda: None, prepared, notes)
    assert notes.unpriced == ["202503014402"] and notes.refused == []


def test_a_chunk_at_race_time_names_its_races_without_a_readable_post_time_apart() -> None:
    """At ``lead`` a race is decided at its post time less ``live.lead_minutes``: one whose post
    time cannot be read (``2430``, written by some exports; ``0000``) has no deadline and sees no
    snapshot. The backfill's summary counted it among the races 'without odds published by
    their deadline'; it is named apart, as ``raceday live`` says it: without a readable post
    time. In the morning every race has its deadline (09:00), so none is."""
    from data_checks.validate import ValidatedDay
    from flows.chain import ChunkNotes

    races = pd.DataFrame(
        {
            "race_id": ["202503014401", "202503014402", "202503014403"],
            "race_date": [date(2025, 3, 1)] * 3,
            "post_time": ["1500", "2430", "0000"],
        }
    )
    unpriced = ("202503014401", "202503014402", "202503014403")
    no_odds = pd.DataFrame(columns=["race_id", "umaban", "snapshot_at", "win_odds", "popularity"])
    card = ValidatedDay(races, pd.DataFrame(), no_odds, pd.DataFrame(), (), unpriced)
    live = load_settings().live
    lead, morning = ChunkNotes(), ChunkNotes()
    lead.note_card(card, live.model_copy(update={"odds_at": "lead"}))
    morning.note_card(card, live.model_copy(update={"odds_at": "morning"}))
    assert lead.unpriced == ["202503014401"]
    assert lead.untimed == ["202503014402", "202503014403"]
    assert morning.unpriced == list(unpriced) and morning.untimed == []
    from raceday.run_status import untimed_warning

    [line] = untimed_warning(lead.untimed)
    assert line.startswith(
        "2 race(s) without a readable post time (202503014402, 202503014403): stored, not "
        "predicted or bet"
    )
    assert "deadline" not in line.split(":")[0]


def test_a_chunk_names_its_card_races_sized_on_final_odds_for_the_backfill_summary() -> None:
    """A chunk's card races priced on their final odds (the source held no snapshot of theirs
    it could date: no odds table that day, blank or unreadable stamps) reach the backfill's
    summary, as a day's run warns of them: a backfill sized them on odds known only after the
    close and said nothing (exit 0, ``completed``)."""
    from data_checks.validate import ValidatedDay
    from flows.chain import ChunkNotes

    day = date(2025, 3, 1)
    races = pd.DataFrame({"race_id": ["202503014401", "202503014402"]})
    odds = pd.DataFrame(
        {
            "race_id": ["202503014401", "202503014401", "202503014402"],
            "umaban": [1, 2, 1],
            "snapshot_at": ["final", "final", "03011455"],
            "win_odds": [2.5, 4.0, 3.1],
            "popularity": [1, 2, 1],
        }
    )
    card = ValidatedDay(races, pd.DataFrame(), odds, pd.DataFrame(), ())
    prepared: Future[PreparedChunk] = Future()
    prepared.set_result(PreparedChunk(card, pd.DataFrame(), races=2))

    def run(stage: Any, *_args: Any, **_kwargs: Any) -> Any:
        predicted = getattr(stage, "__name__", "") == "predict"
        return pd.DataFrame({"race_id": ["202503014401"]}) if predicted else 0

    notes = ChunkNotes()
    chunk_chain(run, load_settings(), day, day, [day], None, lambda: None, prepared, notes)
    assert notes.final_odds == ["202503014401"] and notes.unpriced == []
