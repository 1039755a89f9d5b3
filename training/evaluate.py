"""Model quality on held-out rows: AUC, accuracy, precision, recall, the ROC curve, and how far the
figures of a part of a few hundred customers can move by chance (95% intervals)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve

# Two-sided 95%: a figure of the test part lies this many standard errors from its true value or less,
# 19 times in 20.
Z_95 = 1.959964
# Accuracy, precision and recall are reported at this probability, the conventional one, so the full
# and reduced models compare on equal terms; the business cut-off is reported separately.
CLASSIFICATION_THRESHOLD = 0.5


def quality_metrics(churn: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    predicted = (scores >= CLASSIFICATION_THRESHOLD).astype(int)
    auc = float(roc_auc_score(churn, scores))
    return {
        "test_auc": round(auc, 6),
        "test_auc_interval_95": auc_interval(
            auc, positives=int(np.sum(churn == 1)), negatives=int(np.sum(churn == 0))
        ),
        "accuracy": round(float(accuracy_score(churn, predicted)), 6),
        "precision": round(float(precision_score(churn, predicted, zero_division=0)), 6),
        "recall": round(float(recall_score(churn, predicted, zero_division=0)), 6),
        "threshold": CLASSIFICATION_THRESHOLD,
    }


def roc_points(churn: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates along the ROC curve."""
    false_positive_rate, true_positive_rate, _ = roc_curve(churn, scores)
    return false_positive_rate, true_positive_rate


def auc_interval(auc: float, *, positives: int, negatives: int) -> list[float]:
    """The 95% interval of an AUC measured on `positives` churners and `negatives` others, from Hanley
    and McNeil's standard error (Radiology 143:29-36, 1982): a closed form, so the same rows give the
    same interval every time. Clipped to [0, 1]."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    half = Z_95 * float(np.sqrt(max(variance, 0.0)))
    return [round(max(0.0, auc - half), 6), round(min(1.0, auc + half), 6)]


def mean_interval(values: np.ndarray) -> list[float]:
    """The 95% interval of the mean of `values` (normal approximation: the test part has hundreds)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    half = Z_95 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return [round(mean - half, 4), round(mean + half, 4)]
