"""Choices made on out-of-fold scores: the trial kept, full or reduced model, the business cut-off, the
spread over folds.

Every non-test customer has one out-of-fold score (from the fold model that did not train on them),
so these choices rest on all of them rather than on one validation part, and the test rows stay
untouched until the choices are made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from training.cutoff import CostModel, cost_at, smoothed_optimal_cutoff
from training.search import OutOfFoldCost, Trial, best_ranked


@dataclass(frozen=True)
class OutOfFoldChoice:
    model: str  # "full" or "reduced"
    cutoff: float
    # The cost over every non-test customer's out-of-fold score at that cut-off.
    validation_cost: float


def fold_aucs(churn: np.ndarray, scores: np.ndarray, folds: Sequence[np.ndarray]) -> list[float]:
    """The AUC of the scores on each fold's held-out rows."""
    return [float(roc_auc_score(churn[rows], scores[rows])) for rows in folds]


def choose_from_out_of_fold(
    churn: np.ndarray,
    folds: Sequence[np.ndarray],
    scores: dict[str, np.ndarray],
    *,
    auc_margin: float,
    costs: CostModel,
) -> OutOfFoldChoice:
    """Keep the reduced model when its mean fold AUC is at most `auc_margin` below the full model's; the
    cut-off is then the smoothed lowest-cost one over the chosen model's out-of-fold scores.

    A reduced model within the margin is preferred: fewer inputs to feed, explain and keep right.
    """
    full, reduced = (float(np.mean(fold_aucs(churn, scores[name], folds))) for name in ("full", "reduced"))
    model = "reduced" if reduced >= full - auc_margin else "full"
    cutoff, cost = smoothed_optimal_cutoff(churn, scores[model], costs)
    return OutOfFoldChoice(model, cutoff, cost)


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "mean": round(float(np.mean(values)), 6),
        # Sample standard deviation (n - 1): the folds are a sample of the splits the model could meet.
        "std": round(float(np.std(values, ddof=1)) if len(values) > 1 else 0.0, 6),
        "per_fold": [round(value, 6) for value in values],
    }


def fold_spread(
    churn: np.ndarray, scores: np.ndarray, folds: Sequence[np.ndarray], cutoff: float, costs: CostModel
) -> dict[str, Any]:
    """Mean, standard deviation and per-fold values of the AUC and of the cost per customer at `cutoff`."""
    costs_per_customer = [cost_at(churn[rows], scores[rows], cutoff, costs) / len(rows) for rows in folds]
    return {
        "auc": _spread(fold_aucs(churn, scores, folds)),
        "cost_per_customer": _spread(costs_per_customer),
        "rows_per_fold": [len(rows) for rows in folds],
        "cutoff": cutoff,
    }


def out_of_fold_cost(
    churn: np.ndarray, folds: Sequence[np.ndarray], costs: CostModel
) -> Callable[[np.ndarray], OutOfFoldCost]:
    """The search's cost of a trial: its out-of-fold scores at the smoothed lowest-cost cut-off chosen on
    all of them (what the pipeline would do with that model), and each fold's share at that cut-off."""

    def judge(scores: np.ndarray) -> OutOfFoldCost:
        cutoff, total = smoothed_optimal_cutoff(churn, scores, costs)
        return OutOfFoldCost(
            total, tuple(cost_at(churn[rows], scores[rows], cutoff, costs) for rows in folds)
        )

    return judge


@dataclass(frozen=True)
class WithinNoise:
    """Which trials the figures cannot tell from the best one, and the one kept among them."""

    kept: int
    best: int
    # How far from the best the kept trial's figure lies (the mean fold AUC below it, or the
    # out-of-fold cost in dollars above it) and the standard error of that gap, from the two trials'
    # fold-by-fold differences: the kept trial's gap is at most its tolerance.
    gap: float
    tolerance: float
    within: tuple[int, ...]


def smoothness_key(hyperparameters: dict[str, float | int]) -> tuple[float, ...]:
    """Smaller is smoother: lower learning rate, then shallower trees, then stronger regularisation
    (larger min_child_weight, gamma, lambda, alpha)."""
    return (
        float(hyperparameters["eta"]),
        float(hyperparameters["max_depth"]),
        -float(hyperparameters["min_child_weight"]),
        -float(hyperparameters["gamma"]),
        -float(hyperparameters["lambda"]),
        -float(hyperparameters["alpha"]),
    )


def standard_error(per_fold: Sequence[float], *, of_sum: bool) -> float:
    """The standard error of the folds' mean (or, `of_sum`, of their sum), from their sample spread."""
    if len(per_fold) < 2:
        return 0.0
    spread = float(np.std(per_fold, ddof=1))
    return spread * np.sqrt(len(per_fold)) if of_sum else spread / np.sqrt(len(per_fold))


def _gap_and_noise(trial: Trial, top: Trial) -> tuple[float, float]:
    """How much worse `trial` is than `top`, and the standard error of that gap over their paired folds."""
    if top.validation_cost is not None:
        differences = np.subtract(trial.fold_costs, top.fold_costs)
        gap = (trial.validation_cost or 0.0) - top.validation_cost
        return gap, standard_error(list(differences), of_sum=True)
    differences = np.subtract(top.fold_aucs, trial.fold_aucs)
    return top.validation_auc - trial.validation_auc, standard_error(list(differences), of_sum=False)


def within_one_standard_error(trials: Sequence[Trial]) -> WithinNoise:
    """Among the trials the folds cannot tell from the best-ranked, the smoothest (the earlier on ties).

    A trial is tied with the best when its gap to it (more out-of-fold cost, or less mean fold AUC)
    is at most one standard error of that gap. Every trial is scored on the same five folds, so the
    gap's noise is measured on the fold-by-fold differences between the two trials (a paired
    comparison): what all trials share from one fold to the next (a fold of easy customers is cheap
    for every trial) is not noise between them. Among the tied trials fast, complex learners win the
    ranking by fitting the folds' noise; the rule keeps the simplest of them instead, as the
    one-standard-error rule does (Breiman et al., Classification and Regression Trees, 1984, for
    pruning). With a cost (the default ranking) the gap is in dollars of total out-of-fold cost (its
    folds' costs at its cut-off); without, in mean fold AUC.
    """
    best = best_ranked(trials)
    top = trials[best]
    gaps = [_gap_and_noise(trial, top) for trial in trials]
    within = [number for number, (gap, noise) in enumerate(gaps) if gap <= noise]
    kept = min(within, key=lambda number: (smoothness_key(trials[number].hyperparameters), number))
    gap, noise = gaps[kept]
    return WithinNoise(kept, best, float(gap), float(noise), tuple(within))


def smoothest_within_noise(trials: Sequence[Trial]) -> int:
    """The search's `choose` rule: the kept trial of within_one_standard_error."""
    return within_one_standard_error(trials).kept
