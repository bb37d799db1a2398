"""The backfill's plan: the chunk grid and which chunks a re-run still has to do."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows.backfill_plan import Chunk, chunk_grid, pending_chunks
from raceday.errors import InputError

START = date(2025, 1, 1)


def test_chunk_grid_covers_every_day_once_from_the_start() -> None:
    chunks = chunk_grid(START, date(2025, 1, 10), 4)
    assert [(c.start, c.end) for c in chunks] == [
        (date(2025, 1, 1), date(2025, 1, 4)),
        (date(2025, 1, 5), date(2025, 1, 8)),
        (date(2025, 1, 9), date(2025, 1, 10)),
    ]
    days = [day for chunk in chunks for day in chunk.days]
    assert days == [START + timedelta(days=n) for n in range(10)]


def test_a_single_day_is_one_chunk() -> None:
    assert chunk_grid(START, START, 28) == [Chunk(START, START)]


@pytest.mark.parametrize(("end", "chunk_days"), [(date(2024, 12, 31), 7), (START, 0)])
def test_impossible_ranges_are_input_errors(end: date, chunk_days: int) -> None:
    with pytest.raises(InputError):
        chunk_grid(START, end, chunk_days)


def test_pending_chunks_skip_completed_days_and_run_the_others_in_runs_of_a_chunk() -> None:
    """An interrupted chunk has none of its days completed: it runs whole; a chunk with days
    refused (not completed) runs only those, each run of consecutive days as one chunk."""
    chunks = chunk_grid(START, date(2025, 1, 9), 3)
    completed = set(chunks[0].days) | set(chunks[2].days) - {chunks[2].start, chunks[2].end}
    assert pending_chunks(chunks, completed, force=False) == [
        chunks[1],
        Chunk(chunks[2].start, chunks[2].start),
        Chunk(chunks[2].end, chunks[2].end),
    ]
    assert (
        pending_chunks(chunks, set(chunks[0].days[:2]), False)
        == [
            Chunk(chunks[0].end, chunks[0].end),  # not merged with the next chunk's days
            *chunks[1:],
        ]
    )
    assert pending_chunks(chunks, set().union(*map(set, (c.days for c in chunks))), False) == []
    assert pending_chunks(chunks, set(chunks[0].days), force=True) == chunks


def test_a_backfill_stopped_at_a_held_day_names_the_days_it_refused_before() -> None:
    """A stop at a day another run holds ends the command in one line (exit 7) and prints no
    summary: that line names the days refused before it, which would else go unsaid."""
    from datetime import date

    from flows.backfill import with_refusals
    from raceday.errors import RunLocked
    from raceday.run_status import DayRefusal

    stopped = RunLocked("2025-01-18 is already being run by daily-run: the backfill stopped")
    assert with_refusals(stopped, []) is stopped
    refused = [
        DayRefusal(date(2025, 1, 12), "nothing valid", 4),
        DayRefusal(date(2025, 1, 14), "x", 4),
    ]
    line = str(with_refusals(stopped, refused))
    assert line.startswith(str(stopped)) and line.endswith(
        "refused for their input: 2025-01-12, 2025-01-14"
    )
    assert with_refusals(stopped, refused).exit_code == stopped.exit_code
