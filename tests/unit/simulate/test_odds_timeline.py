"""The simulated odds timeline: a snapshot before each race's close and the final odds, later
snapshots closer to the final ones, drawn without moving any earlier draw."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from raceday import codec, odds_snapshots
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import SimulatedDays, simulate_days
from raceday.simulate.messy import no_odds_day
from raceday.simulate.odds import bridge_noise, drift_clock
from raceday.sources.timeline import published_at

SMALL = SimulatorConfig(races_per_day=40)
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 19)
SNAPSHOTS_PER_RACE = 1 + len(SMALL.snapshot_minutes) + 1  # morning, before the close, final


@pytest.fixture(scope="module")
def simulated() -> SimulatedDays:
    return simulate_days(FIRST, LAST, SMALL)


def _published(simulated: SimulatedDays) -> pd.DataFrame:
    o1 = simulated.raw.nvd_o1
    races = codec.decode_races(simulated.raw.nvd_ra).set_index("race_id")
    post = pd.to_datetime(
        races["race_date"].dt.strftime("%Y%m%d") + races["post_time"], format="%Y%m%d%H%M"
    )
    frame = pd.DataFrame(
        {
            "race_id": codec.race_ids(o1),
            "kind": o1["data_kubun"],
            "published": published_at(o1),
        }
    )
    return frame.assign(before_post=(frame["race_id"].map(post) - frame["published"]))


def test_every_race_has_its_whole_timeline(simulated: SimulatedDays) -> None:
    """09:00, 60/30/15/10/5/2 minutes before post (中間, kind 1), then 確定 (kind 4) at post."""
    frame = _published(simulated)
    assert frame.groupby("race_id").size().eq(SNAPSHOTS_PER_RACE).all()
    minutes = frame["before_post"].dt.total_seconds() / 60
    later = frame[frame["published"].dt.strftime("%H%M") != "0900"]
    expected = [*SMALL.snapshot_minutes, 0] * (len(later) // (SNAPSHOTS_PER_RACE - 1))
    assert minutes[later.index].astype(int).tolist() == expected
    assert (frame.groupby("race_id")["published"].diff().dropna() > pd.Timedelta(0)).all()
    assert (frame["kind"] == np.where(minutes == 0, "4", "1")).all()


def test_the_final_row_is_the_final_odds(simulated: SimulatedDays) -> None:
    """The row stamped at the post time prices every runner on sale as nvd_se's final odds."""
    o1 = simulated.raw.nvd_o1
    final = odds_snapshots.decode_odds_snapshot(o1[o1["data_kubun"] == "4"])
    runners = codec.decode_runners(simulated.raw.nvd_se)
    merged = runners.merge(final, on=["race_id", "umaban"], suffixes=("", "_o1"))
    assert len(merged) == runners["win_odds"].notna().sum()
    assert (merged["win_odds"] == merged["win_odds_o1"]).all()


def test_later_snapshots_are_closer_to_the_final_odds(simulated: SimulatedDays) -> None:
    """The mean gap between a snapshot's implied probabilities and the final ones shrinks as the
    close nears (the public's error falls as the pool fills)."""
    o1 = simulated.raw.nvd_o1.reset_index(drop=True)
    stamps = o1["happyo_tsukihi_jifun"]
    order = o1.assign(race_id=codec.race_ids(o1)).groupby("race_id").cumcount()
    snapshots = [
        odds_snapshots.decode_odds_snapshot(o1[order == k]) for k in range(SNAPSHOTS_PER_RACE)
    ]
    final = snapshots[-1].set_index(["race_id", "umaban"])["win_odds"]
    gaps = [
        (1 / s.set_index(["race_id", "umaban"])["win_odds"] - 1 / final).abs().mean()
        for s in snapshots[:-1]
    ]
    assert stamps[order == 0].str.endswith("0900").all()
    assert all(a > b for a, b in pairwise(gaps)), gaps
    assert gaps[-1] > 0


def test_drift_clock_runs_from_the_morning_to_the_close() -> None:
    """1 at the morning's pool share, falling to 0 as the share reaches 1."""
    clock = drift_clock(np.array([0.07, 0.2, 0.55, 0.9, 1.0]), 0.07, 0.488)
    assert clock[0] == pytest.approx(1.0) and clock[-1] == 0.0
    assert (np.diff(clock) < 0).all()


def test_bridge_noise_has_the_bridge_variance_and_ends_where_it_should() -> None:
    """From the morning noise the later noise keeps variance sd^2 * clock (morning noise drawn
    with sd): the information a snapshot holds grows as its clock falls."""
    rng = np.random.default_rng(7)
    sd, n = 0.35, 200_000
    morning = rng.normal(0.0, sd, n)
    clock = np.array([0.8, 0.5, 0.2, 0.05])
    noise = bridge_noise(morning, clock, sd, rng.standard_normal((clock.size, n)))
    assert np.var(noise, axis=1) == pytest.approx(sd**2 * clock, rel=0.03)
    # Later noise is the earlier one shrunk plus new noise: correlated with the morning's.
    assert np.corrcoef(morning, noise[-1])[0, 1] == pytest.approx(np.sqrt(0.05), abs=0.01)


def test_messy_days_and_venues_without_odds_lose_their_whole_timeline() -> None:
    """A no-odds day has no nvd_o1 row; any other race has all its snapshots or none."""
    messy = replace(SMALL, profile="messy")
    days = [date(2026, 11, 16) + pd.Timedelta(days=k) for k in range(7)]
    for day in days:
        o1 = simulate_days(day, day, messy).raw.nvd_o1
        if no_odds_day(messy.seed, day):
            assert o1.empty
        elif not o1.empty:
            assert codec.race_ids(o1).value_counts().eq(SNAPSHOTS_PER_RACE).all()


def test_jra_days_carry_the_timeline_too() -> None:
    """``--circuit jra`` writes the same timeline per race."""
    jra = simulate_days(FIRST, FIRST, replace(SMALL, circuit="jra")).raw.nvd_o1
    assert not jra.empty
    assert codec.race_ids(jra).value_counts().eq(SNAPSHOTS_PER_RACE).all()


def test_config_refuses_a_timeline_that_does_not_fill() -> None:
    with pytest.raises(ValueError, match="pool shares"):
        SimulatorConfig(snapshot_pool_shares=(0.12, 0.11, 0.22, 0.26, 0.34, 0.55))
    with pytest.raises(ValueError, match="as long"):
        SimulatorConfig(snapshot_minutes=(60, 5))
