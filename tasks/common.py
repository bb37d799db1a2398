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
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

import pandas as pd
from prefect import Task, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import State, TaskRun
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from config import Settings
from data_checks.derived import CheckedFrame
from data_checks.docs import publish_quietly
from data_checks.gx_runner import SuiteOutcome
from data_checks.records import quarantine_summary, validation_rows
from raceday.errors import RunLocked, as_stage_failure, failure_kind, is_store_fault
from raceday.store.catalogs.quality import write_quarantine, write_validation_results
from raceday.store.catalogs.runs import (
    HORSE_LOCK,
    WARM_UP_LOCK,
    WARM_UP_LOCK_DAY,
    day_lock_holder,
    day_lock_holders,
    lock_days,
    record_stage_run,
    run_locks_held,
    unlock_days,
)
from raceday.store.engine import make_engine, upgrade_schema
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


# A process started within this of the lock's moment may be its holder (the clocks round).
PID_CLOCK_SLACK = timedelta(seconds=2)


def _holder() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def process_started_at(pid: int) -> datetime | None:
    """When process ``pid`` started, in local time (Linux's ``/proc``), or None where that is
    unknown (no such process, another system)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = next(
            line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime (after comm)
        return datetime.fromtimestamp(int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def holder_is_dead(holder: str, since: datetime | None) -> bool:
    """True when the holder ran on this machine and its process is gone (``kill -9``), or its
    pid now belongs to a process started after the lock was taken (the machine rebooted, or
    the pid came round again: such a lock held the day for the whole stale limit)."""
    host, _, pid = holder.rpartition(" pid ")
    if host.split(" ", 1)[-1] != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = process_started_at(int(pid))
    return since is not None and started is not None and started > since + PID_CLOCK_SLACK


def _is_stale(settings: Settings, found: dict[str, Any]) -> bool:
    since = found["since"]
    age = (datetime.now() - since).total_seconds() if since is not None else float("inf")
    dead = holder_is_dead(str(found["holder"] or ""), since)
    return dead or age > settings.retry.lock_stale_after_s


def _lock_label(race_date: date, sport: str) -> str:
    if sport == WARM_UP_LOCK:
        return "the store's warm-up"
    return f"{race_date}" if sport == HORSE_LOCK else f"{sport} day {race_date}"


def _lock_owner(found: dict[str, Any] | None) -> str:
    if found is None:
        return "another run"
    return f"{found['holder']} (run {found['run_id']}, since {found['since']:%H:%M:%S})"


def _locked(day: str, found: dict[str, Any] | None, outcome: str = "nothing done") -> RunLocked:
    return RunLocked(f"{day} is already being run by {_lock_owner(found)}: {outcome}")


def _live_locks(
    settings: Settings, read: Callable[[Connection], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The run locks ``read`` finds in the store that live runs hold (a stale one is left for
    :func:`day_lock` to take over); none in a store without the lock table, or older than the
    lock's sport column (:func:`day_lock` migrates it: no current run locked it). Nothing is
    written."""
    from sqlalchemy import inspect

    engine = engine_for(settings)
    if not inspect(engine).has_table("run_locks"):
        return []
    with engine.connect() as connection:
        try:
            found = read(connection)
        except SQLAlchemyError:
            return []
    return [lock for lock in found if not _is_stale(settings, lock)]


def refuse_locked_day(settings: Settings, race_date: date, sport: str = HORSE_LOCK) -> None:
    """Before Prefect starts (a command's preflight): :class:`RunLocked` when another live run
    holds the day's lock, so the refusal is one line (:func:`_live_locks`)."""

    def day_locks(connection: Connection) -> list[dict[str, Any]]:
        found = day_lock_holder(connection, race_date, sport)
        return [found] if found is not None else []

    live = _live_locks(settings, day_locks)
    if live:
        raise _locked(_lock_label(race_date, sport), live[0])


def refuse_restoring_under_a_run(settings: Settings) -> None:
    """Before a restore replaces the store: :class:`RunLocked` naming the day and the run when a
    live run holds a day's lock on it (the same liveness as :func:`day_lock`'s; a killed run's
    lock does not hold it). A restore under a writing run left that run's later stages' rows
    without the races they belong to. Nothing is written."""
    live = _live_locks(settings, run_locks_held)
    if live:
        day = _lock_label(live[0]["race_date"], str(live[0]["sport"]))
        raise RunLocked(
            f"{day} is being run by {_lock_owner(live[0])} on this store: nothing restored "
            "(restore when the run has ended)"
        )


@dataclass(frozen=True)
class LockTaker:
    """Who takes run locks: this run's id and its holder line (``<flow> <host> pid <pid>``),
    read once (outside a flow each read of the run id is a new one)."""

    run_id: str
    holder: str

    @classmethod
    def of_this_run(cls) -> LockTaker:
        return cls(current_run_id(), f"{current_flow_name()} {_holder()}")


@dataclass(frozen=True)
class LockRefused:
    """The first of the wanted days a live run holds, and its lock (None: let go meanwhile)."""

    day: date
    found: dict[str, Any] | None


