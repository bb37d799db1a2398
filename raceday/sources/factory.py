"""Chooses the race source from its spec: ``sim``, ``files:DIR`` or ``pckeiba``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from raceday.errors import InputError
from raceday.simulate.config import SimulatorConfig
from raceday.sources.base import OtherSportsLeftOut, RaceSource
from raceday.sources.files import FilesSource
from raceday.sources.pckeiba import PcKeibaSource
from raceday.sources.simulator import SimulatorSource
from raceday.sources.venue_clocks import VenueClocksInJapanTime
from raceday.sport import circuit_of_prefix, other_sport_venues


def open_source(
    spec: str,
    *,
    simulator: SimulatorConfig,
    pckeiba_url: str | None = None,
    pckeiba_circuits: Sequence[str] = ("nar",),
    time_zones: Mapping[str, str],
) -> RaceSource:
    """The source named by ``spec`` (``pckeiba_circuits``: which circuits PC-KEIBA reads),
    read without another sport's races (:class:`OtherSportsLeftOut`: ban-ei), its venues that
    keep another clock (``time_zones``: keibajo code -> IANA zone,
    ``config.reference.venue_time_zones``) in Japan time (:class:`VenueClocksInJapanTime`)."""
    source = _source(spec, simulator, pckeiba_url, pckeiba_circuits)
    return OtherSportsLeftOut(VenueClocksInJapanTime(source, time_zones), other_sport_venues())


def _source(
    spec: str,
    simulator: SimulatorConfig,
    pckeiba_url: str | None,
    pckeiba_circuits: Sequence[str],
) -> RaceSource:
    if spec == "sim":
        return SimulatorSource(simulator)
    if (directory := files_directory(spec)) is not None:
        if not directory.is_dir():
            raise InputError(f"source directory {directory} does not exist")
        return FilesSource(directory)
    if spec == "pckeiba":
        if not pckeiba_url:
            raise InputError("source pckeiba needs RACEDAY_PCKEIBA_URL (a PostgreSQL URL)")
        return PcKeibaSource(pckeiba_url, circuits=tuple(pckeiba_circuits))
    raise InputError(f"unknown source {spec!r}: use sim, files:DIR or pckeiba")


def files_directory(spec: str) -> Path | None:
    """The directory a ``files:DIR`` source names (None for another source)."""
    return Path(spec.removeprefix("files:")).expanduser() if spec.startswith("files:") else None


def source_circuits(spec: str, pckeiba_circuits: Sequence[str] = ("nar",)) -> frozenset[str]:
    """The circuits the source named by ``spec`` holds (``nar``, ``jra``), without reading a
    race: the simulator's NAR, PC-KEIBA's as set, a directory's by its tables' names (each
    part's: ``nvd_*`` NAR, ``jvd_*`` JRA); none for a directory that is not there (reading it
    says so)."""
    if spec == "sim":
        return frozenset({"nar"})
    if spec == "pckeiba":
        return frozenset(pckeiba_circuits)
    directory = files_directory(spec)
    if directory is None or not directory.is_dir():
        return frozenset()
    return frozenset(circuit_of_prefix(prefix).name for _, prefix in FilesSource(directory).parts())
