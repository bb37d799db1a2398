"""The settings that turn a test's Prefect server's services off (tests/prefect_server_support.py)
are the ones this Prefect reads: a misspelt name would leave its service running unseen."""

from __future__ import annotations

import pytest
from prefect.settings import Settings

from tests.prefect_server_support import SERVER_SERVICES, server_settings


def test_every_service_left_out_is_off_in_the_settings_prefect_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = {"scheduler"}
    for name, value in server_settings(kept, ui=False).items():
        monkeypatch.setenv(name, value)
    services = Settings().server.services
    assert {name for name in SERVER_SERVICES if getattr(services, name).enabled} == kept
    assert Settings().server.ui.enabled is False


def test_a_server_with_every_service_and_its_ui_changes_no_setting() -> None:
    assert server_settings(SERVER_SERVICES, ui=True) == {}


def test_a_service_it_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="schedular"):
        server_settings({"schedular"}, ui=True)
