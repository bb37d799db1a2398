"""The daily report's figures as inline SVG (matplotlib, no pyplot: no global state).

Text stays text (``svg.fonttype = "none"``): the browser draws venue names with its own
Japanese fonts, so no CJK font is needed where the report is made. The font-family list below
names common Japanese fonts for the browser; matplotlib only uses it to measure text.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Final

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

FONT_FAMILIES: Final = [
    # Latin text in a proportional face first; then Japanese faces (Mac, Windows, Linux) for
    # the browser's per-glyph fallback. IPAGothic last: it is monospaced.
    "DejaVu Sans", "Helvetica Neue", "Arial", "Hiragino Sans", "Hiragino Kaku Gothic ProN",
    "Yu Gothic", "Meiryo", "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAPGothic",
    "IPAGothic",
]  # fmt: skip
COLOURS: Final = {"ours": "#1f5fa8", "market": "#c8691c", "limit": "#b22222", "grid": "#d9d9d9"}
_XML_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


@contextmanager
def _svg_style(name: str) -> Iterator[None]:
    settings: dict[Any, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": f"raceday-{name}",  # stable ids, distinct per figure on one page
        "font.family": "sans-serif",
        "font.sans-serif": FONT_FAMILIES,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": COLOURS["grid"],
        "grid.linewidth": 0.6,
    }
    with matplotlib.rc_context(settings), warnings.catch_warnings():
        # Measuring Japanese text without a local CJK font warns; the browser draws it.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        yield


def _to_svg(figure: Figure, name: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _METADATA.sub("", _XML_PROLOGUE.sub("", buffer.getvalue(), count=1), count=1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" data-figure="{name}" ', 1)


def _figure(width: float, height: float, *, left: float, bottom: float) -> Figure:
    # Fixed margins: a tight or constrained layout draws every figure twice.
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=left, bottom=bottom, right=0.97, top=1 - 0.35 / height)
    return figure


def _date_axis(axes: Axes, dates: pd.Series) -> None:
    """Few, concise date ticks; at least a week shown so one day is not spread over hours."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    first, last = dates.min(), dates.max()
    if last - first < pd.Timedelta(days=7):
        axes.set_xlim(last - pd.Timedelta(days=7), last + pd.Timedelta(days=1))


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#666")
    axes.set_xticks([])
    axes.set_yticks([])


def bankroll_svg(curve: pd.DataFrame, initial_yen: int, race_date: date) -> str:
    """Bankroll by day (``perf_date``, ``bankroll_yen``) with its running peak."""
    with _svg_style("bankroll"):
        figure = _figure(7.5, 2.8, left=0.1, bottom=0.14)
        axes = figure.subplots()
        if curve.empty:
            _empty(axes, "no settled days yet")
        else:
            dates = pd.to_datetime(curve["perf_date"])
            bankroll = curve["bankroll_yen"].astype("float64") / 1e4
            peak = bankroll.cummax().clip(lower=initial_yen / 1e4)
            axes.plot(dates, bankroll, color=COLOURS["ours"], lw=1.6, marker=".", label="bankroll")
            axes.plot(dates, peak, color="#888", lw=0.8, ls="--", label="peak")
            axes.axhline(initial_yen / 1e4, color="#444", lw=0.6, ls=":", label="initial")
            axes.fill_between(dates, bankroll, peak, color=COLOURS["limit"], alpha=0.12)
            axes.axvline(pd.Timestamp(race_date), color="#444", lw=0.6)
            axes.set_ylabel("bankroll (10,000 yen)")
            axes.legend(loc="best", frameon=False, fontsize=8)
            _date_axis(axes, dates)
        axes.set_title("Bankroll (paper ledger)", loc="left")
        return _to_svg(figure, "bankroll")


