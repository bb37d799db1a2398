"""A run's status and exit code come from its alerts and warnings, decided in one place."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.reference import circuits
from raceday.run_status import (
    ALERTS_EXIT_CODE,
    COMPLETED,
    COMPLETED_WITH_ALERTS,
    COMPLETED_WITH_WARNINGS,
    NO_CIRCUITS_CLASSES,
    backfill_no_races_warning,
    cancelled_warning,
    exit_code,
    no_races_warning,
    outcome,
    quarantine_warning,
    run_status,
    unknown_class_warning,
)


def alert(severity: str) -> dict[str, Any]:
    return {"rule": "r", "severity": severity, "message": "m"}


def test_a_run_with_nothing_to_say_is_completed_and_exits_0() -> None:
    assert run_status([], []) == COMPLETED
    assert exit_code(COMPLETED) == 0


def test_warnings_complete_with_warnings_and_exit_0() -> None:
    assert run_status([], ["3 of 30 races quarantined"]) == COMPLETED_WITH_WARNINGS
    assert exit_code(COMPLETED_WITH_WARNINGS) == 0


def test_alerts_below_critical_are_listed_but_do_not_change_the_status() -> None:
    """A slow run's anomaly alert must not make the same day's status depend on the machine."""
    assert run_status([alert("warning"), alert("info")], []) == COMPLETED


def test_a_critical_alert_completes_with_alerts_and_exits_6_whatever_the_warnings() -> None:
    assert run_status([alert("warning"), alert("critical")], ["w"]) == COMPLETED_WITH_ALERTS
    assert exit_code(COMPLETED_WITH_ALERTS) == ALERTS_EXIT_CODE == 6


@given(
    st.lists(st.sampled_from(["info", "warning", "critical"])),
    st.lists(st.text(min_size=1), max_size=3),
)
def test_the_status_is_the_worst_of_the_critical_alerts_and_the_warnings(
    severities: list[str], warnings: list[str]
) -> None:
    status = run_status([alert(s) for s in severities], warnings)
    if "critical" in severities:
        assert status == COMPLETED_WITH_ALERTS
    elif warnings:
        assert status == COMPLETED_WITH_WARNINGS
    else:
        assert status == COMPLETED


def test_the_outcome_lists_the_alerts_and_warnings_it_was_decided_from() -> None:
    decided = outcome([alert("critical")], ["no races for 2026-11-20"])
    assert decided == {
        "status": COMPLETED_WITH_ALERTS,
        "alerts": [alert("critical")],
        "warnings": ["no races for 2026-11-20"],
    }


@pytest.mark.parametrize(
    ("aside", "offered", "rows", "expected"),
    [
        (0, 30, 0, []),
        (4, 30, 9, ["4 of 30 races quarantined"]),
        (0, 30, 2, ["2 rows quarantined by validation (no race set aside)"]),
        (0, 30, 14, ["2 rows quarantined by validation (no race set aside)"]),  # 12 cancelled
        (0, 0, 12, []),  # only the records of races cancelled: said by cancelled_warning
    ],
)
def test_quarantined_races_are_a_warning_counted_as_the_alert_counts_them(
    aside: int, offered: int, rows: int, expected: list[str]
) -> None:
    """The rows of races the provider cancelled are quarantined as its word, not as faults:
    they are not counted among the rows validation quarantined (:func:`cancelled_warning`
    says them)."""
    warnings = quarantine_warning(aside, offered, rows, 12 if rows >= 12 else 0)
    assert len(warnings) == len(expected)
    for warning, start in zip(warnings, expected, strict=True):
        assert warning.startswith(start)


def test_a_day_without_races_is_a_warning() -> None:
    assert no_races_warning(0) == ["no races for the day: nothing was predicted or settled"]
    assert no_races_warning(12) == []


def test_a_backfill_without_races_says_which_days_it_ran_and_which_were_done() -> None:
    """A resumed backfill whose days left were all refused ran no day: it says nothing new was
    run and how many days were done (it said "no races for" the range, its days stored and
    skipped); days run without races say so, beside the days done."""
    what = "2026-10-01..2026-10-04"
    assert backfill_no_races_warning(0, what, 0, 3) == [
        f"nothing new to run for {what}: 3 day(s) already done, skipped"
    ]
    assert backfill_no_races_warning(0, what, 2, 0) == no_races_warning(0, what)
    assert backfill_no_races_warning(0, what, 1, 3) == [
        f"no races on the 1 day(s) run of {what} (3 day(s) already done, skipped): nothing new "
        "was predicted or settled"
    ]
    assert backfill_no_races_warning(0, what, 0, 0) == []  # every day refused: said as such
    assert backfill_no_races_warning(5, what, 1, 3) == []


def test_races_cancelled_are_a_warning_of_their_own() -> None:
    assert cancelled_warning(0) == []
    assert cancelled_warning(24)[0].startswith("24 races cancelled (data_kubun 9): not run")
    assert cancelled_warning(24, 312) == [
        "24 races cancelled (data_kubun 9): not run, so not predicted, bet or settled (their "
        "312 records kept in the quarantine as the provider's word, not faults)"
    ]


def test_the_cli_exits_with_the_code_of_the_status_after_printing_the_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run`, `backfill`, `live`, `monitor` and the boat run answer through one function."""
    import json

    import typer

    from cli.shared import answer

    critical = {"status": COMPLETED_WITH_ALERTS, "alerts": [alert("critical")], "warnings": []}
    with pytest.raises(typer.Exit) as ended:
        answer(False, True, lambda: critical, print)
    assert ended.value.exit_code == 6
    assert json.loads(capsys.readouterr().out) == critical
    answer(False, True, lambda: {"status": COMPLETED_WITH_WARNINGS, "warnings": ["w"]}, print)


