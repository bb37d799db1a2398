"""Validation through Great Expectations on simulated days: bad rows set aside, the rest kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from config import Settings, load_settings
from config.reference import circuit_venue_codes, circuits, known_venue_codes
from data_checks.docs import data_docs_index, publish
from data_checks.gx_runner import Check, run_suite
from data_checks.records import distinct_quarantine, quarantine_summary, validation_rows
from data_checks.suites import venue_codes_for
from data_checks.validate import refuse_on_input_scope, validate_day, venues_of_no_circuit
from raceday.codec import decode_runners, race_ids
from raceday.errors import InputError, NothingValid
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.days import simulate_days
from raceday.sources.base import RawDay, card_only
from raceday.sources.files import FilesSource, write_tables
from raceday.store.catalogs.quality import VALIDATION, read_quarantine
from raceday.store.catalogs.races import RUNNERS, read_races
from raceday.store.engine import make_engine, upgrade_schema
from raceday.store.repository import read_rows
from tasks.validate import screen_days, source_label, validate_and_store

DAY = date(2026, 11, 20)


@cache
def simulated() -> RawDay:
    return simulate_days(DAY, DAY, SimulatorConfig(races_per_day=40)).raw


def validate(raw: RawDay, phase: str = "results"):  # type: ignore[no-untyped-def]
    return validate_day(raw, phase=phase, venue_codes=circuit_venue_codes("nar"))  # type: ignore[arg-type]


def test_a_clean_simulated_day_passes_every_suite() -> None:
    """Nothing is quarantined from the simulator's output, card or results."""
    raw = simulated()
    for phase, view in (("card", card_only(raw)), ("results", raw)):
        valid = validate(view, phase)
        assert valid.quarantine.empty, valid.quarantine.head()
        assert len(valid.races) == len(raw.nvd_ra)
        assert len(valid.runners) == len(raw.nvd_se)
        assert all(outcome.success for outcome in valid.outcomes)


def test_a_bad_time_sets_aside_its_race_only() -> None:
    """soha_time with seconds >= 60 quarantines the row and its race; other races go on."""
    raw = simulated()
    se = raw.nvd_se.copy()
    bad_race = se.loc[0, ["kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango"]]
    se.loc[0, "soha_time"] = "1960"
    valid = validate(replace(raw, nvd_se=se))
    checks = set(valid.quarantine["check_name"])
    assert {"soha_time_decodes", "race_has_invalid_runner"} <= checks
    race_id = "".join(bad_race.astype(str))
    assert race_id not in set(valid.races["race_id"])
    assert len(valid.races) == len(raw.nvd_ra) - 1
    assert (valid.runners["race_id"] != race_id).all()


def test_orphan_runners_and_empty_races_are_quarantined() -> None:
    """A runner without its race and a race without runners are both set aside."""
    raw = simulated()
    first_race = raw.nvd_ra.iloc[0]
    key = ["kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango"]
    of_first = (raw.nvd_se[key] == first_race[key].to_numpy()).all(axis=1)
    second = raw.nvd_ra.iloc[1]
    of_second = (raw.nvd_se[key] == second[key].to_numpy()).all(axis=1)
    cut = replace(
        raw, nvd_se=raw.nvd_se[~of_first], nvd_ra=raw.nvd_ra.drop(index=raw.nvd_ra.index[1])
    )
    valid = validate(cut)
    assert "race_has_runners" in set(valid.quarantine["check_name"])
    assert "runner_has_race" in set(valid.quarantine["check_name"])
    assert valid.quarantine["check_name"].eq("runner_has_race").sum() == of_second.sum()


def test_a_card_listing_part_of_its_field_is_set_aside_and_a_scratch_is_not() -> None:
    """A card with fewer runner rows than its field size (a JRA-VAN race abroad: only the
    Japanese horses of a 15-runner field) is set aside before it is priced or staked; a card
    whose scratched horse keeps its row is whole. Before, the part was predicted and staked in
    the morning and only set aside at night."""
    raw = card_only(simulated())
    ids = race_ids(raw.nvd_se)
    partial, scratched, *_ = race_ids(raw.nvd_ra).drop_duplicates()
    listed = raw.nvd_se[ids == partial]
    se = raw.nvd_se.drop(index=listed.index[3:])  # three rows of the field left
    se.loc[se.index[race_ids(se) == scratched][0], "ijo_kubun_code"] = "1"  # 出走取消
    valid = validate(replace(raw, nvd_se=se), "card")
    failed = valid.quarantine[valid.quarantine["check_name"] == "card_lists_the_field"]
    assert set(failed["race_id"]) == {partial}
    assert partial not in set(valid.races["race_id"])
    assert scratched in set(valid.races["race_id"])
    assert len(valid.races) == raw.nvd_ra["race_bango"].size - 1


