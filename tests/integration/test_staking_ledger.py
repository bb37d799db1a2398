"""90 simulated days through the real stake, settle and record stages (task bodies via ``.fn``):
the bankroll reconciles to the yen, re-runs never double-count, a crash leaves days settleable.

The race card and results are decoded and stored through the catalog directly (no Great
Expectations stage: ~0.5 s a call, tested elsewhere), all 90 days at once.
Probabilities come from the simulator's truth, blurred (``tests/staking_support.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from config import Settings, load_settings
from raceday.pipeline import DaySummary
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import SimulatedDays, simulate_days
from raceday.staking.kelly import UNIT_YEN
from raceday.staking.ledger import ledger_statement
from raceday.store.catalogs.bets import ledger_days
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.models import Bet as BetModel
from raceday.store.models import table_of
from raceday.store.repository import read_rows, table_checksums
from tasks.record import record_day, settle
from tasks.stake import stake
from tests.staking_support import NOISY_ORACLE_VERSION, decode_days, store_days

pytestmark = pytest.mark.slow  # minutes: scheduled first (tests/conftest.py)

FIRST_DAY = date(2026, 1, 1)
DAYS = 90
CRASHED = {date(2026, 1, 20), date(2026, 2, 14), date(2026, 3, 3)}  # staked, settled days later
RERUN = {date(2026, 1, 10), date(2026, 2, 20), date(2026, 3, 30)}  # every stage run twice
FLOW = "test-backfill"
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
RANGES = [
    (FIRST_DAY, LAST_DAY),
    (FIRST_DAY, date(2026, 1, 31)),
    (date(2026, 1, 15), date(2026, 2, 28)),
    (date(2026, 2, 14), date(2026, 2, 14)),
    (date(2026, 3, 1), LAST_DAY),
]
# The record stage runs on the days the checks read (range ends, the day before range starts,
# re-run days) and on every crashed day once it is settled; stake and settle run every day.
RECORDED = {end for _, end in RANGES} | {start - timedelta(days=1) for start, _ in RANGES}
RECORDED |= RERUN


@pytest.fixture(scope="module")
def simulated() -> SimulatedDays:
    """90 days of a small simulated NAR world (about 12 races a day), with horses excluded at
    the gate (除外, refunded) ten times as often as in reality so that refunds occur."""
    return simulate_days(
        FIRST_DAY,
        FIRST_DAY + timedelta(days=DAYS - 1),
        SimulatorConfig(races_per_day=12, exclusion_rate=0.03),
    )


@dataclass
class Backfill:
    """What the stages reported while the 90 days ran."""

    settings: Settings
    summaries: dict[date, DaySummary] = field(default_factory=dict)
    clean_records: set[date] = field(default_factory=set)  # recorded with every earlier day settled
    clean_stakes: set[date] = field(default_factory=set)  # staked with every earlier day settled
    rerun_checks: list[bool] = field(default_factory=list)


def bets_table(settings: Settings) -> pd.DataFrame:
    with make_engine(settings.database_url).connect() as connection:
        return read_rows(connection, table_of(BetModel))


def checksum(settings: Settings) -> str:
    with make_engine(settings.database_url).connect() as connection:
        return table_checksums(connection, [table_of(BetModel)])["bets"]


@pytest.fixture(scope="module")
def backfill(simulated: SimulatedDays, tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    """Stake and settle every day (record on the days the checks read), with crashes (three
    days left unsettled for a week) and re-runs (three days run twice)."""
    root: Path = tmp_path_factory.mktemp("backfill")
    settings = load_settings(db_url=f"sqlite:///{root / 'store.db'}", var_dir=root / "var")
    upgrade_schema(make_engine(settings.database_url))
    days = decode_days(simulated)
    store_days(settings, days)
    run = Backfill(settings)
    pending: dict[date, date] = {}  # crashed day -> day its settlement is run
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        card = days.cards[day]
        predictions = days.predictions[days.predictions["race_id"].isin(card.races["race_id"])]
        if not pending:
            run.clean_stakes.add(day)
        stake(settings, predictions, card, day)
        if day in RERUN:
            before = checksum(settings)
            stake(settings, predictions, card, day)
            run.rerun_checks.append(checksum(settings) == before)
        if day in CRASHED:
            pending[day] = day + timedelta(days=7)
        else:
            settle(settings, day)
            if day in RECORDED:
                if not pending:
                    run.clean_records.add(day)
                run.summaries[day] = record_day(settings, day)
        if day in RERUN:
            before = checksum(settings)
            settle(settings, day)
            stake(settings, predictions, card, day)  # a settled day stays as placed
            run.rerun_checks.append(checksum(settings) == before)
        for crashed, due in sorted(pending.items()):
            if due == day:
                settle(settings, crashed)
                run.summaries[crashed] = record_day(settings, crashed)
                run.clean_records.add(crashed)
                del pending[crashed]
    assert not pending
    return run


def test_the_policy_bets_and_settles_every_day(backfill: Backfill) -> None:
    """The blurred truth has an edge: thousands of bets, all settled (wins and refunds among
    them), in 100-yen units."""
    bets = bets_table(backfill.settings)
    assert len(bets) > 200
    assert bets["settled"].all()
    assert (bets["stake_yen"] % UNIT_YEN == 0).all() and (bets["stake_yen"] > 0).all()
    assert (bets["model_version"] == NOISY_ORACLE_VERSION).all()
    assert not bets.duplicated(["policy", "race_id", "umaban"]).any()
    assert (bets["odds_source"] == "snapshot").all()
    assert (bets["payout_yen"] > 0).sum() > 20
    assert (bets["refund_yen"] > 0).sum() > 0
    assert (bets["pnl_yen"] == bets["payout_yen"] + bets["refund_yen"] - bets["stake_yen"]).all()


def test_bankroll_reconciles_to_the_yen_over_date_ranges(backfill: Backfill) -> None:
    """bankroll_end = bankroll_start + payouts + refunds - stakes exactly, in integer yen, with
    the bankrolls the record stage reported and the sums of the exported bets."""
    bets = bets_table(backfill.settings)
    initial = backfill.settings.bankroll_yen
    reported = {day: summary.bankroll_yen for day, summary in backfill.summaries.items()}
    assert all(isinstance(value, int) for value in reported.values())
    dates = pd.to_datetime(bets["race_date"]).dt.date
    for start, end in RANGES:
        within = bets[(dates >= start) & (dates <= end)]
        staked = sum(int(v) for v in within["stake_yen"])
        paid = sum(int(v) for v in within["payout_yen"])
        refunded = sum(int(v) for v in within["refund_yen"])
        start_bankroll = initial if start == FIRST_DAY else reported[start - timedelta(days=1)]
        assert reported[end] == start_bankroll + paid + refunded - staked, (start, end)
        statement = ledger_statement(initial, bets, start, end)
        assert statement.bankroll_start_yen == start_bankroll
        assert statement.bankroll_end_yen == reported[end]


def test_reported_figures_agree_with_the_ledger(backfill: Backfill) -> None:
    """Each day's staked / returned / bankroll as reported equal the ledger's sums; each stake
    was sized on the bankroll the ledger had when every earlier day was settled."""
    bets = bets_table(backfill.settings)
    initial = backfill.settings.bankroll_yen
    dates = pd.to_datetime(bets["race_date"]).dt.date
    for day, summary in backfill.summaries.items():
        today = bets[dates == day]
        assert summary.staked_yen == int(today["stake_yen"].sum())
        assert summary.returned_yen == int(today["payout_yen"].sum() + today["refund_yen"].sum())
        assert summary.bets == len(today)
        if day in backfill.clean_records:
            assert (
                summary.bankroll_yen == ledger_statement(initial, bets, day, day).bankroll_end_yen
            )
    for day in backfill.clean_stakes:
        today = bets[dates == day]
        if not today.empty:
            expected = ledger_statement(initial, bets, day, day).bankroll_start_yen
            assert (today["bankroll_at_bet_yen"] == expected).all(), day


def test_reruns_and_crashes_never_double_count(backfill: Backfill) -> None:
    """Re-running stake and settle leaves the bets table byte for byte; crashed days were
    staked once, settled late, and their next days were sized with their stakes out."""
    assert backfill.rerun_checks and all(backfill.rerun_checks)
    bets = bets_table(backfill.settings)
    dates = pd.to_datetime(bets["race_date"]).dt.date
    for crashed in CRASHED:
        assert bets[dates == crashed]["settled"].all()
        after = bets[dates == crashed + timedelta(days=1)]
        if not after.empty:
            unsettled_view = ledger_statement(
                backfill.settings.bankroll_yen, bets, crashed, crashed
            )
            returned = unsettled_view.paid_yen + unsettled_view.refunded_yen
            assert (
                after["bankroll_at_bet_yen"] == unsettled_view.bankroll_end_yen - returned
            ).all()


def test_the_ledger_reconciles_on_both_backends(store_url: str, tmp_path: Path) -> None:
    """Six days on SQLite and PostgreSQL: per-day ledger sums equal the bets' own sums, a
    crashed day settles late, and the last day's reported bankroll obeys the identity."""
    first, days_n = date(2026, 5, 1), 6
    simulated = simulate_days(
        first, first + timedelta(days=days_n - 1), SimulatorConfig(races_per_day=12)
    )
    settings = load_settings(db_url=store_url, var_dir=tmp_path / "var")
    upgrade_schema(make_engine(settings.database_url))
    days = decode_days(simulated)
    store_days(settings, days)
    crashed = first + timedelta(days=2)
    for offset in range(days_n):
        day = first + timedelta(days=offset)
        card = days.cards[day]
        predictions = days.predictions[days.predictions["race_id"].isin(card.races["race_id"])]
        stake(settings, predictions, card, day)
        if day != crashed:
            settle(settings, day)
    with make_engine(settings.database_url).connect() as connection:
        assert ledger_days(connection, "kelly")["open_bets"].sum() == len(
            bets_table(settings).query("race_date == @crashed")
        )
    settle(settings, crashed)
    last = first + timedelta(days=days_n - 1)
    summary = record_day(settings, last)
    bets = bets_table(settings)
    assert len(bets) > 10 and bets["settled"].all()
    with make_engine(settings.database_url).connect() as connection:
        per_day = ledger_days(connection, "kelly").set_index("race_date")
        # the replay's split: the days before a day as read first, the rest read after
        split = pd.concat(
            [ledger_days(connection, "kelly", before=crashed), ledger_days(connection, "kelly",
             since=crashed, end=last)], ignore_index=True
        )  # fmt: skip
    pd.testing.assert_frame_equal(split.set_index("race_date"), per_day, check_exact=True)
    sums = bets.groupby("race_date").agg(
        staked_yen=("stake_yen", "sum"), paid_yen=("payout_yen", "sum")
    )
    assert per_day["staked_yen"].tolist() == [int(v) for v in sums["staked_yen"]]
    assert per_day["paid_yen"].tolist() == [int(v) for v in sums["paid_yen"]]
    money = bets[["payout_yen", "refund_yen", "stake_yen"]].itertuples(index=False)
    flows = sum(int(paid) + int(refunded) - int(staked) for paid, refunded, staked in money)
    assert summary.bankroll_yen == settings.bankroll_yen + flows
