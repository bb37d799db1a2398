"""The odds timeline's point-in-time reads: a decision sees only the snapshots published by its
deadline, whatever the stamps hold; the card's deadlines at the morning time or before the post."""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from raceday.codec import race_ids
from raceday.odds_snapshots import decode_odds_snapshot
from raceday.schema import NVD_O1_COLUMNS
from raceday.sources.base import RawDay, empty_raw_day
from raceday.sources.timeline import (
    CardTiming,
    card_deadlines,
    card_odds,
    odds_known_by,
    published_at,
    race_odds_at,
)

RACE = {"kaisai_nen": "2026", "kaisai_tsukihi": "0115", "keibajo_code": "44", "race_bango": "01"}


def _o1(stamps: list[str], **key: str) -> pd.DataFrame:
    rows = [{**RACE, **key, "happyo_tsukihi_jifun": stamp, "odds_tansho": "01002001"}
            for stamp in stamps]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=list(NVD_O1_COLUMNS)).astype("string")


def _ra(post_time: str, **key: str) -> pd.DataFrame:
    return pd.DataFrame([{**RACE, **key, "hasso_jikoku": post_time}]).astype("string")


def _raw(nvd_ra: pd.DataFrame, nvd_o1: pd.DataFrame) -> RawDay:
    return RawDay(nvd_ra=nvd_ra, nvd_se=empty_raw_day().nvd_se, nvd_o1=nvd_o1)


def test_published_at_reads_the_stamp_and_the_year_before_for_december_odds() -> None:
    """MMDDhhmm in the race's year; a stamp half a year after its race is the year before's."""
    o1 = pd.concat([_o1(["01150900", "12311800", "0231x900"])], ignore_index=True)
    assert published_at(o1).tolist() == [
        pd.Timestamp("2026-01-15 09:00"), pd.Timestamp("2025-12-31 18:00"), pd.NaT,
    ]  # fmt: skip


def test_morning_keeps_the_snapshots_published_by_nine() -> None:
    """The daily run's card: the 09:00 snapshot, not the ones before the close or the final."""
    raw = _raw(_ra("1420"), _o1(["01150900", "01151415", "01151420"]))
    known = card_odds(raw, CardTiming("morning", time(9, 0), 5))
    assert known.nvd_o1["happyo_tsukihi_jifun"].tolist() == ["01150900"]


def test_lead_keeps_the_snapshots_published_by_post_less_lead() -> None:
    """Race-time betting's card: everything up to post time - lead (14:15 for a 14:20 race)."""
    raw = _raw(_ra("1420"), _o1(["01150900", "01151410", "01151415", "01151418", "01151420"]))
    known = card_odds(raw, CardTiming("lead", time(9, 0), 5))
    assert known.nvd_o1["happyo_tsukihi_jifun"].tolist() == ["01150900", "01151410", "01151415"]


def test_the_odds_are_the_latest_snapshot_with_odds_by_the_moment() -> None:
    """A snapshot whose odds are blank (or all ``0000``: nothing on sale) is not the market:
    as the latest by 09:00 it hid the 08:45 one and the race went unpriced without a word. The
    card (the morning's snapshots decoded) and race time (:func:`race_odds_at`) read the
    latest snapshot pricing a runner; snapshots that cannot be dated stay unseen."""
    o1 = _o1(["01150830", "01150845", "01150850", "01150855", "01151000", "", "0000"])
    o1["odds_tansho"] = ["01010001", "01003501", " " * 8, "01000001", *["01005001"] * 3]
    morning = card_odds(_raw(_ra("1420"), o1), CardTiming("morning", time(9, 0), 5)).nvd_o1
    card = decode_odds_snapshot(morning)
    assert card[["snapshot_at", "win_odds"]].values.tolist() == [["01150845", 3.5]]
    race_id = race_ids(o1).iloc[0]
    at_nine = race_odds_at(o1, race_id, datetime(2026, 1, 15, 9, 0))
    assert at_nine[["snapshot_at", "win_odds"]].values.tolist() == [["01150845", 3.5]]
    assert race_odds_at(o1, race_id, datetime(2026, 1, 15, 10, 0))["win_odds"].tolist() == [5.0]
    undated = o1.iloc[[2, 5, 6]]  # the probe's race: only the blank snapshot can be dated
    assert race_odds_at(undated, race_id, datetime(2026, 1, 15, 14, 0)).empty


def test_a_full_width_post_time_times_its_race_decision() -> None:
    """``１４２０`` is 14:20: the decision at 14:15 (before: no deadline, no snapshot seen)."""
    raw = _raw(_ra("１４２０"), _o1(["01150900", "01151415", "01151418"]))
    known = card_odds(raw, CardTiming("lead", time(9, 0), 5))
    assert known.nvd_o1["happyo_tsukihi_jifun"].tolist() == ["01150900", "01151415"]


