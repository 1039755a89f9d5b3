"""Hyper-parameter search with xgboost: seeded random search ranked by k-fold cross-validation.

Every trial is trained once per fold on the other folds; all folds stop together at the round with
the best mean held-out log-loss, and each fold model scores its held-out fold: together the folds
give one out-of-fold score per non-test customer. A trial is judged on all of them, not on one small
validation part (which, on 3,333 customers, let trials of a handful of eta-0.75 trees win by
fitting 667 rows; issue 14). How the trials are ranked is, by default, the business question itself:
the lowest cost over the out-of-fold scores at the cut-off the pipeline would choose for them
(`validation_cost`), the mean held-out AUC breaking ties; without `validation_cost` the highest mean
held-out AUC. Which ranked trial is kept is the caller's `choose` rule (the pipeline's keeps the
smoothest within one standard error of the best: training/selection.py); without one, the best.

The ranges start from the slow end (issue 28): learning rates 0.01-0.3 with the rounds found by early
stopping inside the folds, the reference's tree ranges plus gamma and lambda. The reference's own
hyper-parameters are always the first trial.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score

# The learning rates a trial draws from, each as likely: log-spaced steps from 0.01 to 0.3. Steps,
# not a continuous range, so that trials share a learning rate and the selection's next criteria
# (shallower trees, stronger regularisation) decide between them (training/selection.py).
ETA_STEPS: tuple[float, ...] = (0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
# name -> (low, high, is_integer), the ranges drawn from (eta: the steps' ends). No round count: the
# rounds come from early stopping inside the folds, up to MOST_ROUNDS. gamma (the loss gain a split
# must bring) and lambda (L2 on leaf weights) come after the reference's four tree ranges.
HYPERPARAMETER_RANGES: dict[str, tuple[float, float, bool]] = {
    "eta": (ETA_STEPS[0], ETA_STEPS[-1], False),
    "min_child_weight": (1.0, 10.0, False),
    "alpha": (0.0, 2.0, False),
    "max_depth": (1, 6, True),
    "gamma": (0.0, 5.0, False),
    "lambda": (0.0, 5.0, False),
}
# Row sampling for every drawn trial: each tree sees a fresh 80% of the rows, the reference's own
# setting. Friedman (Stochastic Gradient Boosting, 2002) found that sampling rows for each tree, with a
# small learning rate, lowers the error of boosting by lowering the variance of its trees; it is not
# drawn (one more range would spread 20 trials thinner). Set after the ranges are drawn, so the other
# draws of a seed are those they were without it.
ROW_SAMPLING = 0.8
# The most rounds a drawn trial may train (its num_round): at eta 0.01 the public data's folds reach
# their lowest log-loss after about 400-600 rounds, so 1,000 leaves room; strongly regularised slow
# trials can still be improving there (3 of the 50 trials kept in the nested runs of
# docs/experiments/training-paired-noise-row-sampling.md stopped at the limit), a cost in model size
# accepted for in-database scoring's sake.
MOST_ROUNDS = 1000
# Early stopping: the folds stop together once their mean held-out log-loss has not improved for
# `patience_rounds(eta)` rounds: at least EARLY_STOPPING_ROUNDS, and as many as it takes the learning
# rate to add up to PATIENCE_LEARNING (25 rounds at eta 0.01), since a slow learner moves little per round.
EARLY_STOPPING_ROUNDS = 10
PATIENCE_LEARNING = 0.25
# What the folds stop on: log-loss, a proper scoring rule. Held-out AUC on this data peaks after 1-25
# trees at any learning rate (a single depth-6 tree ranks as well as hundreds), which left slow
# learners with a handful of trees whose scores all sit near the churn rate, useless for a cut-off.
STOPPING_METRIC = "logloss"
# One thread: xgboost's histogram method is then bit-for-bit reproducible, and the machine is shared.
NTHREAD = 1
# The reference notebook's fixed hyper-parameters, always tried first so the search can keep them.
REFERENCE_HYPERPARAMETERS: dict[str, float | int] = {
    "eta": 0.2,
    "min_child_weight": 6.0,
    "alpha": 0.0,
    "max_depth": 5,
    "num_round": 100,
    "gamma": 4.0,
    # Not set by the reference: xgboost's (and the built-in container's) default, written out.
    "lambda": 1.0,
    # The reference's row sampling; random draws use xgboost's default 1 (every row in every tree).
    "subsample": 0.8,
}


def patience_rounds(eta: float) -> int:
    """Rounds without a lower mean held-out log-loss after which the folds stop (see PATIENCE_LEARNING)."""
    return max(EARLY_STOPPING_ROUNDS, math.ceil(PATIENCE_LEARNING / eta - 1e-9))


@dataclass(frozen=True)
class OutOfFoldCost:
    """The business cost of a trial's out-of-fold scores at the cut-off chosen on all of them."""

    total: float
    # The same cut-off's cost on each fold's held-out rows (they add up to `total`).
    per_fold: tuple[float, ...]


