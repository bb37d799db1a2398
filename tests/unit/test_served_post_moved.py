"""A post time changed (発走時刻変更) after the morning card, seen by a served ``race`` run
(``raceday serve --race-time``: ``race-card`` scheduled it at the old post − lead): as it starts
it reads the race's post time from the source (the ``post-times`` stage ``raceday live``
reads); a race moved later is left to a new ``race`` run at its new moment, one moved earlier
is decided at once or recorded ``missed_close``. The flow's body (``race.fn``) on a replay
clock standing for the wall clock, with the source, the store and the deployment stubbed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from prefect.states import State

import flows.live
from flows.live import race
from raceday.racetime import RaceSlot, ReplayClock
from tests.unit.test_live_post_moved import DAY, card

RACE_ID = f"{DAY:%Y%m%d}4401"


def at(hhmm: str) -> datetime:
    return datetime.combine(DAY, datetime.strptime(hhmm, "%H%M").time())


class Served:
    """A served race run of race 1 (card post ``morning``) whose source says ``source`` now:
    what it read, decided (and when) and scheduled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, morning: str, source: str | None) -> None:
        self.posts = pd.Series({RACE_ID: at(source)} if source else {}, dtype="datetime64[ns]")
        self.clock = ReplayClock(at("0700"))
        self.post_reads: list[datetime] = []
        self.decided: list[tuple[datetime, RaceSlot]] = []
        self.skipped: list[tuple[datetime, str]] = []
        self.scheduled: list[dict[str, Any]] = []
        monkeypatch.setattr(flows.live, "_CARDS", {})
        monkeypatch.setattr(flows.live, "stored_race_card", lambda *_: card({1: morning}))
        monkeypatch.setattr(flows.live, "WallClock", lambda: self.clock)
        monkeypatch.setattr(flows.live, "AsTasks", lambda _settings: self.run)
        monkeypatch.setattr(flows.live, "race_chain", self.race_chain)
        monkeypatch.setattr("prefect.deployments.run_deployment", self.run_deployment)

    def run(self, stage: Any, *args: Any, **_kwargs: Any) -> Any:
        if stage.name == "post-times":
            self.post_reads.append(self.clock.now())
            return self.posts
        if stage.name == "skip-race":  # (settings, slot, outcome, moment, reason)
            self.skipped.append((args[3], args[2]))
            return {"race_id": args[1].race_id, "outcome": args[2]}
        raise AssertionError(f"stage {stage.name} not expected")

    def race_chain(self, run: Any, settings: Any, slot: RaceSlot, *args: Any) -> dict[str, Any]:
        self.decided.append((self.clock.now(), slot))
        return {"race_id": slot.race_id, "outcome": "bet"}

    def run_deployment(self, name: str, **request: Any) -> Any:
        self.scheduled.append({"deployment": name, **request})
        return type("FlowRun", (), {"id": "a-new-run"})()

    def start(self, hhmm: str, **parameters: Any) -> Any:
        self.clock.wait_until(at(hhmm))
        return race.fn(RACE_ID, DAY, **parameters)


def test_a_race_moved_later_is_left_to_a_run_at_its_new_moment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """07:23 moved to 07:29: the run race-card scheduled at 07:18 decides nothing on 07:18's
    odds; a race run is scheduled at 07:24 (post − lead), keyed by its new post, and this one
    ends Completed saying so. Before, it decided at 07:18."""
    served = Served(monkeypatch, morning="0723", source="0729")
    caplog.set_level("WARNING", logger="raceday")
    ended = served.start("0718", post_at=at("0723"))
    assert served.decided == []
    (request,) = served.scheduled
    assert request["deployment"] == flows.live.RACE_DEPLOYMENT
    assert request["scheduled_time"] == datetime(2026, 12, 2, 22, 24, tzinfo=UTC)  # 07:24 JST
    assert request["parameters"]["post_at"] == at("0729").isoformat()
    assert "2026-12-03T07:29" in request["idempotency_key"]
    assert request["flow_run_name"] == "race-44-2026-12-03-R01"
    assert isinstance(ended, State) and ended.is_completed()
    assert "post time moved from 07:23 to 07:29" in str(ended.message)
    assert "post time moved from 07:23 to 07:29" in caplog.text


def test_the_run_at_the_new_moment_decides_it_even_started_a_little_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run scheduled for 07:29 (a worker starts a run up to 10 s early) reads 07:29: not
    moved, decided at once; it does not schedule itself again (its own idempotency key)."""
    served = Served(monkeypatch, morning="0723", source="0729")
    served.clock.wait_until(at("0724") - timedelta(seconds=10))
    race.fn(RACE_ID, DAY, post_at=at("0729"))
    assert served.scheduled == []
    ((moment, slot),) = served.decided
    assert moment == datetime(2026, 12, 3, 7, 23, 50)
    assert (slot.post_at, slot.close_at) == (at("0729"), at("0727"))


def test_a_race_moved_later_whose_moment_passed_is_decided_at_once_on_its_new_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that got its slot late (07:25) for a race moved to 07:29 (its moment 07:24 passed,
    its close 07:27 not): decided now, not recorded missed at the old close 07:21."""
    served = Served(monkeypatch, morning="0723", source="0729")
    served.start("0725", post_at=at("0723"))
    assert served.scheduled == []
    ((moment, slot),) = served.decided
    assert moment == at("0725") and slot.close_at == at("0727")


def test_a_card_stored_again_with_the_new_post_does_not_make_the_old_run_decide_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second race-card stored 07:29; the run scheduled at 07:18 for 07:23 still waits."""
    served = Served(monkeypatch, morning="0729", source="0729")
    served.start("0718", post_at=at("0723"))
    assert served.decided == [] and len(served.scheduled) == 1


def test_a_race_moved_earlier_past_its_close_is_recorded_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """07:23 moved to 07:19: at 07:18 its close (07:17) has passed: ``missed_close`` by the
    race's own chain (as ``raceday live``), nothing scheduled."""
    served = Served(monkeypatch, morning="0723", source="0719")
    monkeypatch.setattr(flows.live, "race_chain", flows.chain.race_chain)
    served.start("0718", post_at=at("0723"))
    assert served.skipped == [(at("0718"), "missed_close")] and served.scheduled == []


def test_a_race_moved_earlier_whose_close_is_ahead_is_decided_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = Served(monkeypatch, morning="0723", source="0721")
    served.start("0718", post_at=at("0723"))
    ((moment, slot),) = served.decided
    assert moment == at("0718") and slot.close_at == at("0719") and served.scheduled == []


def test_a_source_without_the_race_keeps_the_post_it_was_scheduled_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = Served(monkeypatch, morning="0723", source=None)
    served.start("0718", post_at=at("0723"))
    ((moment, slot),) = served.decided
    assert moment == at("0718") and slot.post_at == at("0723") and served.post_reads == [at("0718")]


def test_a_replay_and_a_days_run_read_no_post_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replay's source is the day as it ended; a day's run (``raceday live``) reads the post
    times in its own loop and hands the moved post as ``post_at``."""
    served = Served(monkeypatch, morning="0723", source="0729")
    served.start("0718", replay_at=at("0718"))
    served.start("0718", post_at=at("0723"), wait_for_odds=False)
    assert served.post_reads == [] and served.scheduled == [] and len(served.decided) == 2