def test_a_race_without_a_readable_post_time_sees_no_snapshot_at_lead() -> None:
    """A blank or impossible post time gives no deadline: nothing is seen (final odds later)."""
    for post in ("    ", "2570", ""):
        raw = _raw(_ra(post), _o1(["01150900"]))
        assert card_deadlines(raw.nvd_ra, CardTiming("lead")).isna().all()
        assert card_odds(raw, CardTiming("lead")).nvd_o1.empty


def test_odds_of_a_day_without_its_races_are_never_seen() -> None:
    """A day whose odds were read but not its races (nvd_ra empty, nvd_o1 not): no race has a
    deadline, so no snapshot is seen, and nothing fails."""
    raw = _raw(_ra("1420").iloc[0:0], _o1(["01150900", "01151410"]))
    for timing in (CardTiming("morning"), CardTiming("lead")):
        assert card_odds(raw, timing).nvd_o1.empty


def test_deadlines_are_by_race_id() -> None:
    deadlines = card_deadlines(_ra("1420"), CardTiming("morning", time(8, 30)))
    assert deadlines.to_dict() == {"202601154401": pd.Timestamp("2026-01-15 08:30")}


# --- garbage stamps: never a crash, never a snapshot after its deadline ---------------------

TEXT = st.text(alphabet="0123456789 :-x\u3000", max_size=10)
READABLE = r"\A(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([01][0-9]|2[0-3])[0-5][0-9]\Z"  # MMDDhhmm
STAMP = st.one_of(TEXT, st.from_regex(READABLE))
YEAR = st.sampled_from(["2026", "2025", "", "20x6", "0000"])
DAY = st.sampled_from(["0115", "1231", "0229", "0231", "", "9999"])


@st.composite
def timelines(draw: st.DrawFn) -> tuple[RawDay, pd.Series]:
    n_races = draw(st.integers(1, 3))
    races = [
        {"kaisai_nen": draw(YEAR), "kaisai_tsukihi": draw(DAY), "keibajo_code": "44",
         "race_bango": f"{number:02d}"}
        for number in range(1, n_races + 1)
    ]  # fmt: skip
    rows = [
        {**races[draw(st.integers(0, n_races - 1))], "happyo_tsukihi_jifun": draw(STAMP),
         "odds_tansho": "01002001"}
        for _ in range(draw(st.integers(0, 8)))
    ]  # fmt: skip
    o1 = pd.DataFrame(rows).reindex(columns=list(NVD_O1_COLUMNS)).astype("string")
    # the card may lack some of the odds' races, or all of them (a day's nvd_ra not read yet)
    on_card = races[: draw(st.integers(0, n_races))]
    ra = pd.DataFrame(on_card, columns=list(RACE)).assign(hasso_jikoku=draw(TEXT)).astype("string")
    deadline_at = draw(
        st.one_of(
            st.none(), st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(pd.Timestamp)
        )
    )
    ids = race_ids(ra)
    deadlines = pd.Series([deadline_at] * len(ids), index=ids.to_numpy(), dtype="datetime64[ns]")
    return _raw(ra, o1), deadlines


@given(timelines())
@settings(max_examples=150, deadline=None)
def test_odds_known_by_never_crashes_nor_shows_a_later_snapshot(
    case: tuple[RawDay, pd.Series],
) -> None:
    raw, deadlines = case
    known = odds_known_by(raw, deadlines).nvd_o1
    published = published_at(known)
    limit = deadlines[~deadlines.index.duplicated()].reindex(race_ids(known).to_numpy())
    assert published.notna().all() and (published.to_numpy() <= limit.to_numpy()).all()
    assert len(known) <= len(raw.nvd_o1)


@given(timelines(), st.sampled_from(["morning", "lead"]))
@settings(max_examples=100, deadline=None)
def test_card_odds_never_crashes_on_garbage(case: tuple[RawDay, pd.Series], odds_at: str) -> None:
    raw, _ = case
    timing = CardTiming("lead" if odds_at == "lead" else "morning", time(9, 0), 5)
    known = card_odds(raw, timing).nvd_o1
    deadlines = card_deadlines(raw.nvd_ra, timing).groupby(level=0).first()
    deadline = deadlines.reindex(race_ids(known).to_numpy())
    assert (published_at(known).to_numpy() <= deadline.to_numpy()).all()


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%m%d%H%M"]),
)
def test_a_stamp_written_as_a_date_and_time_is_its_mmddhhmm(moment: datetime, layout: str) -> None:
    """A snapshot's stamp re-saved as a date and a time reads as the MMDDhhmm PC-KEIBA writes
    (an MMDDhhmm stamp as it is); what is neither is left for the reader to refuse."""
    from raceday.sources.timeline import stamp_text

    stamps = pd.Series([moment.strftime(layout), "", "x 12:00"], dtype="string")
    assert stamp_text(stamps).tolist() == [f"{moment:%m%d%H%M}", "", "x 12:00"]
