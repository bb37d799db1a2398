"""Bets on a race set aside at night are voided, not left open forever (issue 19)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd

from config import Settings, load_settings
from flows.daily import day_outcome
from raceday.codec import race_ids
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay, card_only
from raceday.store.catalogs.bets import read_bets
from raceday.store.catalogs.races import read_races, read_runners
from raceday.store.engine import make_engine, upgrade_schema
from tasks.record import settle
from tasks.stake import stake
from tasks.validate import validate_and_store
from tests.staking_support import noisy_truth_predictions

DAY = date(2026, 5, 1)
FLOW = "void-test"


def test_bets_on_a_race_set_aside_at_night_are_voided(store_url: str, tmp_path: Path) -> None:
    """Morning bets on a race whose results fail validation at night (a 5-digit final odds
    field) are settled as void: stake refunded, 0 P&L, the reason stored; the other races'
    bets settle normally, nothing stays open, and the run reports completed-with-warnings.
    Valid results later settle the voided bets for real (SQLite and PostgreSQL)."""
    raw, settings, bets = _a_day_bet(store_url, tmp_path)
    assert bets["race_id"].nunique() >= 2
    broken_race = str(bets["race_id"].iloc[0])

    se = raw.nvd_se.copy()
    finisher = se.index[(race_ids(se) == broken_race) & (se["kakutei_chakujun"] == "01")][0]
    se.loc[finisher, "tansho_odds"] = "99999"
    night = validate_and_store(settings, replace(raw, nvd_se=se), DAY, DAY, "results")
    assert broken_race not in set(night.races["race_id"])
    settled = settle(settings, DAY)

    stored = _bets(store_url).set_index(["race_id", "umaban"])
    assert stored["settled"].all()  # nothing left open
    void = stored[stored.index.get_level_values("race_id") == broken_race]
    others = stored[stored.index.get_level_values("race_id") != broken_race]
    assert not void.empty and not others.empty
    assert (void["refund_yen"] == void["stake_yen"]).all()
    assert (void["payout_yen"] == 0).all() and (void["pnl_yen"] == 0).all()
    assert void["void_reason"].str.startswith("race set aside at night: ").all()
    assert void["void_reason"].str.contains("fields_parse").all()
    assert others["void_reason"].isna().all()

    counts = {"races_offered": 12, "races_quarantined": 0, "quarantined": 0}
    outcome = day_outcome(raw, counts, settled, alerts=[])
    assert outcome["status"] == "completed-with-warnings"
    assert outcome["voided_bets"] == len(void) and outcome["voided_races"] == 1
    assert any("voided" in warning for warning in outcome["warnings"])

    # The results arrive valid: the race is settled from them, no longer void.
    validate_and_store(settings, raw, DAY, DAY, "results")
    settle(settings, DAY)
    again = _bets(store_url)
    assert again["settled"].all() and again["void_reason"].isna().all()
    assert day_outcome(raw, counts, again, alerts=[])["status"] == "completed"


def _a_day_bet(store_url: str, tmp_path: Path) -> tuple[RawDay, Settings, pd.DataFrame]:
    """A simulated day of 12 races carded and staked in the morning (noisy-truth predictions):
    its tables, the settings and the bets."""
    simulated = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=12))
    settings = load_settings(
        db_url=store_url, var_dir=tmp_path / "var", validation={"data_docs": False}
    )
    upgrade_schema(make_engine(store_url))
    card = validate_and_store(settings, simulated.raw, DAY, DAY, "card")
    predictions = noisy_truth_predictions(card.runners, card.odds, simulated.truth)
    return simulated.raw, settings, stake(settings, predictions, card, DAY)


def _bets(url: str) -> pd.DataFrame:
    with make_engine(url).connect() as connection:
        return read_bets(connection, DAY, DAY)


def test_a_race_cancelled_is_not_bet_and_bets_placed_before_are_refunded(
    store_url: str, tmp_path: Path
) -> None:
    """データ区分 9 (レース中止): a race cancelled before its card is decided gets no bet; one
    cancelled after the bets were placed (its night rows say 9, no result) has them voided
    with the stake refunded and `race_not_cancelled` as the reason."""
    raw, settings, bets = _a_day_bet(store_url, tmp_path)
    after_bets, before_card = str(bets["race_id"].iloc[0]), str(bets["race_id"].iloc[-1])
    assert after_bets != before_card

    ra, se = _cancelled(raw, before_card)
    early = validate_and_store(settings, replace(raw, nvd_ra=ra, nvd_se=se), DAY, DAY, "card")
    assert before_card not in set(early.races["race_id"])
    assert "race_not_cancelled" in set(early.quarantine["check_name"])

    ra, se = _cancelled(raw, after_bets)
    night = validate_and_store(settings, replace(raw, nvd_ra=ra, nvd_se=se), DAY, DAY, "results")
    assert after_bets not in set(night.races["race_id"])
    settle(settings, DAY)
    stored = _bets(store_url)
    void = stored[stored["race_id"] == after_bets]
    assert not void.empty and (void["refund_yen"] == void["stake_yen"]).all()
    assert (void["pnl_yen"] == 0).all()
    assert void["void_reason"].str.contains("race_not_cancelled").all()


def _cancelled(raw: RawDay, race_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``raw``'s race and runner tables with ``race_id`` cancelled (データ区分 9, no result)."""
    ra, se = raw.nvd_ra.copy(), raw.nvd_se.copy()
    ra.loc[race_ids(ra) == race_id, "data_kubun"] = "9"
    rows = race_ids(se) == race_id
    se.loc[rows, "data_kubun"] = "9"
    se.loc[rows, ["kakutei_chakujun", "nyusen_juni", "soha_time"]] = ["00", "00", "0000"]
    return ra, se


