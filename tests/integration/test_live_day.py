"""Race time on simulated files: ``raceday live --replay``'s chain, in-process.

Every race is decided once, in post-time order, at its post time less the lead, on odds
published by then; the per-day cap and the drawdown brake hold across the day's races, with
the races already settled counted; and a day killed in the middle and restarted bets no race
twice and misses none (the store ends as an uninterrupted run's).

The five days before the day are warmed up once (what the day's first stage does on an empty
store) and each test runs on a copy of that store; the uninterrupted day is run once, checked
by the first test and the reference of the killed one."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

import tasks.race
from config import Settings, load_settings
from flows.chain import prepare_history
from flows.live import live_day_in_process
from raceday.racetime import BET, NO_BET
from raceday.staking.ledger import drawdown_from_peak
from raceday.store.catalogs.bets import BETS
from raceday.store.catalogs.decisions import DECISIONS
from raceday.store.engine import make_engine
from tasks.common import in_process
from tests.kill_support import kill_once, stop_after
from tests.live_support import LONGSHOT_MODEL, longshot_predictions, write_simulated_files
from tests.store_support import copy_store

pytestmark = pytest.mark.slow  # minutes: scheduled first (tests/conftest.py)

DAY = date(2025, 6, 7)
RACES = 16
LEAD = timedelta(minutes=5)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("live-files")
    return write_simulated_files(directory, DAY - timedelta(days=5), DAY, RACES)


def race_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five days of warm-up, no Data Docs, and the stand-in model that bets longshots."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "5")
    monkeypatch.setenv("RACEDAY_VALIDATION__DATA_DOCS", "false")
    monkeypatch.setattr(tasks.race, "predictions_or_market", longshot_predictions)


@pytest.fixture(autouse=True)
def race_time_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    race_time(monkeypatch)


@pytest.fixture(scope="module")
def warmed(files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store warmed up with the five days before DAY, built once: tests run on copies."""
    db = tmp_path_factory.mktemp("warmed") / "warmed.db"
    with pytest.MonkeyPatch.context() as monkeypatch:
        race_time(monkeypatch)
        prepare_history(in_process, settings_for(db, files), DAY)
    return db


