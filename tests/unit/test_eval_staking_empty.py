"""``raceday eval staking`` over a range with nothing to judge says so, where it printed a table
of zeros under "model None" and only the paper-ledger note (exit 0)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app


def test_a_range_without_settled_predicted_races_says_nothing_was_judged(tmp_path: Path) -> None:
    from raceday.store.engine import make_engine, upgrade_schema

    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade_schema(make_engine(url))  # a store, with nothing in the range
    args = ["eval", "staking", "--start", "2026-11-01", "--end", "2026-11-10", "--db", url]
    for _run in range(2):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.stderr
        assert "model None" not in result.stdout
        text = " ".join(result.stdout.split())
        assert "no settled race with predictions in 2026-11-01..2026-11-10" in text
