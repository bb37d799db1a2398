"""The bad-input corpus: one directory per case, made from simulator output, with its outcome.

Every case takes the same simulated NAR day (three venues), breaks it the way real files break,
writes it as the ``files`` source reads it, and states what must happen: the input is refused
with one line, or exactly the named rows are quarantined (per phase: the morning card sees no
result fields) and the named races set aside while every other race is kept.

    python tests/data/make_bad_inputs.py [OUT_DIR]    # default: tests/data/bad_inputs/

writes the corpus with an ``expected.json`` per case for inspection (git ignores it: ≈ 18 MB);
the test session (``tests/integration/test_bad_inputs.py``) generates it afresh.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from functools import cache, cached_property, partial
from pathlib import Path

import numpy as np
import pandas as pd

from raceday.codec import decode_races, decode_runners, race_ids
from raceday.odds_snapshots import decode_odds_snapshot
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay
from raceday.sources.files import write_tables
from raceday.sources.timeline import CardTiming, card_odds

DAY = date(2026, 11, 20)
PREVIOUS_DAY = DAY - timedelta(days=1)
RACES_PER_DAY = 36  # three venues of about twelve races
FAR_FUTURE_END = date(2099, 12, 31)

Key = tuple[str, str | None, int | None]  # (table, race_id, umaban) of a quarantined row


@dataclass(frozen=True)
class PhaseOutcome:
    """What one validation phase must do: races set aside and exactly which rows it quarantines.

    ``quarantined`` holds the distinct (table, race_id, umaban) of the quarantine rows;
    ``repeated`` counts the rows set aside as exact copies (one quarantine row each).
    """

    set_aside: frozenset[str] = frozenset()
    quarantined: frozenset[Key] = frozenset()
    checks: frozenset[str] = frozenset()
    repeated: int = 0


@dataclass(frozen=True)
class Expected:
    """A case's outcome: ``refused`` (one line, exit code) or per-phase quarantine."""

    refused: str | None = None
    exit_code: int = 0
    card: PhaseOutcome = field(default_factory=PhaseOutcome)
    results: PhaseOutcome = field(default_factory=PhaseOutcome)
    all_races: frozenset[str] = frozenset()  # every race id of the day the valid ones come from
    start: date = DAY
    end: date = DAY
    input_rows: int = 0  # quarantine rows for unreadable parts of the input


@dataclass(frozen=True)
class Case:
    """A corpus case: its name, what is wrong, where it was written, what must happen."""

    name: str
    problem: str
    directory: Path
    expected: Expected


@dataclass(frozen=True)
class Base:
    """The simulated day every case starts from."""

    raw: RawDay

    @property
    def race_ids(self) -> list[str]:
        """The day's race ids in file order."""
        return race_ids(self.raw.nvd_ra).tolist()

    def runner_ids(self) -> pd.Series:
        """Race id of each runner row."""
        return race_ids(self.raw.nvd_se)

    def race(self, venue_rank: int = 0, nth: int = 0) -> str:
        """The nth race of the venue_rank-th venue (stable, so cases do not overlap by accident)."""
        venues = sorted(self.raw.nvd_ra["keibajo_code"].unique())
        of_venue = self.raw.nvd_ra[self.raw.nvd_ra["keibajo_code"] == venues[venue_rank]]
        return race_ids(of_venue).tolist()[nth]

    @cached_property
    def runners(self) -> pd.DataFrame:
        """The day's runners decoded (indexed as ``raw.nvd_se``), once for every case: read,
        never changed."""
        return decode_runners(self.raw.nvd_se)

    def runner_index(self, race_id: str, position: int | None = None) -> int:
        """Row index of a starter of the race: the finisher at ``position``, else the first."""
        runners = self.runners
        of_race = runners[(runners["race_id"] == race_id) & runners["finish_pos"].notna()]
        if position is not None:
            of_race = of_race[of_race["finish_pos"] == position]
        return int(of_race.index[0])

    def umaban(self, index: int) -> int:
        """The horse number of a runner row."""
        return int(self.raw.nvd_se.loc[index, "umaban"])


@cache
def simulated(day: date) -> RawDay:
    """The simulated tables of a day (the same for every case)."""
    return simulate_days(day, day, SimulatorConfig(races_per_day=RACES_PER_DAY)).raw


def _rows_of(frame: pd.DataFrame, race_id: str) -> pd.Series:
    return race_ids(frame) == race_id


def _runner_keys(raw: RawDay, race_id: str) -> frozenset[Key]:
    rows = raw.nvd_se[_rows_of(raw.nvd_se, race_id)]
    return runner_rows([race_id] * len(rows), rows["umaban"])


def runner_rows(race_id: Iterable[str], umaban: Iterable[object]) -> frozenset[Key]:
    """(runners, race_id, umaban) keys of runner rows."""
    return frozenset(
        ("runners", str(rid), int(str(u))) for rid, u in zip(race_id, umaban, strict=True)
    )


def runner_failure(race_id: str, umaban: int) -> frozenset[Key]:
    """A runner row that fails a race-scoped check, and its race set aside with it."""
    return frozenset({("runners", race_id, umaban), ("races", race_id, None)})


def race_failure(race_id: str) -> frozenset[Key]:
    """A race row that fails its own check (its runners go with it, unlisted)."""
    return frozenset({("races", race_id, None)})


def both(outcome: PhaseOutcome) -> dict[str, PhaseOutcome]:
    """The same outcome for the card and the results phase."""
    return {"card": outcome, "results": outcome}


def _write(raw: RawDay, directory: Path, file_format: str = "csv") -> None:
    write_tables(raw, directory, file_format)


def _csv_bytes(frame: pd.DataFrame, **options: object) -> bytes:
    text: str = frame.to_csv(index=False, **options)  # type: ignore[call-overload]
    return text.encode("utf-8")


def _set(frame: pd.DataFrame, rows: pd.Series | int | list[int], column: str, value: str) -> None:
    frame.loc[rows, column] = value


CaseMaker = Callable[[Base, Path], Expected]
CASES: dict[str, tuple[str, CaseMaker]] = {}


def case(name: str, problem: str) -> Callable[[CaseMaker], CaseMaker]:
    """Register a case maker under ``name``."""

    def register(maker: CaseMaker) -> CaseMaker:
        CASES[name] = (problem, maker)
        return maker

    return register


