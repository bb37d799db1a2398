"""`raceday train` then `raceday eval model` on a small simulated history, as a user runs them,
then `raceday run` on the next day predicting with the promoted version."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from cli import app
from raceday import codec, odds_snapshots
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.timeline import CardTiming, card_odds
from raceday.store.catalogs.predictions import read_predictions
from raceday.store.catalogs.races import RACES, write_odds, write_races_and_runners
from raceday.store.engine import make_engine, upgrade_schema

START, UNTIL = date(2026, 1, 1), date(2026, 3, 31)  # 90 days
RACES_PER_DAY = 30
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def store_history(db_url: str, end: date = UNTIL) -> None:
    """Settled simulated days from START with their morning odds (no indexes: features fall
    back on positions, margins and people; seconds instead of minutes of settling)."""
    raw = simulate_days(START, end, SimulatorConfig(races_per_day=RACES_PER_DAY)).raw
    races, runners = codec.decode_races(raw.nvd_ra), codec.decode_runners(raw.nvd_se)
    snapshot = odds_snapshots.decode_odds_snapshot(card_odds(raw, CardTiming()).nvd_o1)
    engine = make_engine(db_url)
    upgrade_schema(engine)
    with engine.begin() as connection:
        write_races_and_runners(connection, races, runners, has_results=True, source="sim")
        write_odds(connection, snapshot[snapshot["win_odds"] >= 1.0], runners)


@pytest.fixture
def small_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of 40 / 25 / 25 days at 30 races a day."""
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES_PER_DAY))
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    monkeypatch.setenv("RACEDAY_TRAIN__TRAIN_DAYS", "40")
    monkeypatch.setenv("RACEDAY_TRAIN__BLEND_DAYS", "25")
    monkeypatch.setenv("RACEDAY_TRAIN__EVALUATE_DAYS", "25")
    monkeypatch.setenv("RACEDAY_TRAIN__MIN_RACES", "300")
    monkeypatch.setenv("RACEDAY_TRAIN__MAX_ITER", "30")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "small_training")
def test_train_eval_and_a_day_predicted_by_the_promoted_version(sqlite_url: str) -> None:
    """train --json registers gbm-UNTIL with its held-out figures; eval model --json scores it
    against market and truth per venue; the next day's run predicts with it (sums to 1)."""
    store_history(sqlite_url)
    code, stdout, stderr = invoke("train", "--until", UNTIL.isoformat(), "--db", sqlite_url,
                                  "--json")  # fmt: skip
    assert code == 0, stderr
    trained = json.loads(stdout)
    assert trained["version"] == "gbm-20260331"
    split = trained["split"]
    assert split["eval_end"] == "2026-03-31" and split["train_end"] < split["blend_start"]
    held = trained["evaluation"]
    assert held["races"] > 600 and {"market", "model", "blend"} <= set(held)
    assert 0.0 < held["market"]["pseudo_r2"] < 0.5

    def evaluated() -> tuple[dict[str, Any], str]:
        code, stdout, stderr = invoke(
            "eval", "model", "--start", split["eval_start"], "--end", UNTIL.isoformat(),
            "--version", trained["version"], "--db", sqlite_url, "--json",
        )  # fmt: skip
        assert code == 0, stderr
        return json.loads(stdout), stderr

    result, _said = evaluated()
    assert result["out_of_sample"] is True
    assert result["races"] == held["races"]
    assert result["blend"]["log_loss"] == pytest.approx(held["blend"]["log_loss"])
    assert result["delta_r2"] == pytest.approx(
        result["blend"]["pseudo_r2"] - result["market"]["pseudo_r2"], abs=1e-6
    )
    truth = result["truth"]
    assert truth["pseudo_r2"] > result["market"]["pseudo_r2"], "the truth is the ceiling"
    assert len(result["by_venue"]) >= 2
    assert sum(v["races"] for v in result["by_venue"].values()) == result["races"]
    assert sum(row["runners"] for row in result["calibration"]) == result["runners"]
    # a store filled from files has the simulator's race ids but not its races: no truth
    with make_engine(sqlite_url).begin() as connection:
        connection.execute(update(RACES).values(source="files:…/nar"))
    from_files, said = evaluated()
    assert from_files.get("truth") is None and "simulated truth" not in said
    assert (result["source"], from_files["source"]) == ("sim", "files:…/nar")
    assert from_files["blend"]["log_loss"] == pytest.approx(result["blend"]["log_loss"])
    with make_engine(sqlite_url).begin() as connection:
        connection.execute(update(RACES).values(source="sim"))

    code, stdout, stderr = invoke("models", "list", "--db", sqlite_url, "--json")
    assert code == 0, stderr
    listed = json.loads(stdout)["versions"]
    assert [(v["name"], v["promoted"]) for v in listed] == [("gbm-20260331", trained["promoted"])]
    assert listed[0]["reason"] == trained["reason"]

    if not trained["promoted"]:
        pytest.fail(f"a model on this history should beat the market: {trained['reason']}")
    day = (UNTIL + timedelta(days=1)).isoformat()
    code, stdout, stderr = invoke("run", "--date", day, "--db", sqlite_url, "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["model_version"] == "gbm-20260331"
    with make_engine(sqlite_url).connect() as connection:
        predictions = read_predictions(connection, UNTIL + timedelta(days=1), UNTIL
                                               + timedelta(days=1))  # fmt: skip
    assert set(predictions["model_version"]) == {"gbm-20260331"}
    assert predictions["p_model"].notna().all()
    sums = predictions.groupby("race_id")["p_final"].sum()
    assert np.allclose(sums, 1.0)


@pytest.mark.usefixtures("small_training")
def test_train_on_a_short_history_is_one_line(sqlite_url: str) -> None:
    """Too little history: exit 2, one line naming the window, nothing registered."""
    store_history(sqlite_url, START + timedelta(days=13))
    code, _stdout, stderr = invoke("train", "--until", "2026-02-10", "--db", sqlite_url)
    assert code == 2
    assert "window" in stderr and "settled races" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    code, _stdout, stderr = invoke("eval", "model", "--start", "2026-03-01", "--end",
                                   "2026-03-31", "--db", sqlite_url)  # fmt: skip
    assert code == 2 and "no model promoted before 2026-03-01" in stderr
