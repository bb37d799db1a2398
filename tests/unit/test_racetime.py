"""Race time's pure parts: the timetable, the odds known at a moment, and a race's stakes
sized on what is left of the day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.odds_snapshots import encode_odds_string, stamp_moments
from raceday.racetime import ReplayClock, moved_ahead, pending, results_due, timetable
from raceday.sources.base import RawDay, empty_raw_day
from raceday.sources.timeline import odds_known_by, published_at, race_odds_at
from raceday.staking.bets import day_limits, size_race
from raceday.staking.kelly import StakingPolicy

DAY = date(2026, 12, 3)


def o1_rows(day: date, hhmm: list[str], odds: list[float]) -> pd.DataFrame:
    """Snapshots of race 7 at 大井 (one runner, then a second at 9.9) published at ``hhmm``."""
    return pd.DataFrame(
        {
            "kaisai_nen": f"{day:%Y}",
            "kaisai_tsukihi": f"{day:%m%d}",
            "keibajo_code": "44",
            "race_bango": "07",
            "happyo_tsukihi_jifun": [f"{day:%m%d}{time}" for time in hhmm],
            "odds_tansho": [
                encode_odds_string(pd.Series([1, 2]), pd.Series([value, 9.9]), pd.Series([1, 2]))
                for value in odds
            ],
        },
        dtype="string",
    )


def raw_with_odds(nvd_o1: pd.DataFrame) -> RawDay:
    empty = empty_raw_day()
    return RawDay(empty.nvd_ra, empty.nvd_se, nvd_o1)


def races(posts: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_id": [f"20261203{44 + i % 2:02d}{i + 1:02d}" for i in range(len(posts))],
            "race_date": pd.Timestamp(DAY),
            "keibajo_code": [f"{44 + i % 2}" for i in range(len(posts))],
            "race_bango": [i + 1 for i in range(len(posts))],
            "post_time": posts,
        }
    )


def test_the_timetable_is_in_post_time_order_and_leaves_untimed_races_out() -> None:
    table = timetable(races(["2050", "1045", "", "2599", "1045"]), 5, 2)
    assert [slot.post_at.strftime("%H%M") for slot in table.slots] == ["1045", "1045", "2050"]
    assert len(table.untimed) == 2  # blank and 25:99
    first = table.slots[0]
    assert first.decide_at == datetime(2026, 12, 3, 10, 40)
    assert first.close_at == datetime(2026, 12, 3, 10, 43)
    assert first.run_name == "race-44-2026-12-03-R05"  # 大井 before 川崎 at 10:45
    assert first.missed(datetime(2026, 12, 3, 10, 43)) and not first.missed(first.decide_at)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=12))
def test_any_post_times_give_a_timetable(posts: list[str]) -> None:
    table = timetable(races(posts), 5, 2)
    assert len(table.slots) + len(table.untimed) == len(posts)
    times = [slot.post_at for slot in table.slots]
    assert times == sorted(times)


def test_pending_and_results_due() -> None:
    slots = timetable(races(["1030", "1100", "1130"]), 5, 2).slots
    assert [s.race_id for s in pending(slots, {slots[0].race_id})] == [
        slots[1].race_id,
        slots[2].race_id,
    ]
    due = results_due(slots, {slots[0].race_id}, datetime(2026, 12, 3, 11, 10), 10)
    assert due == [slots[1].race_id]


def test_a_replay_clock_only_moves_forward() -> None:
    clock = ReplayClock(datetime(2026, 12, 3, 9, 0))
    clock.wait_until(datetime(2026, 12, 3, 10, 0))
    clock.wait_until(datetime(2026, 12, 3, 9, 30))
    assert clock.now() == datetime(2026, 12, 3, 10, 0)


def test_a_stamp_is_dated_in_its_race_year_or_the_year_before() -> None:
    moments = stamp_moments(
        pd.Series(["01030900", "12301200", "final", "99999999"], dtype="string"),
        pd.Series(pd.to_datetime(["2027-01-03"] * 4)),
    )
    assert moments.iloc[0] == pd.Timestamp("2027-01-03 09:00")
    assert moments.iloc[1] == pd.Timestamp("2026-12-30 12:00")
    assert moments.iloc[2:].isna().all()


def test_the_odds_of_a_moment_are_the_latest_snapshot_published_by_then() -> None:
    nvd_o1 = o1_rows(DAY, ["0900", "1420", "1435", "1440"], odds=[5.0, 4.0, 3.0, 2.0])
    race_id = "202612034407"
    at = race_odds_at(nvd_o1, race_id, datetime(2026, 12, 3, 14, 35))
    assert list(at["snapshot_at"].unique()) == ["12031435"]
    assert at["win_odds"].iloc[0] == 3.0
    assert race_odds_at(nvd_o1, race_id, datetime(2026, 12, 3, 8, 59)).empty
    known = odds_known_by(
        raw_with_odds(nvd_o1), pd.Series({race_id: pd.Timestamp("2026-12-03 14:20")})
    )
    assert set(published_at(known.nvd_o1)) == {
        pd.Timestamp("2026-12-03 09:00"),
        pd.Timestamp("2026-12-03 14:20"),
    }


@settings(max_examples=200, deadline=None)
@given(
    stamps=st.lists(st.text(max_size=10), min_size=1, max_size=6),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_no_snapshot_is_ever_seen_before_it_is_published(stamps: list[str], minute: int) -> None:
    nvd_o1 = o1_rows(DAY, ["0900"] * len(stamps), odds=[3.0] * len(stamps))
    nvd_o1["happyo_tsukihi_jifun"] = stamps
    moment = datetime.combine(DAY, datetime.min.time()) + timedelta(minutes=minute)
    at = race_odds_at(nvd_o1, "202612034407", moment)
    seen = stamp_moments(at["snapshot_at"], pd.Series(pd.Timestamp(DAY), index=at.index))
    assert (seen.notna() & (seen <= pd.Timestamp(moment))).all()


def _candidates(n_races: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows = []
    for race in range(n_races):
        for umaban, (p, odds) in enumerate([(0.5, 3.0), (0.3, 4.0), (0.2, 6.0)], start=1):
            rows.append((f"2026120344{race + 1:02d}", umaban, p, odds))
    frame = pd.DataFrame(rows, columns=["race_id", "umaban", "p_final", "win_odds"])
    predictions = frame.assign(race_date=pd.Timestamp(DAY), model_version="m")
    odds = frame[["race_id", "umaban", "win_odds"]].assign(snapshot_at="12031025")
    pools = pd.DataFrame({"race_id": frame["race_id"].unique(), "win_pool_yen": 1e9})
    return predictions, odds, pools


def test_a_race_takes_no_more_than_is_left_of_the_day() -> None:
    policy = StakingPolicy(max_bet_fraction=0.05, max_race_fraction=0.05, max_day_fraction=0.08)
    predictions, odds, pools = _candidates(1)
    fresh = day_limits(1_000_000, pd.Series(dtype="float64"), 0, 0)
    first = size_race(
        policy, predictions, odds, pools, fresh, stake_scale=1.0, decided_at=datetime(2026, 12, 3)
    )
    assert 49_000 <= first.bets["stake_yen"].sum() <= 50_000  # the race cap, whole tickets
    late = day_limits(1_000_000, pd.Series(dtype="float64"), 0, 50_000)
    second = size_race(
        policy, predictions, odds, pools, late, stake_scale=1.0, decided_at=datetime(2026, 12, 3)
    )
    assert 0 < second.bets["stake_yen"].sum() <= 30_000  # what the day cap leaves
    spent = day_limits(1_000_000, pd.Series(dtype="float64"), 0, 80_000)
    none = size_race(
        policy, predictions, odds, pools, spent, stake_scale=1.0, decided_at=datetime(2026, 12, 3)
    )
    assert none.bets.empty
    assert set(first.bets["policy_params"]) == {policy.to_json()}  # the day's policy, recorded
    assert (first.bets["odds_at"] == pd.Timestamp("2026-12-03 10:25")).all()


def test_settled_losses_today_brake_the_day() -> None:
    policy = StakingPolicy(drawdown_soft=0.01, drawdown_brake=0.02)
    predictions, odds, pools = _candidates(1)
    lost = day_limits(1_000_000, pd.Series(dtype="float64"), -20_000, 20_000)
    assert np.isclose(lost.drawdown, 0.02)
    braked = size_race(
        policy, predictions, odds, pools, lost, stake_scale=1.0, decided_at=datetime(2026, 12, 3)
    )
    assert braked.bets.empty
    open_only = day_limits(1_000_000, pd.Series(dtype="float64"), 0, 20_000)
    assert open_only.drawdown == 0.0  # open stakes are not losses yet


def test_the_race_card_schedules_each_race_at_its_moment_once_per_post_time() -> None:
    """Keyed by the race and its post: a second card schedules nothing twice, a post moved
    (発走時刻変更) is scheduled once at its new moment; the run is told the post it is for."""
    from flows.live import RACE_DEPLOYMENT, race_run_requests

    slots = timetable(races(["1030", "2050"]), 5, 2).slots
    requests = race_run_requests(list(slots))
    assert [r["flow_run_name"] for r in requests] == [s.run_name for s in slots]
    assert requests[0]["scheduled_time"] == datetime(2026, 12, 3, 1, 25, tzinfo=UTC)  # 10:25 JST
    assert requests[1]["parameters"] == {
        "race_id": slots[1].race_id,
        "race_date": "2026-12-03",
        "post_at": "2026-12-03T20:50:00",
    }
    assert (
        requests[1]["idempotency_key"] == f"{RACE_DEPLOYMENT}|{slots[1].race_id}|2026-12-03T20:50"
    )
    moved = timetable(races(["1030", "2055"]), 5, 2).slots
    assert race_run_requests(list(moved))[0] == requests[0]
    assert race_run_requests(list(moved))[1]["idempotency_key"].endswith("|2026-12-03T20:55")


def test_a_served_race_moved_with_its_new_moment_ahead_is_left_to_a_run_then() -> None:
    """Scheduled for 07:23 (its moment 07:18): moved to 07:29, left to a run at 07:24 until
    then; decided at once when that moment has passed, when the post did not move (a run
    started a little early at its own moment), or when it moved earlier past its moment."""
    (scheduled,) = timetable(races(["0723"]), 5, 2).slots
    (later,) = timetable(races(["0729"]), 5, 2).slots
    (earlier,) = timetable(races(["0721"]), 5, 2).slots
    assert moved_ahead(scheduled, later, datetime(2026, 12, 3, 7, 18))
    assert not moved_ahead(scheduled, later, datetime(2026, 12, 3, 7, 24))
    assert not moved_ahead(later, later, datetime(2026, 12, 3, 7, 23, 50))
    assert not moved_ahead(scheduled, earlier, datetime(2026, 12, 3, 7, 18))


def test_the_latest_snapshot_is_the_latest_published_across_new_year() -> None:
    """A January 1st race's odds: the 12/31 day-before snapshot is the earliest, though its
    stamp sorts last as text; the morning's 09:00 snapshot is the latest."""
    new_year = date(2027, 1, 1)
    nvd_o1 = o1_rows(new_year, ["0900"], odds=[3.0])
    day_before = o1_rows(new_year, ["1700"], odds=[8.0]).assign(happyo_tsukihi_jifun="12311700")
    both = pd.concat([day_before, nvd_o1], ignore_index=True)
    at = race_odds_at(both, "202701014407", datetime(2027, 1, 1, 11, 0))
    assert at["win_odds"].iloc[0] == 3.0 and set(at["snapshot_at"]) == {"01010900"}