def test_the_summary_lists_the_alerts_and_the_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cli.shared import print_outcome

    print_outcome(
        {
            "alerts": [
                {"rule": "venue_down", "severity": "critical", "message": "venue 44 down"},
                {"rule": "quarantine_rate", "severity": "warning", "message": "6 of 30"},
            ],
            "warnings": ["6 of 30 races quarantined"],
        }
    )
    printed = capsys.readouterr().out
    assert "alerts:   1 critical, 1 warning" in printed
    assert "critical venue_down: venue 44 down" in printed
    assert "warning quarantine_rate: 6 of 30" in printed
    assert "warning: 6 of 30 races quarantined" in printed
    print_outcome({})
    assert "alerts:   none" in capsys.readouterr().out


def test_a_backfill_stopped_on_request_exits_as_an_interrupted_command() -> None:
    from raceday.run_status import STOPPED

    assert exit_code(STOPPED) == 130


def test_a_day_without_races_warns_only_when_it_was_one_to_race_on() -> None:
    """A JRA store's Tuesday run by a daily schedule has no races and is no race day (the
    monitor's judgement): ``completed``, not five warnings a week; a race day without races
    still warns."""
    from flows.daily import day_outcome
    from raceday.sources.base import empty_raw_day

    counts = {"races_offered": 0, "races_quarantined": 0, "quarantined": 0}
    dark = day_outcome(empty_raw_day(), counts, None, [], race_day=False)
    assert (dark["status"], dark["warnings"]) == ("completed", [])
    empty = day_outcome(empty_raw_day(), counts, None, [])
    assert empty["status"] == "completed-with-warnings"
    assert empty["warnings"] == ["no races for the day: nothing was predicted or settled"]


