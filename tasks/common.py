"""What every task shares: the stage wrapper, the store engine, the run id, retry options and the
stage record.

A stage is defined once, as a plain function (its IO through the store's catalogs, its logic in
the domain) wrapped by :func:`stage`: calling the :class:`Stage` runs the body in-process (a
backfill's chunk, tests, benchmarks); ``stage.task`` is the Prefect task that runs it as a task run
of a flow (a day's run). ``flows/chain.py`` writes the order once and runs it either way.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

import pandas as pd
from prefect import Task, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import State, TaskRun
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run
from sqlalchemy import Connection, Engine

from config import Settings
from data_checks.derived import CheckedFrame
from data_checks.docs import publish_quietly
from data_checks.gx_runner import SuiteOutcome
from data_checks.records import quarantine_summary, validation_rows
from raceday.errors import as_stage_failure, failure_kind, is_store_fault
from raceday.run_status import DayRefusal
from raceday.store.catalogs.quality import write_quarantine, write_validation_results
from raceday.store.catalogs.runs import record_stage_run
from raceday.store.engine import make_engine
from tasks.labels import publishes_artifacts

P = ParamSpec("P")
R = TypeVar("R")

LOCAL_FLOW = "local"  # the flow name recorded for a stage run outside any flow run


class Stage(Generic[P, R]):
    """A stage of the chain: its body, and the Prefect task (``stage.task``) that runs it."""

    def __init__(
        self, name: str, body: Callable[P, R], *, io: bool = False, run_name: str | None = None
    ) -> None:
        self.name = name
        self.body = body
        self.io = io  # reads a source: retried with backoff when it is unavailable
        # a task run reads as what it does (``validate-card``), not Prefect's random suffix
        self.task: Task[P, R] = task(name=name, cache_policy=NONE, task_run_name=run_name or name)(
            body
        )
        self.__doc__ = body.__doc__
        self.__name__ = body.__name__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the body in-process (no task run)."""
        return self.body(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Stage({self.name!r})"


def stage(
    name: str, *, io: bool = False, run_name: str | None = None
) -> Callable[[Callable[P, R]], Stage[P, R]]:
    """Define a stage of the chain from its body (see the module's docstring); ``run_name``:
    its task runs' name, a template of its parameters (``validate-{phase}``; default ``name``)."""

    def define(body: Callable[P, R]) -> Stage[P, R]:
        return Stage(name, body, io=io, run_name=run_name)

    return define


class StageRunner(Protocol):
    """How a chain runs its stages: in-process, or as task runs of the flow."""

    def __call__(self, stage: Stage[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R: ...


def in_process(stage: Stage[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a stage's body here (a backfill's chunk: one task run for the whole chunk)."""
    return stage(*args, **kwargs)


class AsTasks:
    """Run each stage as a task run of the current flow (a day's run); the stages that read a
    source retry it when it is unavailable (:func:`io_task_options`)."""

    def __init__(self, settings: Settings) -> None:
        self.options = io_task_options(settings)

    def __call__(self, stage: Stage[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        runnable = stage.task.with_options(**self.options) if stage.io else stage.task
        return runnable(*args, **kwargs)


def _import_shared_libraries() -> None:
    """Import, on this thread, what a background body (a fit) and this thread's stages both
    import on first use: scikit-learn's models, and narwhals under them (Great Expectations,
    imported later here, finds it imported). Two threads importing one package's modules for
    the first time can deadlock on Python's import locks (``_DeadlockError`` on
    ``narwhals.stable.v2``, seen once in a backfill). A no-op once imported."""
    import sklearn.ensemble  # noqa: F401


def in_background(body: Callable[[], R], name: str) -> Future[R]:
    """``body()`` on a thread of its own, in a copy of this context (its stage records and logs
    are this run's); the future of its outcome. A daemon thread: an interrupted backfill does
    not wait for it (a training's fit, a chunk's learned window: :mod:`flows.backfill`,
    :func:`tasks.derive.learn_beside`)."""
    _import_shared_libraries()
    future: Future[R] = Future()
    context = contextvars.copy_context()

    def work() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(context.run(body))
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(error)

    threading.Thread(target=work, name=name, daemon=True).start()
    return future


def engine_for(settings: Settings) -> Engine:
    """The store's engine (one per URL per process)."""
    return make_engine(settings.database_url)


def current_run_id() -> str:
    """The Prefect flow run id, or a fresh id when running outside a flow."""
    run_id = flow_run.get_id()
    return str(run_id) if run_id else f"local-{uuid.uuid4().hex[:24]}"  # fits run_id (40)


@cache
def _flow_name_of(run_id: str) -> str:
    return flow_run.get_flow_name() or LOCAL_FLOW


def current_flow_name() -> str:
    """The name of the flow whose run this is (``local`` outside a flow run): what the stage
    records say ran them, read from Prefect's runtime context rather than handed down."""
    run_id = flow_run.get_id()
    return _flow_name_of(str(run_id)) if run_id else LOCAL_FLOW


def publishes_day_artifacts() -> bool:
    """True inside a Prefect flow run (artifacts need one; ``task.fn`` calls have none) that is
    not a backfill: a replayed day publishes no report or bet slip (:mod:`tasks.labels`)."""
    return flow_run.get_id() is not None and publishes_artifacts(current_flow_name())


def logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The task/flow run logger inside Prefect, the module logger outside."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("raceday")


# A log record's attribute (``extra``) marking a line the command says on its terminal itself:
# the run's log and the Prefect UI keep it, the command's console leaves it out (flows/console.py)
OFF_TERMINAL = "raceday_off_terminal"


def log_refusals(refused: Iterable[DayRefusal]) -> None:
    """Each day a backfill refused for its input, a warning in the run's log (the Prefect UI);
    not on the command's terminal, which says each once beside its summary (its line was
    printed twice: ``cli/backfill.py:say_refused``)."""
    for refusal in refused:
        logger().warning(
            "%s: refused, the other days go on", refusal.line, extra={OFF_TERMINAL: True}
        )


def logged(warnings: list[str]) -> list[str]:
    """``warnings``, each also logged as a warning (the run's log, the Prefect UI): what a
    summary says that the log must say too; not on the command's terminal, which prints the
    summary (:data:`OFF_TERMINAL`)."""
    for line in warnings:
        logger().warning(line, extra={OFF_TERMINAL: True})
    return warnings


def log_status(what: str, said: Mapping[str, Any]) -> None:
    """A run's status (``said``: :func:`raceday.run_status.outcome`'s entries) as one line of
    its log (``the day's run: completed-with-warnings (2 warning(s), 0 alert(s))``): a
    deployment's run prints no summary, so its log (the Prefect UI) must say how it ended; not
    on the command's terminal, which prints the summary (:data:`OFF_TERMINAL`)."""
    logger().info(
        "%s: %s (%d warning(s), %d alert(s))",
        what,
        said["status"],
        len(said["warnings"]),
        len(said["alerts"]),
        extra={OFF_TERMINAL: True},
    )


def is_retryable(error: BaseException) -> bool:
    """Only a source or store that is unavailable is retried: bad input is as bad on the next
    attempt, and a defect in our code fails the same way again (:func:`failure_kind`); nor is a
    store that answers but cannot serve (:func:`is_store_fault`: damaged, rights missing)."""
    return failure_kind(error) == "unavailable" and not is_store_fault(error)


def retry_if_unavailable(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry condition of the IO tasks: retry an unavailable source or store only.

    The engine hands over the failure as ``state.data`` (read directly: ``state.result()`` is
    not usable from an async task's engine, whose event loop is running)."""
    if isinstance(state.data, BaseException):
        return is_retryable(state.data)
    try:
        state.result(raise_on_failure=True)
    except Exception as error:  # noqa: BLE001 - classified, not handled
        return is_retryable(error)
    return False


def attempts_until_failed(settings: Settings, error: BaseException) -> int:
    """How many attempts an IO task with :func:`io_task_options` made before failing."""
    return settings.retry.retries + 1 if is_retryable(error) else 1


def io_task_options(settings: Settings) -> dict[str, Any]:
    """Retries with backoff and jitter plus a timeout, for tasks that do IO."""
    return {
        "retries": settings.retry.retries,
        "retry_delay_seconds": settings.retry.delays_s,
        "retry_jitter_factor": settings.retry.jitter_factor,
        "timeout_seconds": settings.retry.task_timeout_s,
        "retry_condition_fn": retry_if_unavailable,
    }


@dataclass
class StageRecord:
    """Counts a stage reports about itself; written to ``pipeline_runs`` when it ends."""

    rows_in: int = 0
    rows_out: int = 0
    message: str | None = None
    attempts: int = 1  # a stage whose work was retried inside it (venue lanes) sets how often
    race_id: str | None = None  # the race being worked on, named by a defect (see about_races)

    def about_races(self, frame: pd.DataFrame) -> None:
        """Note the race when ``frame`` (with a ``race_id`` column) holds exactly one."""
        if "race_id" in frame.columns:
            races = frame["race_id"].dropna().unique()
            self.race_id = str(races[0]) if len(races) == 1 else None


_running: dict[str, Any] = {"stage": None, "day": None}  # this process's stage now


def running_stage() -> tuple[str | None, date | None]:
    """The stage this process is in now and its day (a backfill's progress display)."""
    return _running["stage"], _running["day"]


@contextmanager
def stage_run(settings: Settings, stage: str, race_date: date) -> Iterator[StageRecord]:
    """Time a stage and record it (also when it fails) in ``pipeline_runs``.

    A defect in the stage's code (any error that is neither bad input nor an unavailable source
    or store) leaves as :class:`raceday.errors.StageDefect` naming the stage and, when the body
    set ``record.race_id``, the race; it is not retried."""
    _running.update(stage=stage, day=race_date)
    record = StageRecord()
    started = datetime.now()
    clock = time.perf_counter()
    status = "completed"
    try:
        yield record
    except BaseException as error:
        status = "failed"
        failure = as_stage_failure(error, stage, record.race_id)
        kind = "defect: " if failure is not error else ""
        record.message = f"{kind}{type(error).__name__}: {error}"[:2000]
        if failure is error:
            raise
        raise failure from error
    finally:
        row = stage_run_row(stage, race_date, status, started, time.perf_counter() - clock, record)
        try:
            with engine_for(settings).begin() as connection:
                record_stage_run(connection, row)
        except Exception:
            if status == "completed":
                raise
            logging.getLogger(__name__).exception("could not record the failed stage %s", stage)


def stage_run_row(
    stage: str,
    race_date: date,
    status: str,
    started: datetime,
    duration_s: float = 0.0,
    record: StageRecord | None = None,
) -> dict[str, object]:
    """A ``pipeline_runs`` row of this run (:func:`raceday.store.catalogs.runs.record_stage_run`);
    ``record``: what the stage reported (none: counts of 0)."""
    record = record if record is not None else StageRecord()
    return {
        "flow_name": current_flow_name(),
        "stage": stage,
        "race_date": race_date,
        "run_id": current_run_id(),
        "status": status,
        "rows_in": record.rows_in,
        "rows_out": record.rows_out,
        "started_at": started,
        "duration_s": duration_s,
        "message": record.message,
        "attempts": record.attempts,
    }


# --- what the stages that check their outputs share ------------------------------------------


DATA_DOCS_ARTIFACT = "data-docs"


def period_label(start: date, end: date) -> str:
    return f"{start}" if start == end else f"{start}..{end}"


def publish_docs(
    settings: Settings, outcomes: tuple[SuiteOutcome, ...], stage: str, start: date, end: date
) -> None:
    """Data Docs pages for a stage's validations (when enabled in settings), linked from the
    flow run (a ``data-docs`` link artifact; not from backfilled days)."""
    if settings.validation.data_docs:
        index = publish_quietly(
            outcomes,
            settings.var_dir,
            run_name=f"{stage}-{period_label(start, end)}",
            batch=current_run_id(),
            limit=settings.validation.data_docs_index_limit,
        )
        if index is not None and publishes_day_artifacts():
            from prefect.artifacts import create_link_artifact

            create_link_artifact(
                key=DATA_DOCS_ARTIFACT,
                link=index.resolve().as_uri(),
                link_text="Data Docs (validations, failing races)",
                description=f"{stage} {period_label(start, end)}",
            )


def _first_day(valid: pd.DataFrame, end: date) -> date:
    """The first day a checked frame's rows cover (``end`` at the latest, or when none)."""
    dates = pd.to_datetime(valid["race_date"]).dropna()
    return min(dates.min().date(), end) if not dates.empty else end


def _record_quarantine(
    settings: Settings,
    connection: Connection,
    checked: CheckedFrame,
    stage: str,
    start: date,
    end: date,
    run_id: str,
    race_ids: Collection[str] | None = None,
) -> None:
    """A checked frame's quarantine of ``start``..``end`` replaced (only ``race_ids``' when
    given), its Data Docs pages, and a warning when rows were set aside."""
    write_quarantine(connection, checked.quarantine, start, end, stage, run_id, race_ids)
    publish_docs(settings, (checked.outcome,), stage, start, end)
    if not checked.quarantine.empty:
        logger().warning("%s: %s", stage, quarantine_summary(checked.quarantine))


def record_checked(
    settings: Settings,
    connection: Connection,
    checked: CheckedFrame,
    stage: str,
    end: date,
    start: date | None = None,
    race_ids: Collection[str] | None = None,
) -> pd.DataFrame:
    """Store a derived frame's quarantine and validation results; the rows that may be stored.

    For stage tasks that derive frames (``first3f``, ``predict``, ``stake``): run inside their
    transaction, so the quarantine of a stage is replaced together with its rows (only that of
    ``race_ids`` when given: a race decided at race time).
    """
    run_id = current_run_id()
    start = _first_day(checked.valid, end) if start is None else start
    write_validation_results(connection, validation_rows([checked.outcome], run_id, end))
    _record_quarantine(settings, connection, checked, stage, start, end, run_id, race_ids)
    return checked.valid


def record_checked_days(
    settings: Settings, connection: Connection, checked: list[tuple[date, CheckedFrame]], stage: str
) -> list[pd.DataFrame]:
    """:func:`record_checked` for several one-day frames (each day's quarantine replaced as
    its own, the validation results of all the days written in one go); the rows that may be
    stored, by day."""
    run_id = current_run_id()
    for day, frame in checked:
        _record_quarantine(
            settings, connection, frame, stage, _first_day(frame.valid, day), day, run_id
        )
    rows = [validation_rows([frame.outcome], run_id, day) for day, frame in checked]
    if rows:
        write_validation_results(connection, pd.concat(rows, ignore_index=True))
    return [frame.valid for _day, frame in checked]
