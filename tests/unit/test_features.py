"""Point-in-time features on small hand-checkable histories: last-k indexes, days since, changes,
people windows, preferences, explicit missing history, and range build = day-by-day build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from raceday.ratings.career_sums import FoldedRuns
from raceday.ratings.features import (
    CARD_COLUMNS,
    FEATURE_COLUMNS,
    FEATURE_DTYPES,
    FEATURE_SET_VERSION,
    HISTORY_COLUMNS,
    KEY_COLUMNS,
    RUN_ORDER,
    BuiltFeatures,
    CardHistory,
    build_features,
    class_rank,
    feature_set_name,
    going_group,
    horse_codes,
    horse_date_order,
    past_runs,
    people_daily_counts,
    run_rows,
    run_statistics,
    trailing_counts,
)

D = pd.Timestamp("2026-06-01")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "INDEXES.md"


def run(horse: str, days_before: int, **values: object) -> dict[str, object]:
    """One past run ``days_before`` D (race id unique per horse and day)."""
    row: dict[str, object] = {
        "race_id": f"{horse}-{days_before}", "umaban": 1,
        "race_date": D - pd.Timedelta(days=days_before), "horse_id": horse,
        "keibajo_code": "44", "distance_m": 1200, "class_code": "C3", "going_code": 1,
        "field_size": 11, "jockey_id": "J1", "trainer_id": "T1", "weight_carried_kg": 55.0,
        "abnormal_code": 0, "finish_pos": 5, "time_behind_s": 1.0, "corner_1": pd.NA,
        "corner_2": pd.NA, "corner_3": 6, "corner_4": 5, "speed_index": 70.0,
        "ten_index": 70.0, "agari_index": 70.0, "composite_index": 70.0,
    }  # fmt: skip
    row.update(values)
    return row


def history(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    for column in ("finish_pos", "corner_1", "corner_2", "corner_3", "corner_4", "going_code"):
        frame[column] = frame[column].astype("Int64")
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


def card(horse: str, day: pd.Timestamp = D, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "race_id": f"card-{horse}-{day:%m%d}", "umaban": 3, "race_date": day,
        "horse_id": horse, "keibajo_code": "44", "distance_m": 1400, "class_code": "C2",
        "going_code": 2, "field_size": 10, "entries": 11, "wakuban": 3, "jockey_id": "J1",
        "trainer_id": "T1", "weight_carried_kg": 56.0, "body_weight_kg": 470,
        "body_weight_diff_kg": -4, "age": 4, "sex_code": 1,
    }  # fmt: skip
    row.update(values)
    return row


def cards(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=CARD_COLUMNS)
    frame["class_code"] = frame["class_code"].astype("string")
    return frame


def one(features: pd.DataFrame, horse: str) -> pd.Series:
    return features.set_index("horse_id").loc[horse]


def test_last_k_indexes_days_since_and_changes_by_hand() -> None:
    """Runs 40, 25 and 10 days before D with speed 70, 75, 80 (the last one unplaced, 1 kg
    lighter, at 1200 m in C3): last1 80, mean3 75, best5 80, n5 3; 10 days since; +200 m;
    class C2 vs C3 = -1 (moving up); +1 kg."""
    past = history(
        [
            run("H", 40, speed_index=70.0, finish_pos=1, time_behind_s=-0.3),
            run("H", 25, speed_index=75.0, finish_pos=2, time_behind_s=0.2),
            run("H", 10, speed_index=80.0, finish_pos=pd.NA, abnormal_code=4,
                time_behind_s=np.nan, ten_index=np.nan),
        ]
    )  # fmt: skip
    row = one(build_features(past, cards([card("H")])), "H")
    assert (row["speed_last1"], row["speed_mean3"], row["speed_best5"]) == (80.0, 75.0, 80.0)
    assert row["speed_n5"] == 3 and row["ten_n5"] == 2 and np.isnan(row["ten_last1"])
    assert row["n_past_runs"] == 3 and not row["no_history"]
    assert row["days_since_last_run"] == 10.0
    assert row["distance_change_m"] == 200.0
    assert row["class_change"] == -1.0
    assert row["weight_carried_change_kg"] == 1.0
    assert np.isnan(row["finish_pos_last1"]), "a run without a position (中止)"
    assert row["finish_pos_mean5"] == 1.5
    assert row["finish_ratio_mean5"] == pytest.approx((0.0 + 0.1) / 2)
    assert row["margin_mean5_s"] == pytest.approx(-0.05)
    assert row["early_pos_ratio_mean5"] == pytest.approx(0.5)
    assert row["win_rate_career"] == pytest.approx(1 / 3)
    assert row["top3_rate_career"] == pytest.approx(2 / 3)


def test_only_the_last_five_runs_count() -> None:
    """Seven runs with speed 60..66: last-5 mean is 64 and best 66, the career has 7 runs."""
    past = history([run("H", 100 - 10 * i, speed_index=60.0 + i) for i in range(7)])
    row = one(build_features(past, cards([card("H")])), "H")
    assert row["speed_mean5"] == pytest.approx(64.0) and row["speed_best5"] == 66.0
    assert row["speed_mean3"] == pytest.approx(65.0) and row["n_past_runs"] == 7


def test_no_history_is_explicit() -> None:
    """A first-time starter: counts 0, no_history true, every statistic NaN (not 0)."""
    row = one(build_features(history([run("OTHER", 5)]), cards([card("NEW")])), "NEW")
    assert row["no_history"] and row["n_past_runs"] == 0 and row["speed_n5"] == 0
    assert row["n_runs_at_venue"] == 0 and row["n_runs_on_going"] == 0
    for name in ("speed_last1", "days_since_last_run", "win_rate_career", "class_change",
                 "speed_vs_career_at_venue", "margin_last1_s"):  # fmt: skip
        assert np.isnan(row[name]), name


def test_a_blank_horse_id_is_an_unknown_horse_not_one_horse() -> None:
    """Runners without a horse id (an export that lacks them) are each a horse without a
    history, as a first-time starter, never the career of every other runner without one;
    a horse with an id keeps its own."""
    past = history([run("", 30, speed_index=90.0), run("", 20, finish_pos=1), run("H", 10)])
    built = build_features(past, cards([card(""), card("H", race_id="card-H")]))
    blank, debut = (
        built[built["horse_id"] == ""].iloc[0],
        one(build_features(past, cards([card("NEW")])), "NEW"),
    )
    assert blank["no_history"] and blank["n_past_runs"] == 0
    columns = [c for c in FEATURE_COLUMNS if c not in {"no_history"}]
    assert_frame_equal(
        blank[columns].to_frame().T.reset_index(drop=True),
        debut[columns].to_frame().T.reset_index(drop=True),
        check_dtype=False,
    )
    assert one(built, "H")["n_past_runs"] == 1


def test_runs_on_or_after_the_day_are_never_seen() -> None:
    """The horse's own run on D and a later one exist in history: neither is used."""
    past = history(
        [
            run("H", 20, speed_index=70.0),
            run("H", 0, speed_index=99.0, finish_pos=1),
            run("H", -7, speed_index=120.0, finish_pos=1),
        ]
    )
    row = one(build_features(past, cards([card("H")])), "H")
    assert row["speed_last1"] == 70.0 and row["n_past_runs"] == 1
    assert row["jockey_rides_window"] == 1 and row["jockey_win_rate_window"] == 0.0


