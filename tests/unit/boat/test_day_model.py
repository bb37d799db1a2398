"""Boat features (point in time), the model (six probabilities per race summing to 1, the lane
prior) and settlement (refunds F/L/K, dead heats, 特払い, 不成立, cancelled races)."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from raceday.boat.course import course_features
from raceday.boat.features import NATIONAL_LANE_WIN_SHARES, card_features, lane_prior
from raceday.boat.history import day_boats, results_history, training_rows
from raceday.boat.model import (
    FALLBACK_VERSION,
    fit_boat_model,
    market_probabilities,
    predict_boats,
    priced_boats,
)
from raceday.boat.settle import settle_boat_bets
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days

MORNING = time(9, 0)


def card(day: str, venue: str = "01", racers: tuple[str, ...] = ("1001",) * 6) -> pd.DataFrame:
    race_id = f"{day.replace('-', '')}{venue}01"
    return pd.DataFrame(
        {
            "race_id": race_id,
            "race_date": pd.Timestamp(day),
            "venue_code": venue,
            "boat": pd.array(range(1, 7), dtype="Int64"),
            "racer_id": list(racers),
            "racer_class": ["A1", "A2", "B1", "B1", "B2", "B1"],
            "national_win_rate": [7.0, 6.0, 5.0, 5.0, 3.0, 4.0],
            "local_win_rate": [7.0, 0.0, 5.0, 5.0, 3.0, 4.0],
            "motor_top2_pct": [40.0, 30.0, 35.0, np.nan, 30.0, 30.0],
            "boat_top2_pct": [30.0] * 6,
        }
    )


def history_row(day: str, racer: str, st: float, boat: int = 1, won: float = 1.0) -> dict:
    return {"race_id": f"{day.replace('-', '')}0101", "race_date": pd.Timestamp(day),
            "venue_code": "01", "racer_id": racer, "boat": boat, "won": won,
            "start_timing_s": st, "exhibition_s": 6.7}  # fmt: skip


def test_a_days_features_use_only_earlier_days() -> None:
    """The ST index of a racer on a day rests on the days before it: that day's own start and
    later days change nothing; with no earlier day every boat is neutral (0)."""
    history = pd.DataFrame(
        [history_row("2026-04-01", "1001", 0.10), history_row("2026-04-02", "1001", 0.20),
         history_row("2026-04-03", "1001", 0.90), history_row("2026-04-05", "1001", 0.90)]
    )  # fmt: skip
    racers = ("1001", "2002", "2002", "2002", "2002", "2002")

    def features_on(day: str, known: pd.DataFrame) -> pd.DataFrame:
        today = card(day, racers=racers)
        return card_features(today, known, course_features(today, known))

    features = features_on("2026-04-03", history)
    earlier = history[history["race_date"] < pd.Timestamp("2026-04-03")]
    pd.testing.assert_frame_equal(features, features_on("2026-04-03", earlier))
    # 04-02's start, 0.10 s behind the venue's standard of 04-01, shrunk over 1 + 5 starts.
    assert features.loc[0, "st_index"] == pytest.approx(0.10 / 6)
    assert (features_on("2026-04-01", history)["st_index"] == 0).all()


def test_a_result_is_credited_to_the_racer_the_k_file_names() -> None:
    """A racer changed on the day (選手変更): the K file names who raced, so that racer's history
    gets the win, the start and the course; a K line whose racer does not read as a 4-digit
    registration number (blank, cut) keeps the program's racer."""
    program = card("2026-04-02", racers=("1001", "1002", "1003", "1004", "1005", "1006"))
    results = pd.DataFrame(
        {
            "race_id": program["race_id"],
            "boat": program["boat"],
            "racer_id": pd.array(["4321", "1002", None, "", "12", "1006"], dtype="string"),
            "race_date": program["race_date"],
            "finish_code": pd.array(["01", "02", "03", "04", "05", "06"], dtype="string"),
            "position": pd.array(range(1, 7), dtype="Int64"),
            "start_timing_s": [0.11, 0.12, 0.13, 0.14, 0.15, 0.16],
            "exhibition_s": [6.7] * 6,
            "course": pd.array(range(1, 7), dtype="Int64"),
        }
    )
    history = results_history(program, results)
    assert history["racer_id"].tolist() == ["4321", "1002", "1003", "1004", "1005", "1006"]
    assert history.loc[history["racer_id"] == "4321", "won"].tolist() == [1.0]