def test_a_cancellation_after_settlement_takes_the_results_back_a_broken_rerun_does_not(
    store_url: str, tmp_path: Path
) -> None:
    """A day settled from valid results, then run again: a re-run whose results of a race are
    broken (a 5-digit final odds field) keeps the stored results and the bets as settled (bad
    input loses nothing); a re-run saying the race was cancelled (データ区分 9) takes its stored
    results back and voids its bets, as a first run on those results would."""
    raw, settings, bets = _a_day_bet(store_url, tmp_path)
    validate_and_store(settings, raw, DAY, DAY, "results")
    settle(settings, DAY)
    money = ["race_id", "umaban", "payout_yen", "refund_yen", "pnl_yen", "settled"]
    paid = _bets(store_url)[money]
    assert paid["settled"].all() and paid["pnl_yen"].ne(0).any()
    race = str(bets["race_id"].iloc[0])

    se = raw.nvd_se.copy()
    finisher = se.index[(race_ids(se) == race) & (se["kakutei_chakujun"] == "01")][0]
    se.loc[finisher, "tansho_odds"] = "99999"
    validate_and_store(settings, replace(raw, nvd_se=se), DAY, DAY, "results")
    settle(settings, DAY)
    pd.testing.assert_frame_equal(_bets(store_url)[money], paid)

    ra, se = _cancelled(raw, race)
    validate_and_store(settings, replace(raw, nvd_ra=ra, nvd_se=se), DAY, DAY, "results")
    settle(settings, DAY)
    stored = _bets(store_url)
    void = stored[stored["race_id"] == race]
    assert (void["refund_yen"] == void["stake_yen"]).all() and (void["pnl_yen"] == 0).all()
    assert void["void_reason"].str.contains("race_not_cancelled").all()
    others = stored[stored["race_id"] != race].reset_index(drop=True)
    expected = paid[paid["race_id"] != race].reset_index(drop=True)
    pd.testing.assert_frame_equal(others[money], expected)
    with make_engine(store_url).connect() as connection:
        races = read_races(connection, DAY, DAY).set_index("race_id")
        runners = read_runners(connection, DAY, DAY)
    assert not races.loc[race, "has_results"] and races["has_results"].sum() == len(races) - 1
    taken_back = runners[runners["race_id"] == race]
    assert taken_back[["finish_pos", "finish_time_s", "win_odds"]].isna().all().all()