def test_a_weight_carried_in_another_unit_sets_its_race_aside() -> None:
    """Weights carried written in pounds (an overseas export's 125 lb, read as 12.5 kg) set
    their race aside, named; a blank weight is missing, not implausible. Before, 11.3-13.5 kg
    were stored beside JRA's 51-57 kg and read as features."""
    raw = simulated()
    ids = race_ids(raw.nvd_se)
    in_pounds, blank, *_ = race_ids(raw.nvd_ra).drop_duplicates()
    se = raw.nvd_se.copy()
    se.loc[ids == in_pounds, "futan_juryo"] = "125"
    se.loc[se.index[ids == blank][0], "futan_juryo"] = "000"
    valid = validate(replace(raw, nvd_se=se))
    failed = valid.quarantine[valid.quarantine["check_name"] == "weight_carried_plausible"]
    assert set(failed["race_id"]) == {in_pounds}
    assert blank in set(valid.races["race_id"]) and in_pounds not in set(valid.races["race_id"])


def test_runners_of_no_listed_race_read_from_files_are_set_aside_not_a_crash(
    tmp_path: Path,
) -> None:
    """Every runner of the day keyed to a race the race table lacks (a column shifted into
    race_bango), read from files as a user's export is: each runner and each race without
    runners is set aside, results phase too. It was "defect in stage screen: ArrowInvalid"
    (exit 5): the finishing-order check filled an all-null Arrow column (the fuzz probe)."""
    raw = simulated()
    write_tables(replace(raw, nvd_se=raw.nvd_se.assign(race_bango="99")), tmp_path, "csv")
    read = FilesSource(tmp_path).read_days(DAY, DAY)
    for phase, view in (("card", card_only(read)), ("results", read)):
        valid = validate(view, phase)
        assert valid.races.empty and valid.runners.empty
        failed = set(valid.quarantine["check_name"])
        assert {"race_has_runners", "runner_has_race"} <= failed, phase


def test_a_race_copied_under_another_venue_sets_both_copies_aside() -> None:
    """One race's rows copied under another venue code (a duplicated race: its horses run twice
    that day) set both races aside, the others kept; a horse without an id is nobody's twin.
    Both copies were stored, predicted and scored (the second fuzz probe)."""
    raw = simulated()
    ids_ra, ids_se = race_ids(raw.nvd_ra), race_ids(raw.nvd_se)
    original = ids_ra.iloc[0]
    copy_ra = raw.nvd_ra[ids_ra == original].assign(keibajo_code="99")
    copy_se = raw.nvd_se[ids_se == original].assign(keibajo_code="99")
    se = raw.nvd_se.copy()
    other = ids_ra.iloc[1]
    se.loc[ids_se == other, "ketto_toroku_bango"] = "0000000000"  # unknown horses: no twins
    copied = replace(
        raw,
        nvd_ra=pd.concat([raw.nvd_ra, copy_ra], ignore_index=True),
        nvd_se=pd.concat([se, copy_se], ignore_index=True),
    )
    valid = validate(copied)
    failed = valid.quarantine[valid.quarantine["check_name"] == "horse_once_a_day"]
    twin = original[:8] + "99" + original[10:]
    assert set(failed["race_id"]) == {original, twin}
    assert len(valid.races) == len(raw.nvd_ra) - 1 and other in set(valid.races["race_id"])


def test_a_table_without_required_columns_is_refused() -> None:
    """Missing columns refuse the whole input with one clear message."""
    raw = simulated()
    with pytest.raises(InputError, match="soha_time"):
        validate(replace(raw, nvd_se=raw.nvd_se.drop(columns=["soha_time"])))


def test_a_dead_heat_is_a_finishing_order_but_a_gap_is_not() -> None:
    """Positions 1, 1, 3 are a dead heat and kept; 1, 2, 4, 4 set the race aside."""
    raw = simulated()
    runners = decode_runners(raw.nvd_se)
    first_race = runners["race_id"].iloc[0]
    of_race = runners[runners["race_id"] == first_race]
    second = of_race.index[of_race["finish_pos"] == 2][0]
    third = of_race.index[of_race["finish_pos"] == 3][0]
    heat = raw.nvd_se.copy()
    heat.loc[second, "kakutei_chakujun"] = "01"
    assert validate(replace(raw, nvd_se=heat)).quarantine.empty
    gap = raw.nvd_se.copy()
    gap.loc[third, "kakutei_chakujun"] = "04"
    valid = validate(replace(raw, nvd_se=gap))
    assert valid.quarantine["check_name"].tolist() == ["finish_positions_in_order"]
    assert first_race not in set(valid.races["race_id"])


def test_non_finishers_are_kept_and_flagged() -> None:
    """Scratched, excluded and pulled-up runners stay in the valid runners with their code."""
    raw = simulated()
    valid = validate(raw)
    non_finishers = valid.runners[valid.runners["finish_pos"].isna()]
    assert len(non_finishers) > 0
    assert (non_finishers["abnormal_code"] != 0).all()
    assert len(valid.runners) == len(raw.nvd_se)


def test_jra_and_nar_venues_are_in_scope_for_every_table() -> None:
    """NAR and JRA 01-10 venues are accepted whichever table they come from (JRA flows
    through); ban-ei 83 and codes in neither list are not."""
    jra = {f"{c:02d}" for c in range(1, 11)}
    assert circuit_venue_codes("jra") == jra
    assert venue_codes_for(circuits()) == circuit_venue_codes("nar") | jra
    assert venue_codes_for(circuits()) == known_venue_codes()
    assert "83" not in known_venue_codes()