def test_lane_prior_learns_the_venue_and_sums_to_1() -> None:
    """With no history the prior is the national lane shares; a venue whose lane 1 always wins
    moves lane 1 up; every race's prior sums to 1."""
    empty = pd.DataFrame([history_row("2026-04-01", "1001", 0.1)]).iloc[0:0]
    today = card("2026-05-01")
    national = lane_prior(empty, today)
    expected = np.array(list(NATIONAL_LANE_WIN_SHARES.values()))
    np.testing.assert_allclose(national.to_numpy(), expected / expected.sum())
    wins = pd.DataFrame(
        [history_row(f"2026-04-{d:02d}", "1001", 0.1, boat=b, won=float(b == 1))
         for d in range(1, 29) for b in range(1, 7) for _ in range(10)]
    )  # fmt: skip
    learned = lane_prior(wins, today)
    assert learned.iloc[0] > national.iloc[0]
    assert learned.sum() == pytest.approx(1.0)


def test_market_probabilities_need_every_boat_priced() -> None:
    race = pd.Series(["r1"] * 3 + ["r2"] * 2)
    p = market_probabilities(race, pd.Series([2.0, 4.0, 4.0, 1.5, None]))
    assert p.iloc[:3].tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert p.iloc[3:].isna().all()


def test_a_withdrawn_boat_without_odds_is_not_predicted() -> None:
    today = card("2026-04-03")
    published = pd.Timestamp("2026-04-03 08:00")
    odds = pd.DataFrame({"race_id": today["race_id"][:5], "boat": today["boat"][:5],
                         "win_odds": 5.0, "published_at": published})  # fmt: skip
    assert priced_boats(today, odds)["boat"].tolist() == [1, 2, 3, 4, 5]
    assert len(priced_boats(today, odds.iloc[0:0])) == 6  # no odds at all: every boat


@pytest.fixture(scope="module")
def simulated() -> dict[str, pd.DataFrame]:
    days = simulate_boat_days(date(2026, 4, 1), date(2026, 4, 12), BoatSimulatorConfig(
        venues_per_day=4, seed=7))  # fmt: skip
    entries = days.entries.assign(
        race_date=pd.to_datetime(days.entries["race_id"].str[:8], format="%Y%m%d")
    )
    results = days.results.assign(
        race_date=pd.to_datetime(days.results["race_id"].str[:8], format="%Y%m%d")
    )
    return {"entries": entries, "results": results, "odds": days.odds}


def _split(frames: dict[str, pd.DataFrame], day: str) -> tuple[dict, dict]:
    cut = pd.Timestamp(day)
    before = {name: frame[pd.to_datetime(frame["race_id"].str[:8]) < cut]
              for name, frame in frames.items()}  # fmt: skip
    today = {name: frame[pd.to_datetime(frame["race_id"].str[:8]) == cut]
             for name, frame in frames.items()}  # fmt: skip
    return before, today


def test_the_model_gives_six_probabilities_per_race_summing_to_1(simulated) -> None:  # type: ignore[no-untyped-def]
    """Fitted on earlier days it beats the uniform six; each race's p_final sums to 1 over its
    (six, fewer only for a withdrawn boat) predicted boats."""
    before, today = _split(simulated, "2026-04-12")
    model = fit_boat_model(training_rows(before["entries"], before["results"], before["odds"],
                                         MORNING), date(2026, 4, 11))  # fmt: skip
    assert model.coefficients is not None and model.market_blend is not None
    history = results_history(before["entries"], before["results"])
    boats = day_boats(today["entries"], today["odds"], history, MORNING)
    predicted = predict_boats(model, boats)
    per_race = predicted.groupby("race_id")["p_final"].agg(["sum", "size"])
    np.testing.assert_allclose(per_race["sum"], 1.0, atol=1e-12)
    assert (per_race["size"] == 6).mean() > 0.9 and per_race["size"].between(5, 6).all()
    assert predicted["p_final"].between(0, 1, inclusive="neither").all()
    assert predicted["odds_at"].max() <= pd.Timestamp("2026-04-12 09:00")


