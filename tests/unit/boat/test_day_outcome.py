"""A boat day's status says what validation set aside, as a horse day's does: a day that left
races out (or quarantined rows) said ``completed`` with no warning (the fuzz probe)."""

from __future__ import annotations

from tasks.boat import boat_day_outcome


def test_a_boat_day_that_set_races_aside_completes_with_warnings() -> None:
    clean = boat_day_outcome({"races": 12, "races_left_out": 0, "quarantined": 0}, 0, offered=12)
    assert clean == {"status": "completed", "alerts": [], "warnings": []}
    aside = boat_day_outcome({"races": 11, "races_left_out": 1, "quarantined": 5}, 0, offered=12)
    assert aside["status"] == "completed-with-warnings"
    assert aside["warnings"][0].startswith("1 of 12 races quarantined")
    # a race set aside at night was predicted: of the program's 12, not 13 (the second probe)
    night = boat_day_outcome({"races": 12, "races_left_out": 1, "quarantined": 6}, 0, offered=12)
    assert night["warnings"][0].startswith("1 of 12 races quarantined")
    rows = boat_day_outcome({"races": 12, "races_left_out": 0, "quarantined": 1788}, 0, offered=12)
    assert rows["warnings"] == ["1788 rows quarantined by validation (no race set aside)"]
    still_open = boat_day_outcome(
        {"races": 12, "races_left_out": 0, "quarantined": 0}, 3, offered=12
    )
    assert still_open["status"] == "completed-with-warnings"
    assert still_open["warnings"][0].startswith("3 bets open")
