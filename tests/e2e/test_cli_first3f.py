"""`raceday eval first3f` and `raceday references` as a user runs them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
EVAL = ["eval", "first3f", "--start", "2026-05-22", "--end", "2026-05-23", "--history-days", "14"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_eval_on_the_simulator_prints_mae_per_method_as_json() -> None:
    """--json: runners, methods (n, mae_s, p90_s per method), overall; truth is the simulator's."""
    code, stdout, stderr = invoke(*EVAL, "--races-per-day", "30", "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["truth"] == "simulator" and result["source"] == "sim"
    assert result["runners"] > 0
    assert result["history"] == {"start": "2026-05-08", "end": "2026-05-21"}
    for method, stats in result["methods"].items():
        assert {"n", "mae_s", "p90_s"} <= set(stats), method
    assert result["methods"]["leader"]["mae_s"] < result["layers"]["adjusted"]["mae_s"]
    assert result["overall"]["n"] == result["runners"]


def test_eval_prints_tables_for_people() -> None:
    """Without --json: the method, layer and band tables and the speed coefficients."""
    code, stdout, stderr = invoke(*EVAL, "--races-per-day", "20")
    assert code == 0, stderr
    for text in ("by method", "by layer", "distance band", "speed coefficient", "leader"):
        assert text in stdout


def test_eval_on_files_scores_real_datas_measured_rows(tmp_path: Path) -> None:
    """A files source has no truth table: leader rows and <= 1200 m rows are scored, hidden."""
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.sources.files import write_tables

    simulated = simulate_days(
        date(2026, 5, 8), date(2026, 5, 23), SimulatorConfig(races_per_day=30)
    )
    write_tables(simulated.raw, tmp_path, "csv")
    code, stdout, stderr = invoke(*EVAL, "--source", f"files:{tmp_path}", "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["truth"] == "real"
    assert "leader" not in result["methods"]  # the anchor is what is being scored
    assert result["layers"]["leader"]["n"] == 0 and result["layers"]["pace"]["n"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-05-23", "--end", "2026-05-22"], "before --start"),
        (["--start", "23/05/2026", "--end", "2026-05-22"], "not a date"),
        (["--start", "2026-05-22", "--end", "2026-05-23", "--source", "nowhere"], "unknown source"),
    ],
)
def test_eval_bad_input_is_one_line_and_non_zero(args: list[str], message: str) -> None:
    """Bad dates or sources: one clear line on stderr, no traceback, exit code 2."""
    code, _stdout, stderr = invoke("eval", "first3f", *args)
    assert code == 2
    assert message in stderr and "Traceback" not in stderr


def stored_history(db: str) -> None:
    """Settled simulated days written straight into a migrated store."""
    from raceday.codec import decode_races, decode_runners
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days
    from raceday.store.catalogs.races import write_races_and_runners
    from raceday.store.engine import make_engine, upgrade_schema

    simulated = simulate_days(
        date(2026, 6, 1), date(2026, 6, 14), SimulatorConfig(races_per_day=30)
    )
    engine = make_engine(db)
    upgrade_schema(engine)
    with engine.begin() as connection:
        write_races_and_runners(
            connection,
            decode_races(simulated.raw.nvd_ra),
            decode_runners(simulated.raw.nvd_se),
            has_results=True,
            source="sim",
        )


def test_references_refresh_and_list(sqlite_url: str) -> None:
    """refresh --until D learns ref-D and f3f-D from stored history; list shows them; a second
    refresh replaces them."""
    stored_history(sqlite_url)
    refresh = ["references", "refresh", "--until", "2026-06-14", "--window-days", "30"]
    for _attempt in range(2):
        code, stdout, stderr = invoke(*refresh, "--db", sqlite_url, "--json")
        assert code == 0, stderr
        result = json.loads(stdout)
        assert result["reference_version"] == "ref-20260614"
        assert result["model_version"] == "f3f-20260614"
        assert result["races"] > 0 and result["seed_coefficient"] == 0.3
    code, stdout, stderr = invoke("references", "list", "--db", sqlite_url, "--json")
    assert code == 0, stderr
    versions = json.loads(stdout)["versions"]
    assert [row["model_version"] for row in versions] == ["f3f-20260614"]


def test_references_refresh_without_history_is_one_line(sqlite_url: str) -> None:
    """Nothing stored in the window: say so and exit non-zero, nothing written."""
    stored_history(sqlite_url)
    code, _stdout, stderr = invoke(
        "references", "refresh", "--until", "2025-01-31", "--window-days", "30", "--db", sqlite_url
    )
    assert code == 2 and "no settled races stored" in stderr
