"""Column sets of the raw PC-KEIBA tables and of the decoded frames the pipeline passes around.

Raw tables keep PC-KEIBA's romanised column names and fixed-width text values; decoded frames use
self-explanatory English names with units (``_s`` seconds, ``_m`` metres, ``_kg``, ``_yen``).
"""

from __future__ import annotations

from typing import Final

RACE_KEY_COLUMNS: Final = ("kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango")

# nvd_ra (race table), in record order.
NVD_RA_COLUMNS: Final = (
    "record_id", "data_kubun", "data_sakusei_nengappi", "kaisai_nen", "kaisai_tsukihi",
    "keibajo_code", "kaisai_kai", "kaisai_nichime", "race_bango", "yobi_code",
    "tokubetsu_kyoso_bango", "kyosomei_hondai", "kyosomei_fukudai", "kyosomei_kakkonai",
    "kyosomei_hondai_eur", "kyosomei_fukudai_eur", "kyosomei_kakkonai_eur",
    "kyosomei_ryakusho_10", "kyosomei_ryakusho_6", "kyosomei_ryakusho_3", "kyosomei_kubun",
    "jusho_kaiji", "grade_code", "grade_code_henkomae", "kyoso_shubetsu_code", "kyoso_kigo_code",
    "juryo_shubetsu_code", "kyoso_joken_code_2sai", "kyoso_joken_code_3sai",
    "kyoso_joken_code_4sai", "kyoso_joken_code_5sai_ijo", "kyoso_joken_code",
    "kyoso_joken_meisho", "kyori", "kyori_henkomae", "track_code", "track_code_henkomae",
    "course_kubun", "course_kubun_henkomae", "honshokin", "honshokin_henkomae", "fukashokin",
    "fukashokin_henkomae", "hasso_jikoku", "hasso_jikoku_henkomae", "toroku_tosu",
    "shusso_tosu", "nyusen_tosu", "tenko_code", "babajotai_code_shiba", "babajotai_code_dirt",
    "lap_time", "shogai_mile_time", "zenhan_3f", "zenhan_4f", "kohan_3f", "kohan_4f",
    "corner_tsuka_juni_1", "corner_tsuka_juni_2", "corner_tsuka_juni_3", "corner_tsuka_juni_4",
    "record_koshin_kubun",
)  # fmt: skip

# nvd_se (runner table), in record order.
NVD_SE_COLUMNS: Final = (
    "record_id", "data_kubun", "data_sakusei_nengappi", "kaisai_nen", "kaisai_tsukihi",
    "keibajo_code", "kaisai_kai", "kaisai_nichime", "race_bango", "wakuban", "umaban",
    "ketto_toroku_bango", "bamei", "umakigo_code", "seibetsu_code", "hinshu_code",
    "moshoku_code", "barei", "tozai_shozoku_code", "chokyoshi_code", "chokyoshimei_ryakusho",
    "banushi_code", "banushimei", "fukushoku_hyoji", "yobi_1", "futan_juryo",
    "futan_juryo_henkomae", "blinker_shiyo_kubun", "yobi_2", "kishu_code",
    "kishu_code_henkomae", "kishumei_ryakusho", "kishumei_ryakusho_henkomae",
    "kishu_minarai_code", "kishu_minarai_code_henkomae", "bataiju", "zogen_fugo", "zogen_sa",
    "ijo_kubun_code", "nyusen_juni", "kakutei_chakujun", "dochaku_kubun", "dochaku_tosu",
    "soha_time", "chakusa_code_1", "chakusa_code_2", "chakusa_code_3", "corner_1", "corner_2",
    "corner_3", "corner_4", "tansho_odds", "tansho_ninkijun", "kakutoku_honshokin",
    "kakutoku_fukashokin", "yobi_3", "yobi_4", "kohan_4f", "kohan_3f", "aiteuma_joho_1",
    "aiteuma_joho_2", "aiteuma_joho_3", "time_sa", "record_koshin_kubun", "mining_kubun",
    "yoso_soha_time", "yoso_gosa_plus", "yoso_gosa_minus", "yoso_juni", "kyakushitsu_hantei",
)  # fmt: skip