def test_jockey_and_trainer_windows() -> None:
    """J1 won 200 and 100 days before, lost 10 days before and won on D: in a 180-day window,
    2 rides and a 50% win rate; a jockey without rides has a NaN rate and 0 rides."""
    past = history(
        [
            run("A", 200, finish_pos=1),
            run("B", 100, finish_pos=1, trainer_id="T2"),
            run("C", 10, finish_pos=4),
            run("D", 0, finish_pos=1),
        ]
    )
    features = build_features(past, cards([card("X"), card("Y", jockey_id="J9")]), 180)
    x, y = one(features, "X"), one(features, "Y")
    assert x["jockey_rides_window"] == 2 and x["jockey_win_rate_window"] == 0.5
    assert x["trainer_runs_window"] == 1 and x["trainer_win_rate_window"] == 0.0
    assert y["jockey_rides_window"] == 0 and np.isnan(y["jockey_win_rate_window"])
    wide = build_features(past, cards([card("X")]), 365)
    assert one(wide, "X")["jockey_rides_window"] == 3


def test_venue_and_going_preference() -> None:
    """Speed 90 at 44 on wet going, 70 elsewhere on dry: career mean 80, so at 44 +10 and on
    wet (today's going 2) +10; counts 1."""
    past = history(
        [
            run("H", 30, speed_index=90.0, going_code=3),
            run("H", 15, speed_index=70.0, keibajo_code="45"),
        ]
    )
    row = one(build_features(past, cards([card("H")])), "H")
    assert row["n_runs_at_venue"] == 1 and row["speed_vs_career_at_venue"] == 10.0
    assert row["n_runs_on_going"] == 1 and row["speed_vs_career_on_going"] == 10.0


