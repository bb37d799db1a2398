"""The performance record: race scores add up to the metrics, per day, per venue and rolling."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.model.metrics import pseudo_r2, top_pick_rates, winner_log_loss
from raceday.monitoring.performance import (
    ALL_SCOPE,
    bankroll_curve,
    daily_performance,
    day_record,
    days_record,
    race_scores,
    races_cancelled_by_venue,
    races_set_aside,
    records_cancelled,
    rolling_performance,
    rolling_performances,
    summarise_scores,
)

DAY = date(2026, 11, 20)


def race_id(day: date, venue: str, race: int) -> str:
    return f"{day:%Y%m%d}{venue}{race:02d}"


def make_day(
    day: date, venues: dict[str, int], p_shift: float = 0.0, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions and results for ``venues`` (code -> races), 6 runners a race."""
    rng = np.random.default_rng(seed)
    predictions, runners = [], []
    for venue, n_races in venues.items():
        for race in range(1, n_races + 1):
            rid = race_id(day, venue, race)
            market = rng.dirichlet(np.ones(6))
            final = np.clip(market + p_shift * rng.normal(size=6), 0.01, None)
            final = final / final.sum()
            order = rng.permutation(6) + 1
            for umaban in range(1, 7):
                predictions.append(
                    {
                        "model_version": "m",
                        "race_id": rid,
                        "umaban": umaban,
                        "race_date": pd.Timestamp(day),
                        "p_market": market[umaban - 1],
                        "p_final": final[umaban - 1],
                    }
                )
                runners.append({"race_id": rid, "umaban": umaban, "finish_pos": order[umaban - 1]})
    return pd.DataFrame(predictions), pd.DataFrame(runners).astype({"finish_pos": "Int64"})


NO_BETS = pd.DataFrame(columns=["race_id", "stake_yen", "payout_yen", "refund_yen"])


def joined(predictions: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    return predictions.merge(runners, on=["race_id", "umaban"])


def test_race_scores_add_up_to_the_metrics() -> None:
    """Summed race scores give metrics.py's log loss, pseudo-R² and top-pick rates."""
    predictions, runners = make_day(DAY, {"44": 8, "45": 5}, p_shift=0.05)
    summary = summarise_scores(race_scores(predictions, runners, NO_BETS))
    frame = joined(predictions, runners)
    assert summary["log_loss"] == pytest.approx(winner_log_loss(frame, "p_final"))
    assert summary["market_log_loss"] == pytest.approx(winner_log_loss(frame, "p_market"))
    assert summary["pseudo_r2"] == pytest.approx(pseudo_r2(frame, "p_final"))
    hit, top3 = top_pick_rates(frame, "p_final")
    assert summary["hit_rate"] == pytest.approx(hit)
    assert summary["top3_rate"] == pytest.approx(top3)
    assert summary["races"] == summary["scored_races"] == 13


def test_dead_heat_counts_each_winner_and_a_void_race_is_not_scored() -> None:
    """Two winners both count in the log loss; a race without a winner is left out."""
    predictions, runners = make_day(DAY, {"44": 3})
    runners.loc[
        (runners["race_id"] == race_id(DAY, "44", 1)) & runners["finish_pos"].eq(2), "finish_pos"
    ] = 1
    runners.loc[runners["race_id"] == race_id(DAY, "44", 3), "finish_pos"] = pd.NA
    scores = race_scores(predictions, runners, NO_BETS).set_index("race_id")
    assert scores.loc[race_id(DAY, "44", 1), "winners"] == 2
    assert scores.loc[race_id(DAY, "44", 3), "winners"] == 0
    summary = summarise_scores(scores.reset_index())
    assert summary["scored_races"] == 2
    assert summary["log_loss"] == pytest.approx(
        winner_log_loss(joined(predictions, runners), "p_final")
    )


def test_the_expected_hit_rate_is_the_top_picks_mean_probability_over_scored_races() -> None:
    """What the top picks' own probabilities expect: their mean over the races with a winner
    (the hit rate's races); a void race adds neither to it nor to the hit rate."""
    predictions, runners = make_day(DAY, {"44": 4, "45": 3}, p_shift=0.05)
    void = race_id(DAY, "45", 2)
    runners.loc[runners["race_id"] == void, "finish_pos"] = pd.NA
    summary = summarise_scores(race_scores(predictions, runners, NO_BETS))
    top_p = predictions.groupby("race_id")["p_final"].max().drop(void)
    assert summary["scored_races"] == 6
    assert summary["expected_hit_rate"] == pytest.approx(top_p.mean())


def test_a_top_pick_that_did_not_finish_is_a_miss() -> None:
    """The most probable runner scratched late (no finish position) counts as not winning."""
    predictions, runners = make_day(DAY, {"44": 1})
    top = predictions.sort_values("p_final").iloc[-1]["umaban"]
    runners.loc[runners["umaban"] == top, "finish_pos"] = pd.NA
    if not runners["finish_pos"].eq(1).any():
        runners.loc[runners["umaban"] == (top % 6) + 1, "finish_pos"] = 1
    summary = summarise_scores(race_scores(predictions, runners, NO_BETS))
    assert summary["hit_rate"] == 0.0 and summary["top3_rate"] == 0.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), races=st.integers(1, 12), shift=st.floats(0, 0.2))
