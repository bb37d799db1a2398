"""Boat racing's codes, one place: venues (場コード), finish codes (着), racer classes, bet types.

Refund rules (返還), as the finish codes imply for the tickets that name the boat:

* ``F`` (フライング, flying start) and ``L0``/``L1`` (出遅れ, late start): the boat is void at the
  start; every ticket naming it is refunded and its money leaves the pools.
* ``K0``/``K1`` (欠場, withdrawn before the start): the boat never starts; its tickets are refunded
  the same way, whether the withdrawal was the racer's fault (K1) or not (K0).
* ``S0``/``S1``/``S2`` (失格, disqualified during the race) and the result pages' marks 転覆,
  落水, 沈没, 妨害, エンスト, 不完走: the boat started, so it is in the race for betting; it
  has no finishing position and tickets on it lose. No refund.

The digit of L, K and S says whose fault it was (0: not the racer's, 1: the racer's, S2: the
racer's, with interference to others): it matters for the racer's record, not for the bettor.
A whole race can also be cancelled (中止, every ticket refunded) or a bet type not established
(不成立: too few finishers for it, its tickets refunded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Venue:
    """A boat racing stadium: its 場コード and name."""

    code: str  # two digits, 01-24
    name_ja: str
    name_en: str


VENUES: Final = tuple(
    Venue(f"{number:02d}", name_ja, name_en)
    for number, (name_ja, name_en) in enumerate(
        (
            ("桐生", "Kiryu"),
            ("戸田", "Toda"),
            ("江戸川", "Edogawa"),
            ("平和島", "Heiwajima"),
            ("多摩川", "Tamagawa"),
            ("浜名湖", "Hamanako"),
            ("蒲郡", "Gamagori"),
            ("常滑", "Tokoname"),
            ("津", "Tsu"),
            ("三国", "Mikuni"),
            ("びわこ", "Biwako"),
            ("住之江", "Suminoe"),
            ("尼崎", "Amagasaki"),
            ("鳴門", "Naruto"),
            ("丸亀", "Marugame"),
            ("児島", "Kojima"),
            ("宮島", "Miyajima"),
            ("徳山", "Tokuyama"),
            ("下関", "Shimonoseki"),
            ("若松", "Wakamatsu"),
            ("芦屋", "Ashiya"),
            ("福岡", "Fukuoka"),
            ("唐津", "Karatsu"),
            ("大村", "Omura"),
        ),
        start=1,
    )
)
VENUE_NAMES: Final = {venue.code: venue.name_ja for venue in VENUES}
VENUE_CODES: Final = frozenset(VENUE_NAMES)

BOATS: Final = (1, 2, 3, 4, 5, 6)  # 艇番 (lane drawn); the course (進入) is where it starts from


@dataclass(frozen=True)
class FinishCode:
    """What a value of the 着 column means."""

    code: str
    meaning: str
    finished: bool  # has a finishing position
    started: bool  # took part in the start (its tickets stand)
    refunded: bool  # tickets naming the boat are refunded (返還)


def _positions() -> tuple[FinishCode, ...]:
    return tuple(
        FinishCode(f"{position:02d}", f"{position}着", True, True, False) for position in BOATS
    )


FINISH_CODES: Final = {
    code.code: code
    for code in (
        *_positions(),
        FinishCode("F", "フライング (flying start)", False, False, True),
        FinishCode("L", "出遅れ (late start)", False, False, True),
        FinishCode("L0", "出遅れ, not the racer's fault", False, False, True),
        FinishCode("L1", "出遅れ, the racer's fault", False, False, True),
        FinishCode("K", "欠場 (withdrawn before the start)", False, False, True),
        FinishCode("K0", "欠場, not the racer's fault", False, False, True),
        FinishCode("K1", "欠場, the racer's fault", False, False, True),
        FinishCode("S0", "失格, not the racer's fault", False, True, False),
        FinishCode("S1", "失格, the racer's fault", False, True, False),
        FinishCode("S2", "失格, the racer's fault, interfering with others", False, True, False),
        # The result pages' one-character marks, accepted when a file carries them.
        FinishCode("欠", "欠場", False, False, True),
        FinishCode("失", "失格", False, True, False),
        FinishCode("転", "転覆 (capsized)", False, True, False),
        FinishCode("落", "落水 (fell into the water)", False, True, False),
        FinishCode("沈", "沈没 (sank)", False, True, False),
        FinishCode("妨", "妨害失格 (interference)", False, True, False),
        FinishCode("エ", "エンスト (engine stopped)", False, True, False),
        FinishCode("不", "不完走 (did not complete the laps)", False, True, False),
    )
}


def finish_position(code: str) -> int | None:
    """The finishing position a 着 code gives (``"02"`` -> 2), None for the non-finish codes."""
    known = FINISH_CODES.get(code)
    return int(code) if known is not None and known.finished else None


RACER_ID_PATTERN: Final = r"^\d{4}$"  # 登録番号: a racer's registration number
CLASSES: Final = ("A1", "A2", "B1", "B2")  # best first; reviewed twice a year on the win rate

# Bet types (券種) as the K file labels them, and how many boats a combination names.
BET_TYPES: Final = {
    "単勝": ("win", 1, True),
    "複勝": ("place", 1, True),
    "２連単": ("exacta", 2, True),
    "２連複": ("quinella", 2, False),
    "拡連複": ("wide", 2, False),
    "３連単": ("trifecta", 3, True),
    "３連複": ("trio", 3, False),
}  # label -> (name, boats, ordered)
BET_NAMES: Final = tuple(name for name, _, _ in BET_TYPES.values())
BET_LABELS: Final = {name: label for label, (name, _, _) in BET_TYPES.items()}
WINNERS_PER_BET: Final = {
    "win": 1, "place": 2, "exacta": 1, "quinella": 1, "wide": 3, "trifecta": 1, "trio": 1,
}  # fmt: skip  # winning combinations without a dead heat

KIMARITE: Final = ("逃げ", "差し", "まくり", "まくり差し", "抜き", "恵まれ")  # how the race was won

TAKEOUT: Final = 0.25  # 控除率: a quarter of every pool
