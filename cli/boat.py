"""``raceday run --sport boat``: a boat racing day from its day files (flows/boat.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.table import Table

from cli.shared import out, print_outcome, running_flows, settings_from

SUMMARY_KEYS = (
    "races", "boats", "quarantined", "races_left_out", "bets", "staked_yen", "returned_yen",
    "bankroll_yen", "open_bets", "open_stakes_yen", "races_unpriced", "log_loss",
    "model_log_loss", "market_log_loss", "prior_log_loss", "uniform_log_loss", "pseudo_r2",
    "model_version", "model_source",
)  # fmt: skip


def run_boat_day(
    day: date, source: str | None, db: str | None, debug: bool, settle: bool = False
) -> dict[str, Any]:
    """Check the source and the store before Prefect starts, then run the boat day's flow
    (``settle``: the night only, the bets stored by an earlier run settled as placed)."""
    from raceday.boat.source import boat_directory, check_day_files, require_results
    from raceday.store.engine import check_connection, make_engine

    settings = settings_from(source=source, db_url=db)
    # bad input: one line, before Prefect
    directory = boat_directory(settings.source)
    check_day_files(directory, day)
    if settle:
        require_results(directory, day)
    check_connection(make_engine(settings.database_url))
    from raceday.store.catalogs.runs import BOAT_LOCK
    from tasks.locks import refuse_locked_day

    refuse_locked_day(settings, day, BOAT_LOCK)  # a day being run: one line, before Prefect
    from flows.boat import boat_day_run, boat_settle_day_run
    from tasks.labels import run_tags

    flow = boat_settle_day_run if settle else boat_day_run
    with running_flows(settings.database_url, debug, run_tags("boat", settings.stage, "cli")):
        result: dict[str, Any] = flow(race_date=day, source=settings.source)
    return result


def print_boat_summary(summary: dict[str, Any]) -> None:
    """The day's summary as a table."""
    table = Table(title=f"raceday boat {summary['date']} — {summary['status']}", show_header=False)
    for key in SUMMARY_KEYS:
        value = summary.get(key)
        shown = (
            "–" if value is None
            else f"{value:,}" if isinstance(value, int)
            else f"{value:.4f}" if isinstance(value, float)
            else str(value)
        )  # fmt: skip
        table.add_row(key, shown)
    out.print(table)
    print_outcome(summary)
    out.print(f"report:   {summary.get('report')}")
    out.print(f"database: {summary.get('database')}")


def evaluate_boat_days(first: date, last: date, db: str | None) -> dict[str, Any]:
    """The stored boat predictions of ``first``..``last`` judged against their results: prior,
    market, model and blend on the same races (``raceday eval model --sport boat``)."""
    from cli.shared import open_store
    from raceday.boat.evaluate import comparison, no_race_judged, scored_boats
    from raceday.store.catalogs.boat import read_predictions, read_results

    _settings, engine = open_store(db)
    with engine.connect() as connection:
        predictions = read_predictions(connection, first, last)
        results = read_results(connection, first, last)
    versions = sorted(set(predictions["model_version"].dropna()))
    judged = comparison(scored_boats(predictions, results))
    note = no_race_judged(predictions, judged["races"], first, last)
    return {
        "sport": "boat",
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "days": int(predictions["race_date"].nunique()),
        "versions": versions,
        **judged,
        **({"note": note} if note else {}),
    }


def print_boat_evaluation(result: dict[str, Any]) -> None:
    """Log loss and pseudo-R² of each source as a table."""
    period = result["period"]
    table = Table(title=f"boat {period['start']}..{period['end']}: {result['races']} races, "
                  f"{result['days']} days")  # fmt: skip
    for column in ("probabilities", "log loss", "pseudo-R²"):
        table.add_column(column)
    table.add_row("uniform", _figure(result.get("uniform_log_loss")), "0")
    for name in ("prior", "market", "model", "blend"):
        table.add_row(name, _figure(result.get(f"{name}_log_loss")),
                      _figure(result.get(f"{name}_pseudo_r2")))  # fmt: skip
    out.print(table)
    if result.get("note"):
        out.print(result["note"], soft_wrap=True)


def _figure(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


def backfill_boat_days(
    first: date,
    last: date,
    source: str | None,
    db: str | None,
    force: bool,
    debug: bool,
    chunk_days: int,
) -> dict[str, Any]:
    """``raceday backfill --sport boat``: check the source and the store, then run the flow."""
    from raceday.boat.source import boat_directory
    from raceday.store.engine import check_connection, make_engine

    settings = settings_from(source=source, db_url=db)
    boat_directory(settings.source)
    check_connection(make_engine(settings.database_url))
    from raceday.store.catalogs.runs import BOAT_LOCK
    from tasks.locks import refuse_running_backfill

    refuse_running_backfill(settings, BOAT_LOCK)  # another boat backfill: one line, before Prefect
    from flows.boat import boat_backfill_run
    from tasks.labels import run_tags

    tags = run_tags("boat", settings.stage, "backfill")
    with running_flows(settings.database_url, debug, tags):
        result: dict[str, Any] = boat_backfill_run(
            start=first, end=last, source=settings.source, force=force, chunk_days=chunk_days
        )
    return result


def print_boat_backfill(summary: dict[str, Any]) -> None:
    """The backfill's summary as a table."""
    table = Table(title=f"boat backfill {summary['start']}..{summary['end']}", show_header=False)
    for key in ("days", "days_run", "days_reopened", "days_skipped", "races", "bets", "staked_yen",
                "returned_yen", "bankroll_yen", "seconds"):  # fmt: skip
        value = summary.get(key)
        table.add_row(key, "–" if value is None else f"{value:,}")
    table.add_row("days_refused", f"{len(summary.get('days_refused') or ()):,}")
    table.add_row("trained", ", ".join(summary.get("trained", ())) or "–")
    out.print(table)
    print_outcome(summary)
    out.print(f"database: {summary.get('database')}")