def _take_locks(
    settings: Settings, days: Sequence[date], sport: str, taker: LockTaker
) -> LockRefused | None:
    """Take the run locks of ``days`` of ``sport`` for ``taker`` in one transaction: None when
    taken; when a live run holds one of them, that day and its lock, and none is taken. Locks
    left by killed runs are taken over (:func:`_is_stale`: dead process on this machine, or
    older than the stale limit)."""
    from sqlalchemy.exc import IntegrityError

    engine = engine_for(settings)
    live: list[dict[str, Any]] = []
    for attempt in (1, 2):
        try:
            with engine.begin() as connection:
                lock_days(connection, days, taker.holder, taker.run_id, sport)
            return None
        except IntegrityError:
            with engine.begin() as connection:
                found = day_lock_holders(connection, days, sport)
                live = [lock for lock in found if not _is_stale(settings, lock)]
                if live or attempt == 2:
                    break
                for stale in found:
                    logger().warning("taking over the stale run lock of %s", stale["holder"])
                    unlock_days(connection, [stale["race_date"]], stale["run_id"], sport)
    return LockRefused(live[0]["race_date"], live[0]) if live else LockRefused(days[0], None)


def _release_locks(settings: Settings, days: Sequence[date], sport: str, taker: LockTaker) -> None:
    with engine_for(settings).begin() as connection:
        unlock_days(connection, days, taker.run_id, sport)


@contextmanager
def day_lock(settings: Settings, race_date: date, sport: str = HORSE_LOCK) -> Iterator[None]:
    """Run the body holding the day's run lock of ``sport`` in the store (a horse day and a
    boat day of one date hold their own); another run of the same day at the same time fails
    at once with :class:`RunLocked` and changes nothing. A lock left by a killed run is taken
    over (dead process on this machine, or older than the stale limit)."""
    upgrade_schema(engine_for(settings))  # a no-op when current; the lock's key may be newer
    taker = LockTaker.of_this_run()
    refused = _take_locks(settings, [race_date], sport, taker)
    if refused is not None:
        raise _locked(_lock_label(race_date, sport), refused.found)
    try:
        yield
    finally:
        _release_locks(settings, [race_date], sport, taker)


class HeldDays:
    """The days whose run locks a run that writes many days (a backfill) holds, taken a chunk
    at a time (one transaction a chunk) and let go once the chunk is stored; :meth:`close`
    lets go of the rest. A day a live run holds refuses the chunk (:class:`RunLocked`)."""

    def __init__(self, settings: Settings, sport: str = HORSE_LOCK) -> None:
        self.settings, self.sport, self.taker = settings, sport, LockTaker.of_this_run()
        self.days: set[date] = set()
        self._guard = threading.Lock()  # a chunk prepared ahead takes its days from a task

    def hold(self, days: Sequence[date], outcome: str) -> None:
        """Hold ``days`` (those not held already); :class:`RunLocked` ending with ``outcome``
        (what the refusal leaves) when a live run holds one of them."""
        with self._guard:
            wanted = [day for day in days if day not in self.days]
            refused = _take_locks(self.settings, wanted, self.sport, self.taker) if wanted else None
            if refused is not None:
                raise _locked(_lock_label(refused.day, self.sport), refused.found, outcome)
            self.days.update(wanted)

    def release(self, days: Sequence[date]) -> None:
        """Let go of ``days``' locks (those held)."""
        with self._guard:
            held = [day for day in days if day in self.days]
            if held:
                _release_locks(self.settings, held, self.sport, self.taker)
                self.days.difference_update(held)

    def close(self) -> None:
        """Let go of every lock still held."""
        self.release(sorted(self.days))


# Between two asks for the warm-up lock while a live run holds it: a warm-up takes seconds to
# minutes, and asking is one small query.
WARM_UP_LOCK_POLL_S = 1.0


def wait_before_asking_again() -> None:
    """The pause between two asks for a lock a live run holds."""
    time.sleep(WARM_UP_LOCK_POLL_S)


@contextmanager
def warm_up_lock(settings: Settings) -> Iterator[None]:
    """Run the body holding the store's warm-up lock (one ``run_locks`` row for the whole
    store, :data:`WARM_UP_LOCK`): two runs warming up one empty store at once (the first runs
    of consecutive days: overlapping histories) wrote the same races at once and one failed
    on their primary key. The second waits while the holder is live (the day locks' liveness:
    a killed run's lock is taken over), then finds the history stored."""
    taker, waiting = LockTaker.of_this_run(), False
    while (refused := _take_locks(settings, [WARM_UP_LOCK_DAY], WARM_UP_LOCK, taker)) is not None:
        if not waiting:
            logger().info("waiting for the store's warm-up by %s", _lock_owner(refused.found))
            waiting = True
        wait_before_asking_again()
    try:
        yield
    finally:
        _release_locks(settings, [WARM_UP_LOCK_DAY], WARM_UP_LOCK, taker)


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