def test_card_features_and_dtypes() -> None:
    """Card values pass through; draw ratio uses entries; columns and dtypes follow FEATURES."""
    features = build_features(history([]), cards([card("H")]))
    assert list(features.columns) == [*KEY_COLUMNS, *FEATURE_COLUMNS]
    assert {name: str(features[name].dtype) for name in FEATURE_COLUMNS} == FEATURE_DTYPES
    row = one(features, "H")
    assert row["draw_ratio"] == pytest.approx(0.2) and row["class_rank"] == 10.0
    assert row["body_weight_diff_kg"] == -4.0 and row["umaban_draw"] == 3.0


def test_result_columns_on_the_card_are_ignored() -> None:
    """A card frame that still carries results (a range build over settled days) gives the same
    features as the bare card."""
    bare = cards([card("H")])
    with_results = bare.assign(finish_pos=1, finish_time_s=70.0, speed_index=150.0)
    past = history([run("H", 10)])
    assert_frame_equal(build_features(past, bare), build_features(past, with_results))


def test_range_build_equals_day_by_day() -> None:
    """Cards on three days, horses running on several of them: one range build equals three
    single-day builds that only see runs before their day."""
    days = [D + pd.Timedelta(days=offset) for offset in (0, 14, 28)]
    past_rows = [run(horse, 60 - 5 * i, speed_index=60.0 + i, finish_pos=1 + i % 4)
                 for i, horse in enumerate(["H", "G", "H", "K", "G", "H"])]  # fmt: skip
    pairs = (("H", "J1"), ("G", "J2"), ("N", "J1"))
    card_rows = [card(horse, day, jockey_id=jockey) for day in days for horse, jockey in pairs]
    # What each card day ran, as results: later days' history.
    results = [
        run(row["horse_id"], (D - row["race_date"]).days, race_id=row["race_id"],
            jockey_id=row["jockey_id"], speed_index=75.0 + k, finish_pos=1 + k % 3)
        for k, row in enumerate(card_rows)
    ]  # fmt: skip
    full_history = history(past_rows + results)
    all_cards = cards(card_rows)
    ranged = build_features(full_history, all_cards)
    daily = pd.concat(
        [
            build_features(
                full_history[full_history["race_date"] < day],
                all_cards[all_cards["race_date"] == day],
            )
            for day in days
        ],
        ignore_index=True,
    )
    assert_frame_equal(ranged, daily)
    assert one(ranged[ranged["race_date"] == days[2]], "N")["n_past_runs"] == 2


def test_statistics_of_the_joinable_runs_equal_those_of_every_run() -> None:
    """Statistics computed only for the runs a card from ``since`` on can be joined with (the
    newest before, every later one) are those rows of the statistics of every run, exactly;
    two horses with 7 and 2 runs, one of them twice on a day."""
    rows = [run("H", 100 - 10 * i, speed_index=60.0 + 0.1 * i, finish_pos=1 + i % 5,
                keibajo_code="44" if i % 2 else "45") for i in range(7)]  # fmt: skip
    rows += [run("G", 55, speed_index=81.3), run("G", 55, race_id="G-55b", speed_index=77.7)]
    runs = past_runs(history(rows))
    since = D - pd.Timedelta(days=50)
    every, joinable = run_statistics(runs), run_statistics(runs, since)
    # G's second run of its day; H's runs 60 (the newest before since), 50 and 40 days before D
    assert joinable.index.tolist() == [1, 6, 7, 8]
    assert_frame_equal(joinable, every.loc[joinable.index], check_exact=True)


def test_built_features_are_taken_as_built_and_the_rest_built() -> None:
    """A training's build over days a chunk built takes the chunk's rows and builds the others:
    the same rows as one build; days beyond ``keep_days`` and another people window are not
    taken."""
    past = history([run(horse, 30 - k, speed_index=70.0 + k) for k, horse in enumerate("HGHKG")])
    days = [D + pd.Timedelta(days=offset) for offset in (0, 7, 14)]
    every = cards([card(horse, day) for day in days for horse in "HGN"])
    one_build = build_features(past, every)
    built = BuiltFeatures(keep_days=10)
    built.remember(build_features(past, every[every["race_date"] >= days[1]]), 180)
    assert sorted(built.days) == days[1:]
    asked: list[int] = []

    def history_for(unbuilt: pd.DataFrame) -> CardHistory:
        asked.append(len(unbuilt))
        return past, None, None

    taken = built.build(history_for, every, 180)
    assert asked == [3], "the history is asked for the cards not built only (day 0's three)"
    key = ["race_id", "umaban"]
    assert_frame_equal(
        taken.sort_values(key, ignore_index=True), one_build.sort_values(key, ignore_index=True)
    )
    assert sorted(built.days) == days[1:], "day 0 is more than 10 days before the newest"
    rebuilt = built.build(lambda _: (past, None, None), every, 90)
    assert rebuilt.equals(build_features(past, every, 90))
    assert built.people_window_days == 90 and sorted(built.days) == days[1:]