def test_jra_turf_race_with_blank_going_is_kept() -> None:
    """A turf race (track 11, as 盛岡 and JRA run) with its going in babajotai_code_shiba and a
    blank dirt going is valid, with the turf going decoded; a blank going or weather is 0
    (unknown), kept too."""
    raw = simulated()
    ra = raw.nvd_ra.copy()
    ra["babajotai_code_shiba"] = "0"
    first = ra.index[0]
    ra.loc[first, ["track_code", "babajotai_code_shiba", "babajotai_code_dirt"]] = ["11", "3", "0"]
    second = ra.index[1]
    ra.loc[second, ["babajotai_code_dirt", "tenko_code"]] = [" ", " "]
    moved = replace(raw, nvd_ra=ra)
    valid = validate(moved)
    assert valid.quarantine.empty
    going = valid.races.set_index("race_id")["going_code"]
    ids = race_ids(ra)
    assert going[ids[first]] == 3
    assert going[ids[second]] == 0


def test_validation_results_are_recorded_per_day() -> None:
    """A two-day validation records each day's rows and failures on that day."""
    raw = simulate_days(DAY - timedelta(days=1), DAY, SimulatorConfig(races_per_day=24)).raw
    se = raw.nvd_se.copy()
    last = len(se) - 1  # a runner of the second day
    se.loc[last, "soha_time"] = "1960"
    valid = validate(replace(raw, nvd_se=se))
    rows = validation_rows(valid.outcomes, "run-1", DAY).set_index(["race_date", "suite"])
    day_before, day = DAY - timedelta(days=1), DAY
    assert rows.loc[(day_before, "runners_results"), "success"]
    assert not rows.loc[(day, "runners_results"), "success"]
    assert rows.loc[(day, "runners_results"), "rows_failed"] == 1
    evaluated = rows.xs("runners_results", level="suite")["rows_evaluated"].sum()
    assert evaluated == len(raw.nvd_se)


def test_the_same_row_set_aside_morning_and_night_counts_once() -> None:
    """distinct_quarantine keeps one stage's rows per key; repeated copies still count each."""
    row = {"table_name": "runners", "race_id": "202611204401", "umaban": 3, "detail": "{}"}
    quarantine = pd.DataFrame(
        [
            {**row, "check_name": "fields_parse", "stage": "card"},
            {**row, "check_name": "fields_parse", "stage": "results"},
            {**row, "check_name": "row_not_repeated", "stage": "card"},
            {**row, "check_name": "row_not_repeated", "stage": "card"},
            {**row, "check_name": "row_not_repeated", "stage": "results"},
            {**row, "check_name": "row_not_repeated", "stage": "results"},
        ]
    )
    distinct = distinct_quarantine(quarantine)
    assert distinct["check_name"].value_counts().to_dict() == {
        "row_not_repeated": 2,
        "fields_parse": 1,
    }
    line = quarantine_summary(distinct)
    assert "\n" not in line and "3 rows quarantined" in line


def settings_for(tmp_path: Path, url: str | None = None, data_docs: bool = False) -> Settings:
    """A store (SQLite under tmp_path unless ``url``), schema upgraded."""
    settings = load_settings(
        db_url=url or f"sqlite:///{tmp_path / 'store.db'}",
        var_dir=tmp_path / "var",
        validation={"data_docs": data_docs},
    )
    upgrade_schema(make_engine(settings.database_url))
    return settings


def test_nothing_valid_fails_in_one_line_and_stores_only_the_record(
    tmp_path: Path, store_url: str
) -> None:
    """Every race 5000 m long: NothingValid says why; no race stored, the quarantine kept."""
    raw = simulated()
    settings = settings_for(tmp_path, store_url)
    bad = replace(raw, nvd_ra=raw.nvd_ra.assign(kyori="5000"))
    with pytest.raises(NothingValid) as error:
        validate_and_store(settings, bad, DAY, DAY, "card")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("nothing valid left for 2026-11-20: 40 races set aside")
    assert "distance_in_range 40" in message
    with make_engine(settings.database_url).connect() as connection:
        assert read_races(connection, DAY, DAY).empty
        assert len(read_quarantine(connection, DAY, DAY)) == 40
        results = read_rows(connection, VALIDATION)
    assert not results.set_index("suite").loc["races_card", "success"]


def test_data_docs_show_every_suite_of_a_validation(tmp_path: Path) -> None:
    """With Data Docs on, the index and a page per suite are built under var/data_docs."""
    settings = settings_for(tmp_path, data_docs=True)
    validate_and_store(settings, card_only(simulated()), DAY, DAY, "card")
    index = data_docs_index(settings.var_dir)
    assert index.is_file()
    pages = {page.parts[-4] for page in (index.parent / "validations").rglob("*.html")}
    assert pages == {"races_card", "runners_card", "odds_card"}
    assert "races_card" in index.read_text(encoding="utf-8")


def test_gx_builds_a_configuration_once_per_validation_and_anew_outside() -> None:
    """Inside run_suite's validations an expectation's configuration is built once (GX rebuilt
    it at every read, ~100 reads per expectation); outside, GX is unchanged: every read builds
    a fresh one (Data Docs copy suites from them)."""
    import great_expectations as gx

    from data_checks.gx_runner import _one_validation, gx_context

    gx_context()
    expectation = gx.expectations.ExpectColumnValuesToNotBeNull(column="race_id")
    assert expectation.configuration is not expectation.configuration
    with _one_validation():
        kept = expectation.configuration
        assert expectation.configuration is kept
    assert expectation.configuration is not kept
    assert expectation.configuration == kept


