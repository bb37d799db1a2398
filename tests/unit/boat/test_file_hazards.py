"""What real day files hold that once put a line in the wrong race or the wrong day: a race
header the strict pattern could not read, 中止 notices, a file's text dated another day, a
file cut in a payout, a year out of range, odds stamped with an offset, a shortened race."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from data_checks.boat import validate_results
from raceday.boat.files import cut_races, parse_b_text, parse_k_text
from raceday.boat.source import read_odds_file
from raceday.errors import InputError
from tests.unit.boat.excerpts import PROGRAM, RESULTS

DAY = date(2026, 4, 1)
R1, R2, R3 = "202604010501", "202604010502", "202604010503"


def _lines_until(marker: str) -> list[str]:
    lines = RESULTS.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if marker in line)]


def _races(text: str, day: date | None = DAY) -> pd.DataFrame:
    return parse_k_text(text, day).races.set_index("race_id")


def test_a_header_without_its_wind_direction_still_starts_its_race() -> None:
    """A blank wind direction (or conditions that cannot be read at all) starts the race
    without them: its boats and payouts are its own, not the race's before."""
    for header, speed in [
        ("   2R       予選　　　　          H1800m  曇り  風  　　　 1m  波　  1cm", 1),
        ("   2R       予選　　　　          H1800m  ?? ??", None),
    ]:
        text = RESULTS.replace(
            "   2R       予選　　　　          H1800m  曇り  風  北　　 1m  波　  1cm", header
        )
        day = parse_k_text(text, DAY)
        race = day.races.set_index("race_id").loc[R2]
        assert pd.isna(race["wind_direction"]) and race["status"] == "run"
        assert race["wind_speed_m"] == speed if speed else pd.isna(race["wind_speed_m"])
        assert (day.results["race_id"] == R2).sum() == 6
        wins = day.payouts[day.payouts["bet_type"] == "win"]
        assert wins.groupby("race_id").size().to_dict() == {R1: 1, R2: 2, R3: 1}


def test_a_bet_type_listed_twice_in_a_race_is_set_aside() -> None:
    text = RESULTS.replace(
        "        複勝     1          130  2          180",
        "        単勝     4          999\r\n        複勝     1          130  2          180",
    )
    day = parse_k_text(text, DAY)
    assert day.rejected["reason"].str.contains("listed twice for race 1").any()
    assert day.payouts[(day.payouts["race_id"] == R1) & (day.payouts["bet_type"] == "win")][
        "payout_yen"
    ].tolist() == [230]


def test_cancellations_mark_only_the_races_they_name() -> None:
    """レース中止 on a header cancels that race; ``NR以降 中止`` after a race's payouts cancels
    the venue's later races; a 中止 line after a race's results is set aside, the race kept."""
    on_header = RESULTS.replace(
        "   2R       予選　　　　          H1800m  曇り  風  北　　 1m  波　  1cm",
        "   2R       予選　　　　          H1800m  レース中止",
    )
    races = _races(on_header)
    assert races.loc[R1, "status"] == "run"
    assert races.loc[R2, "status"] == "cancelled"
    # its results and payouts contradict the 中止: rejected, seen, not stored beside it (they
    # were stored, and its bets refunded without a word: the second fuzz probe)
    cancelled = parse_k_text(on_header, DAY)
    assert not (cancelled.results["race_id"] == R2).any()
    assert not (cancelled.payouts["race_id"] == R2).any()
    assert cancelled.rejected["reason"].str.contains("race 2 is cancelled").sum() >= 6

    before_3r = _lines_until("   3R ")
    later = "\r\n".join([*before_3r, "     ＊＊＊　３Ｒ以降　中止　＊＊＊", "05KEND", "FINALK"])
    day = parse_k_text(later, DAY)
    header_3r_after = parse_k_text(
        later.replace(
            "05KEND", next(x for x in RESULTS.splitlines() if x.startswith("   3R ")) + "\r\n05KEND"
        ),
        DAY,
    )
    assert header_3r_after.rejected["reason"].str.contains("race 03 cancelled by a 中止 line").any()
    status = day.races.set_index("race_id")["status"]
    assert status[[R1, R2]].tolist() == ["run", "run"]
    assert status[[f"2026040105{n:02d}" for n in range(3, 13)]].eq("cancelled").all()
    assert (day.payouts["race_id"] == R2).sum() > 0

    header_3r = next(line for line in RESULTS.splitlines() if line.startswith("   3R "))
    from_this = [*before_3r, header_3r, "     ＊＊＊　３Ｒ以降　中止　＊＊＊", "05KEND", "FINALK"]
    status = parse_k_text("\r\n".join(from_this), DAY).races.set_index("race_id")["status"]
    assert status[R2] == "run"
    assert status[[f"2026040105{n:02d}" for n in range(3, 13)]].eq("cancelled").all()

    stray = "\r\n".join([*before_3r, "     ＊＊＊　中止　＊＊＊", "05KEND", "FINALK"])
    day = parse_k_text(stray, DAY)
    assert day.races.set_index("race_id").loc[R2, "status"] == "run"
    assert day.rejected["reason"].str.contains("cancellation after race 2").any()


