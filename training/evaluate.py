"""Model quality on held-out rows: AUC, accuracy, precision, recall and the ROC curve."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve

# Accuracy, precision and recall are reported at this probability, the conventional one, so the full
# and reduced models compare on equal terms; the business cut-off is reported separately.
CLASSIFICATION_THRESHOLD = 0.5


def quality_metrics(churn: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    predicted = (scores >= CLASSIFICATION_THRESHOLD).astype(int)
    return {
        "test_auc": round(float(roc_auc_score(churn, scores)), 6),
        "accuracy": round(float(accuracy_score(churn, predicted)), 6),
        "precision": round(float(precision_score(churn, predicted, zero_division=0)), 6),
        "recall": round(float(recall_score(churn, predicted, zero_division=0)), 6),
        "threshold": CLASSIFICATION_THRESHOLD,
    }


def roc_points(churn: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates along the ROC curve."""
    false_positive_rate, true_positive_rate, _ = roc_curve(churn, scores)
    return false_positive_rate, true_positive_rate
