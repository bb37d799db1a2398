"""A boat day's status says what validation set aside, as a horse day's does: a day that left
races out (or quarantined rows) said ``completed`` with no warning (the fuzz probe)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from raceday.boat.source import read_boat_days
from tasks.boat import boat_day_outcome
from tests.unit.boat.excerpts import PROGRAM


def test_a_boat_day_that_set_races_aside_completes_with_warnings() -> None:
    clean = boat_day_outcome(
        {"races": 12, "races_left_out": 0, "quarantined": 0}, 0, offered=12, unpriced=0
    )
    assert clean == {"status": "completed", "alerts": [], "warnings": []}
    aside = boat_day_outcome(
        {"races": 11, "races_left_out": 1, "quarantined": 5}, 0, offered=12, unpriced=0
    )
    assert aside["status"] == "completed-with-warnings"
    assert aside["warnings"][0].startswith("1 of 12 races quarantined")
    # a race set aside at night was predicted: of the program's 12, not 13 (the second probe)
    night = boat_day_outcome(
        {"races": 12, "races_left_out": 1, "quarantined": 6}, 0, offered=12, unpriced=0
    )
    assert night["warnings"][0].startswith("1 of 12 races quarantined")
    rows = boat_day_outcome(
        {"races": 12, "races_left_out": 0, "quarantined": 1788}, 0, offered=12, unpriced=0
    )
    assert rows["warnings"] == ["1788 rows quarantined by validation (no race set aside)"]
    still_open = boat_day_outcome(
        {"races": 12, "races_left_out": 0, "quarantined": 0}, 3, offered=12, unpriced=0
    )
    assert still_open["status"] == "completed-with-warnings"
    assert still_open["warnings"][0].startswith("3 bets open")
    refunded = boat_day_outcome(
        {"races": 12, "races_left_out": 12, "quarantined": 72}, 0, offered=12, unpriced=0,
        provisional=5,
    )  # fmt: skip
    assert refunded["warnings"][1].startswith("5 bets refunded provisionally")
    assert "with --settle once a good K file is in" in refunded["warnings"][1]


def test_a_race_the_card_and_the_results_both_set_aside_is_left_out_once() -> None:
    """Boat 6 of race 1 missing from the program and from the results: one race left out, not
    two (the summary said "2 of 156 races quarantined")."""
    import pandas as pd

    from data_checks.boat import validate_card, validate_results
    from raceday.boat.simulate.config import BoatSimulatorConfig
    from raceday.boat.simulate.days import simulate_boat_days
    from tasks.boat import races_left_out

    day = simulate_boat_days(date(2026, 4, 1), date(2026, 4, 1),
                             BoatSimulatorConfig(venues_per_day=1, seed=3))  # fmt: skip
    first = sorted(day.entries["race_id"].unique())[0]

    def without_boat_6(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~((frame["race_id"] == first) & (frame["boat"] == 6))]

    when = pd.Timestamp("2026-04-01")
    card = validate_card(day.program_races, without_boat_6(day.entries), day.odds, when)
    night = validate_results(day.result_races, without_boat_6(day.results), day.payouts, when)
    assert first in night.set_aside and first not in set(card.races["race_id"])
    assert races_left_out(card, night) == frozenset({first})


def test_races_not_bet_for_missing_odds_are_a_warning_but_cancelled_ones() -> None:
    """A race the market did not price is not bet and the day says how many; a race the K
    file cancelled has no odds to sell and is not counted."""
    import pandas as pd

    from tasks.boat import races_not_priced

    predictions = pd.DataFrame(
        {"race_id": ["a", "a", "b", "b", "c", "c"], "p_market": [0.6, 0.4, None, None, None, None]}
    )
    races = pd.DataFrame({"race_id": ["a", "b", "c"], "status": ["run", "run", "cancelled"]})
    assert races_not_priced(predictions, races) == 1
    day = boat_day_outcome(
        {"races": 3, "races_left_out": 0, "quarantined": 0}, 0, offered=3, unpriced=1
    )
    assert day["status"] == "completed-with-warnings"
    assert day["warnings"][0].startswith("1 races not bet for missing odds")


def test_a_day_without_the_odds_file_says_so_once(tmp_path: Path) -> None:
    """The official B/K files carry no odds: a directory without boat_odds.csv left every race
    unpriced and the warning sent the user to an empty quarantine. The day says, in one
    warning, that the directory holds no odds file, what it must hold and where that is
    written; the day still runs (predicted against the lane prior)."""
    (tmp_path / "B260401.TXT").write_bytes(PROGRAM.encode("cp932"))
    (day,) = read_boat_days(tmp_path, [date(2026, 4, 1)])
    assert day.missing_odds_file == tmp_path / "boat_odds.csv" and day.odds.empty
    said = boat_day_outcome(
        {"races": 36, "races_left_out": 0, "quarantined": 0}, 0, offered=36, unpriced=36,
        missing_odds_file=day.missing_odds_file,
    )  # fmt: skip
    assert said["status"] == "completed-with-warnings"
    (warning,) = said["warnings"]
    assert warning.startswith(f"{tmp_path} holds no boat_odds.csv: the official B/K files")
    assert "quarantine" not in warning and "docs/BOAT.md" in warning
    assert "race_id, boat, snapshot, published_at, win_odds" in warning
    (tmp_path / "boat_odds.csv").write_text("race_id,boat,snapshot,published_at,win_odds\n")
    (day,) = read_boat_days(tmp_path, [date(2026, 4, 1)])
    assert day.missing_odds_file is None
