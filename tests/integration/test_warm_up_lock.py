"""The first runs of consecutive days on an empty PostgreSQL store, started at once, each warm
the store up with the days before its own: the histories overlap, and the two warm-ups wrote the
same races at once (one failed on ``pk_races``, a defect: exit 5). The store's warm-up lock
(:func:`tasks.locks.warm_up_lock`) makes the second wait for the first, then find the history
there: both complete and the store is the first warm-up's."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest

import flows.chain
import tasks.locks
from config import load_settings
from flows.chain import prepare_history
from tasks.common import in_process
from tests.store_support import data_checksums, fresh_postgres_database

DAY = date(2025, 5, 10)
NEXT_DAY = DAY + timedelta(days=1)
RACES = 6
HANG_LIMIT_S = 600  # a hang, never a pace: each wait below ends when the other thread moves


@pytest.fixture
def short_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three days of small simulated history: the two warm-ups share two of them."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "3")
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES))


def _warm_up(db: str, race_date: date) -> None:
    """What ``raceday run --date`` does first: the store made ready and warmed up."""
    prepare_history(in_process, load_settings(races=RACES, db_url=db), race_date)


@pytest.mark.usefixtures("short_warm_up")
def test_two_first_runs_of_consecutive_days_at_once_warm_the_store_up_once(
    postgres_url: str, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving that failed, forced: the first run has decided its warm-up and writes
    only once the second has reached the same decision (before the lock: both then wrote the
    shared days at once) or is waiting for the first's warm-up (with it)."""
    first_decided, second_arrived, first_done = (threading.Event() for _ in range(3))
    decide = flows.chain.history_gap

    def history_gap_in_step(*args: Any) -> tuple[date, date] | None:
        gap = decide(*args)
        if args[1] == DAY:
            first_decided.set()
            assert second_arrived.wait(HANG_LIMIT_S), "the second run never came"
        else:
            second_arrived.set()
        return gap

    def waiting_for_the_first() -> None:
        second_arrived.set()
        assert first_done.wait(HANG_LIMIT_S), "the first warm-up never ended"

    monkeypatch.setattr(flows.chain, "history_gap", history_gap_in_step)
    # (absent before the warm-up lock existed: set all the same, never called there)
    monkeypatch.setattr(tasks.locks, "wait_before_asking_again", waiting_for_the_first)
    failures: dict[date, BaseException] = {}

    def first_run_of(race_date: date, done: threading.Event | None = None) -> None:
        try:
            _warm_up(postgres_url, race_date)
        except BaseException as error:  # noqa: BLE001 - asserted on below
            failures[race_date] = error
        finally:
            if done is not None:
                done.set()

    first = threading.Thread(target=first_run_of, args=(DAY, first_done))
    second = threading.Thread(target=first_run_of, args=(NEXT_DAY,))
    first.start()
    assert first_decided.wait(HANG_LIMIT_S)
    second.start()
    for thread in (first, second):
        thread.join(HANG_LIMIT_S)
    assert not first.is_alive() and not second.is_alive()
    assert failures == {}

    with fresh_postgres_database(postgres_server) as alone:
        _warm_up(alone, DAY)
        assert data_checksums(postgres_url) == data_checksums(alone)
