"""The boat day's report: per-venue money adds up to the bets, every bet is listed, the top
exotics per race, and nothing breaks on an empty day."""

from __future__ import annotations

from datetime import date

import pandas as pd

from raceday.boat.report import (
    bet_table,
    exotics_table,
    report_html,
    report_markdown,
    venue_table,
)

DAY = date(2026, 4, 14)


def _predictions() -> pd.DataFrame:
    races = ["202604140101", "202604140102", "202604142401"]
    return pd.DataFrame(
        [
            {"race_id": race, "boat": boat, "p_final": 1 / 6}
            for race in races
            for boat in range(1, 7)
        ]
    )


def _settled() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_id": ["202604140101", "202604142401"],
            "boat": [1, 4],
            "p_final": [0.6, 0.2],
            "odds_at_bet": [1.9, 7.5],
            "stake_yen": [1000, 300],
            "payout_yen": [1900, 0],
            "refund_yen": [0, 0],
            "outcome": ["won", "lost"],
        }
    )


def test_venue_money_adds_up_to_the_bets() -> None:
    venues = venue_table(_predictions(), _settled())
    assert venues["venue"].tolist() == ["01 桐生", "24 大村"]
    assert venues["races"].tolist() == [2, 1]
    assert venues["staked"].sum() == 1300 and venues["returned"].sum() == 1900
    assert (venues["profit"] == venues["returned"] - venues["staked"]).all()


def test_every_bet_and_the_top_exotics_are_in_the_report() -> None:
    exotics = pd.DataFrame(
        {
            "race_id": ["202604140101"] * 5,
            "bet_type": ["exacta"] * 5,
            "rank": [1, 2, 3, 4, 5],
            "combination": ["1-2", "1-3", "2-1", "1-4", "3-1"],
            "probability": [0.2, 0.15, 0.1, 0.08, 0.07],
        }
    )
    top = exotics_table(exotics)
    assert top["rank"].tolist() == [1, 2, 3]
    summary = {"status": "completed", "bets": 2, "staked_yen": 1300, "log_loss": 1.2345}
    frames = (venue_table(_predictions(), _settled()), bet_table(_settled()), top)
    markdown = report_markdown(DAY, summary, *frames)
    html = report_html(DAY, summary, *frames)
    for text in (markdown, html):
        assert "202604142401" in text and "1-3" in text and "1-4" not in text
        assert "1,300" in text and "1.2345" in text
    assert "<script" not in html


def test_an_empty_day_renders() -> None:
    empty = pd.DataFrame(columns=["race_id", "boat", "p_final"])
    no_bets = pd.DataFrame(columns=list(_settled().columns))
    frames = (venue_table(empty, no_bets), bet_table(no_bets), exotics_table(pd.DataFrame()))
    assert "(none)" in report_markdown(DAY, {}, *frames)
    assert "(none)" in report_html(DAY, {}, *frames)


def test_the_days_alerts_and_warnings_are_in_the_report() -> None:
    alert = {"rule": "quarantine_rate", "severity": "warning", "message": "boat racing: 25.0%"}
    summary = {"status": "completed-with-warnings", "alerts": [alert], "warnings": ["3 of 12"]}
    no_bets = pd.DataFrame(columns=list(_settled().columns))
    frames = (
        venue_table(_predictions(), no_bets),
        bet_table(no_bets),
        exotics_table(pd.DataFrame()),
    )
    for text in (report_markdown(DAY, summary, *frames), report_html(DAY, summary, *frames)):
        assert "Alerts and warnings" in text and "quarantine_rate" in text
        assert "boat racing: 25.0%" in text and "3 of 12" in text
