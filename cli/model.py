"""The win model: ``raceday train --until D`` and ``raceday eval model --start D1 --end D2``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.options import DbOption, DebugOption, JsonOption, SportOption, known_sport
from cli.shared import (
    answer,
    app,
    err,
    eval_app,
    guard,
    open_store,
    out,
    parse_date,
    parse_date_range,
    running_flows,
)
from config import mask_url

SOURCES = ("market", "model", "blend", "truth")


def _figure(value: Any, digits: int = 4) -> str:
    return (
        "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    )


def _scores_table(title: str, result: dict[str, Any]) -> Table:
    table = Table(title=title)
    for column in ("", "log loss", "pseudo-R²", "top-1", "top-3"):
        table.add_column(column, justify="left" if not column else "right")
    for source in SOURCES:
        scores = result.get(source)
        if scores:
            table.add_row(
                source,
                *(
                    _figure(scores[key])
                    for key in ("log_loss", "pseudo_r2", "top1_hit", "top3_hit")
                ),
            )
    return table


def _venues_table(by_venue: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="by venue (pseudo-R²)")
    for column in ("venue", "races", "market", "model", "blend", "ΔR²", "truth"):
        table.add_column(column, justify="left" if column == "venue" else "right")
    for venue, result in by_venue.items():
        table.add_row(
            venue,
            f"{result['races']:,}",
            *(_figure((result.get(source) or {}).get("pseudo_r2")) for source in SOURCES[:3]),
            _figure(result["delta_r2"]),
            _figure((result.get("truth") or {}).get("pseudo_r2")),
        )
    return table


def _calibration_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="calibration of the blend")
    for column in ("p bin", "runners", "mean p", "win rate"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["bin"], f"{row['runners']:,}", _figure(row["p_mean"]), _figure(row["win_rate"])
        )
    return table


def print_evaluation(result: dict[str, Any], title: str) -> None:
    """The evaluation as tables (what ``--json`` prints as one object)."""
    out.print(
        _scores_table(f"{title}: {result['races']:,} races, ΔR² {_figure(result['delta_r2'])}",
                      result)
    )  # fmt: skip
    out.print(_calibration_table(result["calibration"]))
    out.print(_venues_table(result["by_venue"]))


@app.command()
def train(
    until: Annotated[str, typer.Option("--until", help="last day of training data, YYYY-MM-DD")],
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Train the win model on stored history up to --until, judge it on the newest days held out,
    register it and promote it if it beats the market and the version in use (docs/MODEL.md;
    --sport boat: the boat model, docs/BOAT.md)."""
    if guard(debug, lambda: known_sport(sport), as_json) == "boat":
        answer(debug, as_json, lambda: _train_boat(until, db, as_json, debug), _print_boat_training)
        return

    def action() -> dict[str, Any]:
        day = parse_date(until)
        settings, _engine = open_store(db)
        from tasks.locks import refuse_while_restoring
        from tasks.train import check_history

        refuse_while_restoring(settings, "raceday train")  # one line, before Prefect
        check_history(settings, day)
        from flows.train import train_model

        if not as_json:
            err.print(f"training on {mask_url(settings.database_url)} up to {day} …")
        from tasks.labels import run_tags

        tags = run_tags("nar", settings.stage, "cli")
        with running_flows(settings.database_url, debug, tags):
            summary: dict[str, Any] = train_model(until=day)
        return summary

    answer(debug, as_json, action, _print_training)


def _train_boat(until: str, db: str | None, as_json: bool, debug: bool) -> dict[str, Any]:
    """Check the boat history's windows (one line, before Prefect), then train."""
    day = parse_date(until)
    settings, _engine = open_store(db)
    from tasks.boat_train import check_boat_history
    from tasks.locks import refuse_while_restoring

    refuse_while_restoring(settings, "raceday train --sport boat")  # one line, before Prefect
    check_boat_history(settings, day)
    from flows.train import train_boat_model

    if not as_json:
        err.print(f"training the boat model on {mask_url(settings.database_url)} up to {day} …")
    with running_flows(settings.database_url, debug):
        summary: dict[str, Any] = train_boat_model(until=day)
    return summary


