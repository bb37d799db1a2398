"""Seen in a real browser: `prefect server start` on 127.0.0.1, a simulated day run against it,
the flow-run page (with its artifacts) and the HTML report opened in headless Chromium, with
screenshots; and a killed run alerting through the Prefect automation.

Needs Chromium and a Japanese font (`make browser-check` installs both with apt-get); without
them the tests are skipped with the reason, or fail when RACEDAY_TEST_REQUIRE_BROWSER=1.
Screenshots land in var/e2e-browser/ (or RACEDAY_E2E_SCREENSHOTS).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from raceday.monitoring.rules import ALERT_FIELDS
from tests.e2e.browser import HANG_LIMIT_S, Browser, find_chromium, japanese_fonts
from tests.e2e.cli_process import HANG_LIMIT_S as COMMAND_HANG_LIMIT_S
from tests.prefect_server_support import api as _api
from tests.prefect_server_support import running_prefect_server, server_log, server_log_tail
from tests.webhook_receiver import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("RACEDAY_E2E_SCREENSHOTS", REPO / "var" / "e2e-browser"))
REQUIRE = os.environ.get("RACEDAY_TEST_REQUIRE_BROWSER") == "1"
JAPANESE_FONT = re.compile(r"IPA|Noto Sans (CJK )?JP|Hiragino|Yu Gothic|Meiryo|Takao|VL ", re.I)
ARTIFACTS = ("daily-report", "rolling-metrics", "venues", "alerts", "bet-slip", "data-docs")
FIGURES = ("bankroll", "rolling", "calibration", "venues")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(reason + " (required: RACEDAY_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(reason + "; `make browser-check` installs it and runs these tests")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's executable, with a Japanese font for it to draw venue names with."""
    executable = find_chromium()
    if executable is None:
        _missing("Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    if not japanese_fonts():
        _missing("no Japanese font (Debian: apt-get install fonts-ipafont-gothic)")
    assert executable is not None
    return executable


@pytest.fixture(scope="module")
def prefect_server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's PREFECT_HOME (its log too: :func:`server_log`)."""
    return tmp_path_factory.mktemp("prefect-server")


@pytest.fixture(scope="module")
def prefect_server(
    chromium: str, prefect_server_home: Path, prefect_server_postgres: str | None
) -> Iterator[str]:
    """`prefect server start` on a free 127.0.0.1 port (its own PREFECT_HOME); its base URL."""
    with running_prefect_server(prefect_server_home, prefect_server_postgres) as base:
        yield base


@dataclass(frozen=True)
class Day:
    """A simulated day run against the server."""

    race_date: date
    summary: dict[str, Any]
    flow_run: dict[str, Any]
    env: dict[str, str]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def _client_env(base: str, work: Path, receiver: WebhookReceiver) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RACEDAY_")}
    env.update(
        PREFECT_API_URL=f"{base}/api",
        PREFECT_HOME=str(work / "prefect-client"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="INFO",  # as an operator runs it (the test suite quiets it)
        RACEDAY_VAR_DIR=str(work / "var"),
        RACEDAY_SIMULATOR__RACES_PER_DAY="60",
        RACEDAY_HISTORY__WARMUP_DAYS="14",
        RACEDAY_ALERTS__WEBHOOK_URL=receiver.url,
    )
    return env


def _raceday(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env, capture_output=True, text=True, timeout=COMMAND_HANG_LIMIT_S, cwd=REPO,
    )  # fmt: skip


@pytest.fixture(scope="module")
def day(
    prefect_server: str, receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Day:
    """`raceday run` for a simulated day, as the operator's scheduled run would."""
    env = _client_env(prefect_server, tmp_path_factory.mktemp("day"), receiver)
    race_date = date(2026, 11, 20)
    done = _raceday(env, "run", "--date", race_date.isoformat(), "--races", "40", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    runs = _api(prefect_server, "/flow_runs/filter", {"flows": {"name": {"any_": ["daily-run"]}}})
    assert len(runs) == 1 and runs[0]["state_type"] == "COMPLETED"
    return Day(race_date, summary, runs[0], env)


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium with an empty profile."""
    running = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield running
    finally:
        running.close()


def test_the_flow_run_page_shows_the_completed_run_and_its_artifacts(
    prefect_server: str, day: Day, browser: Browser
) -> None:
    """The Prefect UI's flow-run page shows the run Completed, then its report artifacts."""
    run_id, run_name = day.flow_run["id"], day.flow_run["name"]
    by_run = {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    artifacts = _api(prefect_server, "/artifacts/filter", by_run)
    keys = {artifact["key"] for artifact in artifacts}
    expected = set(ARTIFACTS)  # stable keys: each has a history across days
    assert expected <= keys, keys
    report_artifact = next(a for a in artifacts if a["key"] == "daily-report")
    assert "## Rolling metrics" in report_artifact["data"]
    docs_link = next(a for a in artifacts if a["key"] == "data-docs")
    assert "data_docs/index.html" in docs_link["data"]  # a link artifact (stored as markdown)

    browser.open(f"{prefect_server}/runs/flow-run/{run_id}")
    browser.wait_for(
        f"document.body.innerText.includes({json.dumps(run_name)}) && "
        "document.body.innerText.includes('Completed')",
    )
    # The logs pane loads after the page: the run's INFO logs reached the server.
    browser.wait_for("document.body.innerText.includes('Beginning flow run')")
    time.sleep(2)  # the run graph draws on a canvas after the data arrives
    shot = browser.screenshot(SCREENSHOTS / "prefect-flow-run.png", full_page=False)
    assert shot.stat().st_size > 20_000

    browser.evaluate(
        "Array.from(document.querySelectorAll('li.p-tab'))"
        ".find(tab => tab.textContent.trim() === 'Artifacts').click()"
    )
    shown = " && ".join(
        f"document.body.innerText.includes({json.dumps(key)})" for key in sorted(expected)
    )
    browser.wait_for(shown)
    browser.evaluate(  # bring the artifact cards into the screenshot
        "Array.from(document.querySelectorAll('*')).filter(e => e.childElementCount === 0 && "
        f"e.textContent.trim() === {json.dumps('daily-report')})[0]"
        ".scrollIntoView({block: 'center'})"
    )
    time.sleep(1)
    shot = browser.screenshot(SCREENSHOTS / "prefect-flow-run-artifacts.png", full_page=False)
    assert shot.stat().st_size > 20_000


def test_the_html_report_renders_every_figure_and_its_japanese_text(
    day: Day, browser: Browser
) -> None:
    """All four figures render with a real size and text; venue names are drawn with a
    Japanese font (in the tables and inside the SVG figures), not as empty boxes."""
    report = Path(day.summary["report"])
    assert report.suffix == ".html" and report.is_file()
    browser.open(report.resolve().as_uri())
    figures = browser.evaluate(
        "Array.from(document.querySelectorAll('figure svg')).map(svg => {"
        " const box = svg.getBoundingClientRect();"
        " return {name: svg.dataset.figure, width: box.width, height: box.height,"
        "         texts: svg.querySelectorAll('text').length,"
        "         drawn: svg.querySelectorAll('path, use').length}; })"
    )
    assert [figure["name"] for figure in figures] == list(FIGURES)
    for figure in figures:
        assert figure["width"] > 250 and figure["height"] > 150, figure
        assert figure["texts"] >= 5 and figure["drawn"] >= 5, figure

    venue_cell = browser.fonts_for('td[lang="ja"]')
    assert any(JAPANESE_FONT.search(font["familyName"]) and font["glyphCount"] > 0
               for font in venue_cell), venue_cell  # fmt: skip
    browser.evaluate(
        "Array.from(document.querySelectorAll('svg[data-figure=venues] text'))"
        ".find(text => /[\\u3040-\\u30ff\\u4e00-\\u9fff]/.test(text.textContent))"
        ".setAttribute('id', 'japanese-label')"
    )
    label = browser.fonts_for("#japanese-label")
    assert any(JAPANESE_FONT.search(font["familyName"]) for font in label), label
    shot = browser.screenshot(SCREENSHOTS / "daily-report.png")
    assert shot.stat().st_size > 100_000


def test_a_killed_run_alerts_through_the_prefect_automation(
    prefect_server: str, prefect_server_home: Path, day: Day, receiver: WebhookReceiver
) -> None:
    """With deploy/automations.yaml installed, a run killed by SIGTERM (no hook can run: it is
    Crashed, not Failed) posts exactly one alert to the webhook from the Prefect server."""
    installed = _raceday(day.env, "alerts", "automations")
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert "raceday: crashed flow run alert" in installed.stdout
    posts_before = len(receiver.posts)
    runs_before = {run["id"] for run in _api(prefect_server, "/flow_runs/filter", {})}
    crash_date = day.race_date + timedelta(days=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", "--date", crash_date.isoformat()],
        env=day.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    crash_run = _new_running_flow_run(prefect_server, runs_before, process)
    assert crash_run is not None, "the run never reached Running"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=HANG_LIMIT_S)
    crashed = _api(prefect_server, f"/flow_runs/{crash_run['id']}")
    log = server_log(prefect_server_home)
    assert crashed["state_type"] == "CRASHED", _alert_diagnosis(prefect_server, crashed, log)

    deadline = time.monotonic() + HANG_LIMIT_S
    while len(receiver.posts) == posts_before and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(3)  # a second notification would arrive within this
    new = receiver.posts[posts_before:]
    assert len(new) == 1, (new, _alert_diagnosis(prefect_server, crashed, log))
    assert new[0]["rule"] == "flow_run_crashed" and new[0]["severity"] == "critical"
    assert new[0]["date"] == crash_date.isoformat()
    assert tuple(new[0]) == ALERT_FIELDS  # the one payload of every alert
    assert "crashed" in new[0]["message"] and "/runs/flow-run/" in new[0]["url"]


def _new_running_flow_run(
    base: str, runs_before: set[str], process: subprocess.Popen[str]
) -> dict[str, Any] | None:
    """The flow run of ``process`` once it is Running (a run not in ``runs_before``), or None
    when the process ended first or the hang limit passed."""
    deadline = time.monotonic() + HANG_LIMIT_S
    while time.monotonic() < deadline and process.poll() is None:
        running = _api(
            base, "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}
        )
        new = [run for run in running if run["id"] not in runs_before]
        if new:
            return dict(new[0])
        time.sleep(0.5)
    return None


def _alert_diagnosis(base: str, flow_run: dict[str, Any], log: Path) -> str:
    """What the server knows of a killed run and of the automations: the run's state, the
    events of it and of the automations, and the end of the server's log, for a failure
    message that says where the alert stopped."""
    events = _api(
        base, "/events/filter",
        {"filter": {"any_resource": {"id_prefix": ["prefect.flow-run.", "prefect.automation."]}},
         "limit": 50},
    )  # fmt: skip
    seen = [
        f"{event['occurred']} {event['event']} {event['resource'].get('prefect.resource.id')}"
        for event in events.get("events", [])
    ]
    state = flow_run.get("state") or {}
    return (
        f"flow run {flow_run['id']} {flow_run['state_type']}: {state.get('message')!r}; "
        f"events: {seen}; the server's log ends: {server_log_tail(log)}"
    )
