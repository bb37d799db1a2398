"""The Prefect settings the CLI chooses before Prefect is imported: a longer start-up wait for
the temporary server and its telemetry heartbeat off; a PREFECT_* variable the user set wins."""

from __future__ import annotations

import os

import pytest

from config.settings import apply_prefect_defaults

TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
ANALYTICS = "PREFECT_SERVER_ANALYTICS_ENABLED"


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither variable set; whatever a test sets is undone after it."""
    for name in (TIMEOUT, ANALYTICS):
        monkeypatch.setenv(name, "-")  # recorded, so the teardown restores the original state
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("unset")
def test_defaults_are_set_when_the_user_set_nothing() -> None:
    applied = apply_prefect_defaults()
    assert applied == {TIMEOUT: "90", ANALYTICS: "false"}
    assert os.environ[TIMEOUT] == "90" and os.environ[ANALYTICS] == "false"


@pytest.mark.usefixtures("unset")
def test_raceday_settings_choose_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACEDAY_PREFECT__EPHEMERAL_STARTUP_TIMEOUT_S", "150")
    monkeypatch.setenv("RACEDAY_PREFECT__SERVER_ANALYTICS", "true")
    apply_prefect_defaults()
    assert os.environ[TIMEOUT] == "150" and os.environ[ANALYTICS] == "true"


@pytest.mark.usefixtures("unset")
def test_a_prefect_variable_the_user_set_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT, "33")
    applied = apply_prefect_defaults()
    assert os.environ[TIMEOUT] == "33" and TIMEOUT not in applied
    assert os.environ[ANALYTICS] == "false"


@pytest.mark.usefixtures("unset")
def test_an_invalid_raceday_setting_elsewhere_still_gets_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RACEDAY_SOURCE", "carrier-pigeon")  # the command reports this itself
    apply_prefect_defaults()
    assert os.environ[TIMEOUT] == "90"