@dataclass(frozen=True)
class Trial:
    """One hyper-parameter set and how it did across the folds."""

    hyperparameters: dict[str, float | int]
    # Mean over the folds of the AUC on each held-out fold.
    validation_auc: float
    # Rounds for the model trained on every non-test row (see final_round_count).
    best_round_count: int
    # The business cost over the out-of-fold scores at their cut-off; None when not ranked by cost.
    validation_cost: float | None = None
    fold_aucs: tuple[float, ...] = ()
    # The round count with the lowest mean held-out log-loss, shared by every fold.
    cv_rounds: int = 0
    # Each fold's share of validation_cost (empty when not ranked by cost).
    fold_costs: tuple[float, ...] = ()

    def rank_key(self) -> tuple[float, float]:
        """Smaller is better: lowest cost first (when known), then highest mean held-out AUC."""
        cost = 0.0 if self.validation_cost is None else self.validation_cost
        return (cost, -self.validation_auc)


@dataclass(frozen=True)
class Fold:
    """One fold: the rows it trains on, the rows it holds out, and where those sit in the non-test rows."""

    train: xgb.DMatrix
    held_out: xgb.DMatrix
    held_out_rows: np.ndarray


@dataclass(frozen=True)
class CrossValidated:
    """A trial with its out-of-fold scores and its per-fold boosters (each trimmed to its best round)."""

    trial: Trial
    out_of_fold: np.ndarray
    fold_boosters: tuple[xgb.Booster, ...]


@dataclass(frozen=True)
class SearchResult:
    # The trial kept (by the `choose` rule), cross-validated.
    best: CrossValidated
    trials: tuple[Trial, ...]


def booster_params(hyperparameters: dict[str, float | int], seed: int) -> dict[str, Any]:
    """xgboost training parameters for one set of hyper-parameters (num_round is passed separately)."""
    return {
        "objective": "binary:logistic",
        "eval_metric": STOPPING_METRIC,
        "tree_method": "hist",
        "nthread": NTHREAD,
        "seed": seed,
        # Row sampling (subsample) draws from xgboost's one process-wide generator; re-seeding it from
        # (seed, round) at every round makes a fold trained in step with the others draw exactly what it
        # would draw trained alone, so results do not depend on how many folds share the process.
        "seed_per_iteration": True,
        **{name: value for name, value in hyperparameters.items() if name != "num_round"},
    }


def draw_hyperparameters(rng: np.random.Generator) -> dict[str, float | int]:
    """One random trial: a learning-rate step, the other ranges uniformly, ROW_SAMPLING, MOST_ROUNDS as
    its limit."""
    drawn: dict[str, float | int] = {}
    for name, (low, high, is_integer) in HYPERPARAMETER_RANGES.items():
        if name == "eta":
            drawn[name] = ETA_STEPS[int(rng.integers(len(ETA_STEPS)))]
        elif is_integer:
            drawn[name] = int(rng.integers(int(low), int(high) + 1))
        else:
            drawn[name] = round(float(rng.uniform(low, high)), 4)
    drawn["subsample"] = ROW_SAMPLING
    drawn["num_round"] = MOST_ROUNDS
    return drawn


def make_folds(
    matrix: np.ndarray,
    churn: np.ndarray,
    feature_names: list[str],
    held_out: Sequence[np.ndarray],
    columns_per_fold: Sequence[np.ndarray] | None = None,
) -> tuple[Fold, ...]:
    """The folds' xgboost matrices, built once and shared by every trial.

    `columns_per_fold[i]` (column positions) restricts fold i to those features: the reduced model's
    cross-validation uses, in each fold, the features that fold's full model split on, so the feature
    choice is validated as honestly as the hyper-parameters.
    """
    folds = []
    for number, rows in enumerate(held_out):
        columns = np.arange(matrix.shape[1]) if columns_per_fold is None else columns_per_fold[number]
        names = [feature_names[column] for column in columns]
        training_rows = np.setdiff1d(np.arange(len(churn)), rows)
        columns_kept = matrix[:, columns]
        folds.append(
            Fold(
                train=xgb.DMatrix(
                    columns_kept[training_rows], label=churn[training_rows], feature_names=names
                ),
                held_out=xgb.DMatrix(columns_kept[rows], label=churn[rows], feature_names=names),
                held_out_rows=rows,
            )
        )
    return tuple(folds)


def _held_out_loss(booster: xgb.Booster, fold: Fold, iteration: int) -> float:
    # xgboost's own metric line ("[3]\theld_out-logloss:0.312..."), from its prediction cache.
    return float(booster.eval_set([(fold.held_out, "held_out")], iteration).rsplit(":", 1)[1])


