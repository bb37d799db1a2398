"""What a boat backfill says it leaves to do (raceday.boat.resume): a few days named, never
hundreds; a day recorded with bets open is not done; later days sized before a day settled
after them are named once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from raceday.boat.resume import (
    done_days,
    named_days,
    no_program_warning,
    open_days_warning,
    provisional_warning,
    replayed_warning,
    results_file_days,
    sized_before_warning,
)

DAY = date(2026, 4, 1)
MONTH = [DAY + timedelta(days=n) for n in range(30)]


def test_a_recorded_day_with_bets_open_is_not_done() -> None:
    assert done_days({MONTH[0], MONTH[1]}, {MONTH[1]: 3}) == {MONTH[0]}


def test_a_warning_names_five_days_and_counts_the_rest() -> None:
    assert named_days(reversed(MONTH)) == (
        "2026-04-01, 2026-04-02, 2026-04-03, 2026-04-04, 2026-04-05 and 25 more"
    )
    (line,) = open_days_warning(set(MONTH), 3000)
    assert line.startswith("3000 bet(s) left open on 30 days (2026-04-01, ") and "25 more" in line
    assert line.endswith("re-run the same command once their K files are in")
    assert open_days_warning(set(), 0) == [] and no_program_warning(set()) == []


def test_later_days_sized_before_a_day_settled_after_them_are_named() -> None:
    (line,) = sized_before_warning({MONTH[3]}, {MONTH[0], MONTH[4], MONTH[5]})
    assert line.startswith("2 later days (2026-04-05, 2026-04-06) were sized before 2026-04-04")
    assert sized_before_warning({MONTH[5]}, {MONTH[0], MONTH[4]}) == []  # a resume: none later
    assert sized_before_warning(set(), set(MONTH)) == []


def test_the_days_of_results_files_are_found_in_subfolders_as_the_programs_are(
    tmp_path: Path,
) -> None:
    """A K file in a month's folder is a day with results (the programs are found there too):
    it was looked for in the folder itself only, so a K without its B there went unsaid."""
    (tmp_path / "2604").mkdir()
    (tmp_path / "2604" / "K260402.TXT").write_bytes(b"")
    (tmp_path / "k260401.txt").write_bytes(b"")
    (tmp_path / "B260401.TXT").write_bytes(b"")
    assert results_file_days(tmp_path) == {date(2026, 4, 1), date(2026, 4, 2)}


def test_the_days_with_bets_open_a_backfill_ran_again_are_said_replayed() -> None:
    (line,) = replayed_warning({MONTH[6], MONTH[3]})
    assert line.startswith("2 days recorded with bets open replayed (2026-04-04, 2026-04-07)")
    assert "not settled as placed" in line and line.endswith("raceday run --sport boat --settle")
    assert replayed_warning(set()) == []


def test_the_days_refunded_provisionally_are_named() -> None:
    (line,) = provisional_warning({MONTH[4]: 7, MONTH[2]: 5})
    assert line.startswith("12 bet(s) refunded provisionally on 2 days (2026-04-03, 2026-04-05)")
    assert line.endswith("re-run the same command once good K files are in")
    assert provisional_warning({}) == []
