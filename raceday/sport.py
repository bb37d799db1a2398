"""The seam: what a circuit provides to the generic stages, and the circuits we know (NAR, JRA).

A circuit is one organisation's racing, read through the same PC-KEIBA layout: its table prefix
(``nvd_*`` for NAR's 地方競馬DATA, ``jvd_*`` for JRA-VAN), its venues (keibajo codes), how its
condition names (and, where its data carries the class there, its condition codes) decode to
class codes and how those classes rank, the distances its races run,
and the venue codes that look like its own but are another sport (ban-ei 83). The generic stages
(validate, predict, stake, settle, record) never name a circuit: they ask the circuits in force.

What stays the same for every circuit lives where it is used, not here: the fixed-width field
codes (:mod:`raceday.codec`; going is read by surface, turf or dirt, whichever circuit runs it)
and seed 003's first-3F rules (:mod:`raceday.first3f.layers`: the 1200 m split, the last 600 m,
the [30, 45] s clip), which both circuits share; only the class ladder there is circuit-specific.

The rules are code; the venues are reference data (``config/reference/venues.csv``), attached by
``config.reference.circuits()`` through :func:`with_venues` — the domain reads no configuration,
so :data:`NAR` and :data:`JRA` here carry no venues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, TypeAlias

if TYPE_CHECKING:  # pandas is imported where classes are decoded: the settings load this module
    import pandas as pd

UNKNOWN_CLASS: Final = "unknown"  # the class of a race whose name and code name none

# Upper-case, NFKC-normalised condition names -> this circuit's class codes, <NA> where none.
ClassDecoder: TypeAlias = "Callable[[pd.Series], pd.Series]"
# Condition codes as numbers (JV-Data code table 2007, ``005`` -> 5; <NA> where blank or not a
# number) -> this circuit's class codes, <NA> where none.
ConditionCodeDecoder: TypeAlias = "Callable[[pd.Series], pd.Series]"


@dataclass(frozen=True)
class Venue:
    """One racecourse of a circuit, as the reference table lists it."""

    code: str  # keibajo_code, two digits
    name_ja: str
    name_en: str = ""
    region: str = ""


@dataclass(frozen=True)
class Circuit:
    """What a circuit provides: its name, tables, venues, classes and distances."""

    name: str  # as settings and the CLI spell it: ``nar``, ``jra``
    label: str  # as messages and docs spell it: ``NAR``, ``JRA``
    table_prefix: str  # PC-KEIBA table prefix: ``nvd`` -> nvd_ra, nvd_se, nvd_o1
    decode_classes: ClassDecoder
    class_ladder: tuple[str, ...]  # its class codes, best first (rank 1 = the first)
    distance_m: tuple[int, int]  # shortest and longest race it runs, metres
    # Its classes from the condition codes, for a circuit whose data leaves the condition name
    # blank (None: the class is in the name alone).
    decode_condition_codes: ConditionCodeDecoder | None = None
    other_sport_venues: frozenset[str] = frozenset()  # codes of its tables that are not racing
    venues: tuple[Venue, ...] = ()  # attached from reference data (:func:`with_venues`)
    name_ja: str = ""  # 地方競馬, 中央競馬: the report's heading

    @property
    def venue_codes(self) -> frozenset[str]:
        """The keibajo codes of its venues."""
        return frozenset(venue.code for venue in self.venues)

    @property
    def class_ranks(self) -> dict[str, int]:
        """Class code -> rank on its ladder: 1 = best, the higher the number the lower the class."""
        return {code: rank for rank, code in enumerate(self.class_ladder, start=1)}


def _nar_classes(names: pd.Series) -> pd.Series:
    """NAR's classes A1..C4 (``Ｃ３－１`` -> ``C3``): the first grade letter + tier in the name."""
    return names.str.extract(r"(?<![A-Z])([ABC][1-4])(?!\d)", expand=False).astype("string")


