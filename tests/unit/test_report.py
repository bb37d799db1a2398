"""The daily report: one self-contained HTML page with its figures, and the Markdown twin."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from raceday.model.calibration import calibration_counts
from raceday.monitoring.performance import (
    bankroll_curve,
    daily_performance,
    race_scores,
    rolling_performance,
)
from raceday.monitoring.plots import venues_svg
from raceday.monitoring.report import (
    ReportInputs,
    open_bets,
    race_table,
    render_markdown,
    rolling_status,
    run_timings,
    summary_figures,
)
from raceday.monitoring.report_html import render_html, write_report_files
from raceday.monitoring.rules import Thresholds
from tests.unit.test_performance import DAY, NO_BETS, make_day

VENUES = {"44": "大井", "45": "川崎"}
FIGURES = ("bankroll", "rolling", "calibration", "venues")


def report_inputs(tmp_path: Path, **changes: object) -> ReportInputs:
    predictions, runners = make_day(DAY, {"44": 3, "45": 2})
    runners = runners.assign(horse_name=[f"ホース{i}" for i in range(len(runners))], win_odds=3.5)
    runners.loc[runners["finish_pos"].eq(1).fillna(False).idxmax(), "horse_name"] = (
        "<script>alert(1)</script>"
    )
    scores = race_scores(predictions, runners, NO_BETS)
    races = pd.DataFrame(
        {"race_id": scores["race_id"], "race_bango": range(1, 6), "post_time": "1500"}
    )
    performance = daily_performance(
        DAY, scores, races, pd.DataFrame(columns=["race_id"]), bankroll_yen=1_000_000,
        drawdown=0.0, model_version="market-v1", run_seconds=9.0,
    )  # fmt: skip
    curve = bankroll_curve(1_000_000, pd.Series(dtype="int64"))
    rolling = rolling_performance(DAY, scores, performance[performance["scope"] == "all"], curve, 1)
    judged = predictions.merge(runners, on=["race_id", "umaban"])
    won = judged["finish_pos"].eq(1).fillna(False)
    calibration = pd.concat(
        [
            calibration_counts(judged["p_final"], won).assign(source="final"),
            calibration_counts(judged["p_market"], won).assign(source="market"),
        ]
    )
    base = ReportInputs(
        race_date=DAY,
        performance=performance,
        daily_history=performance[performance["scope"] == "all"],
        rolling=rolling,
        rolling_history=rolling,
        calibration=calibration,
        calibration_label="30 days",
        races=race_table(scores, races, runners, VENUES),
        bets=pd.DataFrame(columns=["venue", "race", "umaban", "horse", "stake_yen"]),
        validation=pd.DataFrame(
            [
                {
                    "suite": "races",
                    "success": True,
                    "rows_evaluated": 5,
                    "rows_failed": 0,
                    "expectations": 9,
                    "expectations_failed": 0,
                }
            ]
        ),
        quarantine=pd.DataFrame(columns=["stage", "table_name", "check_name", "race_id"]),
        runs=pd.DataFrame(
            {
                "flow_name": ["daily-run"],
                "stage": ["ingest"],
                "status": ["completed"],
                "duration_s": [1.5],
                "rows_out": [60],
                "attempts": [1],
                "started_at": [datetime(2026, 11, 20, 21)],
            }
        ),
        alerts=pd.DataFrame(
            [
                {
                    "severity": "warning",
                    "rule": "quarantine_rate",
                    "scope": "all",
                    "message": "12% set aside",
                    "delivery": "sent",
                }
            ]
        ),
        thresholds=Thresholds(run_budgets_s={"daily-run": 900.0}),
        venue_names=VENUES,
        initial_bankroll_yen=1_000_000,
        data_docs=tmp_path / "data_docs" / "index.html",
        data_docs_exists=False,
        generated_at=datetime(2026, 11, 20, 22, 0),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_heading_names_the_days_racing(tmp_path: Path) -> None:
    """What the day's venues race, as the report was given it: a JRA day reads as JRA's."""
    page = render_html(report_inputs(tmp_path, racing="JRA 中央競馬"))
    assert "· JRA 中央競馬 · paper ledger" in page and "地方競馬" not in page


def test_the_html_report_embeds_every_figure_as_inline_svg(tmp_path: Path) -> None:
    """Four figures, each an inline <svg> with text kept as text; nothing fetched from outside."""
    page = render_html(report_inputs(tmp_path))
    for name in FIGURES:
        assert re.search(rf'<svg [^>]*data-figure="{name}"', page), name
    assert "<?xml" not in page
    assert not re.search(r"<(script|link|img|iframe)\b", page), "self-contained, no scripts"
    assert not re.search(r'(src|href)="(https?:)?//', page), "no external resources"


def test_japanese_names_are_text_marked_as_japanese(tmp_path: Path) -> None:
    """Venue and horse names are HTML text in lang="ja" cells and SVG <text>, never paths."""
    page = render_html(report_inputs(tmp_path))
    assert '<td lang="ja">大井</td>' in page and '<td lang="ja">川崎</td>' in page
    assert re.search(r'<td lang="ja">ホース\d+</td>', page)
    svg = venues_svg(
        pd.DataFrame({"venue": ["大井", "川崎"], "races": [3, 2], "hit_rate": [0.3, None]})
    )
    assert re.search(r"<text[^>]*>大井</text>", svg), "svg.fonttype none keeps text as text"


def test_text_from_the_data_is_escaped(tmp_path: Path) -> None:
    """A horse name with markup is shown, not executed."""
    page = render_html(report_inputs(tmp_path))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_data_docs_are_linked_when_built_and_stated_otherwise(tmp_path: Path) -> None:
    """A file:// link to the Data Docs index when it exists; its expected path when not."""
    missing = render_html(report_inputs(tmp_path))
    assert "not built yet" in missing and str(tmp_path / "data_docs") in missing
    docs = tmp_path / "data_docs" / "index.html"
    built = render_html(report_inputs(tmp_path, data_docs=docs, data_docs_exists=True))
    assert f'href="{docs.resolve().as_uri()}"' in built