# nvd_o1 (win/place odds snapshots); odds_tansho packs umaban(2) + odds(4, tenths) + rank(2).
NVD_O1_COLUMNS: Final = (
    "record_id", "data_kubun", "data_sakusei_nengappi", "kaisai_nen", "kaisai_tsukihi",
    "keibajo_code", "kaisai_kai", "kaisai_nichime", "race_bango", "happyo_tsukihi_jifun",
    "toroku_tosu", "shusso_tosu", "hatsubai_flag_tansho", "odds_tansho",
)  # fmt: skip

# A stage needs these (decoders, validation, features, staking): an export without one is refused.
NVD_RA_REQUIRED: Final = (
    *RACE_KEY_COLUMNS, "kyoso_joken_meisho", "kyori", "track_code", "hasso_jikoku",
    "shusso_tosu", "babajotai_code_dirt", "zenhan_3f", "kohan_3f",
)  # fmt: skip
NVD_SE_REQUIRED: Final = (
    *RACE_KEY_COLUMNS, "wakuban", "umaban", "ketto_toroku_bango", "seibetsu_code",
    "barei", "chokyoshi_code", "futan_juryo", "kishu_code", "bataiju", "zogen_fugo", "zogen_sa",
    "ijo_kubun_code", "kakutei_chakujun", "soha_time", "corner_1", "corner_2", "corner_3",
    "corner_4", "tansho_odds", "tansho_ninkijun", "kohan_3f", "time_sa",
)  # fmt: skip
NVD_O1_REQUIRED: Final = (*RACE_KEY_COLUMNS, "happyo_tsukihi_jifun", "odds_tansho")

# 競走条件コード (JV-Data code table 2007), the youngest age's condition (最若年条件) first, then
# each age's from the youngest. JRA-VAN leaves a JRA race's condition name blank: its class is
# here (``raceday.codec.condition_code``); NAR's are 000, its class is in the name.
CONDITION_CODE_COLUMNS: Final = (
    "kyoso_joken_code", "kyoso_joken_code_2sai", "kyoso_joken_code_3sai",
    "kyoso_joken_code_4sai", "kyoso_joken_code_5sai_ijo",
)  # fmt: skip

# Used by the report (and stored) only, or with a fallback when blank: an export without them is
# accepted and they read as blank. ``toroku_tosu`` (entries) falls back to the starters and the
# race's highest horse number (``raceday.codec.entries_or_fallback``); the condition codes give
# the class where the condition name names none (an NAR export need not carry them).
NVD_RA_OPTIONAL: Final = (
    "kyosomei_hondai", "grade_code", "tenko_code", "toroku_tosu", *CONDITION_CODE_COLUMNS,
)  # fmt: skip
NVD_SE_OPTIONAL: Final = ("bamei",)
NVD_O1_OPTIONAL: Final = ()

# Decoded frames.
RACE_COLUMNS: Final = (
    "race_id", "race_date", "keibajo_code", "race_bango", "race_name", "class_code",
    "grade_code", "distance_m", "track_code", "going_code", "weather_code", "entries",
    "field_size", "post_time", "leader_first3f_s", "race_last3f_s",
)  # fmt: skip

# What is known before the race (the race card): prediction may use these on the race's day.
RUNNER_CARD_COLUMNS: Final = (
    "race_id", "umaban", "race_date", "keibajo_code", "wakuban", "horse_id", "horse_name",
    "sex_code", "age", "jockey_id", "trainer_id", "weight_carried_kg", "body_weight_kg",
    "body_weight_diff_kg",
)  # fmt: skip
# What is known only after the race: prediction for the race's day must never see these.
RUNNER_RESULT_COLUMNS: Final = (
    "abnormal_code", "finish_pos", "finish_time_s", "last3f_s", "corner_1", "corner_2",
    "corner_3", "corner_4", "win_odds", "popularity", "time_behind_s",
)  # fmt: skip
RUNNER_COLUMNS: Final = (*RUNNER_CARD_COLUMNS, *RUNNER_RESULT_COLUMNS)

ODDS_COLUMNS: Final = ("race_id", "umaban", "snapshot_at", "win_odds", "popularity")