# JRA condition names -> class codes, in order of precedence: the first that matches wins, so an
# open or listed race (``OP``, ``(L)``, 重賞) is ``OP`` whatever else its name says. None is a
# letter A/B/C + digit: those are NAR's. The earnings classes of before 2019 by their limits,
# today's and the older ones, on the rungs their condition codes take (JRA_CONDITION_CLASSES):
# 1600万下 and 1500万下 3W, 1000万下 and 900万下 2W, 500万下 and 400万下 1W (``1500万下`` read
# as ``500万`` was 1W).
JRA_CLASS_PATTERNS: Final = (
    ("OP", r"オープン|(?<![A-Z])OP(?![A-Z])|重賞|\((?:L|G[123])\)"), ("3W", r"3勝|1[56]00万"),
    ("2W", r"2勝|(?<!\d)(?:1000|900)万"), ("1W", r"1勝|(?<!\d)[45]00万"),
    ("MDN", r"未勝利|未出走"), ("NEW", r"新馬"),
)  # fmt: skip


def _jra_classes(names: pd.Series) -> pd.Series:
    """JRA's classes by :data:`JRA_CLASS_PATTERNS` (``３歳未勝利`` -> ``MDN``)."""
    import pandas as pd

    found = pd.Series(pd.NA, index=names.index, dtype="string")
    for code, pattern in JRA_CLASS_PATTERNS:
        found = found.mask(found.isna() & names.str.contains(pattern).to_numpy(), code)
    return found


# JV-Data code table 2007 (競走条件コード) -> JRA's classes. JRA-VAN leaves a JRA race's
# condition name blank (it is set for NAR races only): its class is in these codes. 701 新馬;
# 702 未出走 (never run outside JRA and never won in it: maidens) and 703 未勝利; 999 オープン.
# 001-100 limit the horses' earnings (収得賞金) in units of 10,000 yen; the modern classes are
# 005 (500万下, 1勝クラス since 2019), 010 (1000万下, 2勝) and 016 (1600万下, 3勝), and older
# limits (400万下, 900万下, 1500万下, ...) take the rung of the modern ones they sit under:
# up to 005 is 1W, 006-010 2W, and any higher limit 3W (a limited race is never open).
# 000 (未設定) and any other code name no class.
JRA_CONDITION_CLASSES: Final = {701: "NEW", 702: "MDN", 703: "MDN", 999: "OP"}
JRA_EARNINGS_LIMIT_CLASSES: Final = ((5, "1W"), (10, "2W"), (100, "3W"))  # (highest limit, class)


def _jra_condition_classes(codes: pd.Series) -> pd.Series:
    """JRA's classes from condition codes (:data:`JRA_CONDITION_CLASSES`, earnings limits by
    :data:`JRA_EARNINGS_LIMIT_CLASSES`): ``703`` -> ``MDN``, ``5`` -> ``1W``, ``0`` -> <NA>."""
    import pandas as pd

    found = codes.map(JRA_CONDITION_CLASSES).astype("string")
    lowest = 1
    for highest, code in JRA_EARNINGS_LIMIT_CLASSES:
        in_range = codes.between(lowest, highest).fillna(False).to_numpy(dtype=bool)
        found = found.mask(found.isna().to_numpy() & in_range, code)
        lowest = highest + 1
    return pd.Series(found, index=codes.index, dtype="string")


NAR: Final = Circuit(
    name="nar",
    label="NAR",
    table_prefix="nvd",
    decode_classes=_nar_classes,
    class_ladder=tuple(f"{grade}{tier}" for grade in "ABC" for tier in range(1, 5)),
    distance_m=(800, 3000),  # flat races only
    other_sport_venues=frozenset({"83"}),  # 帯広: ban-ei, sleds over 200 m
    name_ja="地方競馬",
)
JRA: Final = Circuit(
    name="jra",
    label="JRA",
    table_prefix="jvd",
    decode_classes=_jra_classes,
    class_ladder=("OP", "3W", "2W", "1W", "MDN", "NEW"),
    decode_condition_codes=_jra_condition_classes,
    distance_m=(1000, 4250),  # flat 1000-3600 m; jump races up to 4250 m (Nakayama Grand Jump)
    name_ja="中央競馬",
)
# Every circuit the pipeline knows, in order of precedence (a condition name both could claim
# decodes as the first's class).
CIRCUITS: Final = (NAR, JRA)


