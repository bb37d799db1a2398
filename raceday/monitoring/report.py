"""The daily report: one self-contained HTML page (inline SVG figures) and its Markdown twin.

Both are rendered from ``ReportInputs`` (read from the store by the caller), so the report a
settle run writes and the one ``raceday report --date D`` writes later are the same page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final

import pandas as pd

from raceday.monitoring.performance import ALL_SCOPE
from raceday.monitoring.rules import Thresholds, hit_rate_limit
from raceday.pipeline import FINAL_ODDS_SNAPSHOT
from raceday.sport import Circuit, racing_label
from raceday.staking.ledger import open_bets
from raceday.store.catalogs.monitoring import ReportDay

NA: Final = "–"


@dataclass(frozen=True)
class ReportInputs:
    """What the daily report shows, already read from the store."""

    race_date: date
    performance: pd.DataFrame  # performance rows of the day (scope all + one per venue)
    daily_history: pd.DataFrame  # scope-all performance rows up to the day (bankroll curve)
    rolling: pd.DataFrame  # rolling rows of the day, one per span
    rolling_history: pd.DataFrame  # rolling rows of the previous weeks (the trend figure)
    calibration: pd.DataFrame  # calibration counts (source, bins) over the calibration window
    calibration_label: str
    races: pd.DataFrame  # one row per predicted race (see ``race_table``)
    bets: pd.DataFrame  # the day's bets with venue, race and horse (see ``bet_table``)
    validation: pd.DataFrame  # validation_results of the day
    quarantine: pd.DataFrame  # quarantine rows of the day
    runs: pd.DataFrame  # pipeline_runs rows of the day
    alerts: pd.DataFrame  # alerts about the day
    thresholds: Thresholds
    venue_names: dict[str, str]
    initial_bankroll_yen: int
    data_docs: Path
    data_docs_exists: bool
    odds_source: str = "snapshot"
    top_runners: pd.DataFrame = field(default_factory=pd.DataFrame)  # see top_runners_by_composite
    generated_at: datetime = field(default_factory=datetime.now)
    racing: str = ""  # what the day's venues race (``sport.racing_label``): the heading
    open_bets: int = 0  # the day's bets not settled yet (their races' results not stored)
    open_staked_yen: int = 0  # what they staked


# --- pure tables -----------------------------------------------------------------------------


def race_table(
    scores: pd.DataFrame,
    races: pd.DataFrame,
    runners: pd.DataFrame,
    venue_names: dict[str, str],
) -> pd.DataFrame:
    """Per predicted race: the top pick and how it ran, the winner, the stakes and returns."""
    names = runners.set_index(["race_id", "umaban"])["horse_name"]
    odds = runners.set_index(["race_id", "umaban"])["win_odds"]
    race_info = races.set_index("race_id")
    frame = scores.set_index("race_id")

    def horse(column: str) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([frame.index, frame[column].astype("Int64")])
        return pd.Series(names.reindex(keys).to_numpy(), index=frame.index)

    winner_keys = pd.MultiIndex.from_arrays([frame.index, frame["winner_umaban"].astype("Int64")])
    table = pd.DataFrame(
        {
            "post": race_info["post_time"].reindex(frame.index),
            "venue": frame["keibajo_code"].map(venue_names).fillna(frame["keibajo_code"]),
            "race": race_info["race_bango"].reindex(frame.index).astype("Int64"),
            "runners": frame["priced_runners"].astype("Int64"),
            "top_pick": frame["top_pick_umaban"].astype("Int64"),
            "top_pick_horse": horse("top_pick_umaban"),
            "top_pick_p": frame["top_pick_p"].astype("float64"),
            "top_pick_finish": frame["top_pick_finish"].astype("Int64"),
            "winner": frame["winner_umaban"].astype("Int64"),
            "winner_horse": horse("winner_umaban"),
            "winner_odds": pd.Series(odds.reindex(winner_keys).to_numpy(), index=frame.index),
            "p_winner": frame["p_final_winner"].astype("float64"),
            "p_market_winner": frame["p_market_winner"].astype("float64"),
            "bets": frame["bets"].astype("Int64"),
            "staked_yen": frame["staked_yen"].astype("Int64"),
            "returned_yen": frame["returned_yen"].astype("Int64"),
        }
    )
    return table.sort_values(["post", "venue", "race"]).reset_index()


def bet_table(
    bets: pd.DataFrame, races: pd.DataFrame, runners: pd.DataFrame, venue_names: dict[str, str]
) -> pd.DataFrame:
    """The day's bets with their venue, race and horse, in venue, race and horse number order."""
    columns = [
        "venue", "race", "umaban", "horse", "p_final", "odds_at_bet", "edge", "stake_yen",
        "final_odds", "payout_yen", "refund_yen",
    ]  # fmt: skip
    if bets.empty:
        return pd.DataFrame(columns=columns)
    view = bets.merge(races[["race_id", "keibajo_code", "race_bango"]], on="race_id", how="left")
    view = view.merge(
        runners[["race_id", "umaban", "horse_name"]], on=["race_id", "umaban"], how="left"
    )
    return (
        view.assign(
            venue=view["keibajo_code"].map(venue_names).fillna(view["keibajo_code"]),
            race=view["race_bango"],
            horse=view["horse_name"],
        )
        .sort_values(["venue", "race", "umaban"])[columns]
        .reset_index(drop=True)
    )


