"""Record: settle the day's bets, write the performance record, the report and its artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE

from config import Settings, mask_url
from config.reference import venue_names
from data_checks.docs import data_docs_index
from data_checks.records import distinct_quarantine
from raceday.calibration import calibration_counts, calibration_error
from raceday.ledger import (
    daily_pnl_from_ledger_days,
    night_set_aside_reasons,
    settle_bets,
    void_bets,
)
from raceday.model import MARKET_MODEL_VERSION
from raceday.performance import (
    ALL_SCOPE,
    bankroll_curve,
    daily_performance,
    judged_runners,
    race_scores,
    rolling_performance,
)
from raceday.pipeline import DaySummary
from raceday.report import ReportInputs, rolling_status, venue_table, write_report_files
from raceday.store import catalog
from raceday.store import monitoring as records
from tasks.common import engine_for, in_flow_run, logger, stage_run
from tasks.monitor import monitor_thresholds
from tasks.stake import staking_policy

ROLLING_DAYS = 30  # the longest day window; the 500-race window may reach further back


@task(name="settle", cache_policy=NONE)
def settle(settings: Settings, race_date: date, flow_name: str) -> pd.DataFrame:
    """Settle the day's bets against the stored results (idempotent: re-settling is a no-op).

    Bets whose result is not stored yet stay open and are settled by a later run of the day.
    Bets on a race the night's validation set aside are voided (refunded, 0 P&L, with the
    reason in ``void_reason``); a later run whose results are valid settles them for real.
    """
    policy = staking_policy(settings)
    with stage_run(settings, flow_name, "settle", race_date) as record:
        with engine_for(settings).begin() as connection:
            bets = catalog.read_bets(connection, race_date, race_date, policy=policy.name)
            results = catalog.read_win_results(connection, race_date, race_date)
            quarantine = catalog.read_quarantine(connection, race_date, race_date)
            settled = void_bets(
                settle_bets(bets, results, takeout=policy.takeout),
                night_set_aside_reasons(quarantine),
            )
            catalog.write_settlement(connection, settled)
        voided = settled[settled["void_reason"].notna()] if not settled.empty else settled
        record.rows_in = len(bets)
        record.rows_out = int(settled["settled"].sum()) if not settled.empty else 0
        open_bets = record.rows_in - record.rows_out
        notes = [f"{open_bets} bets still open"] if open_bets else []
        if not voided.empty:
            notes.append(f"{len(voided)} bets voided on {voided['race_id'].nunique()} races")
        record.message = "; ".join(notes) or None
    if open_bets:
        logger().warning("%d of %d bets have no stored result yet", open_bets, len(bets))
    if not voided.empty:
        logger().warning(
            "voided %d bets (%d yen refunded) on %d races set aside at night: %s",
            len(voided),
            int(voided["stake_yen"].sum()),
            voided["race_id"].nunique(),
            "; ".join(
                f"{race_id} ({reason})"
                for race_id, reason in voided.drop_duplicates("race_id")[
                    ["race_id", "void_reason"]
                ].itertuples(index=False)
            )[:1000],
        )
    return settled


def _day_calibration(predictions: pd.DataFrame, runners: pd.DataFrame) -> pd.DataFrame:
    judged = judged_runners(predictions, runners)
    with_winner = judged[judged.groupby("race_id")["won"].transform("any")]
    frames = [
        calibration_counts(with_winner[column], with_winner["won"]).assign(source=source)
        for column, source in (("p_final", "final"), ("p_market", "market"))
    ]
    model = str(predictions["model_version"].iloc[0]) if not predictions.empty else None
    return pd.concat(frames, ignore_index=True).assign(model_version=model)


@dataclass(frozen=True)
class DayRecord:
    """A day's performance record as computed from its stored rows (written by the caller)."""

    performance: pd.DataFrame  # one row for scope "all", one per venue
    scores: pd.DataFrame  # one row per race
    calibration: pd.DataFrame
    curve: pd.DataFrame  # the bankroll curve up to the day
    bankroll_yen: int
    model_version: str


def day_record(
    settings: Settings,
    race_date: date,
    *,
    predictions: pd.DataFrame,
    runners: pd.DataFrame,
    races: pd.DataFrame,
    bets: pd.DataFrame,
    quarantine: pd.DataFrame,
    daily_pnl: pd.Series,
    run_seconds: float,
) -> DayRecord:
    """Race scores, per-day/venue performance and calibration of one day from its stored
    predictions, runners, races, bets and (distinct) quarantine; ``daily_pnl`` is the ledger's
    cash flow per day up to the day."""
    settled_today = bets[bets["settled"].fillna(False).astype(bool)]
    # Cash: every stake placed up to today is out, every settlement back in.
    curve = bankroll_curve(settings.bankroll_yen, daily_pnl)
    bankroll_end = int(settings.bankroll_yen + daily_pnl.sum())
    drawdown = float(curve["drawdown"].iloc[-1]) if not curve.empty else 0.0
    # A trained version's predictions over the market's when a day has both.
    versions = sorted(set(predictions["model_version"]) - {MARKET_MODEL_VERSION})
    model_version = versions[-1] if versions else MARKET_MODEL_VERSION
    predictions = predictions[predictions["model_version"] == model_version]
    scores = race_scores(predictions, runners, settled_today)
    calibration = _day_calibration(predictions, runners)
    performance = daily_performance(
        race_date,
        scores,
        races,
        quarantine,
        bankroll_yen=bankroll_end,
        drawdown=drawdown,
        model_version=model_version,
        run_seconds=run_seconds,
        calibration_error=calibration_error(calibration[calibration["source"] == "final"]),
    )
    return DayRecord(performance, scores, calibration, curve, bankroll_end, model_version)


