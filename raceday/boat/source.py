"""Where boat days come from: a directory of the official day files (``Byymmdd.TXT`` /
``Kyymmdd.TXT``, or their ``.lzh``) and ``boat_odds.csv``, as ``raceday simulate --sport boat``
writes them and as the official downloads are kept. ``--source files:DIR``.

Pure reads: a missing program is bad input (one line), as is a day file that is not CP932
text or holds nothing (``raceday.boat.day_text``); a missing result file or odds file is a day
without results or without odds (the day still runs: bets stay open, the lane prior prices).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Final

import pandas as pd

from raceday.boat.day_text import DOS_END_OF_FILE, read_day_bytes
from raceday.boat.files import (
    K_RACE_COLUMNS,
    K_RESULT_COLUMNS,
    PAYOUT_COLUMNS,
    REJECTED_COLUMNS,
    ProgramDay,
    ResultDay,
    date_from_file_name,
    day_file_kind,
    read_program_file,
    read_result_file,
)
from raceday.codec import full_width_as_ascii
from raceday.errors import InputError
from raceday.japan_time import JAPAN_TIME
from raceday.sources.csv_records import column_names
from raceday.sources.text_encoding import BOM, detect_encoding

FILES_PREFIX: Final = "files:"
ODDS_FILE: Final = "boat_odds.csv"
ODDS_DOCS: Final = 'docs/BOAT.md, "The odds file"'
ODDS_COLUMNS: Final = {
    "race_id": "string", "boat": "Int64", "snapshot": "string",
    "published_at": "datetime64[ns]", "win_odds": "Float64",
}  # fmt: skip


@dataclass(frozen=True)
class BoatDay:
    """A day as read: the program, the results (empty frames when not published) and every
    odds snapshot of the day's races."""

    race_date: date
    program: ProgramDay
    results: ResultDay
    odds: pd.DataFrame
    missing_odds_file: Path | None = None  # the odds file looked for and not there

    @property
    def has_results(self) -> bool:
        """True when the day's K file was there."""
        return not self.results.races.empty


def boat_directory(source: str | None) -> Path:
    """The directory of ``files:DIR``; InputError for any other source or a missing directory."""
    if not source or not source.startswith(FILES_PREFIX):
        raise InputError(
            f"--sport boat reads day files: use --source files:DIR (not {source or 'the default'})"
        )
    directory = Path(source.removeprefix(FILES_PREFIX)).expanduser()
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory (--source files:DIR)")
    return directory


def day_files(directory: Path) -> DayFiles:
    """Every day file under ``directory``, at any depth (users unpack each archive into a
    folder of its own, or sort the files by month), by kind (``B``/``K``) and day: names in
    any case, ``.TXT`` or ``.LZH``. Each day's paths shallowest first, a text before an
    archive."""
    found: DayFiles = {}
    for folder, _folders, names in os.walk(directory):
        for name in names:
            kind, day = day_file_kind(name), date_from_file_name(name)
            if kind is not None and day is not None:
                found.setdefault((kind, day), []).append(Path(folder) / name)

    def order(path: Path) -> tuple[int, bool, str]:
        return len(path.relative_to(directory).parts), path.suffix.lower() == ".lzh", str(path)

    return {key: sorted(paths, key=order) for key, paths in found.items()}


def one_day_file(paths: list[Path]) -> Path:
    """The day's file among the copies found of it: identical copies (an archive and the text
    unpacked from it too) are one file; copies whose text differs are refused in one line
    naming two of them (which one is the day cannot be known)."""
    first = paths[0]
    if len(paths) > 1:
        text = read_day_bytes(first).rstrip(DOS_END_OF_FILE)
        for other in paths[1:]:
            if read_day_bytes(other).rstrip(DOS_END_OF_FILE) != text:
                raise InputError(
                    f"{first} and {other}: the same day file found twice and they differ: keep "
                    "one of them (--source files:DIR reads its subfolders too)"
                )
    return first


DayFiles = dict[tuple[str, date], list[Path]]  # what :func:`day_files` finds


def _day_file(directory: Path, kind: str, day: date, found: DayFiles | None = None) -> Path | None:
    """The day's ``kind`` file under ``directory`` (``found``: its files, when walked already)."""
    paths = (day_files(directory) if found is None else found).get((kind, day))
    return one_day_file(paths) if paths else None