def test_most_of_a_circuits_races_of_no_known_class_is_a_warning() -> None:
    """More than half of a circuit's races unknown warns, naming the circuit; half or fewer
    (NAR's 2歳 races, a stray name) does not; the share is counted per circuit, not over the
    day; venues of no circuit (abroad) count for none of the circuits (their own warning:
    :func:`test_races_at_venues_of_no_circuit_of_no_known_class_are_said_once`)."""
    races = pd.DataFrame(
        {
            "keibajo_code": ["05", "05", "44", "44", "44", "44", "44", "A4"],
            "class_code": ["unknown", "1W", "unknown", "C1", "C2", "C3", "A1", "unknown"],
        }
    )
    assert unknown_class_warning(races.iloc[:7], circuits()) == []
    assert len(unknown_class_warning(races, circuits())) == 1  # A4's own
    warned = unknown_class_warning(races.iloc[[0, 2, 3, 6]], circuits())
    assert len(warned) == 1 and warned[0].startswith("1 of 1 JRA races of no known class")
    assert unknown_class_warning(races.iloc[:0], circuits()) == []


def test_races_at_venues_of_no_circuit_of_no_known_class_are_said_once() -> None:
    """A Hong Kong export (venue ``G0``, classes ``Class 3``, ``Group 1``, ``Griffin``) is of no
    circuit: its classes all read unknown, and the summary says so in one line naming its
    venues, for a day and for a range; before, it said nothing (no circuit, no warning)."""
    races = pd.DataFrame(
        {
            "race_date": pd.to_datetime(["2026-09-02"] * 3 + ["2026-09-06"] * 2),
            "keibajo_code": ["G0", "G0", "G0", "G0", "44"],
            "class_code": ["unknown"] * 4 + ["C1"],
        }
    )
    [day] = unknown_class_warning(races.iloc[:3], circuits())
    assert day.startswith("3 of 3 races at venue(s) of no circuit (G0) of no known class")
    assert day.endswith(NO_CIRCUITS_CLASSES)
    [line] = unknown_class_warning(races, circuits(), "2026-09-01..2026-09-30")
    assert line.startswith(
        "races at venue(s) of no circuit (G0) mostly of no known class on 2 day(s) of "
        "2026-09-01..2026-09-30 (4 of 4 races on those days; "
    )


def test_a_range_says_on_how_many_days_a_circuit_was_mostly_of_no_known_class_in_one_line() -> None:
    """A backfill's (or any range's) warning is the day's rule applied day by day: one line per
    circuit naming how many days it held on, not one line per day; a day where half or fewer
    of a circuit's races are unknown does not count, nor does another circuit's day."""
    races = pd.DataFrame(
        {
            "race_date": pd.to_datetime(
                ["2025-03-01"] * 2 + ["2025-03-02"] * 3 + ["2025-03-03"] * 2
            ),
            "keibajo_code": ["05", "05", "05", "05", "05", "44", "44"],
            "class_code": ["unknown", "unknown", "unknown", "1W", "2W", "unknown", "C1"],
        }
    )
    what = "2025-03-01..2025-03-03"
    [line] = unknown_class_warning(races, circuits(), what)
    assert line.startswith(
        f"JRA races mostly of no known class on 1 day(s) of {what} (2 of 2 races on those days; "
    )
    assert "check the export's columns" in line
    doubled = races.assign(race_date=races["race_date"] + pd.Timedelta(days=7))
    [twice] = unknown_class_warning(pd.concat([races, doubled]), circuits(), what)
    assert twice.startswith(f"JRA races mostly of no known class on 2 day(s) of {what} (4 of 4")
    assert unknown_class_warning(races.iloc[2:], circuits(), what) == []


