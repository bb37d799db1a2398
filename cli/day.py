"""Day-to-day commands: run a race day, simulate history, export tables, upgrade the store."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.table import Table

from cli.options import (
    DbOption,
    DebugOption,
    EndOption,
    JsonOption,
    SportOption,
    StartOption,
    known_sport,
)
from cli.shared import (
    answer,
    app,
    db_app,
    err,
    guard,
    open_store,
    out,
    parse_date,
    parse_date_range,
    preflight,
    print_outcome,
    running_flows,
    settings_from,
)
from config import Settings, mask_url
from raceday.errors import InputError
from raceday.japan_time import today_in_japan

if TYPE_CHECKING:  # pandas is imported where a table is exported
    import pandas as pd


def _print_summary(summary: dict[str, Any]) -> None:
    from cli.demo import demo_lines

    for line in demo_lines(summary.get("demo") or {}):
        out.print(line)
    table = Table(title=f"raceday {summary['date']} — {summary['status']}", show_header=False)
    for key in (
        "races", "races_offered", "runners", "quarantined", "bets", "staked_yen",
        "returned_yen", "bankroll_yen", "hit_rate", "log_loss", "market_log_loss",
        "model_version", "odds_source",
    ):  # fmt: skip
        value = summary.get(key)
        table.add_row(
            key,
            "–"
            if value is None
            else f"{value:,}"
            if isinstance(value, int)
            else f"{value:.4f}"
            if isinstance(value, float)
            else str(value),
        )
    out.print(table)
    print_outcome(summary)
    out.print(f"report:   {summary.get('report')}")
    out.print(f"database: {summary.get('database')}")


@app.command()
def run(
    race_date: Annotated[
        str | None, typer.Option("--date", help="race day YYYY-MM-DD (default: today, JST)")
    ] = None,
    races: Annotated[
        int | None, typer.Option("--races", min=1, help="races to predict (default: stage cap)")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="sim | files:DIR | pckeiba")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    debug: DebugOption = False,
    sport: SportOption = "nar",
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="simulator only: on a store without a model, run the day before, train a "
            "first model on short demo windows, then the day (what `make run` runs)",
        ),
    ] = False,
    settle: Annotated[
        bool,
        typer.Option(
            "--settle",
            help="the night of a day run before: settle its bets as that run placed them, from "
            "the results now in (no new decision; horses: the settle-day flow; boats: the K "
            "file)",
        ),
    ] = False,
) -> None:
    """Run a whole race day (predict, stake, settle, record) through the daily Prefect flow
    (``--settle``: the night of a day run before, its bets settled as placed)."""
    sport = guard(debug, lambda: known_sport(sport), as_json)
    if settle and demo:
        guard(debug, lambda: _refuse("--demo runs a whole day: not with --settle"), as_json)
    if demo:
        from cli.demo import run_demo

        def first_run() -> dict[str, Any]:
            day = parse_date(race_date) if race_date else today_in_japan()
            return run_demo(day, races, db, debug)

        answer(debug, as_json, first_run, _print_summary)
        return
    if sport == "boat":
        from cli.boat import print_boat_summary, run_boat_day

        def boat() -> dict[str, Any]:
            day = parse_date(race_date) if race_date else today_in_japan()
            return run_boat_day(day, source, db, debug, settle)

        answer(debug, as_json, boat, print_boat_summary)
        return

    def action() -> dict[str, Any]:
        day = parse_date(race_date) if race_date else today_in_japan()
        settings = settings_from(races=races, source=source, db_url=db)
        preflight(settings)
        from tasks.locks import refuse_locked_day

        refuse_locked_day(settings, day)  # a day being run: one line, before Prefect
        if settle:
            refuse_undecided_day(settings, day, sport)  # nothing placed: one line, nothing stored
        from flows.daily import daily_run, settle_day
        from tasks.labels import run_tags

        flow = settle_day if settle else daily_run
        tags = run_tags(sport, settings.stage, "cli")
        with running_flows(settings.database_url, debug, tags):
            result: dict[str, Any] = flow(race_date=day, races=races, source=settings.source)
        return result

    answer(debug, as_json, action, _print_summary)


def _refuse(message: str) -> None:
    raise InputError(message)


def refuse_undecided_day(settings: Settings, day: date, sport: str) -> None:
    """``raceday run --settle`` of a horse day never decided (no prediction of it stored): one
    line, before Prefect and before anything is stored (a settle run would warm the store up
    and store the night's results with nothing placed to settle)."""
    from raceday.store.catalogs.predictions import day_decided
    from raceday.store.engine import make_engine

    with make_engine(settings.database_url).connect() as connection:
        if day_decided(connection, day):
            return
    circuit = "" if sport == "nar" else f" --sport {sport}"
    raise InputError(
        f"no decision stored for {day}: nothing placed to settle; run the day first "
        f"(raceday run{circuit} --date {day})"
    )


JRA_RACES_PER_DAY = 36  # three venues of twelve races: a JRA Saturday or Sunday


@app.command()
def simulate(
    start: StartOption,
    end: EndOption,
    out_dir: Annotated[Path, typer.Option("--out", help="directory to write nvd_* files to")],
    races_per_day: Annotated[int | None, typer.Option("--races-per-day", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    truth: Annotated[
        Path | None, typer.Option("--truth", help="also write the truth table here (evaluation)")
    ] = None,
    profile: Annotated[
        str,
        typer.Option("--profile", help="clean, or messy: what real exports hold (blanks, ...)"),
    ] = "clean",
    circuit: Annotated[
        str,
        typer.Option("--circuit", help="nar (nvd_* files), or jra (jvd_* files, 36 races a day)"),
    ] = "nar",
    sport: Annotated[
        str | None,
        typer.Option("--sport", help="nar or jra (as --circuit), or boat: B/K day files"),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Simulate race days and write them as PC-KEIBA tables (nvd_ra, nvd_se, nvd_o1; jvd_*), or
    boat racing days as the official B/K files and boat_odds.csv (``--sport boat``)."""
    if sport is not None and guard(debug, lambda: known_sport(sport)) == "boat":
        out.print(guard(debug, lambda: _simulate_boat(start, end, out_dir, races_per_day, seed)))
        return
    circuit = sport or circuit

    def action() -> str:
        from raceday.simulate.config import CIRCUITS, PROFILES, SimulatorConfig
        from raceday.simulate.days import simulate_days
        from raceday.sources.files import write_tables
        from raceday.sport import circuit_named

        first, last = parse_date_range(start, end)
        if file_format not in {"csv", "parquet"}:
            raise InputError(f"--format must be csv or parquet, not {file_format!r}")
        if profile not in PROFILES:
            raise InputError(f"--profile must be {' or '.join(PROFILES)}, not {profile!r}")
        if circuit not in CIRCUITS:
            raise InputError(f"--circuit must be {' or '.join(CIRCUITS)}, not {circuit!r}")
        settings = settings_from()
        config = SimulatorConfig(
            seed=seed if seed is not None else settings.simulator.seed,
            races_per_day=races_per_day
            or (JRA_RACES_PER_DAY if circuit == "jra" else settings.simulator.races_per_day),
            profile=profile,
            circuit=circuit,
        )
        simulated = simulate_days(first, last, config)
        prefix = circuit_named(circuit).table_prefix  # JRA's tables are jvd_*
        write_tables(simulated.raw, out_dir, file_format, prefix=prefix)
        if truth is not None:
            truth.parent.mkdir(parents=True, exist_ok=True)
            simulated.truth.to_csv(truth, index=False)
        return (
            f"wrote {len(simulated.raw.nvd_ra)} races, {len(simulated.raw.nvd_se)} runners "
            f"({first}..{last}) to {out_dir}"
        )

    out.print(guard(debug, action))


def _simulate_boat(
    start: str, end: str, out_dir: Path, races_per_day: int | None, seed: int | None
) -> str:
    from raceday.boat.simulate.config import BoatSimulatorConfig, venues_for_races
    from raceday.boat.simulate.days import simulate_boat_days, write_boat_days

    first, last = parse_date_range(start, end)
    defaults = BoatSimulatorConfig()
    config = BoatSimulatorConfig(
        seed=defaults.seed if seed is None else seed,
        venues_per_day=defaults.venues_per_day
        if races_per_day is None
        else venues_for_races(races_per_day),
    )
    simulated = simulate_boat_days(first, last, config)
    write_boat_days(simulated, out_dir)
    return (
        f"wrote {len(simulated.program_races)} boat races, {len(simulated.entries)} entries "
        f"({first}..{last}) to {out_dir}: B*.TXT, K*.TXT (CP932), boat_odds.csv"
    )


def write_to_stdout(write: Callable[[TextIO], object]) -> None:
    """Write to standard output; a reader that stops early (``| head``) ends the command quietly
    with exit code 0, as with ``sed`` or ``cat``: nothing went wrong, the reader had enough.

    Standard output is pointed at /dev/null first, so the interpreter's final flush of what is
    still buffered does not fail again (Python's documented way, "Note on SIGPIPE").
    """
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None


DAY_FORMAT = "%Y-%m-%d"  # an exported date column (race_date)
MOMENT_FORMAT = "%Y-%m-%d %H:%M:%S"  # an exported moment (decided_at, odds_at: Japan time)
EXPORT_HELP = (
    "races, runners, odds, first3f, indexes, predictions, bets, performance, quarantine; with "
    "--sport boat: races, entries, results, payouts, odds, predictions, bets, performance, "
    "course, exotics, quarantine"
)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=EXPORT_HELP)],
    start: StartOption,
    end: EndOption,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSV file (default: standard output)")
    ] = None,
    db: DbOption = None,
    debug: DebugOption = False,
    sport: Annotated[
        str | None,
        typer.Option(
            "--sport",
            help="nar or jra: the rows at that circuit's venues (default: every horse "
            "circuit's); boat: the boat tables",
        ),
    ] = None,
) -> None:
    """Export a table's rows for a date range as CSV (``--sport nar|jra``: the rows at that
    circuit's venues, by their keibajo code or race id; ``--sport boat``: the boat tables)."""

    def action() -> None:
        from sqlalchemy import DateTime

        from raceday.store.boat_models import BOAT_TABLES_BY_EXPORT_NAME
        from raceday.store.catalogs.learned_versions import reference_times_learned_between
        from raceday.store.catalogs.quality import quarantine_of_sport
        from raceday.store.models import TABLES_BY_EXPORT_NAME
        from raceday.store.repository import read_rows

        boat = sport is not None and known_sport(sport) == "boat"
        tables = BOAT_TABLES_BY_EXPORT_NAME if boat else TABLES_BY_EXPORT_NAME
        stored_names = {found.name: found for found in tables.values()}  # rolling_performance
        sql_table = tables.get(table, stored_names.get(table))
        if sql_table is None:
            kind = "boat table" if boat else "table"
            raise InputError(f"unknown {kind} {table!r}: one of {', '.join(tables)}")
        first, last = parse_date_range(start, end)
        _settings, engine = open_store(db)
        date_column = "perf_date" if "perf_date" in sql_table.c else "race_date"
        with engine.connect() as connection:
            if date_column not in sql_table.c:  # reference times: dated by their history
                frame = reference_times_learned_between(connection, first, last)
            else:
                frame = read_rows(
                    connection, sql_table, start=first, end=last, date_column=date_column
                )
        if sql_table.name == "quarantine":  # shared: the rows of the sport asked for
            frame = quarantine_of_sport(frame, boat=boat)
        if sport is not None and not boat:  # NAR and JRA share the tables: the circuit's rows
            frame = _rows_of_circuit(frame, sport, table)
        key = [column.name for column in sql_table.primary_key.columns]  # one order on every store
        frame = frame.sort_values(key, ignore_index=True, kind="stable") if key else frame
        if table == "bets":  # `odds`: the odds each stake was sized on (= odds_at_bet)
            frame.insert(
                int(frame.columns.get_loc("odds_at_bet")) + 1, "odds", frame["odds_at_bet"]
            )
        for column in frame.columns:  # a day as its date, a moment (decided_at) to the second
            if str(frame[column].dtype).startswith("datetime64"):
                moment = column in sql_table.c and isinstance(sql_table.c[column].type, DateTime)
                frame[column] = frame[column].dt.strftime(MOMENT_FORMAT if moment else DAY_FORMAT)
        if out_file is None:
            write_to_stdout(lambda stream: frame.to_csv(stream, index=False))
        else:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out_file, index=False)
            err.print(f"wrote {len(frame)} rows to {out_file}")

    guard(debug, action)


def _rows_of_circuit(frame: pd.DataFrame, circuit: str, table: str) -> pd.DataFrame:
    """The rows at ``circuit``'s venues, saying on stderr what is left out beyond the other
    circuit's rows (rows at no circuit's venue), or that the table's rows have no venue (every
    circuit's, as without ``--sport``)."""
    from config.reference import circuit_venue_codes, known_venue_codes
    from raceday.store.catalogs.races import rows_at_venues

    at = rows_at_venues(frame, circuit_venue_codes(circuit), known_venue_codes())
    if at is None:
        err.print(f"{table} rows have no venue: every circuit's rows are exported")
        return frame
    rows, elsewhere = at
    if elsewhere:
        err.print(
            f"{elsewhere} {table} rows at no circuit's venue (races abroad, rows without a race) "
            f"left out: export without --sport for them"
        )
    return rows


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, debug: DebugOption = False) -> None:
    """Create or migrate the store's schema to the latest revision."""

    def action() -> str:
        from raceday.store.engine import make_engine, stored_revisions, upgrade_schema
        from tasks.locks import store_in_use

        settings = settings_from(db_url=db)
        engine = make_engine(settings.database_url)
        with store_in_use(settings, "raceday db upgrade"):
            before = stored_revisions(engine)
            upgrade_schema(engine)
            after = stored_revisions(engine)
        return upgrade_said(mask_url(settings.database_url), before, after)

    out.print(guard(debug, action))


def upgrade_said(store: str | None, before: frozenset[str], after: frozenset[str]) -> str:
    """What ``raceday db upgrade`` did, from the store's revisions before and after it."""
    at = ", ".join(sorted(after))
    if not before:
        return f"store at {store} created at schema {at}"
    if before == after:
        return f"store at {store} is at the latest schema ({at})"
    return f"store at {store} upgraded from schema {', '.join(sorted(before))} to {at}"