def require_program(
    directory: Path, day: date, *, with_races: bool = False, found: DayFiles | None = None
) -> Path:
    """The day's program file; InputError when the directory has none, or (``with_races``: the
    day a command runs) when it holds no race and no line to set aside (an empty file, or its
    markers only: a download that failed, not a day without racing). ``found``: the
    directory's day files, when walked already."""
    path = _day_file(directory, "B", day, found)
    if path is None:
        raise InputError(
            f"{directory}: no program file B{day:%y%m%d}.TXT for {day} (nor in its subfolders)"
        )
    if with_races:
        program = read_program_file(path)
        if program.races.empty and program.rejected.empty:
            raise InputError(f"{path}: holds no race (an empty or cut download?)")
    return path


def require_results(directory: Path, day: date) -> Path:
    """The day's results (K) file, for a run that settles the day (``--settle``); InputError
    when the directory has none: its results are not in yet, nothing to settle."""
    path = _day_file(directory, "K", day)
    if path is None:
        raise InputError(
            f"{directory}: no results file K{day:%y%m%d}.TXT for {day} (nor in its "
            "subfolders): nothing to settle; run again once it is in"
        )
    return path


def readable_result_day(results: ResultDay) -> bool:
    """Whether a K file's text gave a race result: a boat's result, or a race called off (中止:
    a day of cancelled races has no result to read)."""
    return not results.results.empty or results.races["status"].eq("cancelled").any()


def read_results(path: Path) -> ResultDay:
    """The K file read; InputError when no race result can be read from it: 0 bytes or its
    markers only (a failed download, refused as an empty program is), or text that is no K
    file (a saved 404 page, a program under the K name: every line set aside). Results not
    published yet are a K file not there, not an empty one."""
    results = read_result_file(path)
    if not readable_result_day(results):
        rejected = results.rejected["reason"]
        if rejected.empty:
            raise InputError(f"{path}: holds no race result (an empty or cut download?)")
        raise InputError(
            f"{path}: holds no race result it can read ({len(rejected)} line(s) set aside, the "
            f"first: {rejected.iloc[0]}): not a K file (a saved error page, a program)?"
        )
    return results


def check_day_files(directory: Path, day: date) -> None:
    """The day's files as a command checks them before it runs (bad input: one line): the
    program there and holding races, and both it and the results, when there, CP932 text."""
    found = day_files(directory)
    require_program(directory, day, with_races=True, found=found)
    result_path = _day_file(directory, "K", day, found)
    if result_path is not None:
        read_results(result_path)


def program_days(directory: Path) -> list[date]:
    """The days a program file is there for (at any depth under ``directory``), in order."""
    return sorted(day for kind, day in day_files(directory) if kind == "B")


def empty_results() -> ResultDay:
    """A day without its K file."""

    def empty(columns: dict[str, str]) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})

    rejected = {name: "string" for name in REJECTED_COLUMNS}
    return ResultDay(
        empty(K_RACE_COLUMNS), empty(K_RESULT_COLUMNS), empty(PAYOUT_COLUMNS), empty(rejected)
    )


def japan_times(text: pd.Series) -> pd.Series:
    """ISO 8601 times as naive Japan time: one with an offset (``+09:00``, ``Z``) converted to
    Japan's clock, one without read as Japan's; one that does not parse is missing."""
    text = text.astype("string").str.strip()
    offset = text.str.contains(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True).fillna(False)
    local = pd.to_datetime(text.where(~offset), errors="coerce", format="ISO8601")
    aware = pd.to_datetime(text.where(offset), errors="coerce", format="ISO8601", utc=True)
    converted = aware.dt.tz_convert(JAPAN_TIME).dt.tz_localize(None)
    return local.astype("datetime64[ns]").where(~offset, converted.astype("datetime64[ns]"))


