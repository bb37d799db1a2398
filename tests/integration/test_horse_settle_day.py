"""A morning-then-night horse operator on the command line (cron): the morning's `raceday run`
(card and morning odds only, results not out) decides and stakes; the night's
`raceday run --settle` settles those bets as placed, never deciding the day again on the
night's card: a race cancelled after the morning has its bets voided and refunded, a runner
scratched at night its stake refunded, the rest settled; a second settle run changes nothing.
A day never decided is refused in one line, nothing stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from raceday.codec import race_ids
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import SimulatedDays, simulate_days
from raceday.sources.base import RawDay, card_only
from raceday.sources.files import write_tables
from raceday.store.catalogs.bets import read_bets
from raceday.store.engine import make_engine
from tests.e2e.boat_cli_support import invoke
from tests.staking_support import noisy_truth_predictions
from tests.store_support import data_checksums

DAY = date(2026, 11, 20)
RACES = 12
PLACED = ["race_id", "umaban", "stake_yen", "odds_at_bet", "p_final"]
EXCLUDED_AT_THE_GATE = "2"  # 異常区分 発走除外: scratched after the bets, stake refunded


@pytest.fixture
def simulated(monkeypatch: pytest.MonkeyPatch) -> SimulatedDays:
    """The day of 12 races, and a predict stage whose model is the blurred truth (a stand-in
    for a promoted model, so that the morning places bets); no warm-up (the files hold the day)."""
    monkeypatch.setenv("RACEDAY_HISTORY__WARMUP_DAYS", "0")
    day = simulate_days(DAY, DAY, SimulatorConfig(races_per_day=RACES))

    def predictions(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
        return noisy_truth_predictions(card, odds, day.truth)

    monkeypatch.setattr("raceday.model.win.market_predictions", predictions)
    return day


def _as_card(raw: RawDay) -> RawDay:
    """The day as its card (データ区分 2): the results' fields blank, the morning odds kept."""
    card = card_only(raw)
    return replace(
        card,
        nvd_ra=card.nvd_ra.assign(data_kubun="2"),
        nvd_se=card.nvd_se.assign(data_kubun="2"),
    )


def _night(raw: RawDay, cancelled: str, scratched: tuple[str, int]) -> RawDay:
    """The night's results with race ``cancelled`` (データ区分 9, no result) and the runner
    ``scratched`` (race id, umaban) excluded at the gate (no finish, no time)."""
    ra, se = raw.nvd_ra.copy(), raw.nvd_se.copy()
    ra.loc[race_ids(ra) == cancelled, "data_kubun"] = "9"
    rows = race_ids(se) == cancelled
    se.loc[rows, "data_kubun"] = "9"
    se.loc[rows, ["kakutei_chakujun", "nyusen_juni", "soha_time"]] = ["00", "00", "0000"]
    race_id, umaban = scratched
    race = race_ids(se) == race_id
    runner = race & (se["umaban"].astype(int) == umaban)
    for column in ("kakutei_chakujun", "nyusen_juni"):  # those behind it move up a place
        place = se[column].astype(int)
        behind = race & (place > int(place[runner].iloc[0]))
        se.loc[behind, column] = (place[behind] - 1).map("{:02d}".format)
    se.loc[runner, "ijo_kubun_code"] = EXCLUDED_AT_THE_GATE
    se.loc[runner, ["kakutei_chakujun", "nyusen_juni", "soha_time"]] = ["00", "00", "0000"]
    return replace(raw, nvd_ra=ra, nvd_se=se)


def _losing_bet(bets: pd.DataFrame, raw: RawDay, other_than: str) -> tuple[str, int]:
    """A bet runner that did not win, in a race other than ``other_than``."""
    se = raw.nvd_se
    first = se["kakutei_chakujun"] == "01"
    won = set(zip(race_ids(se)[first], se["umaban"].astype(int)[first], strict=True))
    for race_id, umaban in zip(bets["race_id"], bets["umaban"], strict=True):
        if race_id != other_than and (race_id, int(umaban)) not in won:
            return str(race_id), int(umaban)
    raise AssertionError("no losing bet to scratch")


def _bets(db: str) -> pd.DataFrame:
    with make_engine(db).connect() as connection:
        bets = read_bets(connection, DAY, DAY)
    return bets.sort_values(["race_id", "umaban"], ignore_index=True)


def _run(folder: Path, db: str, *more: str) -> tuple[int, str, str]:
    return invoke("run", "--date", str(DAY), "--source", f"files:{folder}", "--db", db,
                  "--json", *more)  # fmt: skip


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_the_night_settles_the_morning_bets_as_placed(
    simulated: SimulatedDays, tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "files"
    write_tables(_as_card(simulated.raw), folder)
    code, stdout, stderr = _run(folder, sqlite_url)
    assert code == 0, stderr
    morning, placed = json.loads(stdout), _bets(sqlite_url)
    assert len(placed) > 0 and placed["race_id"].nunique() >= 2 and not placed["settled"].any()
    assert morning["bets"] == len(placed)

    cancelled = str(placed["race_id"].iloc[0])
    scratched = _losing_bet(placed, simulated.raw, cancelled)
    write_tables(_night(simulated.raw, cancelled, scratched), folder)
    code, stdout, stderr = _run(folder, sqlite_url, "--settle")
    assert code == 0, stderr
    night, settled = json.loads(stdout), _bets(sqlite_url)

    pd.testing.assert_frame_equal(settled[PLACED], placed[PLACED])  # kept exactly as placed
    assert settled["settled"].all()
    void = settled[settled["race_id"] == cancelled]
    assert not void.empty and (void["refund_yen"] == void["stake_yen"]).all()
    assert (void["pnl_yen"] == 0).all() and void["void_reason"].notna().all()
    gate = settled[(settled["race_id"] == scratched[0]) & (settled["umaban"] == scratched[1])]
    assert (gate["refund_yen"] == gate["stake_yen"]).all() and (gate["pnl_yen"] == 0).all()
    rest = settled[settled["race_id"] != cancelled]
    assert rest["void_reason"].isna().all()
    assert night["voided_bets"] == len(void) and night["voided_races"] == 1
    assert night["staked_yen"] == int(placed["stake_yen"].sum())
    returned = int(settled["payout_yen"].sum() + settled["refund_yen"].sum())
    assert night["returned_yen"] == returned

    before = data_checksums(sqlite_url)
    code, stdout, stderr = _run(folder, sqlite_url, "--settle")
    assert code == 0, stderr
    assert data_checksums(sqlite_url) == before
    assert json.loads(stdout)["bankroll_yen"] == night["bankroll_yen"]


def test_a_day_never_decided_is_refused_with_nothing_stored(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "files"
    write_tables(card_only(simulate_days(DAY, DAY, SimulatorConfig(races_per_day=2)).raw), folder)
    code, _stdout, stderr = invoke("run", "--date", str(DAY), "--source", f"files:{folder}",
                                   "--db", sqlite_url, "--settle")  # fmt: skip
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert (
        f"no decision stored for {DAY}: nothing placed to settle; run the day first "
        f"(raceday run --date {DAY})"
    ) in stderr
    with make_engine(sqlite_url).connect() as connection:
        tables = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert not tables.fetchall()  # nothing stored, not even a schema