def _value(row: pd.Series | None, column: str) -> float | None:
    if row is None or column not in row.index or pd.isna(row[column]):
        return None
    return float(row[column])


def _pct(value: float | None) -> str:
    return NA if value is None or not math.isfinite(value) else f"{value:.1%}"


def _num(value: float | None, digits: int = 4) -> str:
    return NA if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _signed_pct(value: float | None) -> str:
    return NA if value is None or not math.isfinite(value) else f"{value:+.1%}"


def _gap(row: pd.Series | None) -> float | None:
    ours, market = _value(row, "log_loss"), _value(row, "market_log_loss")
    return None if ours is None or market is None else ours - market


_ROLLING_METRICS: Final[tuple[tuple[str, Callable[[pd.Series | None], str]], ...]] = (
    ("settled races", lambda row: _num(_value(row, "scored_races"), 0)),
    ("log loss (p_final)", lambda row: _num(_value(row, "log_loss"))),
    ("log loss (market)", lambda row: _num(_value(row, "market_log_loss"))),
    ("log loss − market", lambda row: _num(_gap(row))),
    ("pseudo-R² (p_final)", lambda row: _num(_value(row, "pseudo_r2"))),
    ("pseudo-R² (market)", lambda row: _num(_value(row, "market_pseudo_r2"))),
    ("top-pick hit rate", lambda row: _pct(_value(row, "hit_rate"))),
    ("top-pick top-3 rate", lambda row: _pct(_value(row, "top3_rate"))),
    ("ROI", lambda row: _signed_pct(_value(row, "roi"))),
    ("max drawdown", lambda row: _pct(_value(row, "max_drawdown"))),
    ("races set aside", lambda row: _pct(_value(row, "quarantine_rate"))),
)


def _limit_and_verdict(
    metric: str, judged: pd.Series | None, limits: Thresholds
) -> tuple[str, bool | None]:
    """The limit shown beside a rolling metric and whether the judged span is within it."""
    if metric == "log loss − market":
        gap = _gap(judged)
        within = None if gap is None else gap <= limits.log_loss_margin
        return f"≤ {limits.log_loss_margin}", within
    if metric == "top-pick hit rate":
        hit = _value(judged, "hit_rate")
        expected = _value(judged, "expected_hit_rate")
        floor = hit_rate_limit(expected, _value(judged, "scored_races") or 0, limits)
        if floor is None:
            return NA, None
        verdict = None if hit is None else hit >= floor
        if limits.hit_rate_floor is None and expected is not None:
            return f"≥ {floor:.1%} (expected {expected:.1%})", verdict
        return f"≥ {floor:.0%}", verdict
    if metric == "max drawdown":
        return f"warn {limits.drawdown_warning:.0%}, brake {limits.drawdown_brake:.0%}", None
    if metric == "races set aside":
        return f"≤ {limits.quarantine_rate_limit:.0%} a day", None
    return NA, None


