"""The boat day's report (``var/reports/boat-YYYY-MM-DD.md`` and ``.html``): what the day
predicted, staked and returned, judged against the market and the lane prior, per venue, with
the day's bets and each race's most likely exacta and trifecta. Pure functions of frames: the
``boat-report`` stage reads them and writes the files.

Every figure is one the day's summary or the stored tables hold; log loss is the winner's
(lower is better), never an "accuracy" (always picking course 1 is right about 55% of the time).
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from raceday.boat.codes import VENUE_NAMES
from raceday.boat.files import venue_codes_of

SUMMARY_ROWS = (
    ("races", "races"), ("boats", "boats"), ("quarantined", "rows quarantined"),
    ("races_left_out", "races left out"), ("bets", "bets"), ("staked_yen", "staked (yen)"),
    ("returned_yen", "returned (yen)"), ("bankroll_yen", "bankroll, settled (yen)"),
    ("open_bets", "bets still open"), ("open_stakes_yen", "stakes still open (yen)"),
    ("races_unpriced", "races not bet: missing odds"), ("log_loss", "log loss, blend"),
    ("model_log_loss", "log loss, model"), ("market_log_loss", "log loss, market (09:00)"),
    ("prior_log_loss", "log loss, lane prior"), ("uniform_log_loss", "log loss, uniform 1/6"),
    ("pseudo_r2", "pseudo-R² of the blend"), ("model_version", "model"),
    ("model_source", "model source"),
)  # fmt: skip
TOP_EXOTICS = 3  # combinations per race and bet type in the report


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4f}"
    return str(value)


def venue_table(predictions: pd.DataFrame, settled: pd.DataFrame) -> pd.DataFrame:
    """Per venue: races, bets, staked, returned and profit (yen); venues by code."""
    if predictions.empty:
        return pd.DataFrame(columns=["venue", "races", "bets", "staked", "returned", "profit"])
    by_venue = predictions.assign(code=venue_codes_of(predictions["race_id"]))
    races = by_venue.groupby("code")["race_id"].nunique()
    money = pd.DataFrame(index=races.index, data={"bets": 0, "staked": 0, "returned": 0})
    if len(settled):
        bets = settled.assign(
            code=venue_codes_of(settled["race_id"]),
            back=settled["payout_yen"].fillna(0) + settled["refund_yen"].fillna(0),
        ).groupby("code")
        money["bets"] = bets.size().reindex(races.index, fill_value=0)
        money["staked"] = bets["stake_yen"].sum().reindex(races.index, fill_value=0)
        money["returned"] = bets["back"].sum().reindex(races.index, fill_value=0)
    table = money.assign(races=races, profit=money["returned"] - money["staked"])
    table.insert(0, "venue", [f"{code} {VENUE_NAMES.get(code, '?')}" for code in table.index])
    columns = ["venue", "races", "bets", "staked", "returned", "profit"]
    return table.reset_index(drop=True)[columns].astype({name: "int64" for name in columns[1:]})


def bet_table(settled: pd.DataFrame) -> pd.DataFrame:
    """The day's bets in race order: race, boat, probability, odds, stake, outcome, return."""
    columns = ["race_id", "boat", "p_final", "odds_at_bet", "stake_yen", "outcome", "returned"]
    if settled.empty:
        return pd.DataFrame(columns=columns)
    returned = settled["payout_yen"].fillna(0) + settled["refund_yen"].fillna(0)
    table = settled.assign(returned=returned.astype("int64"))
    return table.sort_values(["race_id", "boat"])[columns].reset_index(drop=True)


def exotics_table(exotics: pd.DataFrame, top: int = TOP_EXOTICS) -> pd.DataFrame:
    """Each race's ``top`` most likely exacta and trifecta (Harville on the blend)."""
    columns = ["race_id", "bet_type", "rank", "combination", "probability"]
    if exotics.empty:
        return pd.DataFrame(columns=columns)
    kept = exotics[exotics["rank"] <= top]
    return kept.sort_values(["race_id", "bet_type", "rank"])[columns].reset_index(drop=True)


def alerts_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The day's alerts (rule, severity, message), then its warnings (severity ``note``)."""
    rows = [
        {
            "rule": alert.get("rule"),
            "severity": alert.get("severity"),
            "message": alert.get("message"),
        }
        for alert in summary.get("alerts", [])
    ] + [
        {"rule": "", "severity": "note", "message": warning}
        for warning in summary.get("warnings", [])
    ]
    return pd.DataFrame(rows, columns=["rule", "severity", "message"])


def _sections(
    summary: dict[str, Any], venues: pd.DataFrame, bets: pd.DataFrame, exotics: pd.DataFrame
) -> list[tuple[str, pd.DataFrame]]:
    return [
        ("Alerts and warnings", alerts_table(summary)),
        ("By venue", venues),
        ("Bets", bets),
        ("Exacta and trifecta", exotics),
    ]


def report_markdown(
    day: date, summary: dict[str, Any], venues: pd.DataFrame, bets: pd.DataFrame,
    exotics: pd.DataFrame,
) -> str:  # fmt: skip
    """The report as Markdown."""
    lines = [f"# raceday boat {day.isoformat()} — {summary.get('status', '?')}", ""]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {label} | {_shown(summary.get(key))} |" for key, label in SUMMARY_ROWS]
    for title, frame in _sections(summary, venues, bets, exotics):
        lines += ["", f"## {title}", ""]
        lines += [_markdown_table(frame)] if len(frame) else ["(none)"]
    return "\n".join(lines) + "\n"


def _markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(_shown(value) for value in row) + " |" for row in frame.itertuples(
        index=False
    )]  # fmt: skip
    return "\n".join([header, rule, *rows])


def report_html(
    day: date, summary: dict[str, Any], venues: pd.DataFrame, bets: pd.DataFrame,
    exotics: pd.DataFrame,
) -> str:  # fmt: skip
    """The report as one self-contained HTML page (no script, nothing fetched)."""
    title = f"raceday boat {day.isoformat()} — {summary.get('status', '?')}"
    figures = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(_shown(summary.get(key)))}</td></tr>"
        for key, label in SUMMARY_ROWS
    )
    sections = "".join(
        f"<h2>{escape(name)}</h2>" + (_html_table(frame) if len(frame) else "<p>(none)</p>")
        for name, frame in _sections(summary, venues, bets, exotics)
    )
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border-bottom:1px solid #ddd;"
        "padding:.25em .7em;text-align:left}</style></head><body>"
        f"<h1>{escape(title)}</h1><table>{figures}</table>{sections}</body></html>\n"
    )


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(column))}</th>" for column in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_shown(value))}</td>" for value in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