def test_class_rank_and_feature_set_names() -> None:
    """A1 = 1, B2 = 6, C4 = 12, anything else NaN; the default window keeps the plain id."""
    ranks = class_rank(pd.Series(["A1", "B2", "C4", None, "2YO"], dtype="string"))
    assert ranks.tolist()[:3] == [1.0, 6.0, 12.0] and ranks.iloc[3:].isna().all()
    assert feature_set_name() == FEATURE_SET_VERSION
    assert feature_set_name(90) == f"{FEATURE_SET_VERSION}-w90"


def test_every_feature_is_documented() -> None:
    """docs/INDEXES.md names every feature column (the model's contract)."""
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in FEATURE_COLUMNS if f"`{name}`" not in text]
    assert not missing, missing


def test_going_group_of_unknown_codes_is_unknown() -> None:
    """Blank (NA) going, 0 (not recorded) and codes outside 1-4 are "unknown": never NA in a
    boolean context (a Hong Kong export crashed here), never "wet"."""
    codes = pd.Series([1, 2, 4, pd.NA, 0, 7], dtype="Int64")
    assert going_group(codes).tolist() == ["dry", "wet", "wet", "unknown", "unknown", "unknown"]


PERSON_DAYS = st.lists(
    st.tuples(
        st.sampled_from(["J1", "J2", "", "ＪＸ", None]),  # the person (None: missing)
        st.integers(0, 40),  # the day
        st.integers(0, 3),  # runs that day
        st.integers(0, 3),  # wins that day
    ),
    max_size=30,
)


@given(daily_rows=PERSON_DAYS, asked=PERSON_DAYS, window=st.integers(0, 45))
def test_trailing_counts_are_the_sums_over_the_window_before_the_day(
    daily_rows: list[tuple[str | None, int, int, int]],
    asked: list[tuple[str | None, int, int, int]],
    window: int,
) -> None:
    """Each (person, day D) asked: the runs and wins of that person's daily rows dated in
    [D - window, D), summed (several rows of one day, an id never seen, a missing id asked as
    blank, a missing id in the counts matching nothing), in the order asked."""
    daily = pd.DataFrame(
        {
            "role": "jockey_id",
            "person_id": pd.Series([p for p, _, _, _ in daily_rows], dtype="string"),
            "race_date": pd.Series([D + pd.Timedelta(days=d) for _, d, _, _ in daily_rows],
                                   dtype="datetime64[ns]"),
            "runs": pd.Series([r for _, _, r, _ in daily_rows], dtype="int64"),
            "wins": pd.Series([w for _, _, _, w in daily_rows], dtype="int64"),
        }
    )  # fmt: skip
    queries = sorted(asked, key=lambda row: row[1])  # by day, as build_features asks
    person_id = pd.Series([p for p, _, _, _ in queries], dtype="object")
    race_date = pd.Series([D + pd.Timedelta(days=d) for _, d, _, _ in queries],
                          dtype="datetime64[ns]")  # fmt: skip
    counts = trailing_counts(daily, person_id, race_date, window)
    expected = [
        [sum(row[k] for row in daily_rows
             if row[0] is not None and row[0] == (p or "") and d - window <= row[1] < d)
         for k in (2, 3)]
        for p, d, _, _ in queries
    ]  # fmt: skip
    assert counts.to_numpy().tolist() == expected
    assert list(counts.columns) == ["runs", "wins"] and len(counts) == len(queries)
    assert (counts.dtypes == "int64").all()


HORSE_IDS = st.lists(
    st.sampled_from(["", "2019100001", "2019100002", "ＡＢ", " 7", "x"]), max_size=25
)


@given(runs=HORSE_IDS, cards=HORSE_IDS, arrow=st.booleans())
def test_horse_codes_are_one_per_id_and_minus_one_for_a_card_horse_without_runs(
    runs: list[str], cards: list[str], arrow: bool
) -> None:
    """Grouping and joining by the codes is grouping and joining by the ids (blank included)."""
    dtype = "string" if arrow else "object"
    run_codes, card_codes = horse_codes(pd.Series(runs, dtype=dtype), pd.Series(cards, dtype=dtype))
    assert len(run_codes) == len(runs) and len(card_codes) == len(cards)
    for i, a in enumerate(runs):
        for j, b in enumerate(runs):
            assert (run_codes[i] == run_codes[j]) == (a == b)
    for card, code in zip(cards, card_codes, strict=True):
        matches = {int(run_codes[i]) for i, horse in enumerate(runs) if horse == card}
        assert ({int(code)} if code != -1 else set()) == matches