def test_a_card_race_left_without_odds_is_named_in_the_day_summary() -> None:
    """A race whose snapshots by its deadline price no runner (the datable one blank, the others
    stamped blank or ``0000``) is stored but neither predicted nor bet: the run said
    ``completed`` with one line in the log. Its id is in the day's warnings (the card's odds as
    the validate stage stores them, :func:`tasks.validate.with_betting_odds`)."""
    from dataclasses import replace
    from datetime import date

    from data_checks.validate import ValidatedDay
    from flows.daily import day_outcome
    from raceday.codec import decode_races, decode_runners, race_ids
    from raceday.odds_snapshots import decode_odds_snapshot
    from raceday.pipeline import races_without_odds
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.timeline import CardTiming, card_odds
    from tasks.validate import with_betting_odds

    day = date(2026, 11, 20)
    raw = simulate_days(day, day, SimulatorConfig(races_per_day=3)).raw
    o1 = raw.nvd_o1.copy()
    first = race_ids(o1).iloc[0]
    snapshots = o1.index[(race_ids(o1) == first).to_numpy(bool)]  # 09:00, later ones, close
    o1.loc[snapshots[0], "odds_tansho"] = " " * len(o1.loc[snapshots[0], "odds_tansho"])
    o1.loc[snapshots[1], "happyo_tsukihi_jifun"] = ""
    o1.loc[snapshots[2], "happyo_tsukihi_jifun"] = "0000"
    raw = replace(raw, nvd_o1=o1)
    morning = decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
    decoded = ValidatedDay(
        decode_races(raw.nvd_ra), decode_runners(raw.nvd_se), morning, pd.DataFrame(), ()
    )
    card = with_betting_odds(raw, decoded)
    unpriced = races_without_odds(card.races, card.odds)
    assert unpriced == [first] and len(card.races) == 3
    assert card.unpriced == (first,)  # found once, with the odds: the log and summary read it
    counts = {"races_offered": 3, "races_quarantined": 0, "quarantined": 0}
    outcome = day_outcome(raw, counts, None, [], night=False, unpriced=card.unpriced)
    assert outcome["status"] == "completed-with-warnings"
    assert outcome["warnings"] == [
        f"1 race(s) without odds published by their deadline ({first}): stored, not predicted "
        "or bet (no snapshot of theirs with odds was published by then)"
    ]


def test_a_days_status_and_warnings_are_in_its_runs_log_not_only_its_return_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A deployment's run (a worker's, ``raceday serve``'s) prints no summary: the Prefect UI
    showed ``Completed`` and a log without a word of the day's warnings (a day without races,
    races cancelled, venues down, bets open), which only the command's summary said. Each
    warning and the status are now in the run's log, kept off the command's terminal, which
    prints the summary itself."""
    from flows.daily import day_outcome
    from raceday.sources.base import empty_raw_day
    from tasks.common import OFF_TERMINAL

    counts = {"races_offered": 0, "races_quarantined": 0, "quarantined": 0}
    with caplog.at_level("INFO", logger="raceday"):
        said = day_outcome(empty_raw_day(), counts, None, [])
    logged = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("WARNING", said["warnings"][0]) in logged
    assert ("INFO", "the day's run: completed-with-warnings (1 warning(s), 0 alert(s))") in logged
    assert all(getattr(r, OFF_TERMINAL, False) for r in caplog.records)
    caplog.clear()
    with caplog.at_level("INFO", logger="raceday"):
        day_outcome(empty_raw_day(), counts, None, [], race_day=False)
    assert [r.getMessage() for r in caplog.records] == [
        "the day's run: completed (0 warning(s), 0 alert(s))"
    ]


def test_a_day_whose_races_were_all_cancelled_says_so_not_no_races() -> None:
    """A race day whose every race the provider cancelled ends ``completed-with-warnings``
    (exit 0) saying how many races were cancelled, not "no races for the day"."""
    from flows.daily import day_outcome
    from raceday.sources.base import empty_raw_day

    counts = {
        "races_offered": 0,
        "races_quarantined": 0,
        "quarantined": 312,
        "quarantined_cancelled": 312,
        "races_cancelled": 24,
    }
    off = day_outcome(empty_raw_day(), counts, None, [])
    # its records are not "312 rows quarantined by validation (no race set aside)" beside it
    assert off["warnings"] == cancelled_warning(24, 312)
    assert off["status"] == "completed-with-warnings"


def test_a_refused_days_line_is_logged_for_the_ui_but_said_once_on_the_terminal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A backfill's refused day was said twice on the terminal: its chunk's warning through
    Prefect's console handler, then the command's own line beside the summary. The warning
    still reaches the run's log (the Prefect UI: ``caplog`` stands in for its handler); the
    console the command prints on (``running_flows``) leaves it out, and keeps other lines;
    so are a summary's warnings that are logged too (``logged``)."""
    import logging
    from datetime import date

    from flows.console import prepare_console
    from raceday.run_status import DayRefusal
    from tasks.common import log_refusals, logged

    prepare_console(debug=False)  # (Prefect's logging set up first: it replaces root handlers)
    [console] = [
        handler
        for handler in logging.getLogger().handlers
        if type(handler).__name__ == "PrefectConsoleHandler"
    ]
    refusal = DayRefusal(date(2025, 3, 3), "nothing valid left for 2025-03-03 (card): …", 4)
    logging.getLogger().addHandler(caplog.handler)
    try:
        with caplog.at_level("WARNING"):
            log_refusals([refusal])
            logging.getLogger("raceday").warning("another warning")
            assert logged(["12 of 12 JRA races of no known class …"]) == [
                "12 of 12 JRA races of no known class …"
            ]
    finally:
        logging.getLogger().removeHandler(caplog.handler)
    refused, other, in_the_summary = caplog.records
    assert refused.getMessage() == f"{refusal.line}: refused, the other days go on"
    assert not console.filter(refused)
    assert console.filter(other)
    assert not console.filter(in_the_summary)  # said with the summary the command prints


