"""What every task shares: the store engine, the run id, retry options and the stage record."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from prefect import Task, get_run_logger
from prefect.client.schemas.objects import State, TaskRun
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run
from sqlalchemy import Engine

from config import Settings
from raceday.errors import InputError, NothingValid
from raceday.store.catalog import record_stage_run
from raceday.store.engine import make_engine


def engine_for(settings: Settings) -> Engine:
    """The store's engine (one per URL per process)."""
    return make_engine(settings.database_url)


def current_run_id() -> str:
    """The Prefect flow run id, or a fresh id when running outside a flow."""
    run_id = flow_run.get_id()
    return str(run_id) if run_id else f"local-{uuid.uuid4().hex[:24]}"  # fits run_id (40)


def in_flow_run() -> bool:
    """True inside a Prefect flow run (artifacts need one; ``task.fn`` calls have none)."""
    return flow_run.get_id() is not None


def logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The task/flow run logger inside Prefect, the module logger outside."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("raceday")


def retry_unless_user_error(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry transient failures only: bad input will be as bad on the next attempt."""
    try:
        state.result(raise_on_failure=True)
    except (InputError, NothingValid):
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return False


def io_task_options(settings: Settings) -> dict[str, Any]:
    """Retries with backoff and jitter plus a timeout, for tasks that do IO."""
    return {
        "retries": settings.retry.retries,
        "retry_delay_seconds": settings.retry.delays_s,
        "retry_jitter_factor": settings.retry.jitter_factor,
        "timeout_seconds": settings.retry.task_timeout_s,
        "retry_condition_fn": retry_unless_user_error,
    }


@dataclass
class StageRecord:
    """Counts a stage reports about itself; written to ``pipeline_runs`` when it ends."""

    rows_in: int = 0
    rows_out: int = 0
    message: str | None = None


@contextmanager
def stage_run(
    settings: Settings, flow_name: str, stage: str, race_date: date
) -> Iterator[StageRecord]:
    """Time a stage and record it (also when it fails) in ``pipeline_runs``."""
    record = StageRecord()
    started = datetime.now()
    clock = time.perf_counter()
    status = "completed"
    try:
        yield record
    except BaseException as error:
        status = "failed"
        record.message = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        row = {
            "flow_name": flow_name,
            "stage": stage,
            "race_date": race_date,
            "run_id": current_run_id(),
            "status": status,
            "rows_in": record.rows_in,
            "rows_out": record.rows_out,
            "started_at": started,
            "duration_s": time.perf_counter() - clock,
            "message": record.message,
        }
        try:
            with engine_for(settings).begin() as connection:
                record_stage_run(connection, row)
        except Exception:
            if status == "completed":
                raise
            logging.getLogger(__name__).exception("could not record the failed stage %s", stage)
