"""A simulated day as PC-KEIBA text tables (``nvd_ra``, ``nvd_se``, ``nvd_o1``) and its truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from raceday.codec import race_key_parts
from raceday.schema import CONDITION_CODE_COLUMNS, NVD_O1_COLUMNS, NVD_RA_COLUMNS, NVD_SE_COLUMNS
from raceday.simulate.arrays import (
    AsciiArray,
    Column,
    FloatArray,
    IntArray,
    TextArray,
    group_count,
    group_min,
)
from raceday.simulate.calendar import PERIOD, fortnight, fortnight_calendar
from raceday.simulate.card import Card
from raceday.simulate.circuits import (
    CLASS_CODES,
    JRA_CLASS_TEXT,
    JRA_CONDITION_CODE,
    JRA_GRADE,
    PLACE_PRIZE_SHARE,
    TWO_YEAR_OLD,
    Circuit,
    circuit_of,
    tracks_of,
)
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.names import SPECIAL_WORDS, horse_names, owner_name_table
from raceday.simulate.population import population_of, staff_of
from raceday.simulate.race import LAP_SLOTS, Result
from raceday.simulate.text import (
    FULL_SPACE,
    as_ascii,
    ascii_int,
    ascii_soha,
    ascii_tenths,
    clip_text,
    encode_int,
    format_distinct,
    fullwidth,
    join_rows,
    pack_groups,
    pad,
    stack_text,
    text_array,
)

# The truth table: per runner, what no source can observe. First 3F / first segment / last 3F
# are NaN for runners that did not finish; true_win_prob is 0 for non-starters.
TRUTH_COLUMNS: Final = (
    "race_id", "umaban", "race_date", "keibajo_code", "horse_id", "distance_m", "class_code",
    "started", "finished", "true_strength", "true_win_prob", "true_first3f_s",
    "true_first_segment_s", "true_last3f_s", "true_finish_time_s", "track_shift_s_per_km",
)  # fmt: skip

_YOBI_CODE: Final = ("4", "5", "6", "7", "8", "1", "2")  # Monday..Sunday (JV-Data 曜日コード)


@dataclass(frozen=True)
class DayTables:
    """One day's raw tables (text) and its truth table."""

    ra: pd.DataFrame
    se: pd.DataFrame
    o1: pd.DataFrame
    truth: pd.DataFrame


def empty_day_tables() -> DayTables:
    return DayTables(
        ra=_text_frame({}, NVD_RA_COLUMNS),
        se=_text_frame({}, NVD_SE_COLUMNS),
        o1=_text_frame({}, NVD_O1_COLUMNS),
        truth=_truth_frame({}),
    )


def encode_day(
    config: SimulatorConfig, day: date, card: Card, result: Result, rng: np.random.Generator
) -> DayTables:
    """The day's tables from its card and result (post times and race names drawn from ``rng``)."""
    circuit = circuit_of(config)
    post_minutes = _post_minutes(card, rng, circuit)
    names = _race_names(card, rng, circuit)
    keys = _race_keys(config, day, card)
    ra = _ra_columns(day, card, result, keys, _hhmm(post_minutes), names, circuit)
    return DayTables(
        ra=_text_frame(ra, NVD_RA_COLUMNS),
        se=_text_frame(_se_columns(config, day, card, result, keys), NVD_SE_COLUMNS),
        o1=_text_frame(_o1_columns(config, day, card, result, keys, post_minutes), NVD_O1_COLUMNS),
        truth=_truth_frame(_truth_columns(config, day, card, result, keys)),
    )


_EMPTY_TEXT: Final = np.zeros(0, dtype=object)