def test_a_text_dated_another_day_than_its_file_is_set_aside() -> None:
    """K260402.TXT holding 2026/4/1: storing it would overwrite the 1st, so its races are set
    aside with the reason (B and K)."""
    other = date(2026, 4, 2)
    for day in (parse_k_text(RESULTS, other), parse_b_text(PROGRAM, other)):
        assert day.races.empty
        assert day.rejected["reason"].str.contains("not the file's day 2026-04-02").any()


def test_a_year_out_of_range_is_set_aside_not_raised() -> None:
    program = parse_b_text(PROGRAM.replace("２０２６年", "５０２６年"))
    assert program.races.empty and program.rejected["reason"].str.contains("racing").any()
    results = parse_k_text(RESULTS.replace("2026/ 4/ 1", "5026/ 4/ 1"))
    assert results.races.empty and not results.rejected.empty


def test_a_file_cut_inside_a_payout_sets_its_last_race_aside() -> None:
    """The file ends in 2R's win line (``310`` cut to ``3``), without its END marker: 2R is set
    aside, 1R read whole."""
    cut = "\r\n".join(_lines_until("                 2          290"))
    cut = cut[: cut.rindex("310") + 1]
    day = parse_k_text(cut, DAY)
    assert set(day.races["race_id"]) == {R1}
    assert set(day.payouts["race_id"]) == {R1} and set(day.results["race_id"]) == {R1}
    assert day.rejected["reason"].str.contains("race 2 set aside").any()
    assert (
        cut_races(day.rejected) == {R2} and cut_races(parse_k_text(RESULTS, DAY).rejected) == set()
    )


def test_odds_stamped_with_an_offset_read_as_japan_time(tmp_path: Path) -> None:
    (tmp_path / "boat_odds.csv").write_text(
        "race_id,boat,snapshot,published_at,win_odds\n"
        f"{R1},1,a,2026-04-01T10:00:00+09:00,2.5\n"
        f"{R1},2,a,2026-04-01T01:00:00Z,3.5\n"
        f"{R1},3,a,2026-04-01T10:00:00,4.5\n"
    )
    odds = read_odds_file(tmp_path, [DAY])
    assert odds["published_at"].tolist() == [datetime(2026, 4, 1, 10)] * 3


def test_an_odds_header_in_capitals_reads_as_the_horses_files_do(tmp_path: Path) -> None:
    """``RACE_ID``, `` Boat`` …: names in any case, spaces around (a tool that writes capitals),
    as the horses' files are read; a file of semicolons is said to be one."""
    (tmp_path / "boat_odds.csv").write_text(
        f"RACE_ID, Boat ,SNAPSHOT,Published_At,WIN_ODDS\n{R1},1,a,2026-04-01T10:00:00,2.5\n"
    )
    odds = read_odds_file(tmp_path, [DAY])
    assert odds["win_odds"].tolist() == [2.5] and odds["boat"].tolist() == [1]
    (tmp_path / "boat_odds.csv").write_text(
        f"race_id;boat;snapshot;published_at;win_odds\n{R1};1;a;2026-04-01T10:00:00;2.5\n"
    )
    with pytest.raises(InputError, match=r"missing columns .*: not comma-separated"):
        read_odds_file(tmp_path, [DAY])


def test_an_odds_file_saved_by_a_japanese_spreadsheet_reads_as_written(tmp_path: Path) -> None:
    """A hand-made ``boat_odds.csv`` saved by Excel on a Japanese Windows: CP932 text (snapshot
    labels in Japanese), CRLF, odds and lanes typed in full-width digits. It reads as the same
    file in UTF-8 and ASCII digits, as the horses' files do (encoding told per file, NFKC).
    Before, the CP932 file was refused with Python's codec error and a full-width odds was
    quarantined as absent (``win_odds_present``: 1,649 rows in the hostile probe); text that is
    neither encoding is refused naming its first stray byte, as the horses' files are."""
    plain = (
        "race_id,boat,snapshot,published_at,win_odds\n"
        f"{R1},1,朝,2026-04-01T09:00:00,2.5\n"
        f"{R1},2,朝,2026-04-01T09:00:00,13.5\n"
    )
    (tmp_path / "boat_odds.csv").write_text(plain, encoding="utf-8")
    expected = read_odds_file(tmp_path, [DAY])
    typed = plain.replace("2.5", "２．５").replace(",2,", ",２,").replace("\n", "\r\n")
    (tmp_path / "boat_odds.csv").write_bytes(typed.encode("cp932"))
    pd.testing.assert_frame_equal(read_odds_file(tmp_path, [DAY]), expected)
    assert expected["win_odds"].tolist() == [2.5, 13.5] and expected["boat"].tolist() == [1, 2]
    (tmp_path / "boat_odds.csv").write_bytes(plain.encode("utf-16"))
    with pytest.raises(InputError, match=r"not UTF-8 or Shift-JIS \(CP932\) text \(byte 0xff at"):
        read_odds_file(tmp_path, [DAY])


