"""``raceday run --demo`` (what ``make run`` runs): the product on a first run.

On a store without a promoted model, a normal first day predicts with the market alone
(``market-v1``) and stakes nothing: a newcomer would see no model, no bet and no P&L until they
found out that training wants 270 days of history. The demo, on the simulator only, shortens the
windows (72 days of history; the model trains on 42 days, fits its blend on the next 14 and is
judged on the newest 14 — the real windows are 180 / 45 / 45, docs/MODEL.md) and runs, in one
process (one Prefect server start): the day before (which warms the empty store up), the
training of a first model (promoted only if it beats the market on its held-out days, as
always), then the day itself — bets placed and settled. Once a model is promoted the demo is
just the day. Figures from such short windows are a demonstration, not a judgement of the model.
The eve's warm-up runs in-process while Prefect's temporary server starts (:func:`eve_history`):
the same stages and rows as inside the eve's flow run, without waiting for the server first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

from config import Settings
from raceday.errors import InputError

DEMO_SETTINGS = {
    "RACEDAY_HISTORY__WARMUP_DAYS": "72",
    "RACEDAY_TRAIN__TRAIN_DAYS": "42",
    "RACEDAY_TRAIN__BLEND_DAYS": "14",
    "RACEDAY_TRAIN__EVALUATE_DAYS": "14",
}


def demo_overrides(environment: dict[str, str]) -> dict[str, str]:
    """The demo's windows, except those the user has set (theirs win)."""
    return {name: value for name, value in DEMO_SETTINGS.items() if name not in environment}


def has_model_for(settings: Settings, day: date) -> bool:
    """Whether a promoted version trained before ``day`` is in the store (none: empty store)."""
    from sqlalchemy import inspect

    from raceday.store.engine import make_engine
    from raceday.store.registry import MODEL_VERSIONS, version_for_day

    engine = make_engine(settings.database_url)
    if not inspect(engine).has_table(MODEL_VERSIONS.name):
        return False
    with engine.connect() as connection:
        return version_for_day(connection, day) is not None


def first_model(settings: Settings, until: date) -> dict[str, Any]:
    """Train the first version on the history up to ``until`` (the day before the demo's day);
    when the history is too short (a store warmed up before the demo existed), why not."""
    from flows.train import train_model
    from tasks.train import check_history

    try:
        check_history(settings, until)
    except InputError as short:
        return {"trained": False, "reason": str(short)}
    trained: dict[str, Any] = train_model(until=until)
    return {"trained": True, **trained}


def eve_history(settings: Settings, eve: date, first_run: bool) -> Callable[[], None] | None:
    """On a first run, the eve's warm-up (``flows.chain.prepare_history``, in-process: the
    same stages and store as in the eve's flow run, which then finds the history there), to
    run while Prefect's temporary server starts rather than after it (``running_flows``'s
    ``meanwhile``): 10–18 s of the first run's wall spent waiting before."""
    if not first_run:
        return None
    from flows.chain import prepare_history
    from tasks.common import in_process

    return partial(_on_the_terminal, partial(prepare_history, in_process, settings, eve))


def _on_the_terminal(stages: Callable[[], None]) -> None:
    """``stages()`` run in-process with their lines (the ``raceday`` logger's, outside a run:
    :func:`tasks.common.logger`) on the terminal down to INFO, as their task runs' are."""
    said = logging.getLogger("raceday")
    level = said.level
    said.setLevel(logging.INFO)
    try:
        stages()
    finally:
        said.setLevel(level)


def run_demo(day: date, races: int | None, db: str | None, debug: bool) -> dict[str, Any]:
    """The demo's day, after the eve and the first model when the store has no model yet."""
    from cli.shared import preflight, running_flows, settings_from
    from config import load_settings

    os.environ.update(demo_overrides(dict(os.environ)))  # the flows read their settings
    settings = settings_from(races=races, db_url=db)
    if settings.source != "sim":
        raise InputError(
            f"--demo runs on the simulator (RACEDAY_SOURCE=sim), not {settings.source}: "
            "drop --demo to run your own data"
        )
    preflight(settings)
    from flows.daily import daily_run

    steps: dict[str, Any] = {}
    from tasks.labels import run_tags

    eve = day - timedelta(days=1)
    first_run = not has_model_for(settings, day)
    tags = run_tags("nar", settings.stage, "cli")
    with running_flows(
        settings.database_url, debug, tags, meanwhile=eve_history(settings, eve, first_run)
    ):
        if first_run:
            steps["eve"] = daily_run(race_date=eve, races=races, source=settings.source)
            steps["training"] = first_model(load_settings(db_url=db), eve)
        result: dict[str, Any] = daily_run(race_date=day, races=races, source=settings.source)
    return {**result, "demo": steps}


def demo_lines(steps: dict[str, Any]) -> list[str]:
    """What the demo did before the day, in words (nothing when the store had a model)."""
    if not steps:
        return []
    eve = steps["eve"]
    lines = [
        f"demo: {eve['date']} run first to warm the empty store up: {eve['races']} races with "
        f"the market alone ({eve.get('model_version')}), {eve['bets']} bets"
    ]
    training = steps["training"]
    if not training["trained"]:
        lines.append(f"demo: no first model — {training['reason']}")
    else:
        verdict = "promoted" if training["promoted"] else "not promoted"
        lines.append(
            f"demo: first model {training['version']} (short demo windows 42/14/14 days) "
            f"{verdict}: {training['reason']}"
        )
    return lines