RUN_KEYS = st.lists(
    st.tuples(
        st.sampled_from(["", "2019100001", "2019100002", "2020105555", "馬1", "馬10", "Ａ", "z"]),
        st.one_of(st.none(), st.integers(0, 5)),
        st.sampled_from(["R1", "R2", "Ｒ3", ""]),
    ),
    max_size=40,
)


@given(keys=RUN_KEYS, arrow=st.booleans())
def test_runs_are_ordered_as_a_stable_sort_by_horse_date_and_race(
    keys: list[tuple[str, int | None, str]], arrow: bool
) -> None:
    """The integer order of :func:`horse_date_order` is a stable sort by (horse id, date, race
    id) text: blank and non-ASCII ids, a horse twice on a day, a missing date, ties kept in
    their order."""
    text = "string[pyarrow]" if arrow else "string[python]"
    runs = pd.DataFrame(
        {
            "horse_id": pd.Series([horse for horse, _, _ in keys], dtype=text),
            "race_date": pd.Series(
                [D - pd.Timedelta(days=day) if day is not None else pd.NaT for _, day, _ in keys],
                dtype="datetime64[ns]",
            ),
            "race_id": pd.Series([race for _, _, race in keys], dtype=text),
        }
    )
    expected = runs.sort_values(RUN_ORDER, kind="mergesort").index.to_numpy()
    assert horse_date_order(runs).tolist() == expected.tolist()


CAREERS = st.lists(
    st.tuples(
        st.sampled_from(["", "2019100001", "2019100002", "馬1"]),  # the horse (blank: no id)
        st.integers(1, 120),  # days before D
        st.sampled_from(["44", "45", "30"]),  # the venue
        st.sampled_from([1, 2, 3, 4, 0, 9]),  # the going, unknown codes too
        st.one_of(st.none(), st.floats(-50.0, 150.0)),  # the speed index (none: missing)
        st.one_of(st.none(), st.integers(1, 12)),  # the position (none: stopped, code 4)
    ),
    max_size=60,
)


@given(careers=CAREERS, fold_days=st.integers(0, 60), split=st.integers(0, 60))
def test_runs_folded_into_sums_give_the_features_of_the_whole_career(
    careers: list[tuple[str, int, str, int, float | None, int | None]],
    fold_days: int,
    split: int,
) -> None:
    """Each horse's runs more than ``fold_days`` before D but its last five there, given as
    :class:`FoldedRuns` sums (folded in two parts, in any order) instead of as runs: the
    same features, bit for bit, for cards on D and after (every statistic of the last five
    runs, the career, venue and going sums; a venue or going met only in folded runs)."""
    rows = [
        run(horse, days, race_id=f"{horse}-{days}-{number}", keibajo_code=venue,
            going_code=going, speed_index=np.nan if speed is None else speed,
            finish_pos=pd.NA if position is None else position,
            abnormal_code=0 if position is not None else 4)
        for number, (horse, days, venue, going, speed, position) in enumerate(careers)
    ]  # fmt: skip
    whole = history(rows)
    horses = ["", "2019100001", "2019100002", "馬1", "NEW"]
    on_cards = cards(
        [card(horse, D + pd.Timedelta(days=later), keibajo_code=venue, going_code=going)
         for horse in horses
         for later, venue, going in [(0, "44", 1), (3, "30", 3), (9, "45", 0)]]
    )  # fmt: skip
    ordered = past_runs(whole, None, None, HISTORY_COLUMNS)  # the runs in horse-date order
    before = ordered["race_date"] < D - pd.Timedelta(days=fold_days)
    from_end = before[::-1].groupby(ordered["horse_id"][::-1]).cumsum()[::-1]
    folding = (before & (from_end > 5)).to_numpy()
    folded_runs = ordered[folding].sample(frac=1.0, random_state=split)
    part = min(split, len(folded_runs))
    folded = FoldedRuns.of_runs(folded_runs.iloc[:part]).plus(folded_runs.iloc[part:])
    people = people_daily_counts(whole[run_rows(whole)])
    assert_frame_equal(
        build_features(ordered[~folding], on_cards, 180, people, folded),
        build_features(whole, on_cards, 180, people),
        check_exact=True,
    )