def _race_keys(config: SimulatorConfig, day: date, card: Card) -> dict[str, TextArray]:
    """Key and meeting fields per race."""
    n_races = card.race_venue.size
    parts = [
        race_key_parts(day, circuit_of(config).venues[v].code, int(b))
        for v, b in zip(card.race_venue.tolist(), card.race_bango.tolist(), strict=True)
    ]
    keys = {
        column: np.array([p[column] for p in parts], dtype=object)
        for column in ("kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango")
    }
    fortnight_day = fortnight(config, day.toordinal())[1]
    meeting_day = fortnight_calendar(config).meeting_day[card.race_venue, fortnight_day]
    meeting = (day.timetuple().tm_yday - 1) // PERIOD + 1
    keys["kaisai_kai"] = np.full(n_races, f"{meeting:02d}", dtype=object)
    keys["kaisai_nichime"] = encode_int(np.minimum(meeting_day, 99), 2)
    return keys


def _post_minutes(card: Card, rng: np.random.Generator, circuit: Circuit) -> IntArray:
    """Post times (minutes after midnight): day venues from 10:30-11:15, night venues ending at
    20:50."""
    first_offset = rng.integers(0, 4, circuit.n_venues) * 15
    minutes = np.zeros(card.race_venue.size, np.int64)
    for v in np.unique(card.race_venue).tolist():
        rows = np.flatnonzero(card.race_venue == v)
        steps = max(rows.size - 1, 1)
        if circuit.venues[v].night:
            interval = min(30, 5 * ((20 * 60 + 50 - (10 * 60 + 30)) // steps // 5))
            first = 20 * 60 + 50 - (rows.size - 1) * interval
        else:
            first = 10 * 60 + 30 + int(first_offset[v])
            interval = min(30, 5 * ((17 * 60 + 30 - first) // steps // 5))
        minutes[rows] = first + interval * (card.race_bango[rows] - 1)
    return minutes


def _hhmm(minutes: IntArray) -> TextArray:
    """``hhmm`` of ``minutes`` after midnight."""
    return format_distinct(minutes, lambda minute: "{:02d}{:02d}".format(*divmod(minute, 60)))


def _race_names(card: Card, rng: np.random.Generator, circuit: Circuit) -> dict[str, TextArray]:
    """kyosomei_hondai and the short forms; the class text of kyoso_joken_meisho (NAR)."""
    words = np.array(SPECIAL_WORDS, dtype=object)[
        rng.integers(0, len(SPECIAL_WORDS), card.race_venue.size)
    ]
    if circuit.name == "jra":
        return _jra_race_names(card, words)
    young = card.race_class == TWO_YEAR_OLD
    name = np.where(card.race_special, words + "特別", np.where(young, "サラ系２歳", "サラ系一般"))
    short = np.where(card.race_special, words + "特別", "")
    class_text = np.array(
        [fullwidth(code) for code in CLASS_CODES[:TWO_YEAR_OLD]] + ["２歳"], dtype=object
    )[card.race_class]
    division = np.where(
        card.race_division > 0,
        np.array(["－" + fullwidth(str(d)) for d in card.race_division.tolist()], dtype=object),
        "",
    )
    condition = np.where(young, class_text, class_text + division)
    return _name_columns(name.astype(object), short, condition.astype(object))


def _jra_race_names(card: Card, words: TextArray) -> dict[str, TextArray]:
    """JRA: open and graded races are ○○ステークス, the card's best other race ○○特別, the
    rest carry their class (``１勝クラス``, ``未勝利``, ``２歳新馬``). The condition name is
    blank, as JRA-VAN writes it (set for NAR races only): the class is in the condition codes
    (:func:`_condition_codes`)."""
    open_class = card.race_class <= 3
    special = card.race_special | open_class
    class_text = np.array(JRA_CLASS_TEXT, dtype=object)[card.race_class]
    named = np.where(open_class, words + "ステークス", words + "特別")
    plain = np.where(card.race_class == TWO_YEAR_OLD, "２歳" + class_text, class_text)
    name = np.where(special, named, plain).astype(object)
    short = np.where(special, named, "").astype(object)
    return _name_columns(name, short, np.full(name.size, "", dtype=object))


def _condition_codes(card: Card, circuit: Circuit) -> dict[str, Column]:
    """競走条件コード (JV-Data code table 2007): NAR's are 000 (its class is in the name); a JRA
    race's is its class's (:data:`JRA_CONDITION_CODE`) for each age it admits (2歳 races the
    2-year-olds, the others 3歳以上) and as the youngest age's condition."""
    if circuit.name != "jra":
        return {column: "000" for column in CONDITION_CODE_COLUMNS}
    code = np.array(JRA_CONDITION_CODE, dtype=object)[card.race_class]
    young = card.race_class == TWO_YEAR_OLD
    older = np.where(young, "000", code).astype(object)
    return {
        "kyoso_joken_code_2sai": np.where(young, code, "000").astype(object),
        "kyoso_joken_code_3sai": older,
        "kyoso_joken_code_4sai": older,
        "kyoso_joken_code_5sai_ijo": older,
        "kyoso_joken_code": code,
    }


def _name_columns(name: TextArray, short: TextArray, condition: TextArray) -> dict[str, TextArray]:
    """The race name and its short forms (10, 6, 3 characters) and the condition text, padded."""
    return {
        "hondai": pad(name, 30, FULL_SPACE),
        "short_10": pad(clip_text(short, 10), 10, FULL_SPACE),
        "short_6": pad(clip_text(short, 6), 6, FULL_SPACE),
        "short_3": pad(clip_text(short, 3), 3, FULL_SPACE),
        "condition": pad(condition, 30, FULL_SPACE),
    }


def _race_prize(card: Card, circuit: Circuit) -> FloatArray:
    """Each race's first prize (100 yen units): its class's prize times its venue's factor."""
    return np.rint(
        circuit.class_prize[card.race_class]
        * np.array([v.prize_factor for v in circuit.venues])[card.race_venue]
    )


def _ra_columns(
    day: date,
    card: Card,
    result: Result,
    keys: dict[str, TextArray],
    post_times: TextArray,
    names: dict[str, TextArray],
    circuit: Circuit,
) -> dict[str, Column]:
    n_races = card.race_venue.size
    tracks = tracks_of(circuit.name)
    distance = tracks.distance[card.race_track_row]
    starters = group_count(result.started, card.starts)
    finishers = group_count(result.finished, card.starts)
    prize = _race_prize(card, circuit).astype(np.int64)
    place_prize = np.rint(prize[:, None] * PLACE_PRIZE_SHARE[None, :]).astype(np.int64)
    honshokin = join_rows(
        np.concatenate([place_prize, np.zeros((n_races, 2), np.int64)], axis=1), 8
    )
    lead_tenths = np.rint(np.nan_to_num(result.leader_times, nan=0.0) * 10).astype(np.int64)
    n_laps = np.isfinite(result.leader_times).sum(axis=1)
    laps = np.diff(np.concatenate([np.zeros((n_races, 1), np.int64), lead_tenths], axis=1), axis=1)
    laps = np.where(np.arange(LAP_SLOTS)[None, :] < n_laps[:, None], laps, 0)
    rows = np.arange(n_races)
    last3f_race = (lead_tenths[rows, n_laps - 1] - lead_tenths[rows, n_laps - 4]) / 10.0
    going = result.going
    turf = tracks.turf[card.race_track_row]
    jra = circuit.name == "jra"
    blank_corner = " " * 70
    corner_text = [
        np.array(
            [f"{num:02d}{text}".ljust(72) if num else "00" + blank_corner
             for num, text in zip(result.corner_number[:, s].tolist(),
                                  result.corner_order[:, s].tolist(), strict=True)],
            dtype=object,
        )
        for s in range(4)
    ]  # fmt: skip

    columns: dict[str, Column] = {
        "record_id": "RA",
        "data_kubun": "7",
        "data_sakusei_nengappi": f"{day:%Y%m%d}",
        **{k: keys[k] for k in ("kaisai_nen", "kaisai_tsukihi", "keibajo_code")},
        "kaisai_kai": keys["kaisai_kai"],
        "kaisai_nichime": keys["kaisai_nichime"],
        "race_bango": keys["race_bango"],
        "yobi_code": _YOBI_CODE[day.weekday()],
        "tokubetsu_kyoso_bango": "0000",
        "kyosomei_hondai": names["hondai"],
        "kyosomei_fukudai": FULL_SPACE * 30,
        "kyosomei_kakkonai": FULL_SPACE * 30,
        "kyosomei_hondai_eur": " " * 120,
        "kyosomei_fukudai_eur": " " * 120,
        "kyosomei_kakkonai_eur": " " * 120,
        "kyosomei_ryakusho_10": names["short_10"],
        "kyosomei_ryakusho_6": names["short_6"],
        "kyosomei_ryakusho_3": names["short_3"],
        "kyosomei_kubun": "0",
        "jusho_kaiji": "000",
        "grade_code": np.array(JRA_GRADE, dtype=object)[card.race_class] if jra else " ",
        "grade_code_henkomae": " ",
        "kyoso_shubetsu_code": np.where(card.race_class == TWO_YEAR_OLD, "11", "13").astype(object),
        "kyoso_kigo_code": "000",
        "juryo_shubetsu_code": "3",
        **_condition_codes(card, circuit),
        "kyoso_joken_meisho": names["condition"],
        "kyori": ascii_int(distance, 4),
        "kyori_henkomae": "0000",
        "track_code": tracks.track_code[card.race_track_row],
        "track_code_henkomae": "00",
        "course_kubun": "  ",
        "course_kubun_henkomae": "  ",
        "honshokin": honshokin,
        "honshokin_henkomae": "0" * 56,
        "fukashokin": "0" * 40,
        "fukashokin_henkomae": "0" * 40,
        "hasso_jikoku": post_times,
        "hasso_jikoku_henkomae": "0000",
        "toroku_tosu": ascii_int(card.race_entries, 2),
        "shusso_tosu": ascii_int(starters, 2),
        "nyusen_tosu": ascii_int(finishers, 2),
        "tenko_code": ascii_int(result.weather, 1),
        "babajotai_code_shiba": ascii_int(np.where(turf, going, 0), 1),
        "babajotai_code_dirt": ascii_int(np.where(turf, 0, going), 1),
        "lap_time": join_rows(laps, 3),
        "shogai_mile_time": "0000",
        "zenhan_3f": ascii_tenths(result.leader_first3f, 3),
        "zenhan_4f": ascii_tenths(result.leader_first4f, 3),
        "kohan_3f": ascii_tenths(last3f_race, 3),
        "kohan_4f": "000",
        "corner_tsuka_juni_1": corner_text[0],
        "corner_tsuka_juni_2": corner_text[1],
        "corner_tsuka_juni_3": corner_text[2],
        "corner_tsuka_juni_4": corner_text[3],
        "record_koshin_kubun": "0",
    }
    return columns


def _se_columns(
    config: SimulatorConfig, day: date, card: Card, result: Result, keys: dict[str, TextArray]
) -> dict[str, Column]:
    horses, staff = population_of(config, day.year), staff_of(config)
    circuit = circuit_of(config)
    race, h = card.race, card.horse
    n = h.size
    tenths = np.rint(np.nan_to_num(result.finish_time, nan=0.0) * 10).astype(np.int64)
    winner_tenths = group_min(np.where(result.finished, tenths, 10**6), card.starts)[race]
    second = np.full(card.race_venue.size, -1, np.int64)
    second[race[result.finish_pos == 2]] = tenths[result.finish_pos == 2]
    margin = np.where(second[race] >= 0, second[race] - winner_tenths, 0)
    behind = np.minimum(np.where(result.finish_pos == 1, margin, tenths - winner_tenths), 999)
    sign = np.where(result.finish_pos == 1, b"-", b"+")
    shown = np.where(result.finished, behind, 0)  # the others' time_sa is 0000
    time_sa = np.where(result.finished, np.strings.add(sign, ascii_int(shown, 3)), b"0000")
    rng_missing = np.random.default_rng([config.seed, day.toordinal(), 53])
    missing_last3f = rng_missing.random(n) < config.missing_last3f_rate
    missing_weight = rng_missing.random(n) < config.missing_body_weight_rate
    last3f = np.where(result.finished & ~missing_last3f, result.last3f, np.nan)
    change = result.body_weight_change
    known_change = np.isfinite(change) & ~missing_weight
    zogen_fugo = np.where(
        known_change, np.where(change > 0, b"+", np.where(change < 0, b"-", b" ")), b" "
    )
    zogen_sa = np.where(
        known_change, ascii_int(np.abs(np.nan_to_num(change)).astype(np.int64), 3), b"   "
    )
    prize = _race_prize(card, circuit)[race]
    place_share = np.concatenate([[0.0], PLACE_PRIZE_SHARE, np.zeros(13)])  # up to 18 places
    earned = np.rint(prize * place_share[result.finish_pos]).astype(np.int64)
    ijo = np.select(
        [result.cancelled, result.excluded, result.dnf, result.disqualified], [1, 2, 4, 5], 0
    )
    owner_names = owner_name_table()[horses.owner[h]]
    jockey_name = staff.jockey_name[result.jockey]
    aiteuma_blank = "0" * 10 + FULL_SPACE * 18

    def per_race(values: TextArray) -> TextArray | AsciiArray:
        return as_ascii(values)[race]

    return {
        "record_id": "SE",
        "data_kubun": "7",
        "data_sakusei_nengappi": f"{day:%Y%m%d}",
        "kaisai_nen": per_race(keys["kaisai_nen"]),
        "kaisai_tsukihi": per_race(keys["kaisai_tsukihi"]),
        "keibajo_code": per_race(keys["keibajo_code"]),
        "kaisai_kai": per_race(keys["kaisai_kai"]),
        "kaisai_nichime": per_race(keys["kaisai_nichime"]),
        "race_bango": per_race(keys["race_bango"]),
        "wakuban": ascii_int(wakuban(card.umaban, card.race_entries[race]), 1),
        "umaban": ascii_int(card.umaban, 2),
        "ketto_toroku_bango": horses.number[h].astype(np.bytes_),
        "bamei": horse_names(config.seed, horses.number[h]),
        "umakigo_code": "00",
        "seibetsu_code": ascii_int(result.sex, 1),
        "hinshu_code": "1",
        "moshoku_code": ascii_int(horses.coat[h], 2),
        "barei": ascii_int(result.age, 2),
        # JRA: 1 美浦 (eastern venues' trainers), 2 栗東; NAR's code is 3.
        "tozai_shozoku_code": (
            np.where(card.race_venue[race] < 6, "1", "2").astype(object)
            if circuit.name == "jra"
            else "3"
        ),
        "chokyoshi_code": as_ascii(staff.trainer_code)[horses.trainer[h]],
        "chokyoshimei_ryakusho": staff.trainer_name[horses.trainer[h]],
        "banushi_code": ascii_int(horses.owner[h], 6),
        "banushimei": owner_names,
        "fukushoku_hyoji": FULL_SPACE * 30,
        "yobi_1": " " * 60,
        "futan_juryo": ascii_tenths(result.weight_carried, 3),
        "futan_juryo_henkomae": "000",
        "blinker_shiyo_kubun": "0",
        "yobi_2": " ",
        "kishu_code": as_ascii(staff.jockey_code)[result.jockey],
        "kishu_code_henkomae": "00000",
        "kishumei_ryakusho": jockey_name,
        "kishumei_ryakusho_henkomae": FULL_SPACE * 4,
        "kishu_minarai_code": ascii_int(staff.jockey_apprentice[result.jockey], 1),
        "kishu_minarai_code_henkomae": "0",
        "bataiju": np.where(missing_weight, b"000", ascii_int(result.body_weight, 3)),
        "zogen_fugo": zogen_fugo,
        "zogen_sa": zogen_sa,
        "ijo_kubun_code": ascii_int(ijo, 1),
        "nyusen_juni": ascii_int(result.finish_pos, 2),
        "kakutei_chakujun": ascii_int(result.finish_pos, 2),
        "dochaku_kubun": "0",
        "dochaku_tosu": "0",
        "soha_time": ascii_soha(result.finish_time),
        "chakusa_code_1": "   ",
        "chakusa_code_2": "   ",
        "chakusa_code_3": "   ",
        **{f"corner_{c + 1}": ascii_int(result.corners[:, c], 2) for c in range(4)},
        "tansho_odds": ascii_tenths(result.odds.win_odds, 4),
        "tansho_ninkijun": ascii_int(result.odds.popularity, 2),
        "kakutoku_honshokin": ascii_int(earned, 8),
        "kakutoku_fukashokin": "00000000",
        "yobi_3": "   ",
        "yobi_4": "   ",
        "kohan_4f": "000",
        "kohan_3f": ascii_tenths(last3f, 3),
        "aiteuma_joho_1": aiteuma_blank,
        "aiteuma_joho_2": aiteuma_blank,
        "aiteuma_joho_3": aiteuma_blank,
        "time_sa": time_sa,
        "record_koshin_kubun": "0",
        "mining_kubun": "0",
        "yoso_soha_time": "00000",
        "yoso_gosa_plus": "0000",
        "yoso_gosa_minus": "0000",
        "yoso_juni": "00",
        "kyakushitsu_hantei": "0",
    }


def _o1_columns(
    config: SimulatorConfig,
    day: date,
    card: Card,
    result: Result,
    keys: dict[str, TextArray],
    post: IntArray,
) -> dict[str, Column]:
    """The odds timeline, per race in time order: the morning snapshot (09:00), a snapshot
    ``config.snapshot_minutes`` before the post time each (data_kubun 1, 中間) and the final odds
    stamped at the post time (data_kubun 4, 確定); scratched horses have odds 0000."""
    market = result.odds
    snapshots = [
        (market.snapshot_odds, market.snapshot_popularity),
        *zip(market.timeline_odds, market.timeline_popularity, strict=True),
        (market.win_odds, market.final_popularity),
    ]
    packed = stack_text([_packed_odds(card, odds, rank) for odds, rank in snapshots])
    stamps = np.stack(
        [np.full(post.size, f"{day:%m%d}0900", dtype=object)]
        + [_stamp(day, post - minutes) for minutes in config.snapshot_minutes]
        + [_stamp(day, post)]
    )
    kinds = np.array(["1"] * (len(snapshots) - 1) + ["4"], dtype=object)[:, None]
    n_snapshots, n_races = packed.shape

    def per_row(values: TextArray | AsciiArray) -> TextArray | AsciiArray:
        """Race by race, each in time order."""
        rows = np.broadcast_to(values, (n_snapshots, n_races)).T.reshape(-1)
        return cast("TextArray | AsciiArray", rows)

    on_sale = group_count(~result.cancelled, card.starts)
    return {
        "record_id": "O1",
        "data_kubun": per_row(kinds),
        "data_sakusei_nengappi": f"{day:%Y%m%d}",
        **{k: per_row(as_ascii(keys[k])) for k in ("kaisai_nen", "kaisai_tsukihi", "keibajo_code",
                                         "kaisai_kai", "kaisai_nichime", "race_bango")},
        "happyo_tsukihi_jifun": per_row(stamps),
        "toroku_tosu": per_row(ascii_int(card.race_entries, 2)),
        "shusso_tosu": per_row(ascii_int(on_sale, 2)),
        "hatsubai_flag_tansho": "7",
        "odds_tansho": per_row(packed),
    }  # fmt: skip


def _packed_odds(card: Card, odds: FloatArray, popularity: IntArray) -> TextArray | AsciiArray:
    """One ``odds_tansho`` field per race (the composition of
    odds_snapshots.encode_odds_string): each runner's 8 characters (umaban, odds, popularity), the
    race's runners in order, blank to 28 runners."""
    slots = ascii_int(card.umaban, 2) + ascii_tenths(odds, 4) + ascii_int(popularity, 2)
    return pack_groups(slots, card.starts, width=8, n_slots=28)


def _stamp(day: date, minutes: IntArray) -> TextArray:
    """``MMDDhhmm`` of ``day`` at ``minutes`` after midnight."""
    return f"{day:%m%d}" + _hhmm(minutes)


def _truth_columns(
    config: SimulatorConfig, day: date, card: Card, result: Result, keys: dict[str, TextArray]
) -> dict[str, NDArray[np.generic]]:
    race = card.race
    race_id = (
        keys["kaisai_nen"] + keys["kaisai_tsukihi"] + keys["keibajo_code"] + keys["race_bango"]
    )
    finished = result.finished
    return {
        "race_id": race_id[race],
        "umaban": card.umaban,
        "race_date": np.full(race.size, np.datetime64(day, "ns")),
        "keibajo_code": keys["keibajo_code"][race],
        "horse_id": population_of(config, day.year).number[card.horse].astype(str),
        "distance_m": tracks_of(config.circuit).distance[card.race_track_row][race],
        "class_code": np.array(circuit_of(config).class_codes, dtype=object)[card.race_class][race],
        "started": result.started,
        "finished": finished,
        "true_strength": result.strength,
        "true_win_prob": np.where(result.started, result.win_prob, 0.0),
        "true_first3f_s": np.where(finished, result.first3f, np.nan),
        "true_first_segment_s": np.where(finished, result.first_part, np.nan),
        "true_last3f_s": np.where(finished, result.last3f, np.nan),
        "true_finish_time_s": result.finish_time,
        "track_shift_s_per_km": result.track_shift,
    }


def wakuban(umaban: IntArray, entries: IntArray) -> IntArray:
    """Bracket (枠番) from horse number and entries: 8 brackets, outer ones doubled first."""
    per = entries // 8
    extra = entries % 8
    single = (8 - extra) * per  # horses in the brackets that hold ``per`` horses
    inner = np.ceil(umaban / np.maximum(per, 1)).astype(np.int64)
    outer = (8 - extra) + np.ceil((umaban - single) / (per + 1)).astype(np.int64)
    return np.where(entries <= 8, umaban, np.where(umaban <= single, inner, outer))


def _text_frame(data: dict[str, Column], columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame of ``string`` columns; a single value fills its column."""
    n_rows = next((len(v) for v in data.values() if not isinstance(v, str)), 0)
    built = {column: text_array(data.get(column, _EMPTY_TEXT), n_rows) for column in columns}
    return pd.DataFrame(built, copy=False)  # new Arrow arrays, immutable: nothing to copy


def _truth_frame(data: dict[str, NDArray[np.generic]]) -> pd.DataFrame:
    if not data:
        return pd.DataFrame({c: pd.Series(dtype=_TRUTH_DTYPES[c]) for c in TRUTH_COLUMNS})
    return pd.DataFrame({c: _truth_column(data[c], _TRUTH_DTYPES[c]) for c in TRUTH_COLUMNS})


def _truth_column(
    values: NDArray[np.generic], dtype: str
) -> pd.api.extensions.ExtensionArray | NDArray[np.generic]:
    """``values`` as ``dtype`` (text straight to Arrow: the frame's ``astype`` goes value by
    value)."""
    if dtype == "string":
        return text_array(values.astype(object), values.size)
    return np.asarray(values, dtype=dtype)


_TRUTH_DTYPES: Final[dict[str, str]] = {
    "race_id": "string", "umaban": "int64", "race_date": "datetime64[ns]",
    "keibajo_code": "string", "horse_id": "string", "distance_m": "int64",
    "class_code": "string", "started": "bool", "finished": "bool", "true_strength": "float64",
    "true_win_prob": "float64", "true_first3f_s": "float64", "true_first_segment_s": "float64",
    "true_last3f_s": "float64", "true_finish_time_s": "float64",
    "track_shift_s_per_km": "float64",
}  # fmt: skip
