"""The temporary Prefect server's output (stdout and stderr) goes to a log in the Prefect home,
not to the command's terminal; a server that does not start is one line naming that log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import cli.prefect_server as prefect_server
from cli.prefect_server import PrefectServerError, prefect_api, rotate_if_large, server_log_path

FAILING_SERVER = (
    "import sys; print('server says hello'); "
    "sys.stderr.write('Traceback (most recent call last):\\n  boom\\n'); sys.exit(1)"
)


def test_a_server_that_fails_writes_its_traceback_to_the_log_not_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    monkeypatch.setattr(
        prefect_server, "_server_command", lambda port: [sys.executable, "-c", FAILING_SERVER]
    )
    home = tmp_path / "prefect-home"
    with temporary_settings(updates={PREFECT_HOME: str(home), PREFECT_API_URL: None}):
        log = server_log_path()
        with pytest.raises(PrefectServerError) as refused, prefect_api():
            pytest.fail("the server did not start: nothing runs")
    assert log == home / "temporary-server.log"
    assert str(log) in str(refused.value)
    assert "exited with code 1" in str(refused.value)
    shown = capfd.readouterr()
    assert "Traceback" not in shown.out + shown.err
    assert "server says hello" not in shown.out + shown.err
    written = log.read_text()
    assert written.startswith("--- ") and " port " in written.splitlines()[0]
    assert "server says hello" in written and "Traceback (most recent call last)" in written


def test_a_log_over_its_limit_is_moved_aside_and_a_small_one_is_kept(tmp_path: Path) -> None:
    log = tmp_path / "temporary-server.log"
    rotate_if_large(log, max_bytes=10)  # no log yet: nothing to do
    assert not log.exists()
    log.write_text("0123456789")
    rotate_if_large(log, max_bytes=10)
    assert log.read_text() == "0123456789", "at its limit it is kept"
    (tmp_path / "temporary-server.log.1").write_text("older")
    log.write_text("0123456789+")
    rotate_if_large(log, max_bytes=10)
    assert not log.exists()
    assert (tmp_path / "temporary-server.log.1").read_text() == "0123456789+"


def test_a_command_rotates_the_log_before_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log over the limit is moved aside as the next server starts; the new log holds only
    that start."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    monkeypatch.setattr(
        prefect_server, "_server_command", lambda port: [sys.executable, "-c", FAILING_SERVER]
    )
    monkeypatch.setattr(prefect_server, "SERVER_LOG_MAX_BYTES", 100)
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / "temporary-server.log").write_text("x" * 101)
    with (
        temporary_settings(updates={PREFECT_HOME: str(home), PREFECT_API_URL: None}),
        pytest.raises(PrefectServerError),
        prefect_api(),
    ):
        pytest.fail("the server did not start: nothing runs")
    assert (home / "temporary-server.log.1").read_text() == "x" * 101
    assert (home / "temporary-server.log").read_text().startswith("--- ")
