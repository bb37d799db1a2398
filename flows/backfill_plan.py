"""The backfill's plan: the range cut into chunks of consecutive days, and what of them a
re-run still has to do (the days completed by earlier backfills are skipped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from raceday.errors import InputError

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Chunk:
    """Consecutive days run by one task."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def chunk_grid(start: date, end: date, chunk_days: int) -> list[Chunk]:
    """``start``..``end`` cut into chunks of ``chunk_days`` (the last one may be shorter)."""
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    if chunk_days < 1:
        raise InputError(f"--chunk-days must be at least 1, not {chunk_days}")
    chunks = []
    first = start
    while first <= end:
        last = min(first + timedelta(days=chunk_days - 1), end)
        chunks.append(Chunk(first, last))
        first = last + timedelta(days=1)
    return chunks


def pending_chunks(chunks: list[Chunk], completed: set[date], force: bool) -> list[Chunk]:
    """What is left to run of ``chunks`` (every chunk when forced): of each chunk, its runs of
    consecutive days not completed yet — a chunk interrupted whole, or the days a backfill
    refused for their input, which run by themselves once mended; days done are not run
    again."""
    if force:
        return list(chunks)
    pending: list[Chunk] = []
    for chunk in chunks:
        for day in chunk.days:
            if day in completed:
                continue
            if pending and pending[-1].start >= chunk.start and pending[-1].end == day - ONE_DAY:
                pending[-1] = Chunk(pending[-1].start, day)
            else:
                pending.append(Chunk(day, day))
    return pending


def chunks_done(chunks: list[Chunk], completed: set[date], force: bool) -> int:
    """How many of ``chunks`` have every day completed (none when forced)."""
    return 0 if force else sum(set(chunk.days) <= completed for chunk in chunks)
