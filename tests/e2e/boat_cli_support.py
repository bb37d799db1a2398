"""What the boat command tests share: the `raceday` command in-process, and simulated day files
of 3 venues x 12 races written by `raceday simulate --sport boat`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """The command in-process: exit code, standard output, standard error."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def simulated_boat_files(out: Path, first: str, last: str) -> Path:
    """``first``..``last`` of 3 venues x 12 races (seed 11) written into ``out``."""
    code, _stdout, stderr = invoke(
        "simulate", "--sport", "boat", "--start", first, "--end", last,
        "--races-per-day", "36", "--seed", "11", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    return out