def test_snapshots_of_the_close_withdrawn_or_of_a_cancelled_race_are_never_seen() -> None:
    """データ区分 3/4/5 (the close's odds, stamped at a post time that later moved), 0 (withdrawn)
    and 9 (cancelled) are not what a decision sees; 1 (intermediate) and 2 are."""
    race_id, moment = "202612034407", datetime(2026, 12, 3, 14, 40)
    for kind, seen in [("1", True), ("2", True), ("3", False), ("4", False), ("5", False),
                       ("0", False), ("9", False)]:  # fmt: skip
        nvd_o1 = o1_rows(DAY, ["1430"], odds=[3.0]).assign(data_kubun=kind)
        assert race_odds_at(nvd_o1, race_id, moment).empty is not seen, kind


def test_a_race_time_snapshot_is_checked_as_the_mornings_are() -> None:
    """The card's odds checks on one race's snapshot at race time: a horse priced twice (a slot
    misread), a horse of the card unpriced, a favourite at 999.0: each named; a sound one
    passes."""
    from data_checks.validate import race_odds_failures

    runners = pd.DataFrame(
        {"race_id": "202612034407", "umaban": pd.array([1, 2, 3], dtype="Int64"),
         "race_date": pd.Timestamp(DAY), "abnormal_code": pd.array([0, 0, 1], dtype="Int64")}
    )  # fmt: skip

    def snapshot(umaban: list[int], odds: list[float], popularity: list[int]) -> pd.DataFrame:
        return pd.DataFrame(
            {"race_id": "202612034407", "umaban": pd.array(umaban, dtype="Int64"),
             "snapshot_at": "12031430", "win_odds": odds,
             "popularity": pd.array(popularity, dtype="Int64")}
        )  # fmt: skip

    assert race_odds_failures(snapshot([1, 2], [1.6, 2.6], [1, 2]), runners) == []
    assert "snapshot_horse_priced_once" in race_odds_failures(
        snapshot([1, 2, 2], [1.6, 2.6, 2.6], [1, 2, 2]), runners
    )
    assert race_odds_failures(snapshot([1], [1.2], [1]), runners) == [
        "overround_plausible", "runner_has_snapshot_odds"
    ]  # fmt: skip
    assert "odds_follow_popularity" in race_odds_failures(
        snapshot([1, 2], [999.0, 2.6], [1, 2]), runners
    )