def calibration_svg(final: pd.DataFrame, market: pd.DataFrame, label: str) -> str:
    """Observed win rate against mean predicted p per bin, ours and the market's, ±2 s.e."""
    with _svg_style("calibration"):
        figure = _figure(4.6, 4.2, left=0.14, bottom=0.12)
        axes = figure.subplots()
        if final.empty and market.empty:
            _empty(axes, "no settled races yet")
        else:
            observed = pd.concat([final, market])[["mean_p", "win_rate"]].max()
            top = min(1.0, float(max(observed.max(), 0.1)) * 1.1)
            axes.plot([0, top], [0, top], color="#888", lw=0.8, ls="--", label="perfect")
            for table, colour, name, shift in (
                (market, COLOURS["market"], "market", 0.003),
                (final, COLOURS["ours"], "p_final", 0.0),
            ):
                if table.empty:
                    continue
                axes.errorbar(
                    table["mean_p"] + shift,
                    table["win_rate"],
                    yerr=2 * table["stderr"],
                    fmt="o",
                    ms=4,
                    lw=0.9,
                    capsize=2,
                    color=colour,
                    label=name,
                )
            axes.set_xlim(0, top)
            axes.set_ylim(0, top)
            axes.set_xlabel("predicted win probability (bin mean)")
            axes.set_ylabel("observed win rate")
            axes.legend(loc="upper left", frameon=False, fontsize=8)
        axes.set_title(f"Calibration ({label})", loc="left")
        return _to_svg(figure, "calibration")


def rolling_svg(history: pd.DataFrame, span: str, margin: float, floors: pd.Series) -> str:
    """The rolling rules' metrics by day with their thresholds: log-loss gap and hit rate
    (``floors``: each row's hit-rate floor, by ``history``'s index; NaN where none)."""
    with _svg_style("rolling"):
        figure = _figure(7.5, 3.6, left=0.1, bottom=0.1)
        gap_axes, hit_axes = figure.subplots(2, 1, sharex=True)
        rows = history[history["span"] == span] if not history.empty else history
        if rows.empty:
            _empty(gap_axes, "no rolling history yet")
            _empty(hit_axes, "")
        else:
            dates = pd.to_datetime(rows["perf_date"])
            gap = rows["log_loss"].astype("float64") - rows["market_log_loss"].astype("float64")
            gap_axes.plot(dates, gap, color=COLOURS["ours"], lw=1.4, marker=".", label="gap")
            gap_axes.axhline(margin, color=COLOURS["limit"], lw=1, ls="--", label="alert above")
            gap_axes.axhline(0, color="#444", lw=0.6)
            gap_axes.set_ylabel("log loss − market")
            gap_axes.legend(loc="upper left", frameon=False, fontsize=8)
            hit = rows["hit_rate"].astype("float64")
            hit_axes.plot(dates, hit, color=COLOURS["ours"], lw=1.4, marker=".", label="hit rate")
            floor = floors.reindex(rows.index).astype("float64")
            hit_axes.plot(dates, floor, color=COLOURS["limit"], lw=1, ls="--", label="alert below")
            hit_axes.set_ylim(0, max(0.7, float(hit.max()) + 0.05))
            hit_axes.set_ylabel("top-pick hit rate")
            hit_axes.legend(loc="lower left", frameon=False, fontsize=8)
            _date_axis(hit_axes, dates)
        gap_axes.set_title(f"Rolling metrics over the last {span} against their limits", loc="left")
        return _to_svg(figure, "rolling")


def venues_svg(per_venue: pd.DataFrame) -> str:
    """Races and top-pick hit rate per venue (``venue`` labels in Japanese)."""
    with _svg_style("venues"):
        height = 0.9 + 0.32 * max(len(per_venue), 1)
        figure = _figure(7.5, height, left=0.1, bottom=0.5 / height)
        axes = figure.subplots()
        if per_venue.empty:
            _empty(axes, "no venues raced")
        else:
            ordered = per_venue.iloc[::-1]
            labels = ordered["venue"].astype(str).tolist()
            bars = axes.barh(labels, ordered["races"].astype("float64"), color=COLOURS["ours"])
            for bar, hit in zip(bars, ordered["hit_rate"], strict=True):
                text = "–" if pd.isna(hit) else f"hit {float(hit):.0%}"
                axes.annotate(
                    text,
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
            axes.set_xlabel("races predicted")
            axes.grid(axis="y", visible=False)
        axes.set_title("Venues", loc="left")
        return _to_svg(figure, "venues")