class _Label(StrEnum):
    RACE = "race"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"column": "race_id", "value_set": ["a", "b"], "mostly": None, "row_condition": None},
        {"column": "x", "min_value": 1.5, "max_value": 3, "strict": True, "parse": False},
        {"column": "x", "min_value": float("nan"), "max_value": None},
        {"column_list": ("race_id", "umaban"), "ignore_row_if": "all_values_are_missing"},
        {"column": "x", "result_format": {"result_format": "COMPLETE", "index": ["row_id"]}},
        {"column": "x", "value_set": {"b", "a"}},
        {"column": "x", "max_value": np.int64(3)},
        {"column": "x", "max_value": np.float64(0.1)},
        {"column": "x", "max_value": date(2026, 11, 20)},
        {"column": "x", "nested": {1: "one", 2: "two"}},
        {"column": "x", "nested": {True: "yes"}},
        {"column": _Label.RACE, "label": _Label.RACE},
        {"column": "x"},
        {},
    ],
)
def test_gx_metric_ids_made_the_short_way_are_gx_own(kwargs: dict[str, object]) -> None:
    """Inside a validation GX's metric ids skip its JSON conversion for plain kwargs; for
    plain ones and for those it must convert (NaN, sets, numpy scalars, dates, non-str keys,
    enums, one key) the id is the one GX makes."""
    from great_expectations.core.id_dict import IDDict

    from data_checks.gx_runner import _one_validation, gx_context

    gx_context()
    gx_to_id = IDDict.to_id.gx_to_id  # type: ignore[attr-defined]
    expected = gx_to_id(IDDict(kwargs))
    with _one_validation():
        assert IDDict(kwargs).to_id() == expected


def test_a_days_gx_metric_ids_are_gx_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every metric id a day's validation (card and results, clean and failing suites) makes
    the short way is the id GX's own conversion makes of the same kwargs, and most take it."""
    from great_expectations.core.id_dict import IDDict

    from data_checks.gx_runner import gx_context

    gx_context()
    fast_to_id = IDDict.to_id
    gx_to_id = fast_to_id.gx_to_id  # type: ignore[attr-defined]
    seen: list[tuple[dict[str, object], object, object]] = []  # kwargs, id made, GX's id

    def recording(self: IDDict, id_keys: object = None, id_ignore_keys: object = None) -> object:
        made = fast_to_id(self, id_keys, id_ignore_keys)
        if id_keys is None and id_ignore_keys is None:  # GX's: kept apart from its failures
            seen.append((dict(self), made, gx_to_id(IDDict(self))))
        return made

    monkeypatch.setattr(IDDict, "to_id", recording)
    raw = simulated()
    races = raw.nvd_ra.copy()
    races.loc[races.index[0], "kyori"] = "5000"  # a failing suite: GX's COMPLETE pass too
    validate(card_only(raw), phase="card")
    validated = validate(replace(raw, nvd_ra=races))
    assert not validated.outcomes[0].success  # races_results
    assert [kwargs for kwargs, made, gx_id in seen if made != gx_id] == []
    plain = [kwargs for kwargs, _made, _gx_id in seen if len(kwargs) > 1 and _plain(kwargs)]
    assert len(plain) > len(seen) / 2


def _plain(kwargs: dict[str, object]) -> bool:
    from data_checks.gx_runner import _plain_json

    return _plain_json(kwargs)


def test_a_later_stage_adds_its_pages_to_the_data_docs_site(tmp_path: Path) -> None:
    """A process keeps one site builder and copies GX's static assets once: the next stage's
    validation pages and suite pages are still rendered, listed, and styled."""
    settings = settings_for(tmp_path, data_docs=True)
    raw = simulated()
    validate_and_store(settings, card_only(raw), DAY, DAY, "card")
    validate_and_store(settings, raw, DAY, DAY, "results")
    site = data_docs_index(settings.var_dir).parent
    pages = {page.parts[-4] for page in (site / "validations").rglob("*.html")}
    phases = {"races_card", "runners_card", "odds_card", "races_results", "runners_results"}
    assert pages == phases
    assert phases <= {page.stem for page in (site / "expectations").glob("*.html")}
    assert (site / "static" / "styles").is_dir()
    text = (site / "index.html").read_text(encoding="utf-8")
    assert all(f"validations/{suite}/" in text for suite in phases)