def test_log_loss_of_any_day_matches_metrics(seed: int, races: int, shift: float) -> None:
    """For any day, race scores reproduce metrics.winner_log_loss of p_final and the market."""
    predictions, runners = make_day(DAY, {"44": races}, p_shift=shift, seed=seed)
    summary = summarise_scores(race_scores(predictions, runners, NO_BETS))
    frame = joined(predictions, runners)
    assert summary["log_loss"] == pytest.approx(winner_log_loss(frame, "p_final"))
    assert summary["market_log_loss"] == pytest.approx(winner_log_loss(frame, "p_market"))


def bets_for(predictions: pd.DataFrame, race: str, stake: int, payout: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "race_id": race,
                "umaban": 1,
                "stake_yen": stake,
                "payout_yen": payout,
                "refund_yen": 0,
            }
        ]
    )


def test_daily_performance_has_an_all_row_and_venue_rows_that_add_up() -> None:
    """Venue rows sum to the day's row; a set-aside race counts in the quarantine rate."""
    predictions, runners = make_day(DAY, {"44": 4, "45": 2})
    bets = pd.concat(
        [
            bets_for(predictions, race_id(DAY, "44", 1), 1000, 3500),
            bets_for(predictions, race_id(DAY, "45", 2), 500, 0),
        ]
    )
    scores = race_scores(predictions, runners, bets)
    races = pd.DataFrame({"race_id": scores["race_id"]})
    set_aside = race_id(DAY, "45", 3)
    quarantine = pd.DataFrame(
        {
            "race_id": [set_aside, set_aside, race_id(DAY, "44", 2)],
            "table_name": ["races", "runners", "runners"],
        }
    )
    frame = daily_performance(
        DAY, scores, races, quarantine, bankroll_yen=1_002_000, drawdown=0.0,
        model_version="m", run_seconds=12.5,
    ).set_index("scope")  # fmt: skip
    assert list(frame.index) == [ALL_SCOPE, "44", "45"]
    day = frame.loc[ALL_SCOPE]
    assert day["races"] == 6 and day["bets"] == 2
    assert day["staked_yen"] == 1500 and day["returned_yen"] == 3500
    assert day["roi"] == pytest.approx(3500 / 1500 - 1)
    assert day["races_offered"] == 7 and day["races_quarantined"] == 1
    assert day["quarantine_rate"] == pytest.approx(1 / 7)
    assert frame.loc["45", "quarantine_rate"] == pytest.approx(1 / 3)
    assert frame.loc["44", "races_quarantined"] == 0, "a race that lost one runner still runs"
    assert frame.loc["44", "quarantined"] == 1 and frame.loc["45", "quarantined"] == 2
    for column in ("races", "runners", "bets", "staked_yen", "returned_yen"):
        assert frame.loc[["44", "45"], column].sum() == day[column]
    assert day["run_seconds"] == 12.5 and pd.isna(frame.loc["44", "run_seconds"])
    assert frame.loc["45", "roi"] == -1.0


def test_bankroll_curve_tracks_the_peak_and_the_drawdown() -> None:
    """Drawdown is measured from the running peak, never above the initial bankroll's."""
    pnl = pd.Series(
        [100_000, -220_000, 50_000],
        index=pd.to_datetime(["2026-11-01", "2026-11-02", "2026-11-03"]),
    )
    curve = bankroll_curve(1_000_000, pnl)
    assert curve["peak_yen"].tolist() == [1_100_000, 1_100_000, 1_100_000]
    assert curve["drawdown"].tolist() == pytest.approx([0.0, 0.2, 170_000 / 1_100_000])