def read_odds_file(directory: Path, days: list[date]) -> pd.DataFrame:
    """The odds snapshots of races on ``days`` (race ids begin with the day); none without the
    file. Its text is UTF-8 or CP932 (told as the horses' files are: a file saved by a Japanese
    spreadsheet), its fields read after NFKC (full-width digits as ASCII). A value that does
    not parse becomes missing (validation sets its race's odds aside)."""
    path = directory / ODDS_FILE
    empty = pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in ODDS_COLUMNS.items()})
    if not path.is_file():
        return empty
    try:
        with path.open("rb") as handle:
            encoding = detect_encoding(path, handle.read(len(BOM)))
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise InputError(f"{path}: not a readable odds file ({error})") from None
    except pd.errors.EmptyDataError:
        return empty
    raw.columns = column_names(raw.columns)  # in any case, spaces around: as the horses' files
    missing = [name for name in ODDS_COLUMNS if name not in raw.columns]
    if missing:
        separated = ";" in raw.columns[0] or "\t" in raw.columns[0]
        why = ": not comma-separated" if len(raw.columns) == 1 and separated else ""
        raise InputError(f"{path}: missing columns {', '.join(missing)}{why}")
    prefixes = {f"{day:%Y%m%d}" for day in days}
    raw = raw.assign(race_id=full_width_as_ascii(raw["race_id"]))
    of_days = raw[raw["race_id"].str.strip().str[:8].isin(prefixes)]
    raw = of_days.apply(full_width_as_ascii)  # ２．５ as 2.5
    return (
        pd.DataFrame(
            {
                "race_id": raw["race_id"].str.strip().astype("string"),
                "boat": pd.to_numeric(raw["boat"], errors="coerce").astype("Float64").round(),
                "snapshot": raw["snapshot"].str.strip().astype("string"),
                "published_at": japan_times(raw["published_at"]),
                "win_odds": pd.to_numeric(raw["win_odds"], errors="coerce").astype("Float64"),
            }
        )
        .astype(ODDS_COLUMNS)
        .reset_index(drop=True)
    )


def no_odds_file_warning(path: Path, unpriced: int) -> str:
    """What a day without ``boat_odds.csv`` says, once: the official files carry no odds."""
    return (
        f"{path.parent} holds no {path.name}: the official B/K files carry no odds, and nothing "
        f"is bet without them ({unpriced} races predicted against the lane prior, not bet); "
        f"the file holds {', '.join(ODDS_COLUMNS)} per boat and snapshot ({ODDS_DOCS})"
    )


def read_boat_days(directory: Path, days: list[date]) -> list[BoatDay]:
    """The given days read from ``directory`` (the odds file read once for all of them); the
    first day whose files are refused refuses them all."""
    read, refused = readable_days(directory, days)
    if refused:
        raise refused[0]
    return read


def readable_days(directory: Path, days: list[date]) -> tuple[list[BoatDay], list[InputError]]:
    """The given days read from ``directory``, but those whose files are refused (each with its
    refusal, in date order): an earlier day's corrupt download must not refuse the days after
    it, whose warm-up reads it."""
    odds = read_odds_file(directory, days)
    found = day_files(directory)  # walked once for all the days
    missing_odds_file = None if (directory / ODDS_FILE).is_file() else directory / ODDS_FILE
    read, refused = [], []
    for day in days:
        try:
            program_path = require_program(directory, day, found=found)
            result_path = _day_file(directory, "K", day, found)
            results = read_results(result_path) if result_path else empty_results()
            program = read_program_file(program_path)
        except InputError as error:
            refused.append(error)
            continue
        day_odds = odds[odds["race_id"].str[:8] == f"{day:%Y%m%d}"].reset_index(drop=True)
        read.append(BoatDay(day, program, results, day_odds, missing_odds_file))
    return read, refused


def decision_moment(race_date: date, at: time) -> datetime:
    """The day's decision moment (Japan time, naive): the morning odds time on the race day."""
    return datetime.combine(race_date, at)


def odds_known_by(odds: pd.DataFrame, moments: pd.Series) -> pd.DataFrame:
    """Per race and boat, the latest snapshot published at or before its race's moment
    (``moments``: indexed by race_id). Never a later one: a decision sees what it could see."""
    if odds.empty or moments.empty:  # (mapping through an empty series casts to float)
        return odds.iloc[0:0].reset_index(drop=True)
    moment = pd.to_datetime(odds["race_id"].map(moments), errors="coerce")
    published = pd.to_datetime(odds["published_at"], errors="coerce")
    seen = odds[(published.notna() & moment.notna() & (published <= moment)).to_numpy(bool)]
    latest = seen.sort_values("published_at", kind="stable").drop_duplicates(
        ["race_id", "boat"], keep="last"
    )
    return latest.sort_values(["race_id", "boat"]).reset_index(drop=True)