def test_a_race_time_backtest_records_each_ticket_at_its_races_decision() -> None:
    """A past day staked on each race's odds 5 minutes before its post (``backfill --odds-at
    lead``) records each bet decided then, never before the odds it was sized on; on the
    morning's odds, at the morning moment."""
    from config import load_settings
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.timeline import post_moments
    from tasks.stake import size_stakes
    from tests.staking_support import decode_days

    simulated = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=12))
    no_earlier_days = pd.Series(dtype="float64")
    for odds_at in ("morning", "lead"):
        settings = load_settings()
        settings = settings.model_copy(
            update={"live": settings.live.model_copy(update={"odds_at": odds_at})}
        )
        days = decode_days(simulated, settings.live.card_timing())
        card = days.cards[DAY]
        bets = size_stakes(
            settings, settings.kelly.policy(), days.predictions, card, no_earlier_days
        ).bets
        assert len(bets) > 0 and (bets["odds_source"] == "snapshot").all()
        assert (bets["odds_at"] <= bets["decided_at"]).all()
        if odds_at == "lead":
            post = bets["race_id"].map(post_moments(card.races))
            assert (bets["decided_at"] == post - timedelta(minutes=5)).all()
        else:
            assert (bets["decided_at"] == pd.Timestamp(f"{DAY} 09:00")).all()