def test_without_history_the_market_or_the_prior_prices(simulated) -> None:  # type: ignore[no-untyped-def]
    before, today = _split(simulated, "2026-04-01")
    model = fit_boat_model(training_rows(before["entries"], before["results"], before["odds"],
                                         MORNING), date(2026, 3, 31))  # fmt: skip
    assert model.version == FALLBACK_VERSION
    no_odds = today["odds"].iloc[0:0]
    boats = day_boats(today["entries"], no_odds, results_history(before["entries"],
                      before["results"]), MORNING)  # fmt: skip
    predicted = predict_boats(model, boats)
    np.testing.assert_allclose(predicted["p_final"], predicted["p_prior"])
    sums = predicted.groupby("race_id")["p_final"].sum()
    np.testing.assert_allclose(sums, 1.0)


# --- settlement -----------------------------------------------------------------------------


def bets(*boats: tuple[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"race_id": [race for race, _ in boats],
                         "boat": pd.array([boat for _, boat in boats], dtype="Int64"),
                         "stake_yen": 300})  # fmt: skip


def races(**status: str) -> pd.DataFrame:
    return pd.DataFrame({"race_id": list(status), "status": list(status.values())})


def results(race: str, codes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"race_id": race, "boat": pd.array(range(1, 7), dtype="Int64"),
                         "finish_code": codes})  # fmt: skip


def payouts(*lines: tuple[str, str | None, int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"race_id": race, "bet_type": "win", "combination": combination,
          "payout_yen": yen, "kind": kind} for race, combination, yen, kind in lines]
    )  # fmt: skip


def test_settlement_pays_the_winner_and_refunds_flying_late_and_withdrawn_boats() -> None:
    settled = settle_boat_bets(
        bets(("r", 1), ("r", 2), ("r", 3), ("r", 4), ("r", 5)),
        races(r="run"),
        results("r", ["01", "02", "F", "L0", "K1", "S1"]),
        payouts(("r", "1", 230, "paid")),
    )
    assert settled["outcome"].tolist() == ["won", "lost", "refunded", "refunded", "refunded"]
    assert settled["payout_yen"].tolist() == [690, 0, 0, 0, 0]
    assert settled["refund_yen"].tolist() == [0, 0, 300, 300, 300]
    assert settled["pnl_yen"].tolist() == [390, -300, 0, 0, 0]


def test_a_dead_heat_pays_each_winner_its_own_line() -> None:
    settled = settle_boat_bets(
        bets(("r", 1), ("r", 3), ("r", 2)), races(r="run"),
        results("r", ["01", "03", "01", "04", "05", "06"]),
        payouts(("r", "1", 150, "paid"), ("r", "3", 420, "paid")),
    )  # fmt: skip
    assert settled["payout_yen"].tolist() == [450, 1260, 0]


def test_special_payout_void_bet_type_and_cancelled_race() -> None:
    """特払い pays its fixed amount on every ticket; 不成立 and a cancelled race refund; a race
    without its result stays open; a race set aside by validation is refunded."""
    settled = settle_boat_bets(
        bets(("sp", 4), ("vo", 2), ("ca", 1), ("open", 1), ("aside", 1)),
        races(sp="run", vo="run", ca="cancelled", aside="run"),
        pd.concat(
            [
                results("sp", ["01", "02", "03", "04", "05", "06"]),
                results("vo", ["F", "F", "F", "F", "F", "01"]),
            ]
        ),
        payouts(("sp", None, 70, "special"), ("vo", None, 0, "void")),
        set_aside=frozenset({"aside"}),
    )
    assert settled["outcome"].tolist()[:3] == ["special", "refunded", "cancelled"]
    assert settled["payout_yen"].tolist()[0] == 210
    assert settled["refund_yen"].tolist()[1:3] == [300, 300]
    assert not settled["settled"].iloc[3] and pd.isna(settled["pnl_yen"].iloc[3])
    assert settled["outcome"].iloc[4] == "set aside" and settled["pnl_yen"].iloc[4] == 0
    ledger = settled[settled["settled"]]
    assert (ledger["payout_yen"] + ledger["refund_yen"] - ledger["stake_yen"]).tolist() == (
        ledger["pnl_yen"].tolist()
    )


