"""Choices made on out-of-fold scores: full or reduced model, the business cut-off, the spread over folds.

Every non-test customer has one out-of-fold score (from the fold model that did not train on them),
so these choices rest on all of them rather than on one validation part, and the test rows stay
untouched until the choices are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from training.cutoff import CostModel, cost_at, smoothed_optimal_cutoff


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