def test_data_docs_work_offline_and_name_the_failing_races(tmp_path: Path) -> None:
    """The index is static (no script, nothing fetched from another host: GX's own index is
    blank offline) and lists a failed validation with its check; the failing suite's page
    names the failing races by race_id, not only "6 unexpected values"."""
    settings = settings_for(tmp_path, data_docs=True)
    raw = simulated()
    too_long = raw.nvd_ra.index % 7 == 0
    bad = replace(raw, nvd_ra=raw.nvd_ra.assign(kyori=raw.nvd_ra["kyori"].where(~too_long, "5000")))
    validate_and_store(settings, card_only(bad), DAY, DAY, "card")
    index = data_docs_index(settings.var_dir)
    text = index.read_text(encoding="utf-8")
    assert "<script" not in text and "https://" not in text
    assert "failed" in text and "distance_in_range" in text
    pages = sorted((index.parent / "validations" / "races_card").rglob("*.html"))
    assert len(pages) == 1 and pages[0].relative_to(index.parent).as_posix() in text
    page = pages[0].read_text(encoding="utf-8")
    failing_ids = raw.nvd_ra.loc[too_long]
    with make_engine(settings.database_url).connect() as connection:
        quarantined = set(read_quarantine(connection, DAY, DAY)["race_id"])
    assert quarantined and all(race_id in page for race_id in quarantined)
    assert len(quarantined) == len(failing_ids)


def test_a_failing_input_scoped_check_refuses_the_input() -> None:
    """A check of scope `input` turns any failing row into a refusal of the whole input."""
    import great_expectations.expectations as gxe

    check = Check(
        "rows_dated_in_range",
        lambda: gxe.ExpectColumnValuesToBeBetween(column="day", max_value=20),
        "a source that returned another period",
        scope="input",
    )
    frame = pd.DataFrame({"row_id": [0, 1, 2], "day": [19, 20, 21]})
    outcome = run_suite("input_scope_example", frame, [check])
    assert outcome.failures["row_id"].tolist() == [2]
    with pytest.raises(InputError, match="refused by check rows_dated_in_range"):
        refuse_on_input_scope((outcome,))
    refuse_on_input_scope((run_suite("input_scope_example", frame.iloc[:2], [check]),))


def test_a_long_files_source_is_stored_by_its_end() -> None:
    """races.source holds 40 characters: a long path keeps its kind and its last folders."""
    spec = "files:/home/analyst/pc-keiba/exports/2026/november/week-47"
    label = source_label(spec)
    assert len(label) == 40 and label.startswith("files:…") and label.endswith("week-47")
    assert source_label("files:/data/day") == "files:/data/day"


def test_a_card_may_be_a_week_ahead_but_not_more() -> None:
    """Cards dated up to 7 days after today (Japan) are kept; 8 days ahead sets every race aside
    with ``card_not_too_far_ahead``, before anything could be predicted or staked."""
    view = card_only(simulated())
    codes = circuit_venue_codes("nar")
    week_ahead = validate_day(view, phase="card", venue_codes=codes, as_of=DAY - timedelta(days=7))
    assert week_ahead.quarantine.empty
    too_far = validate_day(view, phase="card", venue_codes=codes, as_of=DAY - timedelta(days=8))
    assert too_far.races.empty
    assert set(too_far.quarantine["check_name"]) == {"card_not_too_far_ahead"}


def test_a_race_dated_before_1990_is_set_aside_in_both_phases() -> None:
    """1899-01-01 (a zeroed or shifted kaisai_nen) is no NAR race: its race is quarantined."""
    raw = simulated()
    first = raw.nvd_ra.iloc[0]
    key = ["kaisai_nen", "kaisai_tsukihi", "keibajo_code", "race_bango"]
    frames = {}
    for name in ("nvd_ra", "nvd_se", "nvd_o1"):
        frame = getattr(raw, name).copy()
        rows = (frame[key] == first[key].to_numpy()).all(axis=1)
        frame.loc[rows, ["kaisai_nen", "kaisai_tsukihi"]] = ["1899", "0101"]
        frames[name] = frame
    moved = RawDay(**frames)
    for phase, view in (("card", card_only(moved)), ("results", moved)):
        valid = validate_day(view, phase=phase, venue_codes=circuit_venue_codes("nar"), as_of=DAY)  # type: ignore[arg-type]
        set_aside = valid.quarantine[valid.quarantine["check_name"] == "race_date_not_before_1990"]
        assert len(set_aside) == 1 and set_aside["race_id"].iloc[0].startswith("1899")
        assert len(valid.races) == len(raw.nvd_ra) - 1