def rolling_status(rolling: pd.DataFrame, limits: Thresholds) -> pd.DataFrame:
    """Rolling metrics per span beside their limits, judged on the monitored span.

    Drawdown and the races set aside are judged day by day (see the alerts), not here.
    """
    spans = list(rolling["span"]) if not rolling.empty else []
    by_span = {span: rolling[rolling["span"] == span].iloc[0] for span in spans}
    judged = by_span.get(limits.rolling_span)
    enough = (_value(judged, "scored_races") or 0) >= limits.min_scored_races
    rows = []
    for metric, render in _ROLLING_METRICS:
        limit, verdict = _limit_and_verdict(metric, judged, limits)
        if verdict is None:
            status = ""
        elif not enough:
            status = f"too few races (< {limits.min_scored_races})"
        else:
            status = "ok" if verdict else "ALERT"
        rows.append(
            {
                "metric": metric,
                **{span: render(by_span[span]) for span in spans},
                "limit": limit,
                "status": status,
            }
        )
    return pd.DataFrame(rows)


def _open_bets_note(inputs: ReportInputs) -> str:
    """The bets left out of the day's figures, which count settled bets only: their races'
    results not stored yet (they settle when they are)."""
    if not inputs.open_bets:
        return ""
    return (
        f" settled; {inputs.open_bets} more open ({inputs.open_staked_yen:,} yen staked), not in "
        "these figures: their races' results are not stored yet"
    )


