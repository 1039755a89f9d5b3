"""Hyper-parameter search with xgboost: seeded random search over the reference's space.

The ranges are those of the reference's SageMaker tuning job (and the ones our SageMaker launcher
sends), so a local run and a SageMaker run search the same space. Every trial is early-stopped on
validation AUC. Which trial wins is, by default, the business question itself: the lowest validation
cost at the cut-off the pipeline would choose for that model (`validation_cost`), validation AUC
breaking ties. Ranking by AUC alone rewards ordering the whole population well, while the cost
depends only on ranking churners above the few hundred stayers around the cut-off; over ten seeds
and four data set / split pairs the cost ranking lowered the test cost on every pair (docs/training.md).
Without `validation_cost` (and on SageMaker, whose tuner sees only built-in metrics) the highest
validation AUC wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xgboost as xgb

# name -> (low, high, is_integer). num_round is the most boosting rounds; early stopping may use fewer.
# gamma (the loss gain a split must bring) and lambda (L2 on leaf weights) come after the reference's
# five so those keep their random draws: on the public data they let the search find smaller, steadier
# trees, and the mean test cost over search seeds fell on the reference split (docs/training.md).
HYPERPARAMETER_RANGES: dict[str, tuple[float, float, bool]] = {
    "eta": (0.0, 1.0, False),
    "min_child_weight": (1.0, 10.0, False),
    "alpha": (0.0, 2.0, False),
    "max_depth": (1, 10, True),
    "num_round": (10, 100, True),
    "gamma": (0.0, 5.0, False),
    "lambda": (0.0, 5.0, False),
}
EARLY_STOPPING_ROUNDS = 10
# One thread: xgboost's histogram method is then bit-for-bit reproducible, and the machine is shared.
NTHREAD = 1
# The reference's starting point, always tried first so the search never does worse than it.
REFERENCE_HYPERPARAMETERS: dict[str, float | int] = {
    "eta": 0.2,
    "min_child_weight": 6.0,
    "alpha": 0.0,
    "max_depth": 5,
    "num_round": 100,
    # Not set by the reference: xgboost's (and the built-in container's) defaults, written out.
    "gamma": 0.0,
    "lambda": 1.0,
}
# Below this learning rate 100 rounds cannot move the scores: such draws would only waste trials.
MIN_USEFUL_ETA = 0.01


@dataclass(frozen=True)
class Trial:
    hyperparameters: dict[str, float | int]
    validation_auc: float
    best_round_count: int
    # The business cost on the validation rows at the model's chosen cut-off; None when not ranked by cost.
    validation_cost: float | None = None

    def rank_key(self) -> tuple[float, float]:
        """Smaller is better: lowest validation cost first (when known), then highest validation AUC."""
        cost = 0.0 if self.validation_cost is None else self.validation_cost
        return (cost, -self.validation_auc)


@dataclass(frozen=True)
class SearchResult:
    booster: xgb.Booster
    best: Trial
    trials: tuple[Trial, ...]


def booster_params(hyperparameters: dict[str, float | int], seed: int) -> dict[str, Any]:
    """xgboost training parameters for one set of hyper-parameters (num_round is passed separately)."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "tree_method": "hist",
        "nthread": NTHREAD,
        "seed": seed,
        **{name: value for name, value in hyperparameters.items() if name != "num_round"},
    }


def draw_hyperparameters(rng: np.random.Generator) -> dict[str, float | int]:
    drawn: dict[str, float | int] = {}
    for name, (low, high, is_integer) in HYPERPARAMETER_RANGES.items():
        if is_integer:
            drawn[name] = int(rng.integers(int(low), int(high) + 1))
        else:
            drawn[name] = round(float(rng.uniform(low, high)), 4)
    drawn["eta"] = max(float(drawn["eta"]), MIN_USEFUL_ETA)
    return drawn


def fit_once(
    hyperparameters: dict[str, float | int], train: xgb.DMatrix, validation: xgb.DMatrix, seed: int
) -> tuple[xgb.Booster, Trial]:
    """Train with early stopping on validation AUC; the booster keeps only the rounds up to the best."""
    booster = xgb.train(
        booster_params(hyperparameters, seed),
        train,
        num_boost_round=int(hyperparameters["num_round"]),
        evals=[(validation, "validation")],
        early_stopping_rounds=EARLY_STOPPING_ROUNDS,
        verbose_eval=False,
    )
    rounds = booster.best_iteration + 1
    trimmed = booster[:rounds]
    return trimmed, Trial(dict(hyperparameters), float(booster.best_score), rounds)


def search(
    train: xgb.DMatrix,
    validation: xgb.DMatrix,
    *,
    trials: int,
    seed: int,
    on_trial: Callable[[int, Trial, Trial], None] | None = None,
    validation_cost: Callable[[np.ndarray], float] | None = None,
) -> SearchResult:
    """Try `trials` hyper-parameter sets (the reference's first, then random draws); keep the best.

    `validation_cost(scores)` gives the cost of a model from its validation scores; when given, the
    lowest cost wins and validation AUC breaks ties, else the highest validation AUC wins. Remaining
    ties go to the earlier trial, so the result depends only on the data, `trials` and `seed`.
    """
    if trials < 1:
        raise ValueError("trials must be at least 1")
    rng = np.random.default_rng(seed)
    candidates = [dict(REFERENCE_HYPERPARAMETERS)] + [draw_hyperparameters(rng) for _ in range(trials - 1)]
    best_booster: xgb.Booster | None = None
    best_trial: Trial | None = None
    done: list[Trial] = []
    for number, hyperparameters in enumerate(candidates, start=1):
        booster, trial = fit_once(hyperparameters, train, validation, seed)
        if validation_cost is not None:
            trial = replace(trial, validation_cost=float(validation_cost(booster.predict(validation))))
        done.append(trial)
        if best_trial is None or trial.rank_key() < best_trial.rank_key():
            best_booster, best_trial = booster, trial
        if on_trial is not None:
            on_trial(number, trial, best_trial)
    assert best_booster is not None and best_trial is not None
    return SearchResult(best_booster, best_trial, tuple(done))
