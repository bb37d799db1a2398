"""The daily report as one self-contained HTML page (inline SVG figures), and both report
files written; the tables and the Markdown twin come from :mod:`raceday.monitoring.report`."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from raceday.model.calibration import calibration_table
from raceday.monitoring.report import (
    ReportInputs,
    alert_rows,
    cell,
    quarantine_summary,
    render_markdown,
    rolling_status,
    run_timings,
    summary_figures,
    top_runners_view,
    venue_table,
)
from raceday.monitoring.rules import hit_rate_limits
from raceday.pipeline import FINAL_ODDS_SNAPSHOT

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Yu Gothic",
  Meiryo, "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAPGothic", "IPAGothic", sans-serif;
  margin: 1.5rem auto; max-width: 1100px; color: #1d1d1f; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
  border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.meta { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 0.2rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f5f7; }
.alert-critical { color: #8b0000; font-weight: 600; } .alert-warning { color: #8a5a00; }
.ALERT { color: #b22222; font-weight: 600; } .ok { color: #1b7f3b; }
figure { margin: 0.8rem 0; } figure svg { max-width: 100%; height: auto; }
.scroll { max-height: 32rem; overflow: auto; }
.note { background: #fff8e1; padding: 0.5rem 0.8rem; border-left: 3px solid #e0a800; }
"""


