"""First-3F commands: ``eval first3f`` (measured error) and ``references`` (learned versions)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, JsonOption
from cli.shared import (
    answer,
    app,
    err,
    eval_app,
    open_store,
    out,
    parse_date,
    parse_date_range,
    settings_from,
)
from raceday.errors import InputError

references_app = typer.Typer(
    help="Learned reference times and first-3F models: refresh a version, list versions.",
    no_args_is_help=True,
)
app.add_typer(references_app, name="references")


def _figure(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _stats_table(title: str, rows: dict[str, dict[str, Any]], first: str) -> Table:
    table = Table(title=title)
    for column in (first, "n", "MAE s", "p90 s", "bias s"):
        table.add_column(column, justify="left" if column == first else "right")
    for name, stats in rows.items():
        table.add_row(
            name,
            f"{stats['n']:,}",
            *(_figure(stats.get(key)) for key in ("mae_s", "p90_s", "bias_s")),
        )
    return table


def _print_evaluation(result: dict[str, Any]) -> None:
    out.print(
        f"first 3F, {result['period']['start']}..{result['period']['end']} "
        f"(source {result['source']}, truth: {result['truth']}; learned from "
        f"{result['history']['start']}..{result['history']['end']})"
    )
    out.print(
        _stats_table(
            "by method (what the pipeline stores)",
            {**result["methods"], "overall": result["overall"]},
            "method",
        )
    )
    out.print(_stats_table("by layer (each layer on every runner it applies to)",
                           result["layers"], "layer"))  # fmt: skip
    bands = Table(title="MAE s by layer and distance band")
    band_names = [name for name in result["bands"]]
    bands.add_column("layer")
    for band in band_names:
        bands.add_column(band, justify="right")
    for layer, stats in result["layers"].items():
        per_band = stats["bands"]
        bands.add_row(layer, *(_figure(per_band.get(band, {}).get("mae_s")) for band in band_names))
    out.print(bands)
    coefficients = result["coefficients"]
    out.print(
        "speed coefficient: "
        + ", ".join(f"{name} {_figure(value)}" for name, value in coefficients.items())
    )


@eval_app.command("first3f")
def eval_first3f(
    start: Annotated[str, typer.Option("--start", help="first day scored, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last day scored, YYYY-MM-DD")],
    source: Annotated[
        str | None, typer.Option("--source", help="sim | files:DIR | pckeiba (default: settings)")
    ] = None,
    history_days: Annotated[
        int,
        typer.Option("--history-days", min=7, help="days before --start to learn from"),
    ] = 60,
    races_per_day: Annotated[
        int | None, typer.Option("--races-per-day", min=1, help="simulator: races per day")
    ] = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Measure the first-3F estimator's error per method, layer and distance band.

    On the simulator the truth table is the reference (the pipeline never reads it); on real
    data, the measured rows (race leader's zenhan_3f above 1200 m, T - L3F up to 1200 m),
    hidden from the estimator while scored. Everything is learned from the days before --start.
    """

    def action() -> dict[str, Any]:
        from raceday.first3f.evaluate import eval_data_from_raw, evaluate_first3f
        from raceday.first3f.model import FitOptions

        first, last = parse_date_range(start, end)
        settings = settings_from(source=source)
        history_start = first - timedelta(days=history_days)
        if not as_json:
            err.print(f"reading {history_start}..{last} from {settings.source} …")
        raw, truth = _read(settings, history_start, last, races_per_day)
        data = eval_data_from_raw(raw, first, last, truth)
        if data.history.empty:
            raise InputError(
                f"no races in {history_start}..{first - timedelta(days=1)} to learn from"
            )
        if data.period.empty:
            raise InputError(f"no races in {first}..{last} to score")
        if not as_json:
            err.print(f"fitting on {len(data.history):,} runners, scoring {len(data.period):,} …")
        result = evaluate_first3f(data, FitOptions(**settings.first3f.model_dump()))
        return {
            "source": settings.source,
            "period": {"start": first.isoformat(), "end": last.isoformat()},
            "history": {
                "start": history_start.isoformat(),
                "end": (first - timedelta(days=1)).isoformat(),
            },
            **result,
        }

    answer(debug, as_json, action, _print_evaluation)


