"""Staking as a user sees it: `raceday run` stakes with whatever model the predict stage used
and settles; its summary agrees with `raceday export bets`; `raceday eval staking` reports the
policy next to its baselines and the oracle."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from tests.staking_support import NOISY_ORACLE_VERSION, noisy_truth_predictions

DAYS = ("2026-11-19", "2026-11-20")
RACES_PER_DAY = 40
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def model_with_an_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small world, and a predict stage whose model is the blurred truth (a stand-in for a
    promoted model: the stake stage must not care which model produced p_final)."""
    monkeypatch.setenv("RACEDAY_SIMULATOR__RACES_PER_DAY", str(RACES_PER_DAY))
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "7")
    truth = simulate_days(
        date.fromisoformat(DAYS[0]),
        date.fromisoformat(DAYS[-1]),
        SimulatorConfig(races_per_day=RACES_PER_DAY),
    ).truth

    def predictions(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
        return noisy_truth_predictions(card, odds, truth)

    monkeypatch.setattr("raceday.model.win.market_predictions", predictions)


def export_bets(db: str) -> pd.DataFrame:
    code, stdout, stderr = invoke(
        "export", "bets", "--start", DAYS[0], "--end", DAYS[-1], "--db", db
    )
    assert code == 0, stderr
    return pd.read_csv(io.StringIO(stdout), dtype={"race_id": str})


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "model_with_an_edge")
def test_daily_run_stakes_settles_and_agrees_with_the_export(sqlite_url: str) -> None:
    """Two days: bets with the injected model, all settled; staked / returned / bankroll in
    `--json` equal the exported ledger's sums; a re-run changes nothing; eval agrees."""
    summaries = {}
    for day in DAYS:
        code, stdout, stderr = invoke("run", "--date", day, "--db", sqlite_url, "--json")
        assert code == 0, stderr
        summaries[day] = json.loads(stdout)
    bets = export_bets(sqlite_url)
    assert {"race_id", "umaban", "stake_yen", "odds", "payout_yen", "refund_yen", "settled"} <= set(
        bets
    )
    assert len(bets) > 0 and bets["settled"].all()
    assert (bets["model_version"] == NOISY_ORACLE_VERSION).all()
    assert (bets["stake_yen"] % 100 == 0).all()

    bankroll = 1_000_000
    for day in DAYS:
        summary = summaries[day]
        today = bets[bets["race_date"] == day]
        returned = int(today["payout_yen"].sum() + today["refund_yen"].sum())
        bankroll += returned - int(today["stake_yen"].sum())
        assert summary["model_version"] == NOISY_ORACLE_VERSION
        assert summary["bets"] == len(today)
        assert summary["staked_yen"] == int(today["stake_yen"].sum())
        assert summary["returned_yen"] == returned
        assert summary["bankroll_yen"] == bankroll
    second_day = bets[bets["race_date"] == DAYS[-1]]
    assert (second_day["bankroll_at_bet_yen"] == summaries[DAYS[0]]["bankroll_yen"]).all()

    code, stdout, stderr = invoke("run", "--date", DAYS[-1], "--db", sqlite_url, "--json")
    assert code == 0, stderr
    pd.testing.assert_frame_equal(export_bets(sqlite_url), bets)

    code, stdout, stderr = invoke(
        "eval", "staking", "--start", DAYS[0], "--end", DAYS[-1], "--db", sqlite_url, "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["policy"]["bets"] == len(bets)
    assert 0 < report["market_at_bet_time"]["market_log_loss"] < 3
    assert report["market_at_bet_time"]["scored_races"] > 0
    assert report["policy"]["turnover_yen"] == int(bets["stake_yen"].sum())
    assert report["policy"]["final_bankroll_yen"] == summaries[DAYS[-1]]["bankroll_yen"]
    for name in ("flat", "favourite", "oracle"):
        assert {"bets", "turnover_yen", "return_yen", "roi", "max_drawdown"} <= set(report[name])
    assert report["favourite"]["bets"] == report["races"]
    assert report["oracle"]["bets"] > 0


def test_eval_staking_refuses_bad_input(sqlite_url: str) -> None:
    """Reversed dates, an empty store and a missing truth file: one line, non-zero exit."""
    cases = [
        (["--start", "2026-11-20", "--end", "2026-11-01"], "before"),
        (["--start", "2026-11-01", "--end", "2026-11-20", "--db", sqlite_url], "empty"),
        (["--start", "2026-11-01", "--end", "2026-11-20", "--flat-stake", "150"], "100-yen"),
    ]
    for args, needle in cases:
        code, stdout, stderr = invoke("eval", "staking", *args)
        assert code == 2, (args, stderr)
        assert needle in stderr and "Traceback" not in stderr + stdout
        assert len(stderr.strip().splitlines()) == 1