def test_a_race_whose_results_are_not_published_yet_keeps_its_bets_open(
    store_url: str, tmp_path: Path
) -> None:
    """At night one race is still as its card (its venue's results late): it is not judged (no
    quarantine row), its bets stay open with their stakes spent, the run says so, and they
    settle when the results arrive. Before, the race was set aside as broken and its bets
    refunded while their stakes were still riding."""
    raw, settings, bets = _a_day_bet(store_url, tmp_path)
    late = str(bets["race_id"].iloc[0])
    card = card_only(raw)
    se = raw.nvd_se.copy()
    rows = (race_ids(se) == late).to_numpy()
    se.loc[rows] = card.nvd_se.loc[rows]
    night = validate_and_store(settings, replace(raw, nvd_se=se), DAY, DAY, "results")
    assert late not in set(night.races["race_id"])
    assert late not in set(night.quarantine["race_id"].dropna())
    settled = settle(settings, DAY)
    stored = _bets(store_url)
    still = stored[stored["race_id"] == late]
    assert not still.empty and not still["settled"].any() and still["void_reason"].isna().all()
    assert stored[stored["race_id"] != late]["settled"].all()
    counts = {"races_offered": 12, "races_quarantined": 0, "quarantined": 0}
    outcome = day_outcome(raw, counts, settled, alerts=[])
    assert outcome["status"] == "completed-with-warnings"
    assert any(f"{len(still)} bets open" in warning for warning in outcome["warnings"])
    late_night = day_outcome(replace(raw, nvd_se=se), counts, settled, alerts=[])
    assert any("results of 1 race(s) not published yet" in w for w in late_night["warnings"])

    validate_and_store(settings, raw, DAY, DAY, "results")
    settle(settings, DAY)
    assert _bets(store_url)["settled"].all()


def test_a_night_of_cards_with_two_broken_races_keeps_the_others_open(
    store_url: str, tmp_path: Path
) -> None:
    """A night whose input is still the card (データ区分 2) for every race, one of them with a
    horse already marked excluded (発走除外, code 2), and two races whose results are broken:
    the cards are not judged (their bets stay open), the broken races are set aside, and the
    night is not refused as a whole for them."""
    raw, settings, bets = _a_day_bet(store_url, tmp_path)
    card = card_only(raw)
    ra = raw.nvd_ra.assign(data_kubun="2")
    se = card.nvd_se.assign(data_kubun="2")
    races = race_ids(se)
    excluded = str(bets["race_id"].iloc[0])
    se.loc[se.index[races == excluded][0], "ijo_kubun_code"] = "2"
    broken = [race for race in race_ids(ra).unique() if race not in set(bets["race_id"])][:2]
    for race in broken:  # results whose final odds are five digits
        rows = (races == race).to_numpy()
        se.loc[rows] = raw.nvd_se.loc[rows].assign(tansho_odds="99999", data_kubun="7")
    night = validate_and_store(settings, replace(raw, nvd_ra=ra, nvd_se=se), DAY, DAY, "results")
    assert night.races.empty and set(night.quarantine["race_id"].dropna()) == set(broken)
    settle(settings, DAY)
    assert not _bets(store_url)["settled"].any()  # every bet open, none voided


def test_a_night_whose_results_are_all_still_to_come_says_so() -> None:
    """A night run too early (every race still as on the card) with no bets: before, plain
    "completed" with no word that nothing was settled or learned; the morning run, which reads
    no results, says nothing of them."""
    raw = card_only(simulate_days(DAY, DAY, SimulatorConfig(races_per_day=6)).raw)
    counts = {"races_offered": 6, "races_quarantined": 0, "quarantined": 0}
    night = day_outcome(raw, counts, None, alerts=[])
    assert night["status"] == "completed-with-warnings"
    assert night["warnings"] == [
        "results of 6 race(s) not published yet: not judged, settled or learned from; "
        "run the day again when they are"
    ]
    assert day_outcome(raw, counts, None, alerts=[], night=False)["status"] == "completed"