def test_a_shortened_race_is_judged_at_its_pace() -> None:
    """Two laps (1200 m) in 73-77 s is a race time; over 1800 m it would be a shifted line."""
    results = parse_k_text(RESULTS, DAY)
    race = results.results[results.results["race_id"] == R1].copy()
    race["race_time_s"] = race["race_time_s"] * 2 / 3
    races = results.races[results.races["race_id"] == R1]
    payouts = results.payouts[results.payouts["race_id"] == R1]
    shortened = validate_results(races.assign(distance_m=1200), race, payouts, pd.Timestamp(DAY))
    assert not shortened.set_aside
    full = validate_results(races, race, payouts, pd.Timestamp(DAY))
    assert full.set_aside == frozenset({R1})


def test_a_race_header_written_twice_keeps_the_first_copy() -> None:
    """A race's header line repeated (B or K): the race was read twice and the store refused
    the day's whole write (exit 5, the fuzz probe). The copy is rejected with its reason; right
    after itself the race's lines still join it, and a copy of the race after another race
    (the K text's race 1 again after race 2) is not read: the first copy stands."""
    b_header = "　１Ｒ  予選　　　　          Ｈ１８００ｍ  電話投票締切予定１０：３０"
    k_header = "   1R       予選　　　　          H1800m  晴　  風  北西　 2m  波　  2cm"
    once_b, once_k = parse_b_text(PROGRAM, DAY), parse_k_text(RESULTS, DAY)
    for text, header in ((PROGRAM, b_header), (RESULTS, k_header)):
        assert text.count(header) == 1
    twice_b = parse_b_text(PROGRAM.replace(b_header, f"{b_header}\r\n{b_header}"), DAY)
    twice_k = parse_k_text(RESULTS.replace(k_header, f"{k_header}\r\n{k_header}"), DAY)
    for once, twice in ((once_b, twice_b), (once_k, twice_k)):
        assert twice.races["race_id"].is_unique
        assert twice.races["race_id"].tolist() == once.races["race_id"].tolist()
        said = twice.rejected["reason"].str.contains("race 01 listed twice")
        assert said.sum() == 1
    pd.testing.assert_frame_equal(twice_b.entries, once_b.entries)
    pd.testing.assert_frame_equal(twice_k.results, once_k.results)
    r3_header = "   3R       一般　　　　          H1800m  雨　  風  南　　 6m  波　  8cm"
    later = parse_k_text(RESULTS.replace(r3_header, f"{k_header}\r\n{r3_header}"), DAY)
    assert later.races["race_id"].is_unique
    pd.testing.assert_frame_equal(later.results, once_k.results)


def test_a_venue_cancelled_from_race_1_cancels_all_its_races() -> None:
    """``１Ｒ以降 中止`` before the venue's first race header: its twelve races cancelled (their
    bets refunded), a race printed after it rejected as cancelled, not read. It was taken for a
    venue header and dropped: no race cancelled, the bets left open (a fuzz probe)."""
    lines = _lines_until("   1R ")
    notice = "     ＊＊＊　１Ｒ以降　中止　＊＊＊"
    called_off = parse_k_text("\r\n".join([*lines, notice, "05KEND", "FINALK"]), DAY)
    every_race = [f"2026040105{n:02d}" for n in range(1, 13)]
    assert called_off.races["race_id"].tolist() == every_race
    assert called_off.races["status"].eq("cancelled").all() and called_off.rejected.empty

    dated = next(line for line in lines if "2026/ 4/ 1" in line)
    printed = parse_k_text(RESULTS.replace(dated, f"{dated}\r\n{notice}"), DAY)
    assert sorted(printed.races["race_id"]) == every_race
    assert printed.races["status"].eq("cancelled").all()
    assert printed.results.empty and printed.payouts.empty
    assert printed.rejected["reason"].str.contains("race 01 cancelled by a 中止 line").any()

    stray = parse_k_text(RESULTS.replace(dated, f"{dated}\r\n ＊＊＊　中止　＊＊＊"), DAY)
    assert stray.rejected["reason"].str.contains("names no race").any()
    assert stray.races["status"].eq("run").sum() == 3
