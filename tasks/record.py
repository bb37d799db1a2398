"""Record: settle the day's bets, write the performance record, the report and its artifacts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from config import Settings, mask_url
from config.reference import circuits, venue_names
from data_checks.docs import data_docs_index
from data_checks.records import distinct_quarantine
from raceday.monitoring.performance import (
    ALL_SCOPE,
    day_record,
    races_cancelled,
    records_cancelled,
    rolling_performance,
    rolling_window_start,
)
from raceday.monitoring.report import (
    ReportInputs,
    report_inputs,
    rolling_status,
    venue_table,
)
from raceday.monitoring.report_html import write_report_files
from raceday.pipeline import DaySummary
from raceday.staking.ledger import (
    daily_pnl_from_ledger_days,
    night_set_aside_reasons,
    open_bet_count,
    settle_bets,
    void_bets,
)
from raceday.store.catalogs.bets import ledger_days, read_bets, write_settlement
from raceday.store.catalogs.monitoring import read_report_day
from raceday.store.catalogs.performance import (
    first_race_score_date,
    nth_last_race_date,
    read_daily,
    read_race_scores,
    write_day_record,
    write_rolling,
)
from raceday.store.catalogs.predictions import read_predictions
from raceday.store.catalogs.quality import read_quarantine
from raceday.store.catalogs.races import read_races, read_runners, read_win_results
from raceday.store.catalogs.runs import flow_stage_seconds
from tasks.common import (
    current_flow_name,
    engine_for,
    logger,
    publishes_day_artifacts,
    stage,
    stage_run,
)
from tasks.labels import ALERTS, DAILY_REPORT, ROLLING_METRICS, VENUES


@stage("settle")
def settle(settings: Settings, race_date: date) -> pd.DataFrame:
    """Settle the day's bets against the stored results (idempotent: re-settling is a no-op).

    Bets whose result is not stored yet stay open and are settled by a later run of the day.
    Bets on a race the night's validation set aside are voided (refunded, 0 P&L, with the
    reason in ``void_reason``); a later run whose results are valid settles them for real.
    """
    policy = settings.kelly.policy()
    with stage_run(settings, "settle", race_date) as record:
        with engine_for(settings).begin() as connection:
            bets = read_bets(connection, race_date, race_date, policy=policy.name)
            results = read_win_results(connection, race_date, race_date)
            quarantine = read_quarantine(connection, race_date, race_date)
            settled = void_bets(
                settle_bets(bets, results, takeout=policy.takeout),
                night_set_aside_reasons(quarantine),
            )
            write_settlement(connection, settled)
        voided = settled[settled["void_reason"].notna()] if not settled.empty else settled
        open_bets = open_bet_count(settled)
        record.rows_in, record.rows_out = len(bets), len(settled) - open_bets
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


@stage("record")
def record_day(
    settings: Settings,
    race_date: date,
    settled: pd.DataFrame | None = None,
) -> DaySummary:
    """The day's performance record: race scores, per-day/venue rows, calibration, rolling.
    ``settled``: the day's bets as the settle stage just stored them (read when not given).
    Its ``races_offered`` are the day's races stored or set aside by validation, as the
    quarantine-rate alert counts them."""
    policy = settings.kelly.policy()
    with stage_run(settings, "record", race_date) as record:
        with engine_for(settings).begin() as connection:
            bets = (
                settled
                if settled is not None
                else read_bets(connection, race_date, race_date, policy=policy.name)
            )
            quarantine = distinct_quarantine(read_quarantine(connection, race_date, race_date))
            ledger = ledger_days(connection, policy.name, end=race_date)
            computed = day_record(
                race_date,
                initial_bankroll_yen=settings.bankroll_yen,
                predictions=read_predictions(connection, race_date, race_date),
                runners=read_runners(connection, race_date, race_date),
                races=read_races(connection, race_date, race_date),
                bets=bets,
                quarantine=quarantine,
                daily_pnl=daily_pnl_from_ledger_days(ledger),
                run_seconds=flow_stage_seconds(connection, current_flow_name(), race_date),
            )
            performance, scores = computed.performance, computed.scores
            write_day_record(connection, race_date, performance, scores, computed.calibration)
            start = rolling_window_start(
                race_date,
                nth_last_race_date(connection, race_date, 500),
                first_race_score_date(connection),
            )
            rolling = rolling_performance(
                race_date,
                read_race_scores(connection, start, race_date),
                read_daily(connection, start, race_date),
                computed.curve,
                computed.bankroll_yen,
            )
            write_rolling(connection, rolling)
        record.rows_out = len(performance) + len(scores) + len(rolling)
        bankroll_end, model_version = computed.bankroll_yen, computed.model_version
    overall = performance[performance["scope"] == ALL_SCOPE].iloc[0]

    def figure(column: str) -> float | None:
        value = overall[column]
        return None if pd.isna(value) else round(float(value), 6)

    return DaySummary(
        date=race_date.isoformat(),
        races=int(overall["races"]),
        races_offered=int(overall["races_offered"]),
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
        races_quarantined=int(overall["races_quarantined"]),
        races_cancelled=len(races_cancelled(quarantine)),
        quarantined_cancelled=records_cancelled(quarantine),
    )


def build_report(settings: Settings, race_date: date) -> tuple[Path, Path, ReportInputs]:
    """Read the day from the store and write the HTML and Markdown reports."""
    with engine_for(settings).connect() as connection:
        day = read_report_day(connection, race_date, policy=settings.kelly.policy().name)
    inputs = report_inputs(
        race_date,
        day,
        thresholds=settings.monitor_thresholds(),
        venue_names=venue_names(),
        initial_bankroll_yen=settings.bankroll_yen,
        data_docs=data_docs_index(settings.var_dir),
        circuits=circuits(),
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
        key=DAILY_REPORT, markdown=markdown, description=f"raceday daily report {day}"
    )
    create_table_artifact(
        key=ROLLING_METRICS,
        table=_table(rolling_status(inputs.rolling, inputs.thresholds)),
        description=f"Rolling metrics against their limits, {day}",
    )
    create_table_artifact(
        key=VENUES,
        table=_table(venue_table(inputs.performance, inputs.venue_names)),
        description=f"Performance per venue, {day}",
    )
    alerts = inputs.alerts
    columns = ["severity", "rule", "scope", "message", "delivery", "raised_at"]
    create_table_artifact(
        key=ALERTS,
        table=_table(alerts[columns] if not alerts.empty else pd.DataFrame(columns=columns)),
        description=f"Alerts about {day}: {len(alerts)}",
    )


@stage("report")
def report_day(settings: Settings, race_date: date, summary: DaySummary) -> DaySummary:
    """The daily report (HTML + Markdown) and its Prefect artifacts."""
    with stage_run(settings, "report", race_date) as record:
        html_path, markdown_path, inputs = build_report(settings, race_date)
        record.rows_out = 1
        record.message = str(html_path)
    if publishes_day_artifacts():
        _publish_artifacts(race_date, markdown_path.read_text(encoding="utf-8"), inputs)
    logger().info("report written to %s", html_path)
    return replace(summary, odds_source=inputs.odds_source, report=str(html_path.resolve()))