def test_a_horse_the_snapshot_says_is_not_sold_is_withdrawn_not_missing() -> None:
    """A late 取消 shows in the race's latest snapshot as ``0000`` (or JV-Data's ``----`` /
    ``****``): the horse is withdrawn (the rest of the race checked and priced without it),
    where a horse simply absent from the snapshot stays a fault (``runner_has_snapshot_odds``:
    the others' shares would be inflated). The slots after a ``----`` one are read as written."""
    from data_checks.validate import race_odds_failures
    from raceday.sources.timeline import race_market_at

    runners = pd.DataFrame(
        {"race_id": "202612034407", "umaban": pd.array([1, 2, 3, 4], dtype="Int64"),
         "race_date": pd.Timestamp(DAY), "abnormal_code": pd.array([0, 0, 0, 0], dtype="Int64")}
    )  # fmt: skip
    morning = "01001601020026020300510304009904"  # every horse priced at 09:00
    for unsold in ("00000000", "--------", "****----", "----**"):
        late = f"0100150102{unsold[:4]}{unsold[4:6] or '00'}0300290204005903"  # re-priced
        nvd_o1 = o1_rows(DAY, ["0900", "1430"], odds=[3.0, 3.0]).assign(odds_tansho=[morning, late])
        market = race_market_at(nvd_o1, "202612034407", datetime(2026, 12, 3, 14, 35))
        assert market.unsold == (2,), unsold
        assert market.priced["umaban"].tolist() == [1, 3, 4]
        assert market.priced["win_odds"].tolist() == [1.5, 2.9, 5.9]
        assert race_odds_failures(market.priced, runners, market.unsold) == []
    absent = o1_rows(DAY, ["1430"], odds=[3.0]).assign(odds_tansho="010015010300290204005903")
    market = race_market_at(absent, "202612034407", datetime(2026, 12, 3, 14, 35))
    assert market.unsold == ()
    assert race_odds_failures(market.priced, runners, market.unsold) == ["runner_has_snapshot_odds"]