@pytest.fixture(scope="module")
def uninterrupted(
    files: Path, warmed: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """The day replayed once, uninterrupted, on a copy of the warmed store: its store and
    summary (read, never written, by the tests that use it)."""
    db = tmp_path_factory.mktemp("uninterrupted") / "day.db"
    copy_store(warmed, db)
    with pytest.MonkeyPatch.context() as monkeypatch:
        race_time(monkeypatch)
        summary = live_day_in_process(settings_for(db, files), DAY, replay=True)
    return db, summary


def warmed_copy(warmed: Path, db: Path) -> Path:
    """A copy of the warmed store at ``db``."""
    copy_store(warmed, db)
    return db


def settings_for(db: Path, files: Path) -> Settings:
    return load_settings(db_url=f"sqlite:///{db}", source=f"files:{files}")


def stored(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's race decisions (in decision order) and bets."""
    with make_engine(f"sqlite:///{db}").connect() as connection:
        decisions = pd.DataFrame(connection.execute(select(DECISIONS)).mappings().all())
        bets = pd.DataFrame(connection.execute(select(BETS)).mappings().all())
    return decisions.sort_values(["decided_at", "race_id"]).reset_index(drop=True), bets


def test_every_race_is_decided_once_in_post_time_order_before_its_close(
    uninterrupted: tuple[Path, dict[str, Any]],
) -> None:
    db, summary = uninterrupted
    decisions, bets = stored(db)

    assert summary["races"] == RACES and summary["decided"] == RACES
    assert decisions["race_id"].is_unique and len(decisions) == RACES
    assert set(decisions["outcome"]) <= {BET, NO_BET}
    assert (decisions["decided_at"] == decisions["post_at"] - LEAD).all()
    assert decisions["post_at"].is_monotonic_increasing
    assert not bets.empty and set(bets["model_version"]) == {LONGSHOT_MODEL}
    posts = bets.merge(decisions[["race_id", "post_at"]], on="race_id")
    assert (posts["odds_at"] <= posts["post_at"] - LEAD).all()
    assert (posts["decided_at"] < posts["post_at"]).all()
    per_race = bets.groupby("race_id")["stake_yen"].agg(["count", "sum"])
    by_decision = decisions.set_index("race_id").loc[per_race.index]
    assert (by_decision["bets"] == per_race["count"]).all()
    assert (by_decision["staked_yen"] == per_race["sum"]).all()
    assert summary["bets"] == len(bets)


def test_the_day_cap_and_the_drawdown_brake_hold_across_races(
    tmp_path: Path, files: Path, warmed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tight day cap and a brake at 0.3 %: the day's stakes stay under the cap, and no race
    decided after the settled races' losses pass the brake gets a stake."""
    monkeypatch.setenv("RACEDAY_KELLY__MAX_DAY_FRACTION", "0.03")
    monkeypatch.setenv("RACEDAY_KELLY__DRAWDOWN_SOFT", "0.0")
    monkeypatch.setenv("RACEDAY_KELLY__DRAWDOWN_BRAKE", "0.003")
    settings = settings_for(warmed_copy(warmed, tmp_path / "b.db"), files)
    live_day_in_process(settings, DAY, replay=True)
    decisions, bets = stored(tmp_path / "b.db")

    bankroll = settings.bankroll_yen  # the warm-up days place no bets
    assert bets["stake_yen"].sum() <= settings.kelly.max_day_fraction * bankroll
    delay = timedelta(minutes=settings.live.result_delay_minutes)
    posts = decisions.set_index("race_id")["post_at"]
    settled_at = bets["race_id"].map(posts) + delay
    braked = 0
    for decision in decisions.itertuples():
        known = bets[settled_at <= decision.decided_at]
        realized = float(known["pnl_yen"].sum())
        drawdown = drawdown_from_peak(bankroll, pd.Series([realized]))
        if drawdown >= settings.kelly.drawdown_brake:
            braked += 1
            assert decision.bets == 0, (decision.race_id, drawdown)
    assert bets["settled"].all()  # every race's result came out during the replayed day
    assert braked > 0  # the scenario reaches the brake (else the test proves nothing)


KILLED_AFTER = RACES // 3  # decisions the killed run has stored


def decide_until_killed(db_url: str, source: str, day: date, killed_after: int) -> None:
    """The child's body: the day replayed, stopped once ``killed_after`` races are decided."""
    tasks.race.predictions_or_market = longshot_predictions  # the child's own module
    decided = itertools.count(1)
    stop_after("tasks.race", "record_decision", lambda _row: next(decided) == killed_after)
    live_day_in_process(load_settings(db_url=db_url, source=source), day, replay=True)


def decided_count(db: Path) -> int:
    try:
        with make_engine(f"sqlite:///{db}").connect() as connection:
            return len(connection.execute(select(DECISIONS.c.race_id)).all())
    except Exception:  # noqa: BLE001 - no schema yet
        return 0


def test_a_day_killed_mid_way_and_restarted_bets_no_race_twice_and_misses_none(
    tmp_path: Path, files: Path, warmed: Path, uninterrupted: tuple[Path, dict[str, Any]]
) -> None:
    reference_db, _summary = uninterrupted
    killed_db = warmed_copy(warmed, tmp_path / "killed.db")
    kill_once(
        decide_until_killed,
        (f"sqlite:///{killed_db}", f"files:{files}", DAY, KILLED_AFTER),
        lambda: decided_count(killed_db) >= KILLED_AFTER,
        "a third of the races",
    )
    halfway = decided_count(killed_db)
    assert halfway == KILLED_AFTER and 0 < halfway < RACES

    summary = live_day_in_process(settings_for(killed_db, files), DAY, replay=True)

    assert summary["decided"] == RACES - halfway
    assert summary["already_decided"] == halfway
    volatile = ["run_id", "latency_s"]
    reference, reference_bets = stored(reference_db)
    restarted, restarted_bets = stored(killed_db)
    pd.testing.assert_frame_equal(
        restarted.drop(columns=volatile), reference.drop(columns=volatile)
    )
    key = ["race_id", "umaban"]
    pd.testing.assert_frame_equal(
        restarted_bets.sort_values(key).reset_index(drop=True),
        reference_bets.sort_values(key).reset_index(drop=True),
    )


def test_a_race_past_its_close_or_without_odds_is_not_bet_and_alerts(
    tmp_path: Path, files: Path, warmed: Path
) -> None:
    from dataclasses import replace as replace_tables

    from flows.chain import race_chain
    from flows.live import card_stages, day_summary
    from raceday.racetime import MISSED_CLOSE, NO_ODDS, ReplayClock, timetable
    from raceday.store.catalogs.alerts import ALERTS
    from tasks.common import in_process

    settings = settings_for(warmed_copy(warmed, tmp_path / "c.db"), files)
    day, raw = card_stages(in_process, settings, DAY, by_venue=False)
    first, second = timetable(day.card.races, 5, 2).slots[:2]

    late = ReplayClock(first.close_at + timedelta(minutes=1))
    missed = race_chain(in_process, settings, first, day, late, raw)
    no_odds_raw = replace_tables(raw, nvd_o1=raw.nvd_o1.iloc[0:0])
    waiting = ReplayClock(second.decide_at)
    unpriced = race_chain(in_process, settings, second, day, waiting, no_odds_raw)

    class SlowRead(ReplayClock):
        """A clock whose every reading is later than the last: the odds read took minutes."""

        def now(self) -> datetime:
            self.wait_until(super().now() + timedelta(minutes=2))
            return super().now()

    third = timetable(day.card.races, 5, 2).slots[2]
    late_odds = race_chain(in_process, settings, third, day, SlowRead(third.decide_at), raw)

    assert missed["outcome"] == MISSED_CLOSE and unpriced["outcome"] == NO_ODDS
    assert late_odds["outcome"] == MISSED_CLOSE  # never bet after the close
    assert waiting.now() >= second.close_at - timedelta(seconds=settings.live.odds_poll_s)
    decisions, bets = stored(tmp_path / "c.db")
    assert set(decisions["outcome"]) == {MISSED_CLOSE, NO_ODDS} and bets.empty
    with make_engine(f"sqlite:///{tmp_path / 'c.db'}").connect() as connection:
        rules = {rule for (rule,) in connection.execute(select(ALERTS.c.rule)).all()}
    assert {"missed_close", "odds_missing"} <= rules
    again = race_chain(in_process, settings, first, day, ReplayClock(first.decide_at), raw)
    assert again["outcome"] == "already_decided"  # decided once, even when now in time
    # a re-run that decides nothing new still says which races of the day were not bet (it
    # said nothing and "completed": its summary counted only its own decisions)
    rerun = day_summary(settings, DAY, day, [again], True, datetime.now())
    not_bet = sorted(f"{r['race_id']} {r['outcome']}" for r in (missed, unpriced, late_odds))
    assert rerun["warnings"][0] == f"3 races not bet: {', '.join(not_bet)}"
    assert rerun["status"] == "completed-with-warnings"


def test_a_day_begun_late_records_the_closed_races_with_one_alert(
    tmp_path: Path, files: Path, warmed: Path
) -> None:
    from flows.chain import race_chain, race_day_chain
    from flows.live import card_stages
    from raceday.racetime import MISSED_CLOSE, RaceSlot, ReplayClock, timetable
    from raceday.store.catalogs.alerts import ALERTS
    from tasks.common import in_process

    settings = settings_for(warmed_copy(warmed, tmp_path / "d.db"), files)
    day, raw = card_stages(in_process, settings, DAY, by_venue=False)
    slots = timetable(day.card.races, 5, 2).slots
    clock = ReplayClock(slots[2].close_at)  # the first three races have closed

    def one_race(slot: RaceSlot) -> dict[str, object]:
        return race_chain(in_process, settings, slot, day, clock, raw)

    race_day_chain(in_process, settings, DAY, day, clock, one_race, raw)
    decisions, _bets = stored(tmp_path / "d.db")
    missed = decisions[decisions["outcome"] == MISSED_CLOSE]
    assert set(missed["race_id"]) == {slot.race_id for slot in slots[:3]}
    assert len(decisions) == RACES
    with make_engine(f"sqlite:///{tmp_path / 'd.db'}").connect() as connection:
        alerts = connection.execute(select(ALERTS.c.rule, ALERTS.c.message)).all()
    missed_alerts = [message for rule, message in alerts if rule == "missed_close"]
    assert len(missed_alerts) == 1 and "3 races had closed already" in missed_alerts[0]


def with_slot_odds(raw: Any, race_id: str, umaban: int, odds: str | None, after: str) -> Any:
    """``raw`` with one horse's slot of the race's snapshots stamped after ``after`` (MMDDhhmm)
    rewritten to ``odds`` (``0000``: not sold), or cut out (``None``: absent)."""
    from dataclasses import replace as replace_tables

    from raceday.codec import race_ids

    o1 = raw.nvd_o1.copy()
    rows = (race_ids(o1) == race_id) & (o1["happyo_tsukihi_jifun"].astype(str) > after)
    for index in o1.index[rows.to_numpy(bool)]:
        packed = str(o1.loc[index, "odds_tansho"])
        slots = [packed[start : start + 8] for start in range(0, len(packed), 8)]
        kept = [
            slot
            if slot[:2] != f"{umaban:02d}"
            else (None if odds is None else slot[:2] + odds + "00")
            for slot in slots
        ]
        o1.loc[index, "odds_tansho"] = "".join(slot for slot in kept if slot is not None)
    return replace_tables(raw, nvd_o1=o1)


def test_a_horse_scratched_after_the_card_is_left_out_and_its_race_decided(
    tmp_path: Path, files: Path, warmed: Path
) -> None:
    """A late 取消 (the race's snapshots after the 09:00 card say ``0000`` for one horse): the
    race is decided without it (it was set aside, ``odds_set_aside``: every race with a late
    scratch went unbet), the decision says so; a horse simply absent from the snapshot is
    still the fault it is."""
    from flows.chain import race_chain
    from flows.live import card_stages
    from raceday.racetime import ODDS_SET_ASIDE, ReplayClock, timetable
    from raceday.sources.timeline import race_odds_at
    from raceday.store.catalogs.predictions import PREDICTIONS

    db = warmed_copy(warmed, tmp_path / "s.db")
    settings = settings_for(db, files)
    day, raw = card_stages(in_process, settings, DAY, by_venue=False)
    first, second = timetable(day.card.races, 5, 2).slots[:2]
    morning = f"{DAY:%m%d}0900"

    def longest_shot(slot: Any) -> int:
        odds = race_odds_at(raw.nvd_o1, slot.race_id, slot.decide_at)
        return int(odds.sort_values("win_odds")["umaban"].iloc[-1])

    scratched = longest_shot(first)
    late = with_slot_odds(raw, first.race_id, scratched, "0000", morning)
    decided = race_chain(in_process, settings, first, day, ReplayClock(first.decide_at), late)
    assert decided["outcome"] in {BET, NO_BET}, decided["message"]
    assert f"withdrawn at race time (not sold in its snapshot): {scratched}" in decided["message"]
    with make_engine(f"sqlite:///{db}").connect() as connection:
        predicted = connection.execute(
            select(PREDICTIONS.c.umaban).where(PREDICTIONS.c.race_id == first.race_id)
        ).scalars()
        assert scratched not in set(predicted)
    _decisions, bets = stored(db)
    assert bets.empty or scratched not in set(bets.loc[bets["race_id"] == first.race_id, "umaban"])

    absent = with_slot_odds(raw, second.race_id, longest_shot(second), None, morning)
    unpriced = race_chain(in_process, settings, second, day, ReplayClock(second.decide_at), absent)
    assert unpriced["outcome"] == ODDS_SET_ASIDE
    assert "runner_has_snapshot_odds" in unpriced["message"]


def test_a_race_waiting_for_its_odds_holds_up_no_other_race(
    tmp_path: Path, files: Path, warmed: Path
) -> None:
    """R1 without odds and R2–R5 posting 11:15–11:17: each race is decided at its own post −
    lead, R1 read again between them until its close and then recorded ``no_odds`` (before,
    R1 was polled to 11:12:40 and the four others were all decided then, two of them 20 s
    before their close)."""
    from dataclasses import replace as replace_tables

    from flows.chain import race_chain, race_day_chain
    from flows.live import card_stages
    from raceday.codec import race_ids
    from raceday.racetime import NO_ODDS, RaceSlot, ReplayClock, timetable
    from tasks.race import RaceCard

    db = warmed_copy(warmed, tmp_path / "w.db")
    settings = settings_for(db, files)
    day, raw = card_stages(in_process, settings, DAY, by_venue=False)
    ids = [slot.race_id for slot in timetable(day.card.races, 5, 2).slots[:5]]
    posts = dict(zip(ids, ["1115", "1115", "1116", "1116", "1117"], strict=True))
    races = day.card.races[day.card.races["race_id"].isin(ids)]
    card = replace_tables(
        day.card,
        races=races.assign(post_time=races["race_id"].map(posts)),
        runners=day.card.runners[day.card.runners["race_id"].isin(ids)],
    )
    five = RaceCard(card, day.features)
    no_odds = replace_tables(raw, nvd_o1=raw.nvd_o1[(race_ids(raw.nvd_o1) != ids[0]).to_numpy()])
    clock = ReplayClock(settings.live.morning_moment(DAY))

    def one_race(slot: RaceSlot) -> dict[str, Any]:
        return race_chain(in_process, settings, slot, five, clock, no_odds, wait_for_odds=False)

    decisions = race_day_chain(in_process, settings, DAY, five, clock, one_race, no_odds)
    by_race = {decision["race_id"]: decision for decision in decisions}
    assert set(by_race) == set(ids)
    assert by_race[ids[0]]["outcome"] == NO_ODDS
    assert by_race[ids[0]]["decided_at"] == pd.Timestamp(f"{DAY} 11:12:40")
    for race_id in ids[1:]:
        post = pd.Timestamp(f"{DAY} {posts[race_id][:2]}:{posts[race_id][2:]}")
        assert by_race[race_id]["outcome"] in {BET, NO_BET}
        assert by_race[race_id]["decided_at"] == post - LEAD, race_id
