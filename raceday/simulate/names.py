"""Names drawn from the seed: jockeys and trainers, owners, horses (full-width, padded)."""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
from numpy.typing import NDArray

from raceday.simulate.arrays import FloatArray, IntArray, TextArray
from raceday.simulate.text import FULL_SPACE, clip_text, pad

SPECIAL_WORDS: Final = (
    "しらさぎ", "コスモス", "すずらん", "ひまわり", "もみじ", "さくら", "つばき", "あじさい",
    "ききょう", "すみれ", "なでしこ", "りんどう", "はまなす", "こぶし", "やまぶき", "れんげ",
    "ポラリス", "シリウス", "ベガ", "アルタイル", "スピカ", "カペラ", "オリオン", "ペガサス",
)  # fmt: skip
_SURNAMES: Final = (
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田",
    "山田", "山口", "松本", "井上", "木村", "清水", "山崎", "森田", "池田", "橋本", "石川",
    "岡田", "前田", "藤田", "後藤", "長谷", "村上", "近藤", "坂本", "遠藤", "青木", "藤井",
    "西村", "福田", "太田", "三浦", "岡本", "松田", "中川", "原田", "小野", "竹内", "金子",
)  # fmt: skip
_GIVEN: Final = tuple("太健誠翔大真拓和光直勝隆信亮浩雄一修将優洋剛")
_KANA_FIRST: Final = tuple(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
    "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ"
)
_KANA_PAIRS: Final = (
    "キャ", "キュ", "キョ", "シャ", "シュ", "ショ", "チャ", "チュ", "チョ", "ニャ", "リュ",
    "ジュ", "ジョ", "ティ", "ディ", "ファ", "フィ", "フェ", "フォ", "ヴィ", "ウィ", "グラ",
)  # fmt: skip


def person_names(rng: np.random.Generator, n: int) -> TextArray:
    surname = np.array(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]
    given = np.array(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    return pad(surname + given, 4, FULL_SPACE)


def _mix64(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijective scramble of 64-bit integers."""
    x = values ^ (values >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _hash_uniforms(seed: int, keys: IntArray, columns: int) -> FloatArray:
    """Uniforms in [0, 1) that depend only on (seed, key, column): (len(keys), columns)."""
    salt = _mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    base = _mix64(keys.astype(np.uint64) ^ salt)
    cells = base[:, None] + np.arange(1, columns + 1, dtype=np.uint64)[None, :] * np.uint64(
        0x9E3779B97F4A7C15
    )
    return (_mix64(cells) >> np.uint64(11)).astype(np.float64) / float(2**53)


def horse_names(seed: int, numbers: IntArray) -> TextArray:
    """Katakana names (2-9 full-width characters, padded to 18) that depend only on the horse."""
    u = _hash_uniforms(seed, numbers, 17)
    first = np.array(_KANA_FIRST, dtype=object)
    pairs = np.array(_KANA_PAIRS, dtype=object)
    joins = np.array(["", "", "", "", "", "", "", "", "", "", "ー", "ン"], dtype=object)
    tails = np.array(["", "", "", "", "", "", "ー", "ン", "ス", "ル"], dtype=object)

    def pick(table: TextArray, column: int) -> TextArray:
        return table[(u[:, column] * len(table)).astype(np.int64)]

    syllables = 2 + (u[:, 0] * 4).astype(np.int64)
    name = pick(first, 1)
    for position in range(1, 5):
        column = 2 + 3 * (position - 1)
        syllable = np.where(u[:, column] < 0.12, pick(pairs, column + 1), pick(first, column + 1))
        name = np.where(syllables > position, name + pick(joins, column + 2) + syllable, name)
    name = name + pick(tails, 16)
    return pad(clip_text(name, 9), 18, FULL_SPACE)


@functools.lru_cache(maxsize=1)
def owner_name_table() -> TextArray:
    """banushimei of the 10,000 owner numbers."""
    owner = np.arange(10_000)
    name = (
        np.array(_SURNAMES, dtype=object)[owner % len(_SURNAMES)]
        + np.array(_GIVEN, dtype=object)[(owner // 7) % len(_GIVEN)]
    )
    return pad(name, 32, FULL_SPACE)
