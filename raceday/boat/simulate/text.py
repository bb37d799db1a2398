"""The simulated races as the official files write them: B (番組表) and K (競走成績) text, in
the layouts of :mod:`raceday.boat.layout`, CRLF line ends, to be encoded as CP932."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Final

from raceday.boat import layout
from raceday.boat.codes import BET_LABELS, VENUE_NAMES
from raceday.boat.simulate.race import SimulatedRace

FULL_WIDTH: Final = str.maketrans("0123456789:R", "０１２３４５６７８９：Ｒ")
SEPARATOR: Final = "-" * 79
B_COLUMN_HEADER: Final = (
    "艇 選手 選手  年 支 体級    全国      当地     モーター   ボート   今節成績  早",
    "番 登番  名   齢 部 重別 勝率  2率  勝率  2率  NO  2率  NO  2率  １２３４５６見",
)
K_COLUMN_HEADER: Final = "  着 艇 登番 　選　手　名　　ﾓｰﾀｰ ﾎﾞｰﾄ 展示 進入 ｽﾀｰﾄﾀｲﾐﾝｸ ﾚｰｽﾀｲﾑ "


def full_width(text: str) -> str:
    """Digits, ``:`` and ``R`` as the B file prints them (full width)."""
    return text.translate(FULL_WIDTH)


def _spaced_venue(code: str) -> str:
    name = VENUE_NAMES[code]
    return name if len(name) > 2 else layout.FULL_SPACE.join(name) if len(name) == 2 else name


def _by_venue(races: Sequence[SimulatedRace]) -> list[list[SimulatedRace]]:
    return [list(group) for _, group in groupby(races, key=lambda r: r.race["venue_code"])]


def program_text(day: date, races: Sequence[SimulatedRace]) -> str:
    """A day's B file."""
    lines = ["STARTB"]
    for venue_races in _by_venue(races):
        first = venue_races[0].race
        code, meeting = first["venue_code"], first["meeting_day"]
        lines += [
            f"{code}BBGN",
            f"ボートレース{_spaced_venue(code)}   {full_width(f'{day.month:>2}')}月"
            f"{full_width(f'{day.day:>2}')}日  模擬記念競走  第{full_width(str(meeting))}日",
            "",
            "                            ＊＊＊　番組表　＊＊＊",
            "",
            "          模擬記念競走",
            "",
            f"   第{full_width(str(meeting))}日          {full_width(str(day.year))}年"
            f"{full_width(f'{day.month:>2}')}月{full_width(f'{day.day:>2}')}日"
            f"                  ボートレース{_spaced_venue(code)}",
            "",
            "               −内容については主催者発行のものと照合して下さい−",
        ]
        for simulated in venue_races:
            lines += ["", *_program_race(simulated)]
        lines += ["", f"{code}BEND"]
    return "\r\n".join([*lines, "FINALB", ""])


def _program_race(simulated: SimulatedRace) -> list[str]:
    race = simulated.race
    number = full_width(f"{race['race_number']:>2}R")
    header = (
        f"{number}  {layout.full_width_padded(race['race_name'], 6)}          "
        f"Ｈ{full_width(str(race['distance_m']))}ｍ  電話投票締切予定"
        f"{full_width(race['deadline_at'].strftime('%H:%M'))}"
    )
    lines = [header, SEPARATOR, *B_COLUMN_HEADER, SEPARATOR]
    for e in simulated.card:
        lines.append(
            layout.b_racer_line(
                int(e["boat"]), str(e["racer_id"]),
                layout.b_name(str(e["surname"]), str(e["given_name"])), int(e["age"]),
                str(e["branch"]), int(e["weight_kg"]), str(e["racer_class"]),
                (float(e["national_win_rate"]), float(e["national_top2_pct"])),
                (float(e["local_win_rate"]), float(e["local_top2_pct"])),
                (int(e["motor_no"]), float(e["motor_top2_pct"])),
                (int(e["boat_no"]), float(e["boat_top2_pct"])),
            )
        )  # fmt: skip
    return lines


def results_text(day: date, races: Sequence[SimulatedRace]) -> str:
    """A day's K file."""
    lines = ["STARTK"]
    for venue_races in _by_venue(races):
        first = venue_races[0].race
        code, meeting = first["venue_code"], first["meeting_day"]
        lines += [
            f"{code}KBGN",
            f"{_spaced_venue(code)}［成績］      {day.month}/{day.day:>2}      模擬記念競走"
            f"  第{meeting:>2}日",
            "",
            "                            ＊＊＊　競走成績　＊＊＊",
            "",
            "          模擬記念競走",
            "",
            f"   第{meeting:>2}日          {day.year}/{day.month:>2}/{day.day:>2}"
            f"                             ボートレース{_spaced_venue(code)}",
        ]
        for simulated in venue_races:
            lines += ["", *_result_race(simulated)]
        lines += ["", f"{code}KEND"]
    return "\r\n".join([*lines, "FINALK", ""])


def _result_race(simulated: SimulatedRace) -> list[str]:
    race = simulated.race
    header = (
        f"  {race['race_number']:>2}R       {layout.full_width_padded(race['race_name'], 6)}"
        f"          H{race['distance_m']}m  {race['weather']}　  風  {race['wind_direction']}　"
        f"{race['wind_speed_m']:>2}m  波　{race['wave_cm']:>3}cm"
    )
    if race["status"] == "cancelled":
        return [header, "          ＊＊＊　レース中止　＊＊＊"]
    names = {
        int(e["boat"]): layout.k_name(str(e["surname"]), str(e["given_name"]))
        for e in simulated.card
    }
    lines = [header, K_COLUMN_HEADER + (race["kimarite"] or ""), SEPARATOR]
    for row in simulated.results:
        lines.append(
            layout.k_racer_line(
                row["finish_code"], row["boat"], row["racer_id"], names[row["boat"]],
                row["motor_no"], row["boat_no"], row["exhibition_s"], row["course"],
                row["start_timing_s"], row["race_time_s"],
            )
        )  # fmt: skip
    return [*lines, "", *payout_lines(simulated.payouts)]


def payout_lines(payouts: Sequence[dict[str, object]]) -> list[str]:
    """The payout lines of a race, bet type by bet type (continuations with the label blank)."""
    lines: list[str] = []
    for bet_type, group in groupby(payouts, key=lambda p: p["bet_type"]):
        rows = list(group)
        label = BET_LABELS[str(bet_type)]
        if rows[0]["kind"] == "void":
            lines.append(layout.payout_line(label, layout.NOT_ESTABLISHED, None))
            continue
        if bet_type == "place":
            pairs = [(str(r["combination"]), int(str(r["payout_yen"]))) for r in rows]
            for start in range(0, len(pairs), 2):
                line_label = label if start == 0 else ""
                lines.append(layout.place_payout_line(line_label, pairs[start : start + 2]))
            continue
        for index, row in enumerate(rows):
            popularity = row["popularity"]
            lines.append(
                layout.payout_line(
                    label if index == 0 else "", str(row["combination"]),
                    int(str(row["payout_yen"])),
                    None if popularity is None else int(str(popularity)),
                )
            )  # fmt: skip
    return lines