def daily_rows(scores: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for day, group in scores.groupby("race_date"):
        frame = daily_performance(
            pd.Timestamp(day).date(), group, pd.DataFrame({"race_id": group["race_id"]}),
            pd.DataFrame(columns=["race_id"]), bankroll_yen=1_000_000, drawdown=0.0,
            model_version="m",
        )  # fmt: skip
        rows.append(frame[frame["scope"] == ALL_SCOPE])
    return pd.concat(rows, ignore_index=True)


def test_rolling_windows_are_exact_sums_of_their_races() -> None:
    """7d covers the last seven days, 500r exactly the last 500 races, each summed exactly."""
    frames = []
    for offset in range(40):
        day = date.fromordinal(DAY.toordinal() - offset)
        predictions, runners = make_day(day, {"44": 20}, p_shift=0.03, seed=offset)
        frames.append(race_scores(predictions, runners, NO_BETS))
    scores = pd.concat(frames, ignore_index=True)
    rolling = rolling_performance(
        DAY, scores, daily_rows(scores), bankroll_curve(1_000_000, pd.Series(dtype="int64")),
        1_000_000,
    ).set_index("span")  # fmt: skip
    assert rolling.loc["7d", "races"] == 140 and rolling.loc["7d", "days"] == 7
    assert rolling.loc["30d", "races"] == 600
    assert rolling.loc["500r", "races"] == 500
    last_500 = scores.sort_values(["race_date", "race_id"]).tail(500)
    assert rolling.loc["500r", "log_loss"] == pytest.approx(summarise_scores(last_500)["log_loss"])
    assert rolling.loc["500r", "first_date"] == pd.Timestamp(last_500["race_date"].min())
    week = scores[pd.to_datetime(scores["race_date"]) > pd.Timestamp("2026-11-13")]
    assert rolling.loc["7d", "hit_rate"] == pytest.approx(summarise_scores(week)["hit_rate"])


def test_rolling_max_drawdown_includes_the_drawdown_carried_into_the_window() -> None:
    """A drawdown that began before a window and has not recovered is still in it."""
    predictions, runners = make_day(DAY, {"44": 2})
    scores = race_scores(predictions, runners, NO_BETS)
    pnl = pd.Series([-300_000], index=pd.to_datetime(["2026-10-01"]))
    rolling = rolling_performance(
        DAY, scores, daily_rows(scores), bankroll_curve(1_000_000, pnl), 700_000
    ).set_index("span")
    assert rolling.loc["7d", "max_drawdown"] == pytest.approx(0.3)


def several_days() -> dict[str, pd.DataFrame]:
    """Three days' stored rows: a day predicted by the market and a trained version (judged by
    the trained one), a race without a winner, settled bets, a set-aside race, and a day
    whose races were not predicted."""
    days = [DAY + timedelta(days=offset) for offset in range(3)]
    first_predictions, first_runners = make_day(days[0], {"44": 5, "45": 3}, p_shift=0.04, seed=1)
    trained, second_runners = make_day(days[1], {"44": 6}, p_shift=0.06, seed=2)
    market = trained.assign(model_version="market-v1", p_final=trained["p_market"])
    no_winner = race_id(days[1], "44", 2)
    second_runners.loc[second_runners["race_id"] == no_winner, "finish_pos"] = pd.NA
    _, third_runners = make_day(days[2], {"45": 2}, seed=3)
    predictions = pd.concat([first_predictions, market, trained], ignore_index=True)
    runners = pd.concat([first_runners, second_runners, third_runners], ignore_index=True)
    races = pd.DataFrame({"race_id": runners["race_id"].unique()})
    races["race_date"] = pd.to_datetime(races["race_id"].str.slice(0, 8))
    bets = pd.DataFrame(
        {
            "race_id": [
                race_id(days[0], "44", 1),
                race_id(days[0], "45", 2),
                race_id(days[1], "44", 3),
            ],
            "umaban": [1, 2, 3],
            "race_date": [pd.Timestamp(days[0])] * 2 + [pd.Timestamp(days[1])],
            "stake_yen": [1000, 500, 700],
            "payout_yen": [3500, 0, 0],
            "refund_yen": [0, 0, 0],
            "settled": [True, True, False],
        }
    )
    quarantine = pd.DataFrame(
        {
            "race_id": [race_id(days[0], "45", 9), race_id(days[1], "44", 1)],
            "race_date": [pd.Timestamp(days[0]), pd.Timestamp(days[1])],
            "table_name": ["races", "runners"],
        }
    )
    pnl = pd.Series([2000, -700], index=pd.to_datetime(days[:2]))
    return {
        "predictions": predictions, "runners": runners, "races": races, "bets": bets,
        "quarantine": quarantine, "daily_pnl": pnl,
    }  # fmt: skip


def test_the_record_of_several_days_is_each_days_own() -> None:
    """Days recorded together get exactly (to the last bit) the record each gets alone."""
    rows = several_days()
    days = [DAY + timedelta(days=offset) for offset in range(3)]
    together = days_record(days, initial_bankroll_yen=1_000_000, run_seconds=1.5, **rows)
    for day, record in zip(days, together, strict=True):
        stamp = pd.Timestamp(day)
        alone = day_record(
            day,
            initial_bankroll_yen=1_000_000,
            run_seconds=1.5,
            **{
                name: frame[frame["race_date"] == stamp]
                for name, frame in rows.items()
                if name not in ("runners", "daily_pnl")
            },
            runners=rows["runners"],
            daily_pnl=rows["daily_pnl"][rows["daily_pnl"].index <= stamp],
        )
        for part in ("performance", "scores", "calibration", "curve"):
            pd.testing.assert_frame_equal(
                getattr(record, part).reset_index(drop=True),
                getattr(alone, part).reset_index(drop=True),
                check_exact=True,
                check_dtype=False,
            )
        assert (record.bankroll_yen, record.model_version) == (
            alone.bankroll_yen,
            alone.model_version,
        )
    assert together[1].model_version == "m" and together[2].scores.empty
    assert together[2].bankroll_yen == 1_001_300


def test_rolling_windows_of_several_days_are_each_days_own() -> None:
    """Each day's windows, computed for several days at once from rows reaching the last day,
    are exactly those computed from its own rows up to it."""
    frames = []
    for offset in range(12):
        day = date.fromordinal(DAY.toordinal() - offset)
        predictions, runners = make_day(day, {"44": 60}, p_shift=0.03, seed=offset)
        frames.append(race_scores(predictions, runners, NO_BETS))
    scores = pd.concat(frames, ignore_index=True)
    daily = daily_rows(scores)
    pnl = pd.Series(
        [-50_000, 20_000, -90_000], index=pd.to_datetime(["2026-11-12", "2026-11-15", "2026-11-18"])
    )
    curve = bankroll_curve(1_000_000, pnl)
    days = [date.fromordinal(DAY.toordinal() - offset) for offset in (4, 2, 0)]
    together = rolling_performances(days, scores, daily, curve, [1, 2, 3])
    for number, day in enumerate(days):
        end = pd.Timestamp(day)
        alone = rolling_performance(
            day,
            scores[pd.to_datetime(scores["race_date"]) <= end],
            daily[daily["perf_date"] <= end],
            curve[curve.index <= end],
            number + 1,
        )
        pd.testing.assert_frame_equal(
            together[together["perf_date"] == end].reset_index(drop=True), alone, check_exact=True
        )


def test_a_race_carded_in_the_morning_and_set_aside_at_night_counts_as_set_aside() -> None:
    """The night sets aside a race whose card was stored in the morning: it counts in the
    day's races set aside (and its quarantine-rate alert), once among the races offered, as a
    race whose predictions broke a rule does; a copy of a race's row (the copy set aside, the
    race kept) does not."""
    predictions, runners = make_day(DAY, {"44": 3})
    no_bets = pd.DataFrame(columns=["race_id", "umaban", "stake_yen", "payout_yen", "refund_yen"])
    scores = race_scores(predictions, runners, no_bets)
    races = pd.DataFrame({"race_id": scores["race_id"]})
    night, copied, unpredicted = (race_id(DAY, "44", number) for number in (1, 2, 3))
    quarantine = pd.DataFrame(
        {
            "race_id": [night, night, copied, unpredicted],
            "table_name": ["races", "runners", "races", "predictions"],
            "check_name": [
                "race_has_invalid_runner", "non_finisher_flagged", "row_not_repeated",
                "p_final_sums_to_one",
            ],
        }
    )  # fmt: skip
    assert races_set_aside(races, quarantine).tolist() == sorted([night, unpredicted])
    day = (
        daily_performance(
            DAY, scores, races, quarantine, bankroll_yen=1_000_000, drawdown=0.0, model_version="m"
        )
        .set_index("scope")
        .loc[ALL_SCOPE]
    )
    assert day["races_offered"] == 3 and day["races_quarantined"] == 2


def test_a_race_abroad_listed_without_its_whole_field_is_neither_offered_nor_set_aside() -> None:
    """A JRA-VAN database's race abroad lists only its Japanese runners: ``card_lists_the_field``
    sets it aside, as it must (no field to price), but it is what the database always holds,
    not a fault of the feed. It is neither offered nor set aside, so a big international day's
    two races abroad do not trip the quarantine rate, and a weekday with only a race abroad is
    no day whose every race was set aside. A domestic race failing the same check, or a race
    abroad failing another, counts as before."""
    predictions, runners = make_day(DAY, {"05": 2, "G0": 1})
    no_bets = pd.DataFrame(columns=["race_id", "umaban", "stake_yen", "payout_yen", "refund_yen"])
    scores = race_scores(predictions, runners, no_bets)
    races = pd.DataFrame({"race_id": scores["race_id"]})
    partial_abroad, domestic, abroad_other = (
        race_id(DAY, "A6", 8), race_id(DAY, "05", 3), race_id(DAY, "G0", 2)
    )  # fmt: skip
    quarantine = pd.DataFrame(
        {
            "race_id": [partial_abroad, domestic, abroad_other],
            "table_name": ["races", "races", "races"],
            "check_name": ["card_lists_the_field", "card_lists_the_field", "fields_parse"],
        }
    )
    rows = daily_performance(
        DAY, scores, races, quarantine, bankroll_yen=1_000_000, drawdown=0.0, model_version="m"
    ).set_index("scope")
    day = rows.loc[ALL_SCOPE]
    assert (day["races_offered"], day["races_quarantined"]) == (5, 2)  # 3 stored, 2 set aside
    assert "A6" not in rows.index
    only_abroad = daily_performance(
        DAY,
        scores.iloc[0:0],
        races.iloc[0:0],
        quarantine.iloc[[0]],
        bankroll_yen=1_000_000,
        drawdown=0.0,
        model_version="m",
    ).set_index("scope")
    assert only_abroad.loc[ALL_SCOPE, "races_offered"] == 0


def test_a_cancelled_race_is_neither_offered_nor_set_aside() -> None:
    """A race the provider cancelled (データ区分 9: ``race_not_cancelled`` on its records) is not
    bad data: it does not count in the quarantine rate (a typhoon cancelling a venue's races
    paged a quarantine rate), and a day whose every race was cancelled offered none. A race
    set aside for a fault of the feed counts as before."""
    predictions, runners = make_day(DAY, {"44": 2})
    no_bets = pd.DataFrame(columns=["race_id", "umaban", "stake_yen", "payout_yen", "refund_yen"])
    scores = race_scores(predictions, runners, no_bets)
    races = pd.DataFrame({"race_id": scores["race_id"]})
    off, off_too, broken = race_id(DAY, "45", 1), race_id(DAY, "45", 2), race_id(DAY, "44", 9)
    quarantine = pd.DataFrame(
        {
            "race_id": [off, off, off_too, broken],
            "table_name": ["races", "runners", "runners", "races"],
            "check_name": ["race_not_cancelled"] * 3 + ["fields_parse"],
        }
    )
    assert races_set_aside(races, quarantine).tolist() == [broken]
    assert races_cancelled_by_venue(quarantine) == {"45": 2}
    assert records_cancelled(quarantine) == 3  # the provider's records, not faults
    day = daily_performance(
        DAY, scores, races, quarantine, bankroll_yen=1_000_000, drawdown=0.0, model_version="m"
    ).set_index("scope")
    assert (day.loc[ALL_SCOPE, "races_offered"], day.loc[ALL_SCOPE, "races_quarantined"]) == (3, 1)
    assert "45" not in day.index
    only_cancelled = daily_performance(
        DAY,
        scores.iloc[0:0],
        races.iloc[0:0],
        quarantine.iloc[:3],
        bankroll_yen=1_000_000,
        drawdown=0.0,
        model_version="m",
    ).set_index("scope")
    assert only_cancelled.loc[ALL_SCOPE, "races_offered"] == 0
    assert pd.isna(only_cancelled.loc[ALL_SCOPE, "quarantine_rate"])