def test_a_race_read_again_for_its_odds_takes_its_turn_between_the_others() -> None:
    """The next race to try: each at its own moment, one waiting for its odds at the moment
    they are read again; at the same moment a first try before a reading again."""
    from raceday.racetime import next_attempt

    slots = list(timetable(races(["1115", "1115", "1116", "1117"]), 5, 2).slots)
    first, second, third, fourth = slots
    assert next_attempt(slots, {}) == (first, first.decide_at)
    again = {first.race_id: datetime(2026, 12, 3, 11, 10, 20)}
    assert next_attempt(slots, again) == (second, second.decide_at)
    assert next_attempt([first, third, fourth], again) == (first, again[first.race_id])
    tie = {first.race_id: third.decide_at}
    assert next_attempt([first, third, fourth], tie) == (third, third.decide_at)
    assert next_attempt([], {}) is None


def test_a_night_card_past_midnight_posts_its_last_race_the_next_day() -> None:
    """NAR night racing: a card racing from 18:00 whose last race posts at 00:10 posts it on the
    next calendar day (it was read as 00:10 of the race day, missed at 09:00); a card racing by
    day keeps an early time on its day, as does a race alone on its card."""
    from raceday.sources.timeline import CardTiming, decision_moments, post_moments

    card = pd.DataFrame(
        {
            "race_id": ["202612034401", "202612034402", "202612034403", "202612034501",
                        "202612034502", "202612034601"],
            "race_date": pd.Timestamp(DAY),
            "keibajo_code": ["44", "44", "44", "45", "45", "46"],
            "race_bango": [1, 2, 3, 1, 2, 1],
            "post_time": ["1800", "2330", "0010", "1030", "0130", "0010"],
        }
    )  # fmt: skip
    posts = post_moments(card)
    assert posts["202612034403"] == pd.Timestamp("2026-12-04 00:10")
    assert posts["202612034402"] == pd.Timestamp("2026-12-03 23:30")
    assert posts["202612034502"] == pd.Timestamp("2026-12-03 01:30")  # 9 h before 10:30
    assert posts["202612034601"] == pd.Timestamp("2026-12-03 00:10")
    slots = timetable(card, 5, 2).slots
    last = slots[-1]
    assert last.race_id == "202612034403" and last.decide_at == datetime(2026, 12, 4, 0, 5)
    assert not last.missed(datetime(2026, 12, 3, 9, 0))
    lead = decision_moments(card, CardTiming(odds_at="lead"))
    assert lead["202612034403"] == pd.Timestamp("2026-12-04 00:05")
