"""A replay's bet slips made at once (tasks.stake.write_slips) are the files each day's own
slip (write_slip) writes: each day's bets against its own card, a race id on two days' cards
included, a day without bets written as an empty slip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from config import load_settings
from data_checks.validate import ValidatedDay
from raceday.staking.bets import BET_COLUMNS
from tasks.stake import write_slip, write_slips


def _card(race_ids: list[str], post_times: list[str]) -> ValidatedDay:
    races = pd.DataFrame(
        {
            "race_id": pd.array(race_ids, dtype="string"),
            "keibajo_code": pd.array(["44"] * len(race_ids), dtype="string"),
            "race_bango": pd.array(range(1, len(race_ids) + 1), dtype="Int64"),
            "post_time": pd.array(post_times, dtype="string"),
        }
    )
    runners = pd.DataFrame(
        {
            "race_id": pd.array([race for race in race_ids for _ in range(3)], dtype="string"),
            "umaban": pd.array([number for _ in race_ids for number in (1, 2, 3)], dtype="Int64"),
            "horse_name": pd.array(
                [f"{race}-{number}" for race in race_ids for number in (1, 2, 3)], dtype="string"
            ),
        }
    )
    return ValidatedDay(races, runners, pd.DataFrame(), pd.DataFrame(), ())


def _bets(day: date, picks: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Bets of ``day`` as (race_id, umaban, stake_yen)."""
    frame = pd.DataFrame({column: pd.Series(dtype="object") for column in BET_COLUMNS})
    rows = pd.DataFrame(
        {
            "race_id": pd.array([race for race, _, _ in picks], dtype="string"),
            "umaban": pd.array([number for _, number, _ in picks], dtype="Int64"),
            "race_date": pd.Timestamp(day),
            "model_version": "m1",
            "p_final": 0.3,
            "odds_at_bet": [4.5 + index for index in range(len(picks))],
            "odds_source": "snapshot",
            "edge": 0.1,
            "kelly_fraction": 0.02,
            "stake_yen": pd.array([stake for _, _, stake in picks], dtype="int64"),
            "bankroll_at_bet_yen": 1_000_000,
            "expected_win_pool_yen": 3e6,
        }
    )
    return rows if picks else frame[list(rows.columns)].astype(rows.dtypes.to_dict())


def test_the_slips_made_at_once_are_each_days_own(tmp_path: Path) -> None:
    days = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    cards = [
        _card(["r1", "r2"], ["1500", "1430"]),
        _card(["r3"], ["1200"]),
        _card(["r1", "r4"], ["1100", "1600"]),  # r1 again, on another day at another time
    ]
    bets = [
        _bets(days[0], [("r1", 2, 300), ("r2", 1, 100), ("r1", 3, 200)]),
        _bets(days[1], []),
        _bets(days[2], [("r4", 1, 500), ("r1", 1, 100)]),
    ]
    one_by_one = load_settings(var_dir=tmp_path / "one")
    at_once = load_settings(var_dir=tmp_path / "once")
    for day, frame, card in zip(days, bets, cards, strict=True):
        write_slip(one_by_one, frame, card, day)
    write_slips(at_once, list(zip(days, bets, cards, strict=True)))
    written = sorted(path.name for path in at_once.reports_dir.glob("bet-slip-*.csv"))
    assert written == [f"bet-slip-{day:%Y-%m-%d}.csv" for day in days]
    for name in written:
        assert (at_once.reports_dir / name).read_bytes() == (
            one_by_one.reports_dir / name
        ).read_bytes(), name
    first = pd.read_csv(at_once.reports_dir / written[0])
    assert first["race_id"].tolist() == ["r2", "r1", "r1"]  # by post time
    assert pd.read_csv(at_once.reports_dir / written[1]).empty