def _print_boat_training(summary: dict[str, Any]) -> None:
    """The boat version's windows, held-out scores and the promotion verdict."""
    split, scores = summary["split"], summary["evaluation"]
    out.print(
        f"{summary['version']}: fitted {split['fit_start']}..{split['fit_end']} "
        f"({summary['counts']['fit_races']:,} races), held out "
        f"{split['eval_start']}..{split['eval_end']} ({scores['races']:,} races)"
    )
    table = Table(title="held out")
    for column in ("probabilities", "log loss", "pseudo-R²"):
        table.add_column(column)
    table.add_row("uniform", _figure(scores.get("uniform_log_loss")), "0")
    for name in ("baseline", "blend"):
        table.add_row(
            name, _figure(scores.get(f"{name}_log_loss")), _figure(scores.get(f"{name}_pseudo_r2"))
        )
    out.print(table)
    verdict = "promoted" if summary["promoted"] else "not promoted"
    out.print(f"{summary['version']} {verdict}: {summary['reason']}")


def _print_training(summary: dict[str, Any]) -> None:
    """The trained version's split, its held-out scores and the promotion verdict."""
    split = summary["split"]
    out.print(
        f"{summary['version']}: scorer {split['train_start']}..{split['train_end']}, blend "
        f"{split['blend_start']}..{split['blend_end']} (kappa {summary['kappa']:.3f}, alpha "
        f"{summary['alpha']:.3f}, beta {summary['beta']:.3f}), held out "
        f"{split['eval_start']}..{split['eval_end']}"
    )
    print_evaluation(summary["evaluation"], "held out")
    verdict = "promoted" if summary["promoted"] else "not promoted"
    out.print(f"{summary['version']} {verdict}: {summary['reason']}")


@eval_app.command("model")
def eval_model(
    start: Annotated[str, typer.Option("--start", help="first day scored, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--end", help="last day scored, YYYY-MM-DD")],
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="model version (default: the one in use on --start, or, when none was, the "
            "first promoted, from its first day)",
        ),
    ] = None,
    races_per_day: Annotated[
        int | None,
        typer.Option("--races-per-day", min=1, help="simulator: races per day the store holds"),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Judge a model version on the stored settled races from --start to --end: log loss,
    pseudo-R², top-1/top-3 of the market, the model and the blend (and, on simulated data, the
    simulator's true probabilities), calibration and every venue."""

    if guard(debug, lambda: known_sport(sport), as_json) == "boat":
        from cli.boat import evaluate_boat_days, print_boat_evaluation

        def boat() -> dict[str, Any]:
            first, last = parse_date_range(start, end)
            return evaluate_boat_days(first, last, db)

        answer(debug, as_json, boat, print_boat_evaluation)
        return

    def action() -> dict[str, Any]:
        from tasks.train import evaluate_model

        first, last = parse_date_range(start, end)
        settings, _engine = open_store(db)
        return evaluate_model(settings, first, last, version, races_per_day)

    answer(debug, as_json, action, _print_model_evaluation)


def _print_model_evaluation(result: dict[str, Any]) -> None:
    """The evaluation's tables under a title naming the version, the period and the sample."""
    period = result["period"]
    sample = "out of sample" if result["out_of_sample"] else "IN SAMPLE: fitted on these days"
    print_evaluation(
        result, f"{result['version']} on {period['start']}..{period['end']} ({sample})"
    )
    if result.get("not_judged"):
        out.print(f"note: {result['not_judged']}")


models_app = typer.Typer(help="The win-model registry.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
) -> None:
    """Registered model versions of the sport (the horses' for nar and jra, or the boats'),
    newest training data first, with their held-out log loss, promotion and the reason for it."""

    def action() -> dict[str, Any]:
        from raceday.store import registry

        family = registry.BOAT_FAMILY if known_sport(sport) == "boat" else registry.HORSE_FAMILY
        _settings, engine = open_store(db)
        with engine.connect() as connection:
            versions = registry.list_versions(connection, family)
            reasons = {
                name: (registry.model_meta(connection, name) or {}).get("promotion", {})
                for name in versions["name"]
            }
        return {
            "versions": [
                {
                    "name": row["name"],
                    "trained_until": str(row["trained_until"])[:10],
                    "eval_log_loss": row["eval_log_loss"],
                    "promoted": bool(row["promoted"]),
                    "reason": reasons[row["name"]].get("reason"),
                }
                for row in versions.to_dict("records")
            ]
        }

    answer(debug, as_json, action, _print_versions)


def _print_versions(listing: dict[str, Any]) -> None:
    """The registered versions as a table."""
    table = Table(title="model versions")
    for column in ("name", "trained until", "held-out log loss", "promoted", "reason"):
        table.add_column(column)
    for row in listing["versions"]:
        table.add_row(
            row["name"], row["trained_until"], _figure(row["eval_log_loss"]),
            "yes" if row["promoted"] else "no", row["reason"] or "–",
        )  # fmt: skip
    out.print(table)