def _kept(base: Base) -> Expected:
    return Expected(all_races=frozenset(base.race_ids))


def _refused(base: Base, message: str, exit_code: int = 2) -> Expected:
    return Expected(refused=message, exit_code=exit_code, all_races=frozenset(base.race_ids))


def _set_aside(
    base: Base, race_id: str, keys: frozenset[Key], check: str, *, both_phases: bool = False
) -> Expected:
    """``race_id`` set aside for failing ``check``, quarantining ``keys``, by the results phase
    (and the card phase with ``both_phases``); every other race kept."""
    outcome = PhaseOutcome(frozenset({race_id}), keys, frozenset({check}))
    phases = both(outcome) if both_phases else {"results": outcome}
    return Expected(all_races=frozenset(base.race_ids), **phases)


# --- accepted as is ------------------------------------------------------------------------


@case("clean", "nothing: the control case")
def _clean(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    return _kept(base)


@case("extra_column", "nvd_se has a column PC-KEIBA does not (ignored)")
def _extra_column(base: Base, out: Path) -> Expected:
    _write(replace(base.raw, nvd_se=base.raw.nvd_se.assign(memo="re-imported")), out)
    return _kept(base)


@case("utf8_bom", "both tables start with a UTF-8 byte-order mark (Excel)")
def _bom(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    for table in ("nvd_ra", "nvd_se"):
        path = out / f"{table}.csv"
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return _kept(base)


@case("shift_jis", "nvd_ra and nvd_se in CP932 (Shift-JIS) with CRLF, as Windows tools write")
def _shift_jis(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    for table, frame in (("nvd_ra", base.raw.nvd_ra), ("nvd_se", base.raw.nvd_se)):
        text: str = frame.to_csv(index=False, lineterminator="\r\n")
        (out / f"{table}.csv").write_bytes(text.encode("cp932"))
    return _kept(base)


@case("optional_columns_absent", "no race name, grade, weather or horse name (report-only)")
def _optional_absent(base: Base, out: Path) -> Expected:
    ra = base.raw.nvd_ra.drop(columns=["kyosomei_hondai", "grade_code", "tenko_code"])
    _write(replace(base.raw, nvd_ra=ra, nvd_se=base.raw.nvd_se.drop(columns=["bamei"])), out)
    return _kept(base)


@case("entries_absent", "no toroku_tosu: races with a scratched high number keep their runners")
def _entries_absent(base: Base, out: Path) -> Expected:
    races, runners = decode_races(base.raw.nvd_ra), base.runners
    highest = races["race_id"].map(runners.groupby("race_id")["umaban"].max())
    # Entries fell back to the starters: these races failed umaban_within_entries.
    assert (highest > races["field_size"]).sum() >= 3, "the day needs scratched high numbers"
    _write(replace(base.raw, nvd_ra=base.raw.nvd_ra.drop(columns=["toroku_tosu"])), out)
    return _kept(base)


@case("self_symlink", "the directory holds a symlink to itself (self -> .)")
def _self_symlink(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "self").symlink_to(".")
    return _kept(base)


@case("nul_in_names", "NUL bytes inside horse names (PostgreSQL text cannot hold them)")
def _nul_in_names(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    se.loc[[0, 5], "bamei"] = se.loc[[0, 5], "bamei"].str.slice_replace(1, 1, "\x00")
    _write(replace(base.raw, nvd_se=se), out)
    return _kept(base)


@case("empty_odds_file", "nvd_o1.csv is a file of zero bytes: no odds, as without the file")
def _empty_odds_file(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_o1.csv").write_bytes(b"")
    return _kept(base)


@case("header_only_odds", "nvd_o1 holds a header but no snapshot (bets use final odds)")
def _header_only_odds(base: Base, out: Path) -> Expected:
    _write(replace(base.raw, nvd_o1=base.raw.nvd_o1.iloc[0:0]), out)
    return _kept(base)


def _without_leading_zeros(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a spreadsheet or a pandas round trip writes it: every column of whole
    numbers is written as numbers (``0592`` -> ``592``, ``+028`` -> ``28``, ``0000`` -> ``0``)."""
    columns = {}
    for name, column in frame.items():
        text = column.astype("string")
        if text.str.fullmatch(r"[+-]?[0-9]+").fillna(False).all():
            text = text.map(lambda value: str(int(value))).astype("string")
        columns[name] = text
    return pd.DataFrame(columns, index=frame.index)


@case("spreadsheet_zeros", "nvd_ra and nvd_se re-saved by a spreadsheet: leading zeros dropped")
def _spreadsheet_zeros(base: Base, out: Path) -> Expected:
    times = base.raw.nvd_se["soha_time"].astype("string")
    assert times.str.startswith("0").sum() > times.eq("0000").sum(), "no time under a minute"
    ra, se = _without_leading_zeros(base.raw.nvd_ra), _without_leading_zeros(base.raw.nvd_se)
    _write(replace(base.raw, nvd_ra=ra, nvd_se=se), out)
    return _kept(base)


def assert_runners_as_written(resaved: pd.DataFrame, written: pd.DataFrame) -> None:
    """Decoded runners of a table re-saved by a spreadsheet are those of the table as written,
    but a margin of zero (``+000``), which such a tool writes as it writes no margin (``0000``):
    ``0``, read as missing."""
    zero_margin = written["time_behind_s"].eq(0).fillna(False).astype(bool)
    assert resaved.loc[zero_margin, "time_behind_s"].isna().all()
    margins = resaved["time_behind_s"].mask(zero_margin, written["time_behind_s"])
    pd.testing.assert_frame_equal(resaved.assign(time_behind_s=margins), written)


def _as_floats(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` as pandas writes a column of digits it read as floats (one
    blank cell is enough): ``0592`` -> ``592.0``, blank -> blank."""
    floats = {
        column: pd.to_numeric(frame[column], errors="coerce").astype("float64")
        for column in columns
    }
    return frame.assign(**floats)


@case("pandas_floats", "nvd_ra and nvd_se re-saved by pandas with digit columns as floats (12.0)")
def _pandas_floats(base: Base, out: Path) -> Expected:
    ra = _as_floats(base.raw.nvd_ra, ["kyori", "shusso_tosu", "toroku_tosu", "race_bango"])
    se = _as_floats(
        base.raw.nvd_se,
        ["umaban", "kakutei_chakujun", "corner_1", "corner_2", "corner_3", "corner_4",
         "bataiju", "zogen_sa", "soha_time", "futan_juryo", "tansho_odds", "kohan_3f"],
    )  # fmt: skip
    _write(replace(base.raw, nvd_ra=ra, nvd_se=se), out)
    return _kept(base)


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@case("full_width_digits", "distances, times and weights typed in full-width digits (１２００)")
def _full_width_digits(base: Base, out: Path) -> Expected:
    ra, se = base.raw.nvd_ra.copy(), base.raw.nvd_se.copy()
    ra.loc[ra.index[:4], "kyori"] = (
        ra.loc[ra.index[:4], "kyori"].astype(str).str.translate(_FULL_WIDTH)
    )
    for column in ("soha_time", "futan_juryo", "bataiju"):
        se.loc[se.index[:30], column] = (
            se.loc[se.index[:30], column].astype(str).str.translate(_FULL_WIDTH)
        )
    _write(replace(base.raw, nvd_ra=ra, nvd_se=se), out)
    return _kept(base)


# --- refused with one line -----------------------------------------------------------------


@case("missing_column", "nvd_se lacks soha_time")
def _missing_column(base: Base, out: Path) -> Expected:
    _write(replace(base.raw, nvd_se=base.raw.nvd_se.drop(columns=["soha_time"])), out)
    return _refused(base, "lacks required column(s): soha_time")


@case("missing_key_column", "nvd_ra lacks kaisai_nen, part of the race key")
def _missing_key_column(base: Base, out: Path) -> Expected:
    _write(replace(base.raw, nvd_ra=base.raw.nvd_ra.drop(columns=["kaisai_nen"])), out)
    return _refused(base, "lacks required column(s): kaisai_nen")


@case("empty_file", "nvd_se.csv is a file of zero bytes")
def _empty_file(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_se.csv").write_bytes(b"")
    return _refused(base, "nvd_se.csv: is empty")


@case("header_only_races", "nvd_ra.csv holds its header and no row")
def _header_only_races(base: Base, out: Path) -> Expected:
    _write(replace(base.raw, nvd_ra=base.raw.nvd_ra.iloc[0:0]), out)
    return _refused(base, "nvd_ra.csv: has a header but no rows")


@case("semicolon_delimited", "nvd_se written with ';' between fields")
def _semicolons(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_se.csv").write_bytes(_csv_bytes(base.raw.nvd_se, sep=";"))
    return _refused(base, "not comma-separated (its header is split by semicolons)")


@case("tab_delimited", "nvd_ra written as TSV under a .csv name")
def _tabs(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_ra.csv").write_bytes(_csv_bytes(base.raw.nvd_ra, sep="\t"))
    return _refused(base, "not comma-separated (its header is split by tabs)")


@case("not_text", "nvd_se holds bytes that are neither UTF-8 nor CP932 text (UTF-16)")
def _not_text(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_se.csv").write_bytes(base.raw.nvd_se.to_csv(index=False).encode("utf-16"))
    return _refused(base, "not UTF-8 or Shift-JIS (CP932) text (byte 0xff at offset 0)")


@case("garbage_header", "nvd_se.csv holds base64 text, not a PC-KEIBA table")
def _garbage_header(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_se.csv").write_bytes(base64.encodebytes(b"\x00\xff garbage " * 5000))
    return _refused(base, "nvd_se.csv: its first line is not a PC-KEIBA header")


@case("nvd_and_jvd", "one directory holds NAR (nvd_*) and JRA (jvd_*) tables")
def _nvd_and_jvd(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    write_tables(base.raw, out, prefix="jvd")
    return _refused(base, "holds both nvd_* (NAR) and jvd_* (JRA) tables")


@case("table_symlink_loop", "nvd_ra.csv is a symlink to itself")
def _table_symlink_loop(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    (out / "nvd_ra.csv").unlink()
    (out / "nvd_ra.csv").symlink_to("nvd_ra.csv")
    return _refused(base, "nvd_ra.csv is a symlink loop")


@case("all_parts_corrupt", "every venue's part is unreadable")
def _all_parts_corrupt(base: Base, out: Path) -> Expected:
    for venue in _write_parts(base, out):
        (out / venue / "nvd_se.csv").write_bytes(b"")
    return _refused(base, "none of its 3 parts can be read")


# --- quarantined: exactly these rows -------------------------------------------------------


@case("truncated_last_line", "nvd_se's last line is cut in the middle of the horse's name")
def _truncated(base: Base, out: Path) -> Expected:
    _write(base.raw, out)
    path = out / "nvd_se.csv"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    fields = lines[-1].split(",")
    lines[-1] = ",".join(fields[:12]) + "," + fields[12][:2]  # ends inside bamei
    path.write_text("\n".join(lines), encoding="utf-8")
    last = len(base.raw.nvd_se) - 1
    race_id = base.runner_ids().iloc[last]
    keys = runner_failure(race_id, base.umaban(last))
    return _set_aside(base, race_id, keys, "required_fields_present", both_phases=True)


@case("duplicated_rows", "three runner rows and one race row appear twice (a re-import)")
def _duplicated_rows(base: Base, out: Path) -> Expected:
    se, ra = base.raw.nvd_se, base.raw.nvd_ra
    copies_se, copies_ra = se.iloc[[2, 40, 41]], ra.iloc[[5]]
    raw = replace(
        base.raw,
        nvd_se=pd.concat([se, copies_se], ignore_index=True),
        nvd_ra=pd.concat([ra, copies_ra], ignore_index=True),
    )
    _write(raw, out)
    keys = frozenset(
        runner_rows(race_ids(copies_se), copies_se["umaban"])
        | {("races", rid, None) for rid in race_ids(copies_ra)}
    )
    outcome = PhaseOutcome(frozenset(), keys, frozenset({"row_not_repeated"}), repeated=4)
    return Expected(all_races=frozenset(base.race_ids), **both(outcome))


@case("duplicated_day_10x", "the whole day appears ten times (ten imports of the same file)")
def _ten_times(base: Base, out: Path) -> Expected:
    raw = RawDay(
        nvd_ra=pd.concat([base.raw.nvd_ra] * 10, ignore_index=True),
        nvd_se=pd.concat([base.raw.nvd_se] * 10, ignore_index=True),
        nvd_o1=pd.concat([base.raw.nvd_o1] * 10, ignore_index=True),
    )
    _write(raw, out)
    ids = base.runner_ids()
    keys = frozenset(
        runner_rows(ids, base.raw.nvd_se["umaban"])
        | {("races", rid, None) for rid in base.race_ids}
    )
    repeated = 9 * (len(base.raw.nvd_se) + len(base.raw.nvd_ra))
    outcome = PhaseOutcome(frozenset(), keys, frozenset({"row_not_repeated"}), repeated=repeated)
    return Expected(all_races=frozenset(base.race_ids), **both(outcome))


@case("duplicated_keys", "one runner twice with different weights; one race twice, two distances")
def _conflicting_keys(base: Base, out: Path) -> Expected:
    se, ra = base.raw.nvd_se.copy(), base.raw.nvd_ra.copy()
    runner_race, other_race = base.race(0, 1), base.race(1, 1)
    index = base.runner_index(runner_race)
    clash_se = se.loc[[index]].assign(bataiju="999")
    clash_ra = ra[_rows_of(ra, other_race)].assign(kyori="1600")
    raw = replace(
        base.raw,
        nvd_se=pd.concat([se, clash_se], ignore_index=True),
        nvd_ra=pd.concat([ra, clash_ra], ignore_index=True),
    )
    _write(raw, out)
    keys = runner_failure(runner_race, base.umaban(index)) | race_failure(other_race)
    checks = frozenset({"runner_key_unique", "race_id_unique"})
    outcome = PhaseOutcome(frozenset({runner_race, other_race}), keys, checks)
    return Expected(all_races=frozenset(base.race_ids), **both(outcome))


@case("text_in_numeric", "kyori '14OO'; futan_juryo '5x0'; tansho_odds '1O5' (a result field)")
def _text_in_numeric(base: Base, out: Path) -> Expected:
    se, ra = base.raw.nvd_se.copy(), base.raw.nvd_ra.copy()
    race_a, race_b, race_c = base.race(0, 2), base.race(1, 2), base.race(2, 2)
    _set(ra, _rows_of(ra, race_a), "kyori", "14OO")
    weight, odds = base.runner_index(race_b), base.runner_index(race_c)
    _set(se, weight, "futan_juryo", "5x0")
    _set(se, odds, "tansho_odds", "1O5")
    _write(replace(base.raw, nvd_se=se, nvd_ra=ra), out)
    card_keys = race_failure(race_a) | runner_failure(race_b, base.umaban(weight))
    card = PhaseOutcome(frozenset({race_a, race_b}), card_keys, frozenset({"fields_parse"}))
    results = PhaseOutcome(
        frozenset({race_a, race_b, race_c}),
        card_keys | runner_failure(race_c, base.umaban(odds)),
        frozenset({"fields_parse"}),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


def _result_field_case(
    base: Base, out: Path, column: str, value: str | Callable[[str], str], check: str, nth: int = 3
) -> Expected:
    """One result field of one finisher broken: the results phase sets its race aside."""
    se = base.raw.nvd_se.copy()
    race_id = base.race(0, nth)
    index = base.runner_index(race_id, position=2)
    original = str(se.loc[index, column])
    _set(se, index, column, value(original) if callable(value) else value)
    _write(replace(base.raw, nvd_se=se), out)
    keys = runner_failure(race_id, base.umaban(index))
    return _set_aside(base, race_id, keys, check)


# One result field of one finisher broken: case, problem, column, value, the failing check.
RESULT_FIELD_CASES = (
    ("negative_time", "soha_time '-723'", "soha_time", "-723", "soha_time_decodes"),
    ("absurd_time", "soha_time '9599' (9:59.9 for a sprint)", "soha_time", "9599",
     "finish_time_plausible"),
    ("seconds_over_59", "soha_time '1623': 62 seconds in the seconds field", "soha_time", "1623",
     "soha_time_decodes"),
    ("corners_over_field", "corner_2 beyond the number of starters", "corner_2", "19",
     "corner_within_field"),
    ("odds_below_1", "tansho_odds '0005' (0.5)", "tansho_odds", "0005", "win_odds_at_least_1"),
)  # fmt: skip
for name, problem, column, value, check in RESULT_FIELD_CASES:
    case(name, problem)(partial(_result_field_case, column=column, value=value, check=check))


@case("leader_first3f_implausible", "nvd_ra zenhan_3f '999' (99.9 s for 600 m)")
def _leader(base: Base, out: Path) -> Expected:
    ra = base.raw.nvd_ra.copy()
    race_id = base.race(1, 3)
    _set(ra, _rows_of(ra, race_id), "zenhan_3f", "999")
    _write(replace(base.raw, nvd_ra=ra), out)
    return _set_aside(base, race_id, race_failure(race_id), "leader_first3f_not_too_slow")


@case("finish_positions_clash", "the 3rd is recorded 4th: two horses 4th and none 3rd")
def _positions(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(0, 4)
    _set(se, base.runner_index(race_id, 3), "kakutei_chakujun", "04")
    _write(replace(base.raw, nvd_se=se), out)
    return _set_aside(base, race_id, race_failure(race_id), "finish_positions_in_order")


@case("non_finisher_unflagged", "a finisher loses its position and time but not its status")
def _unflagged(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(1, 4)
    last = int(
        decode_runners(se)[lambda f: f["race_id"] == race_id]["finish_pos"].astype("float").idxmax()
    )
    _set(se, last, "kakutei_chakujun", "00")
    _set(se, last, "soha_time", "0000")
    _write(replace(base.raw, nvd_se=se), out)
    keys = runner_failure(race_id, base.umaban(last))
    return _set_aside(base, race_id, keys, "non_finisher_flagged")


@case("last3f_not_below_finish", "a last 3F one second longer than the finish time")
def _last3f(base: Base, out: Path) -> Expected:
    runners = base.runners
    index = int(runners["finish_time_s"].idxmin())  # the fastest time of the day: a sprint
    race_id = str(runners.loc[index, "race_id"])
    se = base.raw.nvd_se.copy()
    _set(se, index, "kohan_3f", f"{round(runners.loc[index, 'finish_time_s'] * 10) + 10:03d}")
    _write(replace(base.raw, nvd_se=se), out)
    keys = runner_failure(race_id, base.umaban(index))
    return _set_aside(base, race_id, keys, "last3f_within_finish_time")


@case("times_as_tenths", "one venue's soha_time written as tenths of a second (723 for 1:12.3)")
def _tenths(base: Base, out: Path) -> Expected:
    runners = base.runners
    venue = sorted(runners["keibajo_code"].unique())[2]
    of_venue = runners["keibajo_code"] == venue
    seconds = runners["finish_time_s"]
    tenths = (seconds * 10).round().astype("Int64").astype("string").str.zfill(4)
    se = base.raw.nvd_se.copy()
    se.loc[of_venue & seconds.notna(), "soha_time"] = tenths[of_venue & seconds.notna()]
    _write(replace(base.raw, nvd_se=se), out)
    # Below one minute MSSs and tenths read the same (0476 = 47.6 s): only later times break.
    broken = of_venue & (seconds >= 60)
    set_aside = frozenset(runners.loc[broken, "race_id"])
    keys = frozenset(
        runner_rows(runners.loc[broken, "race_id"], runners.loc[broken, "umaban"])
        | {("races", rid, None) for rid in set_aside}
    )
    checks = frozenset({"soha_time_decodes", "finish_time_plausible"})
    return Expected(
        all_races=frozenset(base.race_ids), results=PhaseOutcome(set_aside, keys, checks)
    )


@case("field_size_zero", "shusso_tosu '00' for a race that was run")
def _field_size_zero(base: Base, out: Path) -> Expected:
    ra = base.raw.nvd_ra.copy()
    race_id = base.race(2, 3)
    _set(ra, _rows_of(ra, race_id), "shusso_tosu", "00")
    _write(replace(base.raw, nvd_ra=ra), out)
    return _set_aside(base, race_id, race_failure(race_id), "field_size_present", both_phases=True)


def _set_snapshot_odds(o1: pd.DataFrame, race_id: str, umaban: int, odds: str) -> None:
    """Rewrite one horse's 8-character slot (umaban, odds, rank) in the race's snapshot;
    ``odds`` blank cuts the slot out (the horse absent from the snapshot)."""
    for index in o1.index[_rows_of(o1, race_id)]:
        packed = str(o1.loc[index, "odds_tansho"])
        for start in range(0, len(packed.rstrip()), 8):
            if packed[start : start + 2] == f"{umaban:02d}":
                rest = packed[start + 6 :] if odds else packed[start + 8 :]
                packed = packed[: start + 2 if odds else start] + odds + rest
                break
        o1.loc[index, "odds_tansho"] = packed


def _longest_shot(base: Base, race_id: str) -> int:
    """The horse of the race's morning snapshot at the longest odds: left out, the others'
    overround stays plausible."""
    snapshot = decode_odds_snapshot(card_odds(base.raw, CardTiming()).nvd_o1)
    of_race = snapshot[snapshot["race_id"] == race_id].sort_values("win_odds")
    return int(of_race["umaban"].iloc[-1])


@case(
    "odds_0000",
    "final odds '0000' for a finisher; a starter's snapshot odds '0000' (not sold: withdrawn "
    "since the card, its race kept); a starter absent from another race's snapshot",
)
def _odds_missing(base: Base, out: Path) -> Expected:
    se, o1 = base.raw.nvd_se.copy(), base.raw.nvd_o1.copy()
    final_race, unsold_race, absent_race = base.race(2, 4), base.race(2, 5), base.race(2, 6)
    final = base.runner_index(final_race)
    _set(se, final, "tansho_odds", "0000")
    _set_snapshot_odds(o1, unsold_race, _longest_shot(base, unsold_race), "0000")
    absent = _longest_shot(base, absent_race)
    _set_snapshot_odds(o1, absent_race, absent, "")  # the slot cut out
    _write(replace(base.raw, nvd_se=se, nvd_o1=o1), out)
    card = PhaseOutcome(
        frozenset({absent_race}),
        runner_failure(absent_race, absent),
        frozenset({"runner_has_snapshot_odds"}),
    )
    results = PhaseOutcome(
        frozenset({final_race}),
        runner_failure(final_race, base.umaban(final)),
        frozenset({"finisher_has_final_odds"}),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("all_runners_scratched", "every runner of a race scratched (取消), field size unchanged")
def _all_scratched(base: Base, out: Path) -> Expected:
    se, o1 = base.raw.nvd_se.copy(), base.raw.nvd_o1.copy()
    race_id = base.race(0, 5)
    rows = _rows_of(se, race_id)
    blanks = {
        "ijo_kubun_code": "1", "kakutei_chakujun": "00", "nyusen_juni": "00", "soha_time": "0000",
        "tansho_odds": "0000", "tansho_ninkijun": "00", "corner_1": "00", "corner_2": "00",
        "corner_3": "00", "corner_4": "00", "kohan_3f": "000", "time_sa": "0000",
    }  # fmt: skip
    for column, value in blanks.items():
        _set(se, rows, column, value)
    for umaban in se.loc[rows, "umaban"]:
        _set_snapshot_odds(o1, race_id, int(umaban), "0000")
    _write(replace(base.raw, nvd_se=se, nvd_o1=o1), out)
    return _set_aside(base, race_id, race_failure(race_id), "race_has_starters", both_phases=True)


@case(
    "cancelled_and_withdrawn",
    "a race cancelled (data_kubun 9 on its rows) and a runner's record withdrawn (data_kubun 0)",
)
def _cancelled_and_withdrawn(base: Base, out: Path) -> Expected:
    ra, se = base.raw.nvd_ra.copy(), base.raw.nvd_se.copy()
    cancelled, withdrawn = base.race(0, 6), base.race(1, 6)
    _set(ra, _rows_of(ra, cancelled), "data_kubun", "9")
    _set(se, _rows_of(se, cancelled), "data_kubun", "9")
    row = base.runner_index(withdrawn)
    _set(se, row, "data_kubun", "0")
    _write(replace(base.raw, nvd_ra=ra, nvd_se=se), out)
    keys = race_failure(cancelled) | _runner_keys(base.raw, cancelled)
    outcome = PhaseOutcome(
        frozenset({cancelled, withdrawn}),
        keys | runner_failure(withdrawn, base.umaban(row)),
        frozenset({"race_not_cancelled", "record_not_withdrawn"}),
    )
    return Expected(all_races=frozenset(base.race_ids), **both(outcome))


@case("race_without_runners", "a race row whose runners are missing")
def _race_without_runners(base: Base, out: Path) -> Expected:
    race_id = base.race(1, 5)
    raw = base.raw
    _write(
        replace(
            raw,
            nvd_se=raw.nvd_se[~_rows_of(raw.nvd_se, race_id)],
            nvd_o1=raw.nvd_o1[~_rows_of(raw.nvd_o1, race_id)],
        ),
        out,
    )
    return _set_aside(base, race_id, race_failure(race_id), "race_has_runners", both_phases=True)


@case("runner_without_race", "runners whose race row is missing")
def _runner_without_race(base: Base, out: Path) -> Expected:
    race_id = base.race(1, 6)
    raw = base.raw
    _write(replace(raw, nvd_ra=raw.nvd_ra[~_rows_of(raw.nvd_ra, race_id)]), out)
    return _set_aside(
        base, race_id, _runner_keys(raw, race_id), "runner_has_race", both_phases=True
    )


def _moved(raw: RawDay, race_id: str, columns: dict[str, str]) -> RawDay:
    """The race's rows in every table with some key columns changed (a new race id)."""
    tables = {}
    for name in ("nvd_ra", "nvd_se", "nvd_o1"):
        frame = getattr(raw, name).copy()
        rows = _rows_of(frame, race_id)
        for column, value in columns.items():
            _set(frame, rows, column, value)
        tables[name] = frame
    return RawDay(**tables)


def _only(base: RawDay, race_id: str, columns: dict[str, str]) -> RawDay:
    """Only the race's rows, moved (key columns changed), from every table."""
    moved = _moved(base, race_id, columns)
    new_id = _new_id(base, race_id, columns)
    return RawDay(
        *(frame[_rows_of(frame, new_id)] for frame in (moved.nvd_ra, moved.nvd_se, moved.nvd_o1))
    )


def _new_id(raw: RawDay, race_id: str, columns: dict[str, str]) -> str:
    row = raw.nvd_ra[_rows_of(raw.nvd_ra, race_id)].iloc[[0]].assign(**columns)
    return str(race_ids(row).iloc[0])


@case("future_dates", "results for two races dated 2099 (run over a backfill range)")
def _future(base: Base, out: Path) -> Expected:
    future = {"kaisai_nen": "2099", "kaisai_tsukihi": "0103"}
    moved = [base.race(0, 6), base.race(2, 6)]
    extra = [_only(base.raw, race_id, future) for race_id in moved]
    raw = RawDay(
        *(
            pd.concat([getattr(base.raw, t), *(getattr(e, t) for e in extra)], ignore_index=True)
            for t in ("nvd_ra", "nvd_se", "nvd_o1")
        )
    )
    _write(raw, out)
    ids = frozenset(_new_id(base.raw, race_id, future) for race_id in moved)
    results = PhaseOutcome(
        ids, frozenset(("races", rid, None) for rid in ids), frozenset({"results_not_in_future"})
    )
    # Cards more than a week ahead cannot exist yet either (issue 19).
    card = replace(results, checks=frozenset({"card_not_too_far_ahead"}))
    return Expected(
        all_races=frozenset(base.race_ids) | ids, card=card, results=results, end=FAR_FUTURE_END
    )


@case("impossible_date", "a race dated 0231 (February 31st) in every table")
def _impossible_date(base: Base, out: Path) -> Expected:
    race_id = base.race(1, 7)
    bad = {"kaisai_tsukihi": "0231"}
    _write(_moved(base.raw, race_id, bad), out)
    new_id = _new_id(base.raw, race_id, bad)
    outcome = PhaseOutcome(
        frozenset({new_id}), race_failure(new_id), frozenset({"race_date_parses"})
    )
    everything = (frozenset(base.race_ids) - {race_id}) | {new_id}
    return Expected(all_races=everything, **both(outcome))


@case("mixed_venues", "a JRA race (05 東京, kept) and a ban-ei race (83 帯広) among NAR races")
def _mixed_venues(base: Base, out: Path) -> Expected:
    jra, banei = base.race(0, 7), base.race(2, 7)
    raw = _moved(_moved(base.raw, jra, {"keibajo_code": "05"}), banei, {"keibajo_code": "83"})
    _write(raw, out)
    jra_id = _new_id(base.raw, jra, {"keibajo_code": "05"})
    banei_id = _new_id(base.raw, banei, {"keibajo_code": "83"})
    outcome = PhaseOutcome(
        frozenset({banei_id}), frozenset({("races", banei_id, None)}), frozenset({"venue_in_scope"})
    )
    everything = (frozenset(base.race_ids) - {jra, banei}) | {jra_id, banei_id}
    return Expected(all_races=everything, **both(outcome))


@case("nan_inf_parquet", "Parquet with numeric columns: NaN times and weights, an infinite odds")
def _nan_inf_parquet(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_nan, race_inf, race_weight = base.race(0, 8), base.race(1, 8), base.race(2, 8)
    nan_row, inf_row = base.runner_index(race_nan), base.runner_index(race_inf)
    weight_row = base.runner_index(race_weight)
    numeric = {
        column: pd.to_numeric(se[column]).astype("float64")
        for column in ("soha_time", "tansho_odds", "bataiju")
    }
    numeric["soha_time"].loc[nan_row] = np.nan
    numeric["tansho_odds"].loc[inf_row] = np.inf
    numeric["bataiju"].loc[weight_row] = np.nan
    typed = se.assign(**numeric)
    out.mkdir(parents=True, exist_ok=True)
    base.raw.nvd_ra.to_parquet(out / "nvd_ra.parquet", index=False)
    typed.to_parquet(out / "nvd_se.parquet", index=False)
    base.raw.nvd_o1.to_parquet(out / "nvd_o1.parquet", index=False)
    card = PhaseOutcome(
        frozenset({race_weight}),
        runner_failure(race_weight, base.umaban(weight_row)),
        frozenset({"required_fields_present"}),
    )
    results = PhaseOutcome(
        frozenset({race_nan, race_inf, race_weight}),
        card.quarantined
        | runner_failure(race_nan, base.umaban(nan_row))
        | runner_failure(race_inf, base.umaban(inf_row)),
        frozenset({"required_fields_present", "fields_parse"}),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("umaban_over_entries", "a horse number above the race's entries")
def _umaban(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(0, 9)
    index = base.runner_index(race_id)
    _set(se, index, "umaban", "17")
    _write(replace(base.raw, nvd_se=se), out)
    results = PhaseOutcome(
        frozenset({race_id}), runner_failure(race_id, 17), frozenset({"umaban_within_entries"})
    )
    # In the morning the snapshot still prices the horse under its real number, absent from the
    # card: that snapshot row is set aside too.
    card = replace(
        results,
        quarantined=results.quarantined | {("odds", race_id, base.umaban(index))},
        checks=results.checks | {"snapshot_runner_known"},
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("runner_key_broken", "a runner's race number blank: its horse priced, not on the card")
def _runner_key_broken(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(1, 9)
    runners = decode_runners(se)
    of_race = runners[(runners["race_id"] == race_id) & runners["finish_pos"].notna()]
    index = int(of_race["win_odds"].idxmax())  # the longest shot: the market barely notices
    umaban = base.umaban(index)
    _set(se, index, "race_bango", "  ")
    _write(replace(base.raw, nvd_se=se), out)
    lost = race_id[:-2] + "00"  # the runner's key, without its race number
    # In the morning the race keeps 11 of its 12 horses while the snapshot prices the 12th:
    # set aside (the field's probabilities would be normalised over the wrong horses). The
    # runner row, and its final odds under the broken key, go as rows of no race.
    card = PhaseOutcome(
        frozenset({race_id}),
        frozenset({("races", race_id, None), ("runners", lost, umaban), ("odds", lost, umaban),
                   ("odds", race_id, umaban)}),
        frozenset({"runner_has_race", "snapshot_runner_known", "overround_plausible"}),
    )  # fmt: skip
    results = PhaseOutcome(
        frozenset({race_id}),
        frozenset({("races", race_id, None), ("runners", lost, umaban)}),
        frozenset(
            {"runner_has_race", "field_size_not_above_unscratched", "finish_positions_in_order"}
        ),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("overlong_fields", "a 20-digit horse number and a venue code holding a name")
def _overlong(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    number_race, venue_race = base.race(0, 10), base.race(1, 10)
    index = base.runner_index(number_race)
    original = base.umaban(index)
    _set(se, index, "umaban", "99999999999999999999")
    raw = _moved(replace(base.raw, nvd_se=se), venue_race, {"keibajo_code": "大井競馬場"})
    _write(raw, out)
    garbage_id = _new_id(base.raw, venue_race, {"keibajo_code": "大井競馬場"})
    # The horse number fits no key column: that row is quarantined without it (see its detail).
    # Every row of the other race carries the corrupt venue field, so each is quarantined.
    keys = (
        frozenset({("runners", number_race, None), ("races", number_race, None)})
        | {("races", garbage_id[:16], None)}
        | runner_rows(
            [garbage_id[:16]] * int(_rows_of(base.raw.nvd_se, venue_race).sum()),
            base.raw.nvd_se.loc[_rows_of(base.raw.nvd_se, venue_race), "umaban"],
        )
    )
    checks = frozenset({"fields_parse", "race_key_complete"})
    results = PhaseOutcome(frozenset({number_race, garbage_id}), keys, checks)
    # In the morning the snapshot still prices the horse under its real number, and the other
    # race's snapshot rows carry its corrupt key.
    snapshot = decode_odds_snapshot(card_odds(base.raw, CardTiming()).nvd_o1)
    priced = snapshot.loc[snapshot["race_id"] == venue_race, "umaban"]
    odds_keys = {("odds", number_race, original)} | {
        ("odds", garbage_id[:16], int(u)) for u in priced
    }
    card = replace(results, quarantined=keys | odds_keys)
    everything = (frozenset(base.race_ids) - {venue_race}) | {garbage_id}
    return Expected(all_races=everything, card=card, results=results)


@case("overlong_text", "a horse name of 60 characters (a shifted record)")
def _overlong_text(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(2, 10)
    index = base.runner_index(race_id)
    _set(se, index, "bamei", "ア" * 60)
    _write(replace(base.raw, nvd_se=se), out)
    return _set_aside(
        base,
        race_id,
        runner_failure(race_id, base.umaban(index)),
        "fields_fit_the_store",
        both_phases=True,
    )


@case("unknown_going_weather", "going code '7' and weather code '9': kept, decoded as unknown (0)")
def _codes(base: Base, out: Path) -> Expected:
    ra = base.raw.nvd_ra.copy()
    going, weather = base.race(1, 9), base.race(2, 9)
    _set(ra, _rows_of(ra, going), "babajotai_code_dirt", "7")
    _set(ra, _rows_of(ra, weather), "tenko_code", "9")
    _write(replace(base.raw, nvd_ra=ra), out)
    return _kept(base)


# --- odds no real pool shows (issue 19): set aside before prediction ------------------------


def _snapshot_favourite(base: Base, race_id: str) -> int:
    """The horse number of the race's snapshot favourite (popularity 1)."""
    snapshot = decode_odds_snapshot(card_odds(base.raw, CardTiming()).nvd_o1)
    of_race = snapshot[(snapshot["race_id"] == race_id) & (snapshot["popularity"] == 1)]
    return int(of_race["umaban"].iloc[0])


@case("favourite_at_999_9", "the favourite's snapshot and final odds '9999' (999.9)")
def _favourite_at_cap(base: Base, out: Path) -> Expected:
    se, o1 = base.raw.nvd_se.copy(), base.raw.nvd_o1.copy()
    race_id = base.race(0, 12)
    favourite = _snapshot_favourite(base, race_id)
    _set_snapshot_odds(o1, race_id, favourite, "9999")
    row = se.index[_rows_of(se, race_id) & (se["umaban"].astype(int) == favourite)]
    _set(se, row, "tansho_odds", "9999")
    _write(replace(base.raw, nvd_se=se, nvd_o1=o1), out)
    card = PhaseOutcome(
        frozenset({race_id}),
        frozenset({("odds", race_id, favourite), ("races", race_id, None)}),
        frozenset({"odds_follow_popularity", "overround_plausible"}),
    )
    # The final pool loses the favourite's share too (Σ 1/odds below 1.0): its row is the final
    # odds' most popular horse, whose popularity nvd_se gives (not necessarily the snapshot's).
    final_first = se.index[_rows_of(se, race_id) & (se["tansho_ninkijun"].astype(int) == 1)]
    results = PhaseOutcome(
        frozenset({race_id}),
        runner_failure(race_id, favourite) | runner_failure(race_id, base.umaban(final_first[0])),
        frozenset({"final_odds_follow_popularity", "final_overround_plausible"}),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("odds_five_digits_replay", "a race without snapshot (sized on final odds), one '99999'")
def _five_digit_odds(base: Base, out: Path) -> Expected:
    se = base.raw.nvd_se.copy()
    race_id = base.race(1, 0)
    index = base.runner_index(race_id, position=2)
    _set(se, index, "tansho_odds", "99999")
    o1 = base.raw.nvd_o1[~_rows_of(base.raw.nvd_o1, race_id)]
    _write(replace(base.raw, nvd_se=se, nvd_o1=o1), out)
    umaban = base.umaban(index)
    card = PhaseOutcome(
        frozenset({race_id}),
        frozenset({("odds", race_id, umaban), ("races", race_id, None)}),
        frozenset({"odds_field_is_4_digits", "odds_at_most_999_9"}),
    )
    results = PhaseOutcome(
        frozenset({race_id}), runner_failure(race_id, umaban), frozenset({"fields_parse"})
    )
    return Expected(all_races=frozenset(base.race_ids), card=card, results=results)


@case("overround_implausible", "a race's snapshot odds written ten times too long (Σ 1/odds 0.13)")
def _overround(base: Base, out: Path) -> Expected:
    o1 = base.raw.nvd_o1.copy()
    race_id = base.race(2, 1)
    snapshot = decode_odds_snapshot(card_odds(base.raw, CardTiming()).nvd_o1)
    of_race = snapshot[snapshot["race_id"] == race_id]
    for umaban, odds in zip(of_race["umaban"], of_race["win_odds"], strict=True):
        _set_snapshot_odds(o1, race_id, int(umaban), f"{min(round(odds * 100), 9999):04d}")
    _write(replace(base.raw, nvd_o1=o1), out)
    favourite = _snapshot_favourite(base, race_id)
    card = PhaseOutcome(
        frozenset({race_id}),
        frozenset({("odds", race_id, favourite), ("races", race_id, None)}),
        frozenset({"overround_plausible"}),
    )
    return Expected(all_races=frozenset(base.race_ids), card=card)


# --- dates no race can have (issue 19) ------------------------------------------------------

EARLIEST = date(1899, 1, 1)


@case("dated_1899", "one race dated 1899-01-01 in every table (read over a range from 1899)")
def _dated_1899(base: Base, out: Path) -> Expected:
    race_id = base.race(2, 0)
    old = {"kaisai_nen": "1899", "kaisai_tsukihi": "0101"}
    _write(_moved(base.raw, race_id, old), out)
    new_id = _new_id(base.raw, race_id, old)
    outcome = PhaseOutcome(
        frozenset({new_id}), race_failure(new_id), frozenset({"race_date_not_before_1990"})
    )
    everything = (frozenset(base.race_ids) - {race_id}) | {new_id}
    return Expected(all_races=everything, start=EARLIEST, **both(outcome))


# --- one part of the input unreadable: the other venues go on ------------------------------


def _write_parts(base: Base, out: Path) -> list[str]:
    """One subdirectory per venue, each with its own nvd_ra / nvd_se / nvd_o1."""
    venues = sorted(base.raw.nvd_ra["keibajo_code"].unique())
    for venue in venues:
        raw = RawDay(
            *(
                frame[frame["keibajo_code"] == venue]
                for frame in (base.raw.nvd_ra, base.raw.nvd_se, base.raw.nvd_o1)
            )
        )
        _write(raw, out / venue)
    return venues


def _part_case(base: Base, out: Path, breaker: Callable[[Path], None]) -> Expected:
    venues = _write_parts(base, out)
    breaker(out / venues[1])
    of_venue = base.raw.nvd_ra["keibajo_code"] == venues[1]
    lost = frozenset(race_ids(base.raw.nvd_ra[of_venue]))
    kept = frozenset(base.race_ids) - lost
    return Expected(all_races=kept, input_rows=1)


@case("venue_part_corrupt", "one venue's nvd_se is cut mid-file inside an open quote")
def _part_corrupt(base: Base, out: Path) -> Expected:
    def corrupt(part: Path) -> None:
        path = part / "nvd_se.csv"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] + b'"broken')

    return _part_case(base, out, corrupt)


@case("venue_part_missing_column", "one venue's nvd_ra lacks kyori")
def _part_missing_column(base: Base, out: Path) -> Expected:
    def drop(part: Path) -> None:
        path = part / "nvd_ra.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        path.write_bytes(_csv_bytes(frame.drop(columns=["kyori"])))

    return _part_case(base, out, drop)


# --- the corpus ----------------------------------------------------------------------------


def _jsonable(value: object) -> object:
    if isinstance(value, frozenset | set):
        return sorted((_jsonable(item) for item in value), key=str)
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, date | Path):
        return str(value)
    return value


def make_corpus(out: Path, names: Iterable[str] | None = None) -> dict[str, Case]:
    """Write every case (or ``names``) under ``out``; the cases with their expected outcomes."""
    base = Base(simulated(DAY))
    cases: dict[str, Case] = {}
    for name in names or CASES:
        problem, maker = CASES[name]
        directory = out / name
        expected = maker(base, directory)
        (directory / "expected.json").write_text(
            json.dumps(
                {"case": name, "problem": problem, **_jsonable(asdict(expected))},  # type: ignore[dict-item]
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        cases[name] = Case(name, problem, directory, expected)
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("bad_inputs")
    written = make_corpus(target)
    print(f"wrote {len(written)} cases to {target}")
