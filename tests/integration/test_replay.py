"""The backfill's one-pass replay of stake, settle and record leaves the store exactly as the
daily stages run day by day do (the ledger, the performance record, the rolling windows). The
days before the replayed range, the same history in both stores, are run once and the store
copied."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import make_url

from config import Settings, load_settings
from data_checks import derived
from data_checks.validate import ValidatedDay
from flows.backfill_settings import without_data_docs
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.store.catalogs.bets import BETS
from raceday.store.catalogs.quality import QUARANTINE, VALIDATION
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import read_rows
from tasks.record import record_day, settle
from tasks.replay import replay_days
from tasks.stake import stake
from tests.staking_support import Days, decode_days, store_days
from tests.store_support import copy_store, data_checksums

FIRST_DAY = date(2026, 1, 1)
DAYS = 24
SPLIT = date(2026, 1, 9)  # days before it run day by day in both stores
FLOW = "test-replay"


@pytest.fixture(scope="module")
def days() -> Days:
    """24 small simulated days with exclusions (refunds) ten times as often as in reality."""
    simulated = simulate_days(
        FIRST_DAY,
        FIRST_DAY + timedelta(days=DAYS - 1),
        SimulatorConfig(races_per_day=12, exclusion_rate=0.03),
    )
    return decode_days(simulated)


def _store(root: Path, name: str, days: Days, *, backfill: bool = False) -> Settings:
    """A store holding ``days``' cards and results; ``backfill``: with a backfill's settings
    (no Data Docs, so the replay checks every day's stakes in one suite run)."""
    settings = load_settings(db_url=f"sqlite:///{root / name}.db", var_dir=root / name)
    settings = without_data_docs(settings) if backfill else settings
    upgrade_schema(make_engine(settings.database_url))
    store_days(settings, days)
    return settings


def _copy(root: Path, name: str, settings: Settings) -> Settings:
    """A second store: a copy of ``settings``' store file, its own var/."""
    source = Path(make_url(settings.database_url).database or "")
    url = copy_store(source, root / f"{name}.db")
    return load_settings(db_url=url, var_dir=root / name)


def _day_by_day(settings: Settings, days: Days, run: list[date]) -> None:
    """What the daily stages do: stake, settle, record each day in turn."""
    for day in run:
        card = days.cards[day]
        predictions = days.predictions[days.predictions["race_id"].isin(card.races["race_id"])]
        stake(settings, predictions, card, day)
        settle(settings, day)
        record_day(settings, day)


def stake_records(settings: Settings) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The stake stage's validation results and quarantine, without run ids and times."""
    with make_engine(settings.database_url).connect() as connection:
        results = read_rows(connection, VALIDATION)
        quarantine = read_rows(connection, QUARANTINE)
    results = results[results["suite"] == "stakes"].drop(columns=["run_id", "validated_at"])
    quarantine = quarantine[quarantine["stage"] == "stake"].drop(
        columns=["id", "run_id"], errors="ignore"
    )
    return (
        sorted(map(tuple, results.astype(str).to_numpy().tolist())),
        sorted(map(tuple, quarantine.astype(str).to_numpy().tolist())),
    )


def _card_of(days: Days, run: list[date]) -> ValidatedDay:
    cards = [days.cards[day] for day in run]
    return ValidatedDay(
        pd.concat([card.races for card in cards], ignore_index=True),
        pd.concat([card.runners for card in cards], ignore_index=True),
        pd.concat([card.odds for card in cards], ignore_index=True),
        cards[0].quarantine,
        (),
    )


@pytest.mark.slow
def test_replay_equals_the_daily_stages_day_by_day(days: Days, tmp_path: Path) -> None:
    every_day = sorted(days.cards)
    before = [day for day in every_day if day < SPLIT]
    after = [day for day in every_day if day >= SPLIT]
    daily = _store(tmp_path, "daily", days)
    _day_by_day(daily, days, before)  # history: an earlier ledger and rolling windows
    # the same history, run once; a backfill's settings (no Data Docs: one stake suite run)
    replayed = without_data_docs(_copy(tmp_path, "replay", daily))

    _day_by_day(daily, days, after)
    card = _card_of(days, after)
    predictions = days.predictions[days.predictions["race_id"].isin(card.races["race_id"])]
    placed = replay_days(replayed, predictions, card, after)

    expected = data_checksums(daily.database_url)
    assert data_checksums(replayed.database_url) == expected
    assert stake_records(replayed) == stake_records(daily)
    with make_engine(replayed.database_url).connect() as connection:
        bets = read_rows(connection, BETS)
    in_range = bets[bets["race_date"].dt.date >= SPLIT]
    assert placed == len(in_range) > 50  # the test stakes real money, and refunds happen
    assert in_range["settled"].all()
    assert (in_range["refund_yen"] > 0).any()
    assert (in_range["payout_yen"] > 0).any()

    # Re-running the replay over settled days keeps their bets as placed: nothing changes.
    replay_days(replayed, predictions, card, after)
    assert data_checksums(replayed.database_url) == expected


@pytest.mark.slow
def test_a_stake_check_that_fails_is_quarantined_as_day_by_day(
    days: Days, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a stake check fails (here the odds ceiling, lowered to 8.0 so that bets break it),
    the replay falls back to checking day by day: the quarantine and validation results are
    the daily stages' own, and so are the bets kept and everything recorded after them."""
    monkeypatch.setattr(derived, "MAX_WIN_ODDS", 8.0)
    run = sorted(days.cards)[:6]
    daily = _store(tmp_path, "daily", days)
    replayed = _store(tmp_path, "replay", days, backfill=True)
    _day_by_day(daily, days, run)
    card = _card_of(days, run)
    predictions = days.predictions[days.predictions["race_id"].isin(card.races["race_id"])]
    replay_days(replayed, predictions, card, run)

    records = stake_records(replayed)
    assert records == stake_records(daily)
    assert any("odds_at_bet_at_most_999_9" in row for row in records[1])  # the check failed
    assert data_checksums(replayed.database_url) == data_checksums(daily.database_url)