def rolling_window_start(
    race_date: date, nth_last_race: date | None, first_race: date | None
) -> date:
    """The first day the rolling windows ending on ``race_date`` may reach: ``ROLLING_DAYS`` back
    or the day of the 500th-last scored race, whichever is earlier."""
    return min(
        race_date - timedelta(days=ROLLING_DAYS - 1), nth_last_race or first_race or race_date
    )


@task(name="record", cache_policy=NONE)
def record_day(
    settings: Settings, race_date: date, races_offered: int, flow_name: str
) -> DaySummary:
    """The day's performance record: race scores, per-day/venue rows, calibration, rolling."""
    policy = staking_policy(settings)
    with stage_run(settings, flow_name, "record", race_date) as record:
        with engine_for(settings).begin() as connection:
            bets = catalog.read_bets(connection, race_date, race_date, policy=policy.name)
            quarantine = distinct_quarantine(
                catalog.read_quarantine(connection, race_date, race_date)
            )
            ledger = catalog.ledger_days(connection, policy.name, end=race_date)
            computed = day_record(
                settings,
                race_date,
                predictions=catalog.read_predictions(connection, race_date, race_date),
                runners=catalog.read_runners(connection, race_date, race_date),
                races=catalog.read_races(connection, race_date, race_date),
                bets=bets,
                quarantine=quarantine,
                daily_pnl=daily_pnl_from_ledger_days(ledger),
                run_seconds=records.flow_stage_seconds(connection, flow_name, race_date),
            )
            performance, scores = computed.performance, computed.scores
            records.write_day_record(
                connection, race_date, performance, scores, computed.calibration
            )
            start = rolling_window_start(
                race_date,
                records.nth_last_race_date(connection, race_date, 500),
                records.first_race_score_date(connection),
            )
            rolling = rolling_performance(
                race_date,
                records.read_race_scores(connection, start, race_date),
                records.read_daily(connection, start, race_date),
                computed.curve,
                computed.bankroll_yen,
            )
            records.write_rolling(connection, rolling)
        record.rows_out = len(performance) + len(scores) + len(rolling)
        bankroll_end, model_version = computed.bankroll_yen, computed.model_version
    overall = performance[performance["scope"] == ALL_SCOPE].iloc[0]

    def figure(column: str) -> float | None:
        value = overall[column]
        return None if pd.isna(value) else round(float(value), 6)

    return DaySummary(
        date=race_date.isoformat(),
        races=int(overall["races"]),
        races_offered=races_offered,
        runners=int(overall["runners"]),
        quarantined=len(quarantine),
        bets=len(bets),
        staked_yen=int(bets["stake_yen"].sum()),
        returned_yen=int(overall["returned_yen"]),
        bankroll_yen=bankroll_end,
        hit_rate=figure("hit_rate"),
        top3_rate=figure("top3_rate"),
        log_loss=figure("log_loss"),
        market_log_loss=figure("market_log_loss"),
        pseudo_r2=figure("pseudo_r2"),
        market_pseudo_r2=figure("market_pseudo_r2"),
        model_version=model_version,
        database=mask_url(settings.database_url),
    )


def build_report(settings: Settings, race_date: date) -> tuple[Path, Path, ReportInputs]:
    """Read the day from the store and write the HTML and Markdown reports."""
    with engine_for(settings).connect() as connection:
        inputs = records.load_report_inputs(
            connection,
            race_date,
            limits=monitor_thresholds(settings),
            venue_names=venue_names(),
            initial_bankroll_yen=settings.bankroll_yen,
            policy=staking_policy(settings).name,
            data_docs=data_docs_index(settings.var_dir),
        )
    html_path, markdown_path = write_report_files(inputs, settings.reports_dir)
    return html_path, markdown_path, inputs


def _table(frame: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows (ISO dates, nulls) for a Prefect table artifact."""
    rows: list[dict[str, object]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def _publish_artifacts(race_date: date, markdown: str, inputs: ReportInputs) -> None:
    day = f"{race_date:%Y-%m-%d}"
    create_markdown_artifact(
        key=f"daily-report-{day}", markdown=markdown, description=f"raceday daily report {day}"
    )
    create_table_artifact(
        key=f"rolling-metrics-{day}",
        table=_table(rolling_status(inputs.rolling, inputs.thresholds)),
        description=f"Rolling metrics against their limits, {day}",
    )
    create_table_artifact(
        key=f"venues-{day}",
        table=_table(venue_table(inputs.performance, inputs.venue_names)),
        description=f"Performance per venue, {day}",
    )
    alerts = inputs.alerts
    columns = ["severity", "rule", "scope", "message", "delivery", "raised_at"]
    create_table_artifact(
        key=f"alerts-{day}",
        table=_table(alerts[columns] if not alerts.empty else pd.DataFrame(columns=columns)),
        description=f"Alerts about {day}: {len(alerts)}",
    )


@task(name="report", cache_policy=NONE)
def report_day(
    settings: Settings, race_date: date, summary: DaySummary, flow_name: str
) -> DaySummary:
    """The daily report (HTML + Markdown) and its Prefect artifacts."""
    with stage_run(settings, flow_name, "report", race_date) as record:
        html_path, markdown_path, inputs = build_report(settings, race_date)
        record.rows_out = 1
        record.message = str(html_path)
    if in_flow_run():
        _publish_artifacts(race_date, markdown_path.read_text(encoding="utf-8"), inputs)
    logger().info("report written to %s", html_path)
    return replace(summary, odds_source=inputs.odds_source, report=str(html_path.resolve()))