def test_the_decision_sees_the_latest_odds_published_by_its_moment_never_later() -> None:
    from raceday.boat.history import morning_moments
    from raceday.boat.source import odds_known_by

    snapshots = pd.DataFrame(
        {"race_id": "202604030101", "boat": 1, "snapshot": ["morning", "T-60", "T-30"],
         "published_at": pd.to_datetime(["2026-04-03 08:00", "2026-04-03 08:59",
                                         "2026-04-03 09:01"]),
         "win_odds": [3.0, 2.5, 1.9]}
    )  # fmt: skip
    moments = morning_moments(snapshots["race_id"], MORNING)
    known = odds_known_by(snapshots, moments)
    assert known["snapshot"].tolist() == ["T-60"] and known["win_odds"].tolist() == [2.5]


def test_a_boat_without_odds_is_out_of_the_market_and_its_race_is_still_bet() -> None:
    """Boat 6 withdrawn (no odds): the five others priced over themselves and bettable; a race
    with one boat priced, or whose priced boats' book is under 1 (a seller missing), is not
    priced and not bet (it was: a race with any boat lacking odds unpriced, so never bet)."""
    from raceday.boat.stake import size_boat_day
    from raceday.staking.kelly import StakingPolicy

    race = pd.Series(["r1"] * 6 + ["r2"] * 2 + ["r3"] * 3)
    odds = pd.Series([2.0, 4.0, 8.0, 8.0, 16.0, None, 1.5, None, 3.0, 3.0, None])
    p = market_probabilities(race, odds)
    book = 1 / 2 + 1 / 4 + 2 / 8 + 1 / 16
    assert p.iloc[:5].tolist() == pytest.approx([0.5 / book, 0.25 / book, 0.125 / book,
                                                 0.125 / book, 0.0625 / book])  # fmt: skip
    assert p.iloc[5:].isna().all()  # boat 6 out; r2 one boat; r3 book 2/3
    today = card("2026-04-03")
    published = pd.Timestamp("2026-04-03 08:00")
    known = pd.DataFrame({"race_id": today["race_id"][:5], "boat": today["boat"][:5],
                          "win_odds": [2.0, 4.0, 8.0, 8.0, 16.0],
                          "published_at": published})  # fmt: skip
    boats = day_boats(today, known, results_history(today.iloc[0:0], _no_results()), MORNING)
    model = fit_boat_model(boats.iloc[0:0].assign(won=[]), date(2026, 4, 2))
    predicted = predict_boats(model, boats)
    assert predicted["p_market"].notna().all() and len(predicted) == 5
    # the market's own probabilities against longer odds: every boat but the first has an edge
    generous = predicted.assign(win_odds=predicted["win_odds"] * 1.6)

    def sized(predictions: pd.DataFrame) -> pd.DataFrame:
        return size_boat_day(StakingPolicy(), predictions, pd.Series(dtype="int64"),
                             committed_yen=0, initial_bankroll_yen=1_000_000, stake_scale=1.0,
                             decided_at=None).bets  # fmt: skip

    assert len(sized(generous)) > 0
    assert sized(generous.assign(p_market=np.nan)).empty


def _no_results() -> pd.DataFrame:
    return pd.DataFrame({"race_id": pd.Series(dtype="string"), "boat": pd.Series(dtype="Int64"),
                         "racer_id": pd.Series(dtype="string"), "race_date": pd.Series(
                             dtype="datetime64[ns]"), "finish_code": pd.Series(dtype="string"),
                         "position": pd.Series(dtype="Int64"), "start_timing_s": [],
                         "exhibition_s": [], "course": []})  # fmt: skip
