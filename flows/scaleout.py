"""A backfill scaled out over the workers of a work pool: the stages that do not depend on the
ledger run chunk-parallel, the ledger pass and training stay ordered in the backfill's process.

The chunk chain (:func:`flows.chain.chunk_chain`) cut where a chunk depends on other chunks
(:data:`flows.chain.WAVES`, in order):

- ``store``: ingest, decide each day as the in-process backfill does (a day refused for its
  input stores only its records, and its refusal for the ordered pass), store the results and
  the card — reads nothing stored;
- ``derive``: reference times and the first-3F model, learned from the stored window that ends
  the day before the chunk (earlier chunks' results: every chunk is stored by now), then the
  chunk's first 3F and indexes (the first chunks, when they learn from themselves, derived in
  the backfill's process first: :func:`derived_here`);
- ``features``: each runner's point-in-time features from the runs before its day (earlier
  chunks' indexes and the chunk's own earlier days: every chunk is derived by now). Every read
  is bounded by the chunk's last day, so later chunks, stored already, are never seen.

Each wave is dispatched as ``workers`` runs of the ``backfill-wave`` deployment (run ``i``
holds every ``workers``-th chunk from the ``i``-th: a process worker starts a Python process
per flow run, so few runs), and every run of a wave ends before the next wave starts. Then the
backfill runs the ordered pass chunk by chunk (:func:`flows.chain.ordered_chain`): predict with
the version promoted before the chunk, stake, settle and record in date order the days the
store wave did not refuse, mark them completed, retrain when due. A wave run that fails fails
the backfill in one line with no day marked completed; the same command resumes (completed
days are skipped and every write replaces by natural key). The store is each worker's own
setting (``RACEDAY_DB_URL``), never a parameter: every worker must reach the same PostgreSQL
store.
"""

from __future__ import annotations

import time
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from config import Settings
from flows.backfill_settings import backfill_settings
from flows.chain import WAVES
from raceday.errors import InputError, RacedayError
from raceday.sources.timeline import OddsAt
from tasks.common import in_process, logger
from tasks.derive import learns_from_itself

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

WAVE_DEPLOYMENT = "backfill-wave/backfill-wave"
POLL_SECONDS = 2.0


class WaveFailed(RacedayError):
    """A run of a backfill wave did not complete: nothing of the ordered pass ran."""

    exit_code = 5


def wave_groups(chunks: list[tuple[date, date]], workers: int) -> list[list[tuple[date, date]]]:
    """``chunks`` dealt to ``workers`` runs: run ``i`` takes chunks ``i``, ``i + workers``, …
    (early and late chunks spread over the runs); no empty run."""
    if workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    return [group for group in (chunks[n::workers] for n in range(workers)) if group]


def wave_run_name() -> str:
    """``backfill-wave-derive-2025-01-01+3``: the wave and its first chunk (and how many)."""
    parameters = flow_run.get_parameters()
    chunks = parameters.get("chunks") or [["?"]]
    return f"backfill-wave-{parameters.get('wave')}-{chunks[0][0]}+{len(chunks)}"


@task(name="wave-chunk", cache_policy=NONE, task_run_name="{wave}-{start}..{end}")
def wave_chunk(settings: Settings, wave: str, start: date, end: date) -> int:
    """One chunk's stages of ``wave``, in-process; returns what the wave counts."""
    clock = time.perf_counter()
    count = WAVES[wave](in_process, settings, start, end)
    logger().info("%s %s..%s: %d in %.1f s", wave, start, end, count, time.perf_counter() - clock)
    return count


@flow(name="backfill-wave", flow_run_name=wave_run_name, log_prints=True)
def backfill_wave(
    wave: str,
    chunks: list[tuple[date, date]],
    races: int | None = None,
    source: str | None = None,
    odds_at: OddsAt | None = None,
) -> int:
    """Run ``wave`` (store, derive or features) over ``chunks`` (first and last day each), one
    after another, in this worker's process against the store of its settings."""
    if wave not in WAVES:
        raise InputError(f"wave must be one of {', '.join(WAVES)}, not {wave!r}")
    settings = backfill_settings(races, source, odds_at)
    return sum(wave_chunk(settings, wave, start, end) for start, end in chunks)