def test_a_venue_outside_nar_and_jra_is_kept_and_ban_ei_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A user's own export may hold an overseas venue: a two-digit code of neither circuit, or
    JV-Data's letter code of a race abroad (G0 Hong Kong, written g0 by a tool that lower-cases
    it): its races are kept (learned as a venue of its own) and named as of no circuit; ban-ei
    (83) is another sport, and 4A no venue code: set aside, and not named as kept."""
    raw = simulated()
    venues = sorted(raw.nvd_ra["keibajo_code"].unique())
    renamed = {venues[0]: "99", venues[1]: "83", venues[2]: "4A"}

    def recode(table: pd.DataFrame) -> pd.DataFrame:  # the first venue's odd races abroad
        odd = table["race_bango"].astype(int) % 2 == 1
        abroad = (table["keibajo_code"] == venues[0]) & odd
        return table.assign(keibajo_code=table["keibajo_code"].replace(renamed).mask(abroad, "g0"))

    recoded = RawDay(
        nvd_ra=recode(raw.nvd_ra), nvd_se=recode(raw.nvd_se), nvd_o1=recode(raw.nvd_o1)
    )
    with caplog.at_level("WARNING"):
        valid = validate(recoded)
    kept = set(valid.races["keibajo_code"])
    assert {"99", "G0"} <= kept and not kept & {"83", "4A", "g0"}
    for written, stored in (("99", "99"), ("g0", "G0")):
        races = valid.races[valid.races["keibajo_code"] == stored]
        assert len(races) == (recoded.nvd_ra["keibajo_code"] == written).sum()
        assert races["race_id"].str.slice(8, 10).eq(stored).all()
        assert (
            valid.runners["race_id"].isin(races["race_id"]).sum()
            == (recoded.nvd_se["keibajo_code"] == written).sum()
        )
    # named once a read, by the ingest (tests/integration/test_overseas_venue.py), not here
    assert not [r for r in caplog.records if "neither NAR nor JRA" in r.getMessage()]
    assert venues_of_no_circuit(recoded.nvd_ra, circuit_venue_codes("nar")) == ["99", "G0"]
    assert venues_of_no_circuit(pd.DataFrame(), circuit_venue_codes("nar")) == []  # no input


def test_a_failing_page_names_only_the_failing_races_and_keeps_the_detail(tmp_path: Path) -> None:
    """The index is plain HTML (GX's draws its list with scripts from CDNs: blank offline) that
    links every validation page, and a failed expectation's page lists the races it set aside
    by race id (not only "2 unexpected values"); the quarantine's detail is unchanged."""
    import great_expectations.expectations as gxe

    check = Check(
        "distance_in_range",
        lambda: gxe.ExpectColumnValuesToBeBetween(column="kyori", min_value=800, max_value=3600),
        "a distance no race is run over",
    )
    frame = pd.DataFrame(
        {
            "row_id": [0, 1, 2, 3],
            "race_id": ["202611204401", "202611204402", "202611204403", "202611204404"],
            "kyori": [1200, 500, 1400, 400],
        }
    )
    outcome = run_suite("offline_docs_example", frame, [check])
    assert outcome.failures["detail"].tolist() == ['{"kyori": 500}', '{"kyori": 400}']
    index = publish([outcome], tmp_path / "var", "validate_card-2026-11-20", "batch")
    assert index is not None
    text = index.read_text(encoding="utf-8")
    assert "<script" not in text and "https://" not in text
    (page,) = (index.parent / "validations" / "offline_docs_example").rglob("*.html")
    assert f'href="{page.relative_to(index.parent).as_posix()}"' in text
    assert "failed" in text
    shown = page.read_text(encoding="utf-8")
    assert "202611204402" in shown and "202611204404" in shown
    assert "202611204401" not in shown


def test_a_chunks_card_and_results_decode_its_runners_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backfill chunk's card check (with its replay odds and bet-time odds) and results check
    decode nvd_se once, the rows as they are, shared by the rest; the card's view of it decodes
    again only the columns of the fields it blanks (its results)."""
    import raceday.sources.base as base
    from raceday.sources.timeline import CardTiming
    from tasks.validate import validate_phase, with_betting_odds

    decoded: list[tuple[pd.DataFrame, list[str] | None]] = []

    def counted(nvd_se: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        decoded.append((nvd_se, columns))
        return decode_runners(nvd_se) if columns is None else decode_runners(nvd_se, columns)

    monkeypatch.setattr(base, "decode_runners", counted)
    raw = replace(simulated())  # a fresh day: nothing decoded yet
    card = with_betting_odds(raw, validate_phase(raw, "card", CardTiming()))
    results = validate_phase(raw, "results", CardTiming())
    whole = [table for table, columns in decoded if columns is None]
    assert len(whole) == 1 and whole[0]["kakutei_chakujun"].ne("00").any()  # the rows as they are
    (blanked, columns), *others = [(table, cols) for table, cols in decoded if cols is not None]
    assert not others and (blanked["kakutei_chakujun"] == "00").all()  # the card view's
    assert columns is not None and "finish_pos" in columns and "horse_id" not in columns
    assert card.runners["finish_pos"].isna().all()
    assert results.runners["finish_pos"].notna().any()


def test_a_race_priced_only_after_its_deadline_is_not_sized_on_its_final_odds() -> None:
    """At 09:00 a race whose source prices it only later had no odds: no bet-time odds, as the
    daily run would have seen; a race the source never prices before its close (history from
    final results only) is sized on its final odds, marked ``final``."""
    from raceday.pipeline import FINAL_ODDS_SNAPSHOT
    from raceday.sources.timeline import CardTiming, published_at
    from tasks.validate import validate_phase, with_betting_odds

    raw = simulated()
    late, unpriced, *_ = race_ids(raw.nvd_ra).drop_duplicates()
    odds_race = race_ids(raw.nvd_o1)
    early = published_at(raw.nvd_o1).dt.hour < 10
    kept = ~((odds_race == late) & early) & (odds_race != unpriced)
    assert ((odds_race == late) & ~early).any()  # the race is priced after 09:00
    raw = replace(raw, nvd_o1=raw.nvd_o1[kept.to_numpy(bool)].reset_index(drop=True))
    card = with_betting_odds(raw, validate_phase(raw, "card", CardTiming()))
    by_race = {race: set(stamps) for race, stamps in card.odds.groupby("race_id")["snapshot_at"]}
    assert late in set(card.races["race_id"]) and late not in by_race
    assert by_race[unpriced] == {FINAL_ODDS_SNAPSHOT}
    assert all(FINAL_ODDS_SNAPSHOT not in by_race[race] for race in by_race.keys() - {unpriced})


def test_a_horse_twice_in_one_race_sets_the_race_aside() -> None:
    """Two runners of a race with one horse id (a key shifted onto another runner) set the race
    aside (``horse_once_in_race``); the same horse in two races, blank ids and an exact copy
    of a row (``row_not_repeated``) do not trigger it."""
    raw = simulated()
    se = raw.nvd_se.copy()
    races = race_ids(se)
    twice, other = races.iloc[0], races[races != races.iloc[0]].iloc[0]
    first, second = se.index[races == twice][:2]
    se.loc[second, "ketto_toroku_bango"] = se.loc[first, "ketto_toroku_bango"]
    blanks = se.index[races == other][:2]
    se.loc[blanks, "ketto_toroku_bango"] = ""
    valid = validate_day(
        replace(raw, nvd_se=se), phase="results", venue_codes=venue_codes_for(circuits())
    )
    assert twice not in set(valid.races["race_id"]) and other in set(valid.races["race_id"])
    failed = valid.quarantine[valid.quarantine["check_name"] == "horse_once_in_race"]
    assert set(failed["race_id"]) == {twice} and len(failed) == 2


def test_letter_codes_for_weather_going_and_sex_are_unknown_not_a_corrupt_record() -> None:
    """An overseas export's codes (weather "F", going "WS" or "GF", sex "G"): each decodes to
    unknown (0) and the race is kept, as a digit outside the set is; only a numeric field
    holding text is a corrupt record."""
    raw = simulated()
    ra, se = raw.nvd_ra.copy(), raw.nvd_se.copy()
    ra["tenko_code"], ra["babajotai_code_dirt"], ra["babajotai_code_shiba"] = "F", "WS", "GF"
    se["seibetsu_code"] = "G"
    valid = validate_day(
        replace(raw, nvd_ra=ra, nvd_se=se), phase="results", venue_codes=venue_codes_for(circuits())
    )
    assert len(valid.races) == len(raw.races) and valid.quarantine.empty
    assert (valid.races["weather_code"] == 0).all() and (valid.races["going_code"] == 0).all()
    assert (valid.runners["sex_code"] == 0).all()


def test_ids_and_gates_wider_than_jv_data_are_kept_and_stored(
    tmp_path: Path, store_url: str
) -> None:
    """An export beyond JV-Data's widths (Hong Kong's): horse ids of 12 characters, jockey and
    trainer codes of letters longer than 5, a barrier draw of 10-14 where the gate is: every
    race is kept (it was set aside whole by ``fields_fit_the_store`` and ``fields_parse``), and
    the store holds the ids as written."""
    raw = simulated()
    se = raw.nvd_se.copy()
    se["ketto_toroku_bango"] = "HK" + se["ketto_toroku_bango"]  # 12 characters
    se["kishu_code"] = "PURTON" + se["kishu_code"].str[-3:]
    se["chokyoshi_code"] = "FOWNES" + se["chokyoshi_code"].str[-3:]
    wide = se["umaban"].astype(int) > 9
    se.loc[wide, "wakuban"] = se.loc[wide, "umaban"].astype(int).astype(str)
    assert wide.any()
    valid = validate(replace(raw, nvd_se=se))
    assert valid.quarantine.empty, valid.quarantine.head()
    assert len(valid.races) == len(raw.nvd_ra)
    settings = settings_for(tmp_path, store_url)
    validate_and_store(settings, replace(raw, nvd_se=se), DAY, DAY, "results")
    with make_engine(settings.database_url).connect() as connection:
        stored = read_rows(connection, RUNNERS)
    assert set(stored["horse_id"]) == set(se["ketto_toroku_bango"])
    assert stored["jockey_id"].str.len().max() == 9
    assert stored["wakuban"].max() >= 10


def test_a_day_of_only_races_abroad_listing_part_of_their_field_is_not_refused(
    tmp_path: Path,
) -> None:
    """A JRA-VAN database's day whose only race is abroad (the Melbourne Cup's Tuesday: its
    Japanese runners listed, not its field) is what the database always holds: the race is set
    aside, and the day is a day without races, not refused as bad input (exit 4, never mended).
    The same race at home, listing part of its field, still refuses the day."""
    raw = simulated()
    first = raw.nvd_ra.index[:1]
    key = race_ids(raw.nvd_ra).loc[first[0]]
    ra = raw.nvd_ra.loc[first].assign(shusso_tosu="18", toroku_tosu="18")
    se = raw.nvd_se[race_ids(raw.nvd_se) == key]
    se = se[se["kakutei_chakujun"].astype(int) % 3 == 1]  # a few runners, as placed abroad
    o1 = raw.nvd_o1[race_ids(raw.nvd_o1) == key]
    at_home = RawDay(ra, se, o1)
    abroad = RawDay(*(frame.assign(keibajo_code="A6") for frame in (ra, se, o1)))
    settings = settings_for(tmp_path)
    valid = validate_and_store(settings, card_only(abroad), DAY, DAY, "card")
    assert valid.races.empty
    assert set(valid.quarantine["check_name"]) >= {"card_lists_the_field"}
    night = validate_and_store(settings, abroad, DAY, DAY, "results")
    assert night.races.empty and not night.quarantine.empty  # its finishing order: set aside
    with pytest.raises(NothingValid):
        validate_and_store(settings, card_only(at_home), DAY, DAY, "card")


def cancelled(raw: RawDay, races: pd.Series) -> RawDay:
    """``raw`` with every record of ``races`` (race ids) marked cancelled (データ区分 9)."""
    ra, se = raw.nvd_ra.copy(), raw.nvd_se.copy()
    ra.loc[race_ids(ra).isin(races).to_numpy(bool), "data_kubun"] = "9"
    se.loc[race_ids(se).isin(races).to_numpy(bool), "data_kubun"] = "9"
    return replace(raw, nvd_ra=ra, nvd_se=se)


def a_venue_morning(raw: RawDay, races: int = 6) -> RawDay:
    """The first ``races`` races of ``raw``: enough to tell, cheap to validate."""
    kept = race_ids(raw.nvd_ra).iloc[:races]
    return RawDay(
        *(
            frame[race_ids(frame).isin(kept).to_numpy(bool)]
            for frame in (raw.nvd_ra, raw.nvd_se, raw.nvd_o1)
        )
    )


def test_a_day_whose_every_race_was_cancelled_is_a_day_without_races_not_refused(
    tmp_path: Path,
) -> None:
    """A typhoon or snow cancels a meeting whole every year: every record of the day says 9.
    That is the provider's true word, nothing to mend: the day stores no race, its records are
    quarantined as cancelled (``race_not_cancelled``), and it is not refused as bad input (exit
    4 on every run and backfill, forever). One race that is also broken still refuses it."""
    raw = a_venue_morning(simulated())
    every = race_ids(raw.nvd_ra)
    day_off = cancelled(raw, every)
    settings = settings_for(tmp_path)
    for phase, view in (("card", card_only(day_off)), ("results", day_off)):
        valid = validate_and_store(settings, view, DAY, DAY, phase)  # type: ignore[arg-type]
        assert valid.races.empty and set(valid.quarantine["race_id"]) == set(every)
        assert set(valid.quarantine["check_name"]) == {"race_not_cancelled"}
    run_after_all = cancelled(raw, every.iloc[1:])  # its first race run, but broken
    broken = run_after_all.nvd_ra.copy()
    broken.loc[broken.index[0], "kyori"] = "XXXX"
    with pytest.raises(NothingValid):
        validate_and_store(settings, replace(run_after_all, nvd_ra=broken), DAY, DAY, "results")


def test_a_race_cancelled_in_the_morning_database_is_not_judged_as_results_at_night() -> None:
    """A race cancelled in a morning database (its race record says 9, データ区分 レース中止;
    its runners' records still the card's, no result) is read at night as it was: set aside
    as cancelled (``race_not_cancelled``), once, not with one ``non_finisher_flagged`` row per
    runner (a runner of a race not run has no finish to flag); other races are judged."""
    raw = a_venue_morning(simulated())
    race = race_ids(raw.nvd_ra).iloc[0]
    ra = raw.nvd_ra.copy()
    ra.loc[race_ids(ra).eq(race).to_numpy(bool), "data_kubun"] = "9"
    morning = card_only(raw)
    se = raw.nvd_se.copy()
    of_race = race_ids(se).eq(race).to_numpy(bool)
    se.loc[of_race] = morning.nvd_se.loc[of_race]
    valid = validate(replace(raw, nvd_ra=ra, nvd_se=se))
    assert set(valid.quarantine["check_name"]) == {"race_not_cancelled"}
    assert set(valid.quarantine["race_id"]) == {race}
    assert len(valid.races) == len(raw.nvd_ra) - 1


@pytest.mark.parametrize("undated", ["0231", ""])
def test_a_range_whose_days_are_all_refused_is_not_refused_for_a_row_of_no_day(
    tmp_path: Path, undated: str
) -> None:
    """A backfill resumed over its refused days only reads them with the rows of no day every
    read returns (a runner dated 31 February, or undated): each day is refused alone, as its
    daily run would be, and the stray row is no day's input: the range is not refused for it
    (the backfill failed as a flow on the stray row's checks, and rewrote the day's
    quarantine with them). Nothing is written: the chain records each day's refusal."""
    raw = a_venue_morning(simulated())
    ra = raw.nvd_ra.assign(kyori="XXXX")  # every race set aside: the day is refused
    stray = raw.nvd_se.iloc[:1].assign(kaisai_tsukihi=undated)
    read = replace(raw, nvd_ra=ra, nvd_se=pd.concat([raw.nvd_se, stray], ignore_index=True))
    settings = settings_for(tmp_path)
    screened = screen_days(settings, read, DAY, DAY, ("card",))  # (the card refuses it first)
    assert screened.validated == {}
    [refused] = screened.refused
    assert refused.refusal.day == DAY
    assert refused.refusal.reason.startswith(f"nothing valid left for {DAY} (card): 6 races set")
    with make_engine(settings.database_url).connect() as connection:
        assert read_quarantine(connection, DAY, DAY).empty
