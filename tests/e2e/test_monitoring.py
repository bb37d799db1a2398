"""Alerts from real runs, as an operator gets them: a real local HTTP receiver behind
RACEDAY_ALERTS__WEBHOOK_URL, the daily flow through the `raceday` command.

A failing run and a metric breach each deliver exactly one alert with the right content (and a
re-run delivers nothing more); a webhook that is down is retried and recorded as undelivered,
and the run still finishes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app, today_in_japan
from raceday.monitoring.rules import ALERT_FIELDS
from tests.webhook_receiver import WebhookReceiver

RACES_PER_DAY = 30
runner = CliRunner()
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def race_day() -> date:
    """Today in Japan: alerts about older days are stored quietly, not sent."""
    return today_in_japan()


@pytest.fixture
def day_files(tmp_path: Path, race_day: date, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Simulated PC-KEIBA files for the day and three days of warm-up history."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "3")
    monkeypatch.setenv("RACEDAY_ALERTS__RETRY_DELAYS_S", "[0.05, 0.05]")
    files = tmp_path / "files"
    code, _out, err = invoke(
        "simulate", "--start", f"{race_day - timedelta(days=3)}", "--end", f"{race_day}",
        "--out", str(files), "--races-per-day", str(RACES_PER_DAY),
    )  # fmt: skip
    assert code == 0, err
    return files


def break_distances(files: Path, race_day: date, races: int | None) -> None:
    """Give ``races`` of the day's races (all when None) an impossible 500 m distance."""
    path = files / "nvd_ra.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    on_day = frame.index[
        (frame["kaisai_nen"] + frame["kaisai_tsukihi"]) == f"{race_day:%Y%m%d}"
    ].tolist()
    frame.loc[on_day if races is None else on_day[:races], "kyori"] = "0500"
    frame.to_csv(path, index=False)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        monkeypatch.setenv("RACEDAY_ALERTS__WEBHOOK_URL", running.url)
        yield running


def run_day(files: Path, db: str, race_day: date) -> tuple[int, str, str]:
    return invoke(
        "run", "--date", f"{race_day}", "--source", f"files:{files}", "--db", db, "--json"
    )


def stored_alerts(db: str, race_day: date) -> pd.DataFrame:
    code, out, err = invoke(
        "export", "alerts", "--start", f"{race_day}", "--end", f"{race_day}", "--db", db
    )
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


def test_a_failing_run_delivers_exactly_one_alert(
    day_files: Path, receiver: WebhookReceiver, race_day: date, sqlite_url: str
) -> None:
    """Nothing valid on the day: the run fails (exit 4) and the hook posts one critical alert;
    failing again the same day is a repeat, not a second page."""
    break_distances(day_files, race_day, races=None)
    code, _out, err = run_day(day_files, sqlite_url, race_day)
    assert code == 4, err
    assert len(receiver.posts) == 1
    alert = receiver.posts[0]
    assert alert["rule"] == "flow_failed" and alert["severity"] == "critical"
    assert alert["date"] == race_day.isoformat() and alert["scope"] == "daily-run"
    assert "daily-run" in alert["message"] and "nothing valid" in alert["message"]

    assert run_day(day_files, sqlite_url, race_day)[0] == 4
    assert len(receiver.posts) == 1, "the same failure the same day pages once"
    stored = stored_alerts(sqlite_url, race_day)
    assert stored[["rule", "delivery", "repeats"]].values.tolist() == [["flow_failed", "sent", 1]]


def test_a_metric_breach_delivers_exactly_one_alert(
    day_files: Path, receiver: WebhookReceiver, race_day: date, sqlite_url: str
) -> None:
    """A fifth of the day's races set aside breaches the 5% quarantine limit: one alert, in the
    report too, and in the run's summary with the warning that counts the same "6 of 30";
    re-running the day sends nothing more and reports the same. Monitoring the next day, on
    which nothing ran, raises a critical ``no_races``: exit 6."""
    break_distances(day_files, race_day, races=6)
    code, out, err = run_day(day_files, sqlite_url, race_day)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "completed-with-warnings"
    assert summary["races_offered"] == RACES_PER_DAY and summary["races_quarantined"] == 6
    assert [alert["rule"] for alert in summary["alerts"]] == ["quarantine_rate"]
    assert any(warning.startswith("6 of 30 races") for warning in summary["warnings"])
    assert len(receiver.posts) == 1, receiver.posts
    alert = receiver.posts[0]
    assert tuple(alert) == ALERT_FIELDS and alert == summary["alerts"][0]
    assert alert["rule"] == "quarantine_rate" and alert["severity"] == "warning"
    assert alert["date"] == race_day.isoformat()
    assert alert["value"] == pytest.approx(6 / RACES_PER_DAY)
    assert "6 of 30" in alert["message"]
    report = Path(json.loads(out)["report"]).read_text(encoding="utf-8")
    assert "quarantine_rate" in report and 'data-figure="calibration"' in report

    code, again, err = run_day(day_files, sqlite_url, race_day)
    assert code == 0, err
    assert len(receiver.posts) == 1, "a re-run does not page again"
    assert json.loads(again)["alerts"] == summary["alerts"], "a re-run reports the same alerts"
    performance = pd.read_csv(
        io.StringIO(
            invoke(
                "export",
                "performance",
                "--start",
                f"{race_day}",
                "--end",
                f"{race_day}",
                "--db",
                sqlite_url,
            )[1]
        )
    )
    day = performance[performance["scope"] == "all"].iloc[0]
    assert day["races_quarantined"] == 6 and day["quarantine_rate"] == pytest.approx(0.2)

    code, out, err = invoke("monitor", "--date", f"{race_day}", "--db", sqlite_url, "--json")
    assert code == 0, err
    assert [alert["rule"] for alert in json.loads(out)["alerts"]] == ["quarantine_rate"]
    assert len(receiver.posts) == 1, "`raceday monitor` on the same day is a repeat too"
    code, out, err = invoke("report", "--date", f"{race_day}", "--db", sqlite_url, "--json")
    assert code == 0, err
    assert Path(json.loads(out)["html"]).read_text(encoding="utf-8").count("<figure") == 4

    next_day = f"{race_day + timedelta(days=1)}"
    code, out, err = invoke("monitor", "--date", next_day, "--db", sqlite_url, "--json")
    assert code == 6, err
    monitored = json.loads(out)
    assert monitored["status"] == "completed-with-alerts"
    assert [alert["rule"] for alert in monitored["alerts"]] == ["no_races"]


def test_a_webhook_that_is_down_is_retried_and_the_run_still_finishes(
    day_files: Path, race_day: date, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt is made, the alert is stored as failed, and the day completes."""
    break_distances(day_files, race_day, races=6)
    with WebhookReceiver(status=503) as down:
        monkeypatch.setenv("RACEDAY_ALERTS__WEBHOOK_URL", down.url)
        code, out, err = run_day(day_files, sqlite_url, race_day)
    assert code == 0, err
    assert json.loads(out)["status"] == "completed-with-warnings"  # 6 races quarantined
    assert len(down.posts) == 3, "three attempts"
    stored = stored_alerts(sqlite_url, race_day)
    assert stored[["rule", "delivery", "attempts"]].values.tolist() == [
        ["quarantine_rate", "failed", 3]
    ]
    assert "503" in stored.iloc[0]["error"]