def refuse_scale_out(settings: Settings) -> None:
    """One line unless the store is one every worker can write at once (PostgreSQL)."""
    if not settings.database_url.startswith("postgresql"):
        raise InputError(
            "--workers needs a PostgreSQL store (RACEDAY_DB_URL) that every worker reaches: "
            "several processes cannot write one SQLite file"
        )


def require_wave_deployment(deployment: str = WAVE_DEPLOYMENT) -> None:
    """One line unless the server has the wave deployment (``raceday deploy`` creates it)."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async def read() -> None:
        async with get_client() as client:
            await client.read_deployment_by_name(deployment)

    try:
        asyncio.run(read())
    except ObjectNotFound:
        raise InputError(
            f"the Prefect server has no deployment {deployment}: run `raceday deploy`, then "
            "start workers (`raceday worker`) where they reach the same PostgreSQL store"
        ) from None


def run_wave(
    wave: str,
    groups: list[list[tuple[date, date]]],
    parameters: dict[str, Any],
    deployment: str = WAVE_DEPLOYMENT,
) -> None:
    """Start one run of ``deployment`` per group of chunks and wait for every one; a run that
    does not complete raises :class:`WaveFailed` (after the others ended: none left running)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    started = [
        cast(
            "FlowRun",  # called from sync code: the run itself, not a coroutine
            run_deployment(
                deployment,
                parameters={**parameters, "wave": wave, "chunks": group},
                timeout=0,  # started, not awaited: the runs of a wave go at once
            ),
        )
        for group in groups
    ]
    with get_client(sync_client=True) as client:
        pending = {run.id: run for run in started}
        ended = []
        while pending:
            time.sleep(POLL_SECONDS)
            for run_id in list(pending):
                current = client.read_flow_run(run_id)
                if current.state is not None and current.state.is_final():
                    ended.append(current)
                    del pending[run_id]
    failed = [run for run in ended if run.state is None or not run.state.is_completed()]
    if failed:
        first = failed[0]
        state = first.state.name if first.state else "no state"
        message = (first.state.message or "").strip().splitlines() if first.state else []
        raise WaveFailed(
            f"backfill wave {wave}: {len(failed)} of {len(ended)} runs did not complete "
            f"({first.name}: {state}{': ' + message[0] if message else ''}); no day was marked "
            "completed — run the same command again to resume"
        )


def derived_here(settings: Settings, chunks: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """The derive wave's first chunks that learn from themselves (no history stored before
    them, :func:`tasks.derive.learns_from_itself`) derived here, in order; the chunks left for
    the wave's runs. Such a chunk learns the version of its last day, the one the next chunk
    learns from the window before it: dispatched, two runs learned it at once (one failed on
    its key, ``pk_first3f_models``) or the next chunk's first (its window, not the chunk's,
    stored with it). The chunks left each learn a version of their own (of the day before
    them), stored by no other."""
    left = list(chunks)
    while left and learns_from_itself(settings, *left[0]):
        start, end = left.pop(0)
        logger().info("derive %s..%s here: it learns from itself, before the wave", start, end)
        WAVES["derive"](in_process, settings, start, end)
    return left


def run_waves(
    settings: Settings,
    chunks: list[tuple[date, date]],
    workers: int,
    races: int | None,
    odds_at: str | None,
) -> None:
    """Every wave over ``chunks``, ``workers`` runs each, one wave after another (the derive
    wave's chunks that learn from themselves first, here: :func:`derived_here`)."""
    parameters = {"races": races, "source": settings.source, "odds_at": odds_at}
    for wave in WAVES:
        clock = time.perf_counter()
        spans = derived_here(settings, chunks) if wave == "derive" else chunks
        groups = wave_groups(spans, workers) if spans else []
        if groups:
            run_wave(wave, groups, parameters)
        logger().info(
            "wave %s: %d chunks in %d runs, %.1f s",
            wave,
            len(chunks),
            len(groups),
            time.perf_counter() - clock,
        )
