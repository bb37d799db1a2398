"""Win probabilities per race: the market baseline and the two-stage model that must beat it.

Stage 1, the fundamental model: a scikit-learn pipeline (ColumnTransformer + gradient-boosted
trees) scores every runner from its point-in-time features (plus where it stands against the
rest of its field), and a per-race softmax of ``kappa * score`` turns the scores into win
probabilities ``f`` (a conditional logit; ``kappa`` fitted on the winners of later races).
Stage 2, Benter's blend: ``c ∝ exp(alpha ln f + beta ln pi)`` with the market's ``pi``,
``alpha, beta`` fitted on races the scorer never saw. Runners without a past run keep ``pi``.

Every split is by date (:func:`time_split`): the scorer trains on the oldest slice, the
temperature and the blend are fitted on the next one, and the model is judged on the newest.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from raceday.model.condlogit import (
    BlendParameters,
    RaceGroups,
    apply_blend,
    fit_blend,
    fit_temperature,
    softmax,
)
from raceday.model.encoding import VenueEncoding
from raceday.ratings.features import FEATURE_COLUMNS, FEATURE_SET_VERSION

MARKET_MODEL_VERSION: Final = "market-v1"
PREDICTION_COLUMNS: Final = [
    "model_version", "race_id", "umaban", "race_date", "p_market", "p_model", "p_final",
]  # fmt: skip
SCORE_BLOCK_ROWS: Final = 1024  # rows a thread scores through every tree at once (WinModel.scores)
MIN_RATED_WINNERS: Final = 50  # below this a scorer learns noise and the blend cannot be fitted

# Ability features compared with the rest of the field: a win is relative to the other runners.
FIELD_RELATIVE_FEATURES: Final = (
    "speed_last1", "speed_mean3", "speed_best5", "composite_mean3", "composite_best5",
    "ten_mean3", "agari_mean3", "finish_ratio_mean5", "margin_mean5_s", "win_rate_career",
    "jockey_win_rate_window", "trainer_win_rate_window", "class_change",
)  # fmt: skip
CATEGORICAL_FEATURES: Final = ["keibajo_code"]

Part = Literal["train", "blend", "eval"]


class NotEnoughData(ValueError):
    """A training window too small to fit on."""


def normalise_per_race(race_id: pd.Series, weights: pd.Series) -> pd.Series:
    """``weights / sum(weights)`` within each race (a per-race softmax when weights = exp(s))."""
    totals = weights.groupby(race_id.to_numpy()).transform("sum")
    return (weights / totals.to_numpy()).astype("float64")


def implied_probabilities(race_id: pd.Series, win_odds: pd.Series) -> pd.Series:
    """Odds-implied win probabilities with the takeout removed: ``(1/odds)`` normalised per race."""
    inverse = 1.0 / win_odds.astype("float64")
    return normalise_per_race(race_id, inverse)


def priced_runners(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
    """Runners of the card with bet-time odds (``>= 1``) and their market probability
    ``p_market``; runners without odds (scratched, not on sale) cannot win a bet: no row."""
    priced = card.merge(
        odds[["race_id", "umaban", "win_odds"]], on=["race_id", "umaban"], how="inner"
    )
    priced = priced[priced["win_odds"].notna() & (priced["win_odds"] >= 1.0)].reset_index(drop=True)
    return priced.assign(p_market=implied_probabilities(priced["race_id"], priced["win_odds"]))


def market_predictions(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
    """``market-v1`` predictions: runners of the card with bet-time odds, p = implied prob.

    Runners without odds (scratched, not on sale) get no row: they cannot win a bet.
    """
    priced = priced_runners(card[["race_id", "umaban", "race_date"]], odds)
    return pd.DataFrame(
        {
            "model_version": MARKET_MODEL_VERSION,
            "race_id": priced["race_id"],
            "umaban": priced["umaban"],
            "race_date": priced["race_date"],
            "p_market": priced["p_market"],
            "p_model": np.nan,
            "p_final": priced["p_market"],
        }
    ).reset_index(drop=True)


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInputs:
    """The columns the scorer reads: point-in-time features, their gap to the field, the venue."""

    features: tuple[str, ...] = tuple(FEATURE_COLUMNS)
    field_relative: tuple[str, ...] = FIELD_RELATIVE_FEATURES
    categorical: tuple[str, ...] = tuple(CATEGORICAL_FEATURES)

    @property
    def numeric(self) -> list[str]:
        """Numeric input columns, in order."""
        return [*self.features, *(f"{name}_vs_field" for name in self.field_relative)]

    @property
    def columns(self) -> list[str]:
        """Every input column, in order."""
        return [*self.numeric, *self.categorical]

    def frame(self, runners: pd.DataFrame) -> pd.DataFrame:
        """The scorer's input frame for ``runners`` (race_id + feature columns + keibajo_code).

        ``*_vs_field`` is the runner's value minus the mean of the runners of its race that
        have one (NaN when it has none): computed over the rows given, i.e. the priced field.
        """
        numeric = runners[list(self.features)].astype("float64")
        field = list(self.field_relative)  # the races grouped once for every column
        means = numeric[field].groupby(runners["race_id"].to_numpy()).transform("mean")
        relative = {f"{name}_vs_field": numeric[name] - means[name] for name in field}
        out = pd.concat([numeric, pd.DataFrame(relative, index=runners.index)], axis=1)
        for name in self.categorical:
            out[name] = runners[name].astype("string").fillna("").astype(str)
        return out[self.columns]

    def with_values_in(self, runners: pd.DataFrame) -> ModelInputs:
        """These inputs without the numeric columns that are empty in ``runners`` (a store
        without indexes has no index features; the booster cannot bin an empty column)."""
        present = self.frame(runners).notna().any()
        return ModelInputs(
            features=tuple(name for name in self.features if present[name]),
            field_relative=tuple(
                name for name in self.field_relative if present[f"{name}_vs_field"]
            ),
            categorical=self.categorical,
        )


def rated_runners(runners: pd.DataFrame) -> pd.Series:
    """Runners the model can rate: at least one past run (debutants take the market's view)."""
    runs = pd.to_numeric(runners.get("n_past_runs"), errors="coerce")
    return pd.Series(np.asarray(runs.fillna(0) > 0), index=runners.index)


def won(runners: pd.DataFrame) -> pd.Series:
    """1 for winners (finish_pos 1), else 0 (unplaced, scratched, not finished)."""
    return runners["finish_pos"].astype("Float64").eq(1).fillna(False).astype(bool)


# --- splits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeSplit:
    """Three consecutive date windows: the scorer trains on the first, the temperature and the
    blend are fitted on the second, the model is judged on the third (all inclusive)."""

    train_start: date
    train_end: date
    blend_start: date
    blend_end: date
    eval_start: date
    eval_end: date

    def part(self, race_date: pd.Series) -> pd.Series:
        """``train`` / ``blend`` / ``eval`` for each date, ``""`` outside the three windows."""
        days = pd.to_datetime(race_date).dt.normalize()
        labels = np.select(
            [
                days.between(pd.Timestamp(self.train_start), pd.Timestamp(self.train_end)),
                days.between(pd.Timestamp(self.blend_start), pd.Timestamp(self.blend_end)),
                days.between(pd.Timestamp(self.eval_start), pd.Timestamp(self.eval_end)),
            ],
            ["train", "blend", "eval"],
            default="",
        )
        return pd.Series(labels, index=race_date.index, dtype="string")

    def to_dict(self) -> dict[str, str]:
        """ISO dates (metadata, ``--json``)."""
        return {name: getattr(self, name).isoformat() for name in self.__dataclass_fields__}


def time_split(until: date, train_days: int, blend_days: int, eval_days: int) -> TimeSplit:
    """Windows ending on ``until``: ``eval_days`` to judge, the ``blend_days`` before them to fit
    the blend, the ``train_days`` before those to train the scorer. Never shuffled."""
    if min(train_days, blend_days, eval_days) < 1:
        raise ValueError("every window needs at least one day")
    eval_start = until - timedelta(days=eval_days - 1)
    blend_end = eval_start - timedelta(days=1)
    blend_start = blend_end - timedelta(days=blend_days - 1)
    train_end = blend_start - timedelta(days=1)
    train_start = train_end - timedelta(days=train_days - 1)
    return TimeSplit(train_start, train_end, blend_start, blend_end, eval_start, until)


# --- the model --------------------------------------------------------------------------------


MAX_VENUE_CATEGORIES: Final = 250  # the booster bins a categorical column into at most 255 values


@dataclass(frozen=True)
class ScorerOptions:
    """Gradient-boosting settings of the fundamental scorer.

    ``stop_after`` > 0 stops adding trees once the scorer's loss on the blend window (the days
    after its training window, before the held-out ones) has not improved for that many
    iterations; 0 fits all ``max_iter``."""

    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 200
    l2_regularization: float = 1.0
    threads: int = 1
    random_state: int = 0
    venue_encoding: VenueEncoding = "one-hot"
    stop_after: int = 10


@dataclass
class WinModel:
    """A fitted two-stage win model: scorer pipeline, softmax scale and blend parameters."""

    version: str
    scorer: Any  # sklearn Pipeline (ColumnTransformer + HistGradientBoostingClassifier)
    kappa: float
    blend: BlendParameters
    inputs: ModelInputs = field(default_factory=ModelInputs)
    feature_set: str = FEATURE_SET_VERSION

    @property
    def trees(self) -> int:
        """The trees the scorer fitted (fewer than its ``max_iter`` when it stopped early)."""
        return int(self.scorer.steps[-1][1].n_iter_)

    def scores(self, runners: pd.DataFrame, threads: int = 1) -> np.ndarray:
        """The scorer's log-odds of winning for each runner (on ``threads`` OpenMP threads: each
        runner is scored on one, so the scores are the same on any number).

        The runners go through the trees :data:`SCORE_BLOCK_ROWS` a thread at a time: a block's
        inputs stay in the processor's cache across the hundreds of trees (all the rows at once
        are read again from memory for every tree); each row's score is the same sum, in the
        same order, whatever the block."""
        return self.scores_of_columns(self.columns(runners), threads)

    def columns(self, runners: pd.DataFrame) -> Any:
        """The runners' inputs as the booster reads them (the fitted column transforms)."""
        *transforms, _booster = (step for _, step in self.scorer.steps)
        inputs = self.inputs.frame(runners)
        for transform in transforms:
            inputs = transform.transform(inputs)
        return inputs

    def scores_of_columns(self, inputs: Any, threads: int = 1) -> np.ndarray:
        """:meth:`scores` of inputs already through :meth:`columns`."""
        booster = self.scorer.steps[-1][1]
        size = SCORE_BLOCK_ROWS * threads
        starts = range(0, max(len(inputs), 1), size)  # no rows: the booster says so, as before
        with openmp_threads(threads):
            scored = [booster.decision_function(inputs[at : at + size]) for at in starts]
        return np.asarray(np.concatenate(scored), float)

    def to_bytes(self) -> bytes:
        """The artifact stored in the registry."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def from_bytes(blob: bytes) -> WinModel:
        """A model from its stored artifact (only ever our own registry's rows)."""
        model = _ArtifactUnpickler(io.BytesIO(blob)).load()
        if not isinstance(model, WinModel):
            raise TypeError(f"not a WinModel artifact: {type(model).__name__}")
        return model


# Where the classes of artifacts pickled before the domain moved into subpackages live now
# (issue 15), so that a version registered by an earlier release still loads.
MOVED_MODULES: Final = {"raceday.model": __name__, "raceday.condlogit": "raceday.model.condlogit"}


class _ArtifactUnpickler(pickle.Unpickler):
    """Unpickles a stored artifact, finding the classes of modules that have moved."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED_MODULES.get(module, module), name)


def openmp_threads(threads: int) -> Any:
    """A context in which this thread's OpenMP regions (the booster's fit and scoring) run on
    ``threads`` threads. OpenMP's limit is the calling thread's own, and only it is set (not
    BLAS's, which is the process's): a fit on a thread of its own (a backfill's training) leaves
    the other threads' work as it is."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="openmp")


def _venue_encoder(encoding: VenueEncoding) -> Any:
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    if encoding == "one-hot":
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=MAX_VENUE_CATEGORIES,
    )


def scorer_pipeline(inputs: ModelInputs, options: ScorerOptions) -> Any:
    """ColumnTransformer (numeric as is, the venue as ``options.venue_encoding`` says) +
    HistGradientBoostingClassifier."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    columns = ColumnTransformer(
        [
            ("numeric", "passthrough", inputs.numeric),
            ("venue", _venue_encoder(options.venue_encoding), list(inputs.categorical)),
        ]
    )
    categorical = None
    if options.venue_encoding == "categorical" and inputs.categorical:
        first = len(inputs.numeric)  # the venue columns come after the numeric ones
        categorical = list(range(first, first + len(inputs.categorical)))
    booster = HistGradientBoostingClassifier(
        max_iter=options.max_iter,
        learning_rate=options.learning_rate,
        max_leaf_nodes=options.max_leaf_nodes,
        min_samples_leaf=options.min_samples_leaf,
        l2_regularization=options.l2_regularization,
        categorical_features=categorical,
        # never a random validation split (it would not be by date): early stopping, when
        # asked for, is judged on the blend window (fit_scorer)
        early_stopping=options.stop_after > 0,
        n_iter_no_change=options.stop_after or 10,
        validation_fraction=None,
        scoring="loss",
        random_state=options.random_state,
    )
    return Pipeline([("columns", columns), ("booster", booster)])


def fit_scorer(
    scorer: Any,
    inputs: pd.DataFrame,
    won: np.ndarray,
    stop_on: tuple[pd.DataFrame, np.ndarray] | None = None,
) -> Any:
    """Fit ``scorer`` (:func:`scorer_pipeline`) on ``inputs`` and ``won``; with ``stop_on``
    (the blend window's inputs and winners) its booster stops early on their loss. Returns
    ``stop_on``'s inputs through the fitted column transforms (None without it): what
    :meth:`WinModel.columns` gives for them, not built twice."""
    *transforms, booster = (step for _, step in scorer.steps)
    train = inputs
    for transform in transforms:
        train = transform.fit_transform(train)
    if stop_on is None:
        booster.fit(train, won)
        return None
    check, check_won = stop_on
    for transform in transforms:
        check = transform.transform(check)
    booster.fit(train, won, X_val=check, y_val=check_won)
    return check


@dataclass(frozen=True)
class FitResult:
    """The fitted model and the held-out runners it was judged on (with predictions)."""

    model: WinModel
    held_out: pd.DataFrame
    counts: dict[str, dict[str, int]]


def _part_counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for part in ("train", "blend", "eval"):
        rows = frame[frame["part"] == part]
        counts[part] = {
            "races": int(rows["race_id"].nunique()),
            "runners": len(rows),
            "rated_winners": int((rows["won"] & rows["rated"]).sum()),
        }
    return counts


def labelled_runners(runners: pd.DataFrame, split: TimeSplit) -> pd.DataFrame:
    """Priced runners with results and features: ``part``, ``won`` and ``rated`` added."""
    return runners.assign(
        part=split.part(runners["race_date"]), won=won(runners), rated=rated_runners(runners)
    )


def fit_win_model(
    runners: pd.DataFrame,
    split: TimeSplit,
    version: str,
    options: ScorerOptions = ScorerOptions(),
    score_threads: int = 1,
) -> FitResult:
    """Train the scorer on ``split``'s train window, the softmax scale and blend on its blend
    window; predict its eval window (scored on ``score_threads``: the same scores on any number).

    ``runners``: priced runners (:func:`priced_runners`) with ``finish_pos`` and the feature
    columns. Raises NotEnoughData when a window has fewer than ``MIN_RATED_WINNERS`` rated winners.
    """
    # In a fixed order: the booster bins a sample of rows, so the order the store returned them
    # in (SQLite and PostgreSQL differ) would otherwise change the model.
    ordered = runners.sort_values(["race_date", "race_id", "umaban"], kind="stable")
    frame = labelled_runners(ordered.reset_index(drop=True), split)
    counts = _part_counts(frame)
    for part in ("train", "blend"):
        if counts[part]["rated_winners"] < MIN_RATED_WINNERS:
            window = f"{getattr(split, part + '_start')}..{getattr(split, part + '_end')}"
            raise NotEnoughData(
                f"the {part} window {window} has {counts[part]['rated_winners']} winners with a "
                f"past run; at least {MIN_RATED_WINNERS} are needed: store more history"
            )
    train = frame[frame["part"] == "train"]
    blend_rows = frame[frame["part"] == "blend"].reset_index(drop=True)
    inputs = ModelInputs().with_values_in(train)
    scorer = scorer_pipeline(inputs, options)
    stop_on = None
    if options.stop_after > 0:
        stop_on = (inputs.frame(blend_rows), blend_rows["won"].astype(int).to_numpy())
    with openmp_threads(options.threads):
        stop_columns = fit_scorer(
            scorer, inputs.frame(train), train["won"].astype(int).to_numpy(), stop_on
        )
    model = WinModel(version, scorer, 1.0, BlendParameters(0.0, 1.0, 0), inputs)

    groups = RaceGroups.of(blend_rows["race_id"])
    winners = blend_rows["won"].to_numpy()
    blend_columns = model.columns(blend_rows) if stop_columns is None else stop_columns
    blend_scores = model.scores_of_columns(blend_columns, score_threads)
    try:
        model.kappa = fit_temperature(blend_scores, groups, winners)
        p_model = softmax(model.kappa * blend_scores, groups)
        model.blend = fit_blend(
            p_model, blend_rows["p_market"].to_numpy(float), groups, winners,
            blend_rows["rated"].to_numpy(),
        )  # fmt: skip
    except ValueError as error:  # e.g. every race a dead heat: nothing to fit the blend on
        raise NotEnoughData(f"the blend window cannot be fitted: {error}") from None
    held_out = frame[frame["part"] == "eval"].reset_index(drop=True)
    predicted = model_predictions(model, held_out, score_threads) if not held_out.empty else None
    if predicted is not None:
        held_out = held_out.assign(
            p_model=predicted["p_model"].to_numpy(), p_final=predicted["p_final"].to_numpy()
        )
    return FitResult(model, held_out, counts)


def model_predictions(model: WinModel, runners: pd.DataFrame, threads: int = 1) -> pd.DataFrame:
    """:data:`PREDICTION_COLUMNS` for priced runners with features (``p_market`` given):
    ``p_model`` the fundamental softmax, ``p_final`` the blend; both sum to 1 per race."""
    frame = runners.reset_index(drop=True)
    groups = RaceGroups.of(frame["race_id"])
    p_market = frame["p_market"].to_numpy(float)
    p_model = softmax(model.kappa * model.scores(frame, threads), groups)
    p_final = apply_blend(p_model, p_market, groups, rated_runners(frame).to_numpy(), model.blend)
    return pd.DataFrame(
        {
            "model_version": model.version,
            "race_id": frame["race_id"],
            "umaban": frame["umaban"],
            "race_date": frame["race_date"],
            "p_market": p_market,
            "p_model": p_model,
            "p_final": p_final,
        }
    )


def runners_with_features(
    card: pd.DataFrame, odds: pd.DataFrame, features: pd.DataFrame
) -> pd.DataFrame:
    """Priced runners of ``card`` (race_id, umaban, race_date[, finish_pos]) with their
    ``p_market`` and features; a runner without a feature row is unrated (NaN features)."""
    keys = [column for column in ("race_id", "umaban", "race_date", "finish_pos") if column in card]
    priced = priced_runners(card[keys], odds)
    feature_columns = ["keibajo_code", *FEATURE_COLUMNS]
    joined = priced.merge(
        features[["race_id", "umaban", *feature_columns]], on=["race_id", "umaban"], how="left"
    )
    joined["keibajo_code"] = joined["keibajo_code"].fillna(joined["race_id"].str[8:10])
    return joined


def predict_card(
    model: WinModel,
    card: pd.DataFrame,
    odds: pd.DataFrame,
    features: pd.DataFrame,
    threads: int = 1,
) -> pd.DataFrame:
    """The model's predictions (:data:`PREDICTION_COLUMNS`) for the card's priced runners
    (scored on ``threads``)."""
    runners = runners_with_features(card, odds, features)
    if runners.empty:
        return pd.DataFrame(columns=PREDICTION_COLUMNS)
    return model_predictions(model, runners, threads)[PREDICTION_COLUMNS]


def predictions_or_market(
    model: WinModel | None,
    why: str,
    runners: pd.DataFrame,
    odds: pd.DataFrame,
    features: pd.DataFrame | None,
    threads: int = 1,
) -> tuple[pd.DataFrame, str | None]:
    """The model's predictions of the runners (scored on ``threads``), or the market's
    (``market-v1``) when there is no model (``why`` says why) or no features; returns the
    predictions and the reason for the market's, None when the model predicted."""
    if model is None:
        return market_predictions(runners, odds), why
    if features is None:
        return market_predictions(runners, odds), "no features for the day"
    return predict_card(model, runners, odds, features, threads), None
