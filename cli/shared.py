"""What every command module of the ``raceday`` command shares: the apps they register on
(``app`` and its sub-apps such as ``eval_app``), date parsing, the error guard and the prologues
of the commands (open the store, run flows, print the answer); the option types are in
:mod:`cli.options`.

Errors a user can cause print one line and exit non-zero; ``--debug`` shows the traceback.
Orchestration (Prefect) is imported only by the commands that run flows.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from signal import SIGINT, SIGTERM
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from config import Settings, load_settings, mask_url, use_store
from config.settings import apply_prefect_defaults
from raceday.errors import (
    DEFECT_EXIT_CODE,
    UNAVAILABLE_EXIT_CODE,
    InputError,
    RacedayError,
    StageDefect,
    describe_defect,
    failure_kind,
    first_line,
)
from raceday.interrupts import outside_imports
from raceday.run_status import (
    INTERRUPT_RECEIVED,
    INTERRUPTED_EXIT_CODE,
    failure_summary,
    result_exit_code,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="raceday: the NAR race-day pipeline (ingest → validate → first 3F → indexes → predict "
    "→ stake → record).",
)
db_app = typer.Typer(help="The store: schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
eval_app = typer.Typer(
    help="Measured quality of a stage against known outcomes.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def parse_date(text: str) -> date:
    """A date given as YYYY-MM-DD; InputError otherwise."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(f"not a date: {text!r} (use YYYY-MM-DD, e.g. 2026-11-20)") from None


def parse_date_range(start: str, end: str) -> tuple[date, date]:
    """``--start`` and ``--end`` as dates, the end not before the start; InputError otherwise."""
    first, last = parse_date(start), parse_date(end)
    if last < first:
        raise InputError(f"--end {last} is before --start {first}")
    return first, last


def settings_from(**overrides: Any) -> Settings:
    """The command's settings (``load_settings``: a mistake in them is one line each, exit 2)."""
    return load_settings(**overrides)