def final_round_count(cv_rounds: int, growth: float, most_rounds: int) -> int:
    """Rounds for a model trained on more rows than each fold: the cross-validated round count, scaled.

    `growth` = rows the model trains on / rows each fold trained on (folds / (folds - 1), 1.25 for 5
    folds, for every non-test row): with more rows the same learning rate keeps finding useful splits
    for longer, so the count is scaled by the growth in rows, rounded, and kept within the trial's own
    num_round.
    """
    return int(min(most_rounds, max(1, round(cv_rounds * growth))))


def cross_validate(
    hyperparameters: dict[str, float | int], folds: Sequence[Fold], rows: int, seed: int
) -> CrossValidated:
    """Train on every fold in step, stop on the folds' mean held-out log-loss, score each held-out fold.

    One round count for all folds (as `xgboost.cv` does): stopping each fold at its own best round
    would pick that fold's luckiest round on the very rows it is then judged on.
    """
    params = booster_params(hyperparameters, seed)
    boosters = [xgb.Booster(params, [fold.train, fold.held_out]) for fold in folds]
    patience = patience_rounds(float(hyperparameters["eta"]))
    best_loss, best_rounds = np.inf, 0
    for iteration in range(int(hyperparameters["num_round"])):
        losses = []
        for booster, fold in zip(boosters, folds, strict=True):
            booster.update(fold.train, iteration)
            losses.append(_held_out_loss(booster, fold, iteration))
        if float(np.mean(losses)) < best_loss:
            best_loss, best_rounds = float(np.mean(losses)), iteration + 1
        elif iteration + 1 - best_rounds >= patience:
            break
    out_of_fold = np.full(rows, np.nan)
    trimmed = tuple(booster[:best_rounds] for booster in boosters)
    aucs = []
    for booster, fold in zip(trimmed, folds, strict=True):
        scores = booster.predict(fold.held_out)
        out_of_fold[fold.held_out_rows] = scores
        aucs.append(float(roc_auc_score(fold.held_out.get_label(), scores)))
    if np.isnan(out_of_fold).any():
        raise ValueError("the folds' held-out rows must cover every row")
    trial = Trial(
        hyperparameters=dict(hyperparameters),
        validation_auc=float(np.mean(aucs)),
        best_round_count=final_round_count(
            best_rounds, len(folds) / (len(folds) - 1), int(hyperparameters["num_round"])
        ),
        fold_aucs=tuple(aucs),
        cv_rounds=best_rounds,
    )
    return CrossValidated(trial, out_of_fold, trimmed)


def fit_final(
    hyperparameters: dict[str, float | int], rounds: int, train: xgb.DMatrix, seed: int
) -> xgb.Booster:
    """The chosen hyper-parameters trained on the given rows for a fixed round count."""
    return xgb.train(booster_params(hyperparameters, seed), train, num_boost_round=rounds)


def best_ranked(trials: Sequence[Trial]) -> int:
    """The position of the best-ranked trial (Trial.rank_key), the earlier one on ties."""
    return min(range(len(trials)), key=lambda number: (trials[number].rank_key(), number))


def search(
    folds: Sequence[Fold],
    rows: int,
    *,
    trials: int,
    seed: int,
    on_trial: Callable[[int, Trial, Trial], None] | None = None,
    validation_cost: Callable[[np.ndarray], OutOfFoldCost] | None = None,
    choose: Callable[[Sequence[Trial]], int] = best_ranked,
) -> SearchResult:
    """Cross-validate `trials` hyper-parameter sets (the reference's first, then random draws); keep one.

    `validation_cost(out_of_fold_scores)` gives the cost of a trial from its out-of-fold scores; when
    given, trials rank by lowest cost, the mean held-out AUC breaking ties, else by highest mean
    held-out AUC. `choose(trials)` says which trial is kept (default: the best-ranked, the earlier on
    ties), so the result depends only on the data, `trials` and `seed`. The kept trial is
    cross-validated again for its fold models (the same seed gives the same models) rather than every
    trial's being held in memory.
    """
    if trials < 1:
        raise ValueError("trials must be at least 1")
    rng = np.random.default_rng(seed)
    candidates = [dict(REFERENCE_HYPERPARAMETERS)] + [draw_hyperparameters(rng) for _ in range(trials - 1)]
    done: list[Trial] = []
    for number, hyperparameters in enumerate(candidates, start=1):
        result = _judged(cross_validate(hyperparameters, folds, rows, seed), validation_cost)
        done.append(result.trial)
        if on_trial is not None:
            on_trial(number, result.trial, done[best_ranked(done)])
    kept = choose(done)
    best = _judged(cross_validate(candidates[kept], folds, rows, seed), validation_cost)
    return SearchResult(best, tuple(done))


def _judged(
    result: CrossValidated, validation_cost: Callable[[np.ndarray], OutOfFoldCost] | None
) -> CrossValidated:
    if validation_cost is None:
        return result
    cost = validation_cost(result.out_of_fold)
    trial = replace(result.trial, validation_cost=float(cost.total), fold_costs=tuple(cost.per_fold))
    return replace(result, trial=trial)