def summary_figures(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The day's headline figures as (label, value) pairs."""
    day = _overall(inputs.performance)
    staked = _value(day, "staked_yen") or 0
    returned = _value(day, "returned_yen") or 0
    race_count = int(_value(day, "races") or 0)
    offered = int(_value(day, "races_offered") or 0)
    return [
        ("races predicted", f"{race_count} of {offered} offered"),
        ("runners priced", f"{int(_value(day, 'runners') or 0):,}"),
        (
            "races set aside by validation",
            f"{int(_value(day, 'races_quarantined') or 0)} "
            f"({_pct(_value(day, 'quarantine_rate'))}); "
            f"{int(_value(day, 'quarantined') or 0)} rows quarantined",
        ),
        ("bets", f"{int(_value(day, 'bets') or 0)}{_open_bets_note(inputs)}"),
        ("turnover (staked)", f"{int(staked):,} yen"),
        ("returned", f"{int(returned):,} yen"),
        ("ROI", _signed_pct(_value(day, "roi"))),
        ("bankroll", f"{int(_value(day, 'bankroll_yen') or 0):,} yen"),
        ("drawdown from peak", _pct(_value(day, "drawdown"))),
        (
            "top-pick hit rate / top-3 rate",
            f"{_pct(_value(day, 'hit_rate'))} / {_pct(_value(day, 'top3_rate'))}",
        ),
        (
            "log loss (p_final / market)",
            f"{_num(_value(day, 'log_loss'))} / {_num(_value(day, 'market_log_loss'))}",
        ),
        (
            "pseudo-R² (p_final / market)",
            f"{_num(_value(day, 'pseudo_r2'))} / {_num(_value(day, 'market_pseudo_r2'))}",
        ),
        ("calibration error (p_final, the day)", _num(_value(day, "calibration_error"))),
        ("model", str(day["model_version"]) if day is not None else NA),
        ("stage time", f"{_num(_value(day, 'run_seconds'), 1)} s"),
    ]


def _overall(performance: pd.DataFrame) -> pd.Series | None:
    rows = performance[performance["scope"] == ALL_SCOPE] if not performance.empty else None
    return None if rows is None or rows.empty else rows.iloc[0]


def venue_table(performance: pd.DataFrame, venue_names: dict[str, str]) -> pd.DataFrame:
    """Per-venue performance rows with the venue's Japanese name."""
    venues = performance[performance["scope"] != ALL_SCOPE]
    return pd.DataFrame(
        {
            "venue": venues["scope"].map(venue_names).fillna(venues["scope"]),
            "code": venues["scope"],
            "races": venues["races"].astype("Int64"),
            "set_aside": venues["races_quarantined"].astype("Int64"),
            "bets": venues["bets"].astype("Int64"),
            "staked_yen": venues["staked_yen"].astype("Int64"),
            "returned_yen": venues["returned_yen"].astype("Int64"),
            "roi": venues["roi"].astype("float64"),
            "hit_rate": venues["hit_rate"].astype("float64"),
            "top3_rate": venues["top3_rate"].astype("float64"),
            "log_loss": venues["log_loss"].astype("float64"),
            "market_log_loss": venues["market_log_loss"].astype("float64"),
        }
    ).reset_index(drop=True)


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per stage, table and failed check."""
    if quarantine.empty:
        return pd.DataFrame(columns=["stage", "table_name", "check_name", "rows", "races"])
    return (
        quarantine.groupby(["stage", "table_name", "check_name"])
        .agg(rows=("check_name", "size"), races=("race_id", "nunique"))
        .reset_index()
    )


def run_timings(runs: pd.DataFrame, budgets: dict[str, float]) -> pd.DataFrame:
    """Each stage's latest run of the day, then each flow's total against its budget."""
    if runs.empty:
        return pd.DataFrame(columns=["flow", "stage", "status", "seconds", "rows_out", "attempts"])
    ordered = runs.sort_values("started_at")
    stages = pd.DataFrame(
        {
            "flow": ordered["flow_name"],
            "stage": ordered["stage"],
            "status": ordered["status"],
            "seconds": ordered["duration_s"].astype("float64").round(2),
            "rows_out": ordered["rows_out"].astype("Int64"),
            "attempts": ordered["attempts"].astype("Int64"),
        }
    )
    totals = ordered.groupby("flow_name", sort=False)["duration_s"].sum()
    total_rows = pd.DataFrame(
        {
            "flow": totals.index,
            "stage": [
                f"total (budget {budgets[name]:.0f} s)" if name in budgets else "total"
                for name in totals.index
            ],
            "status": [
                "over budget" if name in budgets and seconds > budgets[name] else "ok"
                for name, seconds in totals.items()
            ],
            "seconds": totals.round(2).to_numpy(),
            "rows_out": pd.array([pd.NA] * len(totals), dtype="Int64"),
            "attempts": pd.array([pd.NA] * len(totals), dtype="Int64"),
        }
    )
    return pd.concat([stages, total_rows], ignore_index=True)


# --- Markdown ---------------------------------------------------------------------------------


def cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NA
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (missing values as an en dash)."""
    header = "| " + " | ".join(str(column) for column in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(cell(value) for value in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


TOP_RUNNER_COLUMNS = [
    "race_id", "keibajo_code", "race_bango", "rank", "umaban", "horse_name", "composite_index",
    "speed_index", "ten_index", "agari_index", "finish_pos",
]  # fmt: skip


def top_runners_by_composite(
    indexes: pd.DataFrame, runners: pd.DataFrame, races: pd.DataFrame, per_race: int = 3
) -> pd.DataFrame:
    """Each race's ``per_race`` runners with the highest composite index (rank 1 = highest)."""
    frame = indexes[indexes["composite_index"].notna()].merge(
        runners[["race_id", "umaban", "horse_name", "finish_pos"]],
        on=["race_id", "umaban"],
        how="left",
    )
    frame = frame.merge(races[["race_id", "keibajo_code", "race_bango"]], on="race_id")
    frame = frame.sort_values(
        ["race_id", "composite_index", "umaban"], ascending=[True, False, True], kind="mergesort"
    )
    frame["rank"] = frame.groupby("race_id").cumcount() + 1
    top = frame[frame["rank"] <= per_race]
    return top.sort_values(["keibajo_code", "race_bango", "rank"])[TOP_RUNNER_COLUMNS].reset_index(
        drop=True
    )


def top_runners_view(top: pd.DataFrame, venue_names: dict[str, str]) -> pd.DataFrame:
    if top.empty:
        return top
    view = top.drop(columns=["race_id"]).round(
        {"composite_index": 1, "speed_index": 1, "ten_index": 1, "agari_index": 1}
    )
    view.insert(0, "venue", view.pop("keibajo_code").map(venue_names).fillna("?"))
    return view


def top_runners_markdown(top: pd.DataFrame, venue_names: dict[str, str]) -> str:
    """One line per race: its top runners as ``umaban horse composite (finish)``."""
    cell = (
        top["umaban"].astype("string")
        + " "
        + top["horse_name"].astype("string").fillna("")
        + " "
        + top["composite_index"].map("{:.1f}".format)
        + " ("
        + top["finish_pos"].astype("Int64").astype("string").fillna("–")
        + ")"
    )
    wide = (
        top.assign(cell=cell)
        .pivot_table(
            index=["keibajo_code", "race_bango"], columns="rank", values="cell", aggfunc="first"
        )
        .reset_index()
    )
    wide.insert(0, "venue", wide.pop("keibajo_code").map(venue_names).fillna("?"))
    wide.columns = ["venue", "race", *(f"#{rank}" for rank in wide.columns[2:])]
    return markdown_table(wide)


def alert_rows(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return pd.DataFrame(columns=["severity", "rule", "scope", "message", "delivery"])
    return alerts[["severity", "rule", "scope", "message", "delivery"]].reset_index(drop=True)


def render_markdown(inputs: ReportInputs) -> str:
    """The report's summary as Markdown (the Prefect artifact and the ``.md`` file)."""
    lines = [f"# raceday — {inputs.race_date}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in summary_figures(inputs)]
    lines.append("")
    if inputs.odds_source == FINAL_ODDS_SNAPSHOT:
        lines += [
            "> Bets were sized on **final** odds (no bet-time snapshot in the source): "
            "a backtest on final odds is optimistic.",
            "",
        ]
    alerts = alert_rows(inputs.alerts)
    lines += ["## Alerts", "", markdown_table(alerts) if not alerts.empty else "None.", ""]
    rolling = rolling_status(inputs.rolling, inputs.thresholds)
    lines += ["## Rolling metrics", "", markdown_table(rolling), ""]
    venues = venue_table(inputs.performance, inputs.venue_names)
    if not venues.empty:
        lines += ["## Venues", "", markdown_table(venues), ""]
    if not inputs.top_runners.empty:
        lines += [
            "## Top runners by composite index",
            "",
            "Each race's highest composite indexes (docs/INDEXES.md): horse number, name, "
            "index (finishing position).",
            "",
            top_runners_markdown(inputs.top_runners, inputs.venue_names),
            "",
        ]
    quarantine = quarantine_summary(inputs.quarantine)
    if not quarantine.empty:
        lines += ["## Quarantine", "", markdown_table(quarantine), ""]
    return "\n".join(lines)


# --- HTML -------------------------------------------------------------------------------------


def report_inputs(
    race_date: date,
    day: ReportDay,
    *,
    thresholds: Thresholds,
    venue_names: dict[str, str],
    initial_bankroll_yen: int,
    data_docs: Path,
    circuits: Sequence[Circuit] = (),
) -> ReportInputs:
    """What the daily report shows: the day as stored (:func:`read_report_day`), shaped by the
    report's tables."""
    odds = day.odds
    still_open = open_bets(day.bets)
    final_only = not odds.empty and bool((odds["snapshot_at"] == FINAL_ODDS_SNAPSHOT).all())
    return ReportInputs(
        race_date=race_date,
        performance=day.performance,
        daily_history=day.daily_history,
        rolling=day.rolling,
        rolling_history=day.rolling_history,
        calibration=day.calibration,
        calibration_label=f"{day.calibration_start} to {race_date}",
        races=race_table(day.scores, day.races, day.runners, venue_names),
        bets=bet_table(day.bets, day.races, day.runners, venue_names),
        validation=day.validation,
        quarantine=day.quarantine,
        runs=day.runs,
        alerts=day.alerts,
        thresholds=thresholds,
        venue_names=venue_names,
        initial_bankroll_yen=initial_bankroll_yen,
        data_docs=data_docs,
        data_docs_exists=data_docs.is_file(),
        odds_source=FINAL_ODDS_SNAPSHOT if final_only else "snapshot",
        top_runners=top_runners_by_composite(day.indexes, day.runners, day.races),
        racing=racing_label(day.races["keibajo_code"].dropna().astype(str), circuits),
        open_bets=len(still_open),
        open_staked_yen=int(still_open["stake_yen"].sum()),
    )