def test_bets_sized_on_final_odds_are_one_warning_saying_what_to_load() -> None:
    """A day whose source holds no odds snapshot (nvd_o1 dropped, empty or unreadable) is bet
    on the final odds: said once, naming its races, with the table to load, and the run
    completes with warnings (it was exit 0 with only ``odds_source final`` in the table)."""
    from datetime import date

    from flows.daily import day_outcome
    from raceday.run_status import final_odds_races_warning
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days

    ids = ["202611204401", "202611204402"]
    [line] = final_odds_races_warning(ids)
    assert "final odds" in line and "nvd_o1" in line
    day = date(2026, 11, 20)
    raw = simulate_days(day, day, SimulatorConfig(races_per_day=2)).raw
    counts = {"races_offered": 2, "races_quarantined": 0, "quarantined": 0}
    assert day_outcome(raw, counts, None, alerts=[])["status"] == "completed"
    outcome = day_outcome(raw, counts, None, alerts=[], final_odds=ids)
    assert outcome["status"] == "completed-with-warnings" and outcome["warnings"] == [line]


def test_a_day_outside_the_days_the_source_holds_is_said_with_its_first_and_last() -> None:
    """A day after the source's last race day (a database not updated) or before its first:
    said with the days it holds, where the monitor only says "the source is empty"."""
    from datetime import date

    from raceday.run_status import outside_source_days_warning

    held = (date(2026, 9, 1), date(2026, 11, 30))
    assert outside_source_days_warning(date(2026, 10, 1), held, "pckeiba") == []
    assert outside_source_days_warning(date(2026, 12, 5), None, "pckeiba") == []
    [after] = outside_source_days_warning(date(2026, 12, 5), held, "pckeiba")
    assert after == (
        "2026-12-05 is after the last race day the source pckeiba holds: it holds races "
        "2026-09-01..2026-11-30: has it been updated?"
    )
    [before] = outside_source_days_warning(date(2026, 8, 1), held, "pckeiba")
    assert "before the first race day" in before and "2026-09-01..2026-11-30" in before


def test_a_backfill_names_the_races_and_days_it_sized_on_final_odds() -> None:
    """The races a backfill sized on their final odds are one warning with their count, their
    days (the first five, then how many more) and the table to load; none, no warning."""
    from raceday.run_status import final_odds_races_warning, run_status

    assert final_odds_races_warning([]) == []
    ids = [f"2026100{day}4401" for day in range(1, 8)] + ["202610014402"]
    [line] = final_odds_races_warning(ids)
    assert line.startswith("8 race(s) on 7 day(s) (2026-10-01, 2026-10-02, 2026-10-03, ")
    assert "2026-10-05 and 2 more)" in line and "final odds" in line and "nvd_o1" in line
    assert run_status((), [line]) == "completed-with-warnings"