def circuit_named(name: str, circuits: Sequence[Circuit] = CIRCUITS) -> Circuit:
    """The circuit called ``name`` (``nar``, ``jra``); ValueError naming the known ones."""
    for circuit in circuits:
        if circuit.name == name:
            return circuit
    known = ", ".join(circuit.name for circuit in circuits)
    raise ValueError(f"unknown circuit {name!r}: use one of {known}")


def circuit_of_prefix(prefix: str, circuits: Sequence[Circuit] = CIRCUITS) -> Circuit:
    """The circuit whose PC-KEIBA tables start with ``prefix`` (``nvd``, ``jvd``)."""
    for circuit in circuits:
        if circuit.table_prefix == prefix:
            return circuit
    raise ValueError(f"no circuit has tables {prefix}_*")


def circuit_of_venue(code: str, circuits: Sequence[Circuit]) -> Circuit | None:
    """The circuit racing at keibajo ``code`` (circuits with their venues), None if none does."""
    return next((circuit for circuit in circuits if code in circuit.venue_codes), None)


def racing_label(codes: Iterable[str], circuits: Sequence[Circuit]) -> str:
    """What racing ``codes`` (a day's venues) are, for a heading: ``NAR 地方競馬``, ``JRA
    中央競馬``, both joined, and ``other venues`` for codes no circuit races at (a venue
    abroad, one closed since); ``no races`` without any."""
    found = [circuit_of_venue(code, circuits) for code in set(codes)]
    labels = [
        f"{circuit.label} {circuit.name_ja}".strip()
        for circuit in circuits
        if any(owner is circuit for owner in found)
    ]
    if any(owner is None for owner in found):
        labels.append("other venues")
    return " + ".join(labels) or "no races"


def with_venues(circuit: Circuit, venues: Iterable[Venue]) -> Circuit:
    """``circuit`` with its venues attached (from the reference table)."""
    return replace(circuit, venues=tuple(venues))


def venue_codes(circuits: Sequence[Circuit]) -> frozenset[str]:
    """Every venue code of ``circuits``."""
    return frozenset[str]().union(*(circuit.venue_codes for circuit in circuits))


def other_sport_venues(circuits: Sequence[Circuit] = CIRCUITS) -> frozenset[str]:
    """Venue codes found in the circuits' tables that belong to another sport (ban-ei)."""
    return frozenset[str]().union(*(circuit.other_sport_venues for circuit in circuits))


def distance_bounds(circuits: Sequence[Circuit] = CIRCUITS) -> tuple[int, int]:
    """The shortest and longest distance any of ``circuits`` runs."""
    return min(c.distance_m[0] for c in circuits), max(c.distance_m[1] for c in circuits)


def class_ranks(circuits: Sequence[Circuit] = CIRCUITS) -> dict[str, int]:
    """Class code -> rank on its own circuit's ladder (1 = best), for every circuit. The ladders
    share one "lower is better" scale but are never compared across circuits within a venue."""
    return {code: rank for circuit in circuits for code, rank in circuit.class_ranks.items()}


def decode_classes(names: pd.Series, circuits: Sequence[Circuit] = CIRCUITS) -> pd.Series:
    """Upper-case, NFKC-normalised condition names -> class codes of the first circuit that
    claims each name (in ``circuits`` order), <NA> where none does."""
    import pandas as pd

    found = pd.Series(pd.NA, index=names.index, dtype="string")
    for circuit in circuits:
        found = found.fillna(circuit.decode_classes(names))
    return found


def decode_condition_codes(codes: pd.Series, circuits: Sequence[Circuit] = CIRCUITS) -> pd.Series:
    """Condition codes as numbers -> class codes of the first circuit (in ``circuits`` order)
    whose classes are in them and that claims each code, <NA> where none does."""
    import pandas as pd

    found = pd.Series(pd.NA, index=codes.index, dtype="string")
    for circuit in circuits:
        if circuit.decode_condition_codes is not None:
            found = found.fillna(circuit.decode_condition_codes(codes))
    return found
