"""`raceday run --demo` (what `make run` runs) shows the product on an empty store: the eve
warms it up, a first model is trained on the demo's short windows, the day is predicted by that
model when it is promoted; a second run is just the day. Smaller days than `make run`'s 200
races (60) so the three windows still hold enough races; ~1–2 minutes on 2 cores. Its commands
start Prefect's temporary server, as `make run` does on a machine without PREFECT_API_URL: the
path tested is that one, so they are not given the tests' long-lived server."""

from __future__ import annotations

import json
import logging
import subprocess
from datetime import date
from pathlib import Path

import pytest

from cli.demo import DEMO_SETTINGS, demo_lines, demo_overrides, eve_history
from config import load_settings
from tests.e2e.cli_process import COMMAND, ROOT, cli_environment

pytestmark = [pytest.mark.slow]


def test_the_user_s_own_windows_win_over_the_demo_s() -> None:
    mine = {"RACEDAY_TRAIN__TRAIN_DAYS": "90"}
    overrides = demo_overrides(mine)
    assert "RACEDAY_TRAIN__TRAIN_DAYS" not in overrides
    assert set(overrides) == set(DEMO_SETTINGS) - set(mine)


def test_a_store_with_a_model_prints_no_demo_lines() -> None:
    assert demo_lines({}) == []


def test_a_first_run_warms_the_eve_up_in_process_before_prefect_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first run warms the store up while Prefect's server starts (``eve_history``, run by
    ``running_flows``): the eve's own warm-up (``prepare_history`` for the eve, with the run's
    settings) in-process — the eve's flow then finds the history there — with its lines on the
    terminal down to INFO, as its task runs' were. A store with a model has nothing to warm up."""
    import flows.chain
    from tasks.common import in_process

    said = logging.getLogger("raceday")
    calls: list[tuple[object, ...]] = []

    def warm_up(run: object, settings: object, race_date: date) -> None:
        calls.append((run, settings, race_date, said.getEffectiveLevel()))

    monkeypatch.setattr(flows.chain, "prepare_history", warm_up)
    level = said.level
    assert said.getEffectiveLevel() > logging.INFO, "its INFO lines are not shown otherwise"
    settings = load_settings(races=6)
    eve = date(2026, 6, 9)
    assert eve_history(settings, eve, first_run=False) is None
    warm = eve_history(settings, eve, first_run=True)
    assert warm is not None and calls == [], "run by running_flows, while the server starts"
    warm()
    assert calls == [(in_process, settings, eve, logging.INFO)]
    assert said.level == level, "the logger's level given back"


def _demo(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [*COMMAND, "run", "--demo", "--date", "2026-06-10", "--json"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def test_the_first_run_trains_a_model_and_the_day_uses_it(tmp_path: Path) -> None:
    env = cli_environment(tmp_path, RACEDAY_SIMULATOR__RACES_PER_DAY="60")
    env.pop("RACEDAY_HISTORY__WARMUP_DAYS")  # the demo's own warm-up
    first = _demo(env)
    steps = first["demo"]
    assert isinstance(steps, dict)
    assert steps["eve"]["date"] == "2026-06-09" and steps["eve"]["model_version"] == "market-v1"
    training = steps["training"]
    assert training["trained"], training
    expected = training["version"] if training["promoted"] else "market-v1"
    assert first["model_version"] == expected
    assert any("first model" in line for line in demo_lines(steps))

    again = _demo(env)
    assert again["demo"] == ({} if training["promoted"] else again["demo"])
    assert again["bets"] == first["bets"] and again["staked_yen"] == first["staked_yen"]