def _html_table(
    frame: pd.DataFrame,
    *,
    ja_columns: tuple[str, ...] = (),
    percent: tuple[str, ...] = (),
    yen: tuple[str, ...] = (),
    odds: tuple[str, ...] = (),
    css_class: str = "",
) -> str:
    if frame.empty:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            missing = value is None or (not isinstance(value, str) and pd.isna(value))
            if column in percent and not missing:
                text, numeric = f"{float(value):.1%}", True
            elif column in yen and not missing:
                text, numeric = f"{int(value):,}", True
            elif column in odds and not missing:
                text, numeric = f"{float(value):.1f}", True
            else:
                text = cell(value)
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
            attributes = ' lang="ja"' if column in ja_columns else ""
            if numeric:
                attributes += ' class="n"'
            elif column == "status" and text in {"ok", "ALERT"}:
                attributes += f' class="{text}"'
            elif column == "severity":
                attributes += f' class="alert-{html.escape(text)}"'
            cells.append(f"<td{attributes}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f'<div class="{css_class}">{table}</div>' if css_class else table


def _figure(svg: str, caption: str, *, japanese: bool = False) -> str:
    lang = ' lang="ja"' if japanese else ""
    return f"<figure{lang}>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _calibration_tables(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    tables = []
    for source in ("final", "market"):
        rows = counts[counts["source"] == source] if not counts.empty else counts
        tables.append(calibration_table(rows))
    return tables[0], tables[1]


def _data_quality(inputs: ReportInputs) -> str:
    validation = (
        inputs.validation[
            [
                "suite",
                "success",
                "rows_evaluated",
                "rows_failed",
                "expectations",
                "expectations_failed",
            ]
        ]
        if not inputs.validation.empty
        else inputs.validation
    )
    docs = inputs.data_docs.resolve()
    link = (
        f'<p>Great Expectations Data Docs: <a href="{html.escape(docs.as_uri())}">'
        f"{html.escape(str(docs))}</a></p>"
        if inputs.data_docs_exists
        else f"<p>Great Expectations Data Docs: not built yet (expected at "
        f"<code>{html.escape(str(docs))}</code>).</p>"
    )
    return (
        "<h2>Data quality</h2>"
        + link
        + "<h3>Validation suites</h3>"
        + _html_table(validation)
        + "<h3>Quarantine by check</h3>"
        + _html_table(quarantine_summary(inputs.quarantine))
    )


def render_html(inputs: ReportInputs) -> str:
    """The whole daily report as one self-contained HTML page."""
    # matplotlib loads only when a page is drawn, not wherever reports are merely imported.
    from raceday.monitoring.plots import bankroll_svg, calibration_svg, rolling_svg, venues_svg

    day = inputs.race_date
    limits = inputs.thresholds
    summary = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in summary_figures(inputs)
    )
    final_odds_note = (
        '<p class="note">Bets were sized on <b>final</b> odds (no bet-time snapshot in the '
        "source): a backtest on final odds is optimistic.</p>"
        if inputs.odds_source == FINAL_ODDS_SNAPSHOT
        else ""
    )
    venues = venue_table(inputs.performance, inputs.venue_names)
    final_table, market_table = _calibration_tables(inputs.calibration)
    calibration_rows = pd.concat(
        [final_table.assign(source="p_final"), market_table.assign(source="market")],
        ignore_index=True,
    )
    calibration_view = (
        calibration_rows[
            ["source", "bin_lower", "bin_upper", "runners", "mean_p", "win_rate", "wins"]
        ]
        if not calibration_rows.empty
        else calibration_rows
    )
    sections = [
        f"<h1>raceday daily report — {day}</h1>",
        f'<p class="meta">generated {inputs.generated_at:%Y-%m-%d %H:%M:%S} · '
        f"{html.escape(inputs.racing or 'horse racing')} · paper ledger</p>",
        final_odds_note,
        "<h2>Summary</h2>",
        f'<table class="summary">{summary}</table>',
        "<h2>Alerts</h2>",
        _html_table(alert_rows(inputs.alerts)),
        "<h2>Bankroll</h2>",
        _figure(
            bankroll_svg(
                inputs.daily_history[["perf_date", "bankroll_yen"]]
                if not inputs.daily_history.empty
                else pd.DataFrame(columns=["perf_date", "bankroll_yen"]),
                inputs.initial_bankroll_yen,
                day,
            ),
            "Bankroll at the end of each settled day; shaded: drawdown from the peak.",
        ),
        "<h2>Rolling metrics against their limits</h2>",
        _html_table(rolling_status(inputs.rolling, limits)),
        _figure(
            rolling_svg(
                inputs.rolling_history,
                limits.rolling_span,
                limits.log_loss_margin,
                hit_rate_limits(inputs.rolling_history, limits),
            ),
            f"Judged over the last {limits.rolling_span}: alerts fire when the gap is above "
            f"the dashed line or the hit rate below it (with at least {limits.min_scored_races} "
            "settled races).",
        ),
        "<h2>Calibration</h2>",
        _figure(
            calibration_svg(final_table, market_table, inputs.calibration_label),
            "Observed win rate against the mean predicted probability per bin, ±2 standard "
            "errors; on the dashed line is perfectly calibrated.",
        ),
        _html_table(calibration_view, percent=("mean_p", "win_rate")),
        "<h2>Venues</h2>",
        _figure(
            venues_svg(venues), "Races predicted and top-pick hit rate per venue.", japanese=True
        ),
        _html_table(
            venues,
            ja_columns=("venue",),
            percent=("roi", "hit_rate", "top3_rate"),
            yen=("staked_yen", "returned_yen"),
        ),
        "<h2>Races and results</h2>",
        _html_table(
            inputs.races.drop(columns=["race_id"], errors="ignore"),
            ja_columns=("venue", "top_pick_horse", "winner_horse"),
            percent=("top_pick_p", "p_winner", "p_market_winner"),
            yen=("staked_yen", "returned_yen"),
            odds=("winner_odds",),
            css_class="scroll",
        ),
        "<h2>Top runners by composite index</h2>",
        _html_table(
            top_runners_view(inputs.top_runners, inputs.venue_names),
            ja_columns=("venue", "horse_name"),
            css_class="scroll",
        ),
        "<h2>Bets</h2>",
        _html_table(
            inputs.bets,
            ja_columns=("venue", "horse"),
            percent=("p_final",),
            yen=("stake_yen", "payout_yen", "refund_yen"),
            odds=("odds_at_bet", "final_odds"),
            css_class="scroll",
        ),
        _data_quality(inputs),
        "<h2>Run timings</h2>",
        _html_table(run_timings(inputs.runs, limits.run_budgets_s)),
    ]
    body = "\n".join(section for section in sections if section)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>raceday {day}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_report_files(inputs: ReportInputs, reports_dir: Path) -> tuple[Path, Path]:
    """Write ``raceday-YYYY-MM-DD.html`` and ``.md`` into ``reports_dir``; returns both paths."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = reports_dir / f"raceday-{inputs.race_date:%Y-%m-%d}"
    html_path, markdown_path = stem.with_suffix(".html"), stem.with_suffix(".md")
    html_path.write_text(render_html(inputs), encoding="utf-8")
    markdown_path.write_text(render_markdown(inputs), encoding="utf-8")
    return html_path, markdown_path