def test_rolling_status_judges_the_monitored_span(tmp_path: Path) -> None:
    """ALERT beside a breached limit with enough races; 'too few races' below the minimum."""
    rolling = pd.DataFrame(
        [
            {
                "span": "500r",
                "scored_races": 500,
                "log_loss": 1.62,
                "market_log_loss": 1.56,
                "hit_rate": 0.41,
                "expected_hit_rate": 0.44,
            }
        ]
    )
    table = rolling_status(rolling, Thresholds()).set_index("metric")
    status = table["status"]
    assert status["log loss − market"] == "ALERT" and status["top-pick hit rate"] == "ok"
    assert table.loc["top-pick hit rate", "limit"] == "≥ 37.3% (expected 44.0%)"
    missed = rolling_status(rolling.assign(hit_rate=0.35), Thresholds()).set_index("metric")
    assert missed.loc["top-pick hit rate", "status"] == "ALERT"
    few = rolling_status(rolling.assign(scored_races=50), Thresholds()).set_index("metric")
    assert few.loc["log loss − market", "status"].startswith("too few races")


def test_run_timings_flag_a_flow_over_its_budget() -> None:
    """Stage rows, then a total per flow marked over budget when it is."""
    runs = pd.DataFrame(
        {
            "flow_name": ["settle-day"] * 2,
            "stage": ["ingest", "record"],
            "status": "completed",
            "duration_s": [500.0, 200.0],
            "rows_out": [1, 2],
            "attempts": [1, 1],
            "started_at": pd.to_datetime(["2026-11-20 21:00", "2026-11-20 21:10"]),
        }
    )
    timings = run_timings(runs, {"settle-day": 600.0})
    total = timings.iloc[-1]
    assert total["stage"] == "total (budget 600 s)" and total["status"] == "over budget"
    assert total["seconds"] == pytest.approx(700.0)


def test_markdown_twin_and_files_are_written(tmp_path: Path) -> None:
    """The Markdown carries the summary, alerts, rolling table and venues; both files exist."""
    inputs = report_inputs(tmp_path)
    markdown = render_markdown(inputs)
    for heading in ("# raceday — 2026-11-20", "## Alerts", "## Rolling metrics", "## Venues"):
        assert heading in markdown
    assert "大井" in markdown and "12% set aside" in markdown
    html_path, markdown_path = write_report_files(inputs, tmp_path / "reports")
    assert html_path.name == "raceday-2026-11-20.html" and markdown_path.suffix == ".md"
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_day_without_settled_races_still_renders(tmp_path: Path) -> None:
    """Empty history, rolling and calibration: every figure says so instead of failing."""
    empty = pd.DataFrame()
    inputs = report_inputs(
        tmp_path,
        daily_history=pd.DataFrame(columns=["perf_date", "bankroll_yen"]),
        rolling=empty,
        rolling_history=empty,
        calibration=empty,
    )
    page = render_html(inputs)
    for name in FIGURES:
        assert f'data-figure="{name}"' in page
    assert "no rolling history yet" in page and "no settled races yet" in page
    assert date(2026, 11, 20).isoformat() in page


def test_bets_still_open_are_named_beside_the_settled_figures(tmp_path: Path) -> None:
    """The day's figures count settled bets only; bets whose races have no result stored yet
    are said beside them (the run's summary counts them, the report said nothing of them)."""
    bets = pd.DataFrame(
        {
            "stake_yen": [1000, 2500, 3900, 700],
            "settled": pd.array([True, False, False, None], dtype="boolean"),
        }
    )
    still_open = open_bets(bets)
    assert still_open["stake_yen"].tolist() == [2500, 3900, 700]
    assert open_bets(bets.iloc[0:0]).empty and open_bets(pd.DataFrame()).empty
    figures = dict(summary_figures(report_inputs(tmp_path, open_bets=3, open_staked_yen=7100)))
    assert figures["bets"].endswith(
        " settled; 3 more open (7,100 yen staked), not in these figures: their races' results "
        "are not stored yet"
    )
    assert "open" not in dict(summary_figures(report_inputs(tmp_path)))["bets"]
    inputs = report_inputs(tmp_path, open_bets=3, open_staked_yen=7100)
    assert "3 more open (7,100 yen staked)" in render_html(inputs)
    assert "3 more open (7,100 yen staked)" in render_markdown(inputs)