def _read(settings: Any, start: date, end: date, races_per_day: int | None) -> tuple[Any, Any]:
    """Raw tables for ``start..end`` and, from the simulator only, its truth table."""
    from config.reference import venue_time_zones
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.factory import open_source

    config = SimulatorConfig(
        seed=settings.simulator.seed,
        races_per_day=races_per_day or settings.simulator.races_per_day,
    )
    if settings.source == "sim":
        simulated = simulate_days(start, end, config)
        return simulated.raw, simulated.truth
    source = open_source(
        settings.source,
        simulator=config,
        pckeiba_url=settings.pckeiba_url,
        pckeiba_circuits=settings.pckeiba.circuits,
        time_zones=venue_time_zones(),
    )
    return source.read_days(start, end), None


@references_app.command("refresh")
def references_refresh(
    until: Annotated[str, typer.Option("--until", help="last day of history, YYYY-MM-DD")],
    window_days: Annotated[
        int | None,
        typer.Option("--window-days", min=7, help="days of history (default: settings)"),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Learn reference times and the first-3F model from stored history up to --until again.

    Replaces the versions ref-UNTIL and f3f-UNTIL (used for the day after --until); other
    versions and stored estimates are left as they are.
    """

    def action() -> dict[str, Any]:
        from raceday.first3f.model import FitOptions
        from raceday.store.catalogs.races import history_bounds
        from raceday.store.learned import refresh_learned

        history_end = parse_date(until)
        settings, engine = open_store(db)
        window = window_days or settings.history.reference_window_days
        history_start = history_end - timedelta(days=window - 1)
        from tasks.locks import store_in_use

        with store_in_use(settings, "raceday references refresh"), engine.begin() as connection:
            _first, last = history_bounds(connection, before=history_end + timedelta(1))
            if last is None or last < history_start:
                raise InputError(
                    f"no settled races stored in {history_start}..{history_end}: "
                    "run or backfill those days first"
                )
            learned = refresh_learned(
                connection, history_start, history_end, FitOptions(**settings.first3f.model_dump())
            )
        model = learned.model
        return {
            "reference_version": learned.reference_version,
            "model_version": learned.model_version,
            "history_start": learned.history_start.isoformat(),
            "history_end": learned.history_end.isoformat(),
            "races": learned.races,
            "reference_cells": learned.reference_cells,
            "pace": None if model.pace is None else vars(model.pace),
            "leader_deficit": None if model.leader_deficit is None else vars(model.leader_deficit),
            **dict(model.details),
        }

    answer(debug, as_json, action, _print_refreshed)


def _print_refreshed(result: dict[str, Any]) -> None:
    """The refreshed versions' figures as a two-column table."""
    table = Table(title=f"refreshed {result['reference_version']} / {result['model_version']}",
                  show_header=False)  # fmt: skip
    for key, value in result.items():
        table.add_row(key, _figure(value) if not isinstance(value, dict) else str(value))
    out.print(table)


@references_app.command("list")
def references_list(
    db: DbOption = None, as_json: JsonOption = False, debug: DebugOption = False
) -> None:
    """Stored versions of reference times and first-3F models, with their history."""

    def action() -> dict[str, Any]:
        import json

        from raceday.store.catalogs.learned_versions import (
            read_first3f_model_summaries,
            read_reference_versions,
        )

        _settings, engine = open_store(db)
        with engine.connect() as connection:
            references = read_reference_versions(connection)
            models = read_first3f_model_summaries(connection)
        rows = []
        by_reference = {row["reference_version"]: row for row in models.to_dict("records")}
        for row in references.to_dict("records"):
            model = by_reference.get(row["version"], {})
            details = json.loads(model["params"])["details"] if model else {}
            rows.append(
                {
                    "reference_version": row["version"],
                    "history_start": _day(row["history_start"]),
                    "history_end": _day(row["history_end"]),
                    "races": row["n_races"],
                    "model_version": model.get("version"),
                    "pace_used": details.get("pace_used"),
                    "ml_used": details.get("ml_used"),
                    "fitted_seed_coefficient": details.get("fitted_seed_coefficient"),
                }
            )
        return {"versions": rows}

    answer(debug, as_json, action, _print_versions)


def _print_versions(listing: dict[str, Any]) -> None:
    """The learned versions as a table, one column per field."""
    rows = listing["versions"]
    table = Table(title="learned versions")
    columns = list(rows[0]) if rows else ["reference_version"]
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_figure(row[column]) for column in columns))
    out.print(table)


def _day(value: Any) -> str | None:
    return None if value is None or value != value else str(value)[:10]