def _one_line(line: str, code: int) -> typer.Exit:
    """Print ``line`` on standard error with its first word in red; the exit to raise."""
    label, _, rest = line.partition(" ")
    err.print(f"[red]{escape(label)}[/red] {escape(rest)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _failure_line(error: Exception) -> tuple[str, int]:
    """What a failure says in one line, and its exit code (see :func:`guard`)."""
    if isinstance(error, RacedayError):
        return f"error: {error}", error.exit_code
    if failure_kind(error) == "unavailable":
        return f"error: source or store unavailable: {first_line(error)}", UNAVAILABLE_EXIT_CODE
    defect = str(error) if isinstance(error, StageDefect) else describe_defect(error, None)
    return f"{defect} — please report; --debug for the traceback", DEFECT_EXIT_CODE


def guard(debug: bool, action: Callable[[], T], as_json: bool = False) -> T:
    """Run ``action``; Ctrl-C or SIGTERM ends it as ``interrupted``, exit 130
    (:func:`interrupts_kept`); a failure becomes one line on standard error and the exit code of its
    kind (:func:`raceday.errors.failure_kind`): bad input 2 (4 nothing valid, 7 day locked), an
    unavailable source or store 3, a defect in our code 5. ``--debug`` prints the traceback
    first, then the same line and exit code (scripts that branch on the code behave alike).
    ``as_json`` (``--json``): the failure is also one JSON object on standard output
    (:func:`raceday.run_status.failure_summary`), so a script reading it gets an answer on
    every exit."""
    apply_prefect_defaults()
    try:
        with interrupts_kept():
            return action()
    except KeyboardInterrupt:
        err.print("interrupted")
        if as_json:
            emit_json(failure_summary("interrupted", INTERRUPTED_EXIT_CODE, None))
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001 - each kind ends as one line and its exit code
        if debug:
            traceback.print_exception(error, file=sys.stderr)
        line, code = _failure_line(error)
        ended = _one_line(line, code)
        if as_json:
            emit_json(failure_summary(line, code, failure_kind(error)))
        raise ended from None


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Inside: Ctrl-C and SIGTERM (a service manager stopping the command, ``kill``) end the
    command as ``interrupted``, exit 130 (:func:`guard`), its locks let go on the way out, and
    are kept (:data:`raceday.run_status.INTERRUPT_RECEIVED`): Prefect's flow engine swallows a
    KeyboardInterrupt that lands after a flow run's state is final (a race run finishing), so a
    day's run raises it again at its next safe point (:func:`flows.live.stop_if_interrupted`).
    Under a flow run Prefect's own SIGTERM handler marks the run crashed first, then calls this
    one again. Every command under :func:`guard` is inside; outside the main thread (where no
    signal handler can be set) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        INTERRUPT_RECEIVED.set()
        raise KeyboardInterrupt

    INTERRUPT_RECEIVED.clear()
    kept = outside_imports(interrupt)  # never raised inside an import (raceday.interrupts)
    previous = {number: signal.signal(number, kept) for number in (SIGINT, SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        INTERRUPT_RECEIVED.clear()


def emit_json(payload: dict[str, Any]) -> None:
    """Print one JSON object on standard output (for ``--json``)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


def answer(
    debug: bool,
    as_json: bool,
    action: Callable[[], dict[str, Any]],
    show: Callable[[dict[str, Any]], None],
) -> None:
    """Run ``action`` under :func:`guard`; print its result as one JSON object or with ``show``;
    exit with the code of the result (:func:`raceday.run_status.result_exit_code`: 6 for
    ``completed-with-alerts``). With ``as_json``, a failure is one JSON object too
    (:func:`guard`)."""
    result = guard(debug, action, as_json)
    if as_json:
        emit_json(result)
    else:
        show(result)
    code = result_exit_code(result)
    if code:
        raise typer.Exit(code)


def print_outcome(summary: dict[str, Any]) -> None:
    """The run's ``alerts`` line, then each alert (critical in red) and each warning, one line
    each."""
    alerts = summary.get("alerts") or []
    severities = [str(alert.get("severity")) for alert in alerts]
    counts = ", ".join(
        f"{severities.count(level)} {level}"
        for level in ("critical", "warning", "info")
        if level in severities
    )
    out.print(f"alerts:   {counts or 'none'}", highlight=False)
    for alert in alerts:
        severity = str(alert.get("severity"))
        colour = "red" if severity == "critical" else "yellow"
        line = f"  {severity} {alert.get('rule')}: {alert.get('message')}"
        out.print(f"[{colour}]{escape(line)}[/{colour}]", highlight=False, soft_wrap=True)
    for warning in summary.get("warnings") or []:
        out.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", highlight=False)


def ready_engine(settings: Settings) -> Engine:
    """The engine of a reachable store that has a schema; InputError on an empty store, and on
    a SQLite file that does not exist (SQLite would create it: a mistyped ``--db`` of a command
    that only reads left an empty file behind)."""
    from raceday.store.engine import check_connection, has_schema, make_engine, sqlite_file

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        raise InputError(
            f"the store at {mask_url(settings.database_url)} is empty: there is no such file "
            "(nothing created; check --db / RACEDAY_DB_URL, or run `raceday run`)"
        )
    engine = make_engine(settings.database_url)
    check_connection(engine)
    if not has_schema(engine):
        raise InputError(
            f"the store at {mask_url(settings.database_url)} is empty: run `raceday run`"
        )
    return engine


def open_store(db: str | None) -> tuple[Settings, Engine]:
    """The settings with ``--db`` and the engine of their store, which must have a schema."""
    settings = settings_from(db_url=db)
    return settings, ready_engine(settings)


@contextmanager
def running_flows(
    database_url: str,
    debug: bool,
    tags: Sequence[str] = (),
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[None]:
    """Inside: the stages use this store and flows report to the CLI's own Prefect server
    (Prefect's console tracebacks hidden unless ``--debug``, and the lines the command says
    itself: :func:`flows.console.prepare_console`), their runs tagged ``raceday`` (the
    automations follow it, as on the deployments' runs) and ``tags``
    (:func:`tasks.labels.run_tags`). ``meanwhile``: work on this store that needs no Prefect,
    run while the temporary server starts (:func:`cli.prefect_server.prefect_api`)."""
    from flows.console import prepare_console

    prepare_console(debug)
    from prefect import tags as prefect_tags

    from cli.prefect_server import prefect_api
    from flows.deployments import PROJECT_TAG

    with use_store(database_url), prefect_api(meanwhile), prefect_tags(PROJECT_TAG, *tags):
        yield


def preflight(settings: Settings) -> None:
    """Fail fast, before Prefect starts, on a bad source, an unreachable store, or the simulator
    on a store of real races."""
    from config.reference import venue_time_zones
    from raceday.simulate.config import SimulatorConfig
    from raceday.sources.factory import open_source
    from raceday.store.engine import check_connection, make_engine

    open_source(
        settings.source,
        simulator=SimulatorConfig(),
        pckeiba_url=settings.pckeiba_url,
        pckeiba_circuits=settings.pckeiba.circuits,
        time_zones=venue_time_zones(),
    )
    check_connection(make_engine(settings.database_url))
    from tasks.ingest import refuse_mixing_simulated_and_real_races

    refuse_mixing_simulated_and_real_races(settings)  # a worker's runs check it in their ingest too
