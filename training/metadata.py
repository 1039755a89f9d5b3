"""metadata.json as both trainings write it: the one builder of its blocks, local and SageMaker alike.

Local training chooses by cross-validation and SageMaker training by one validation part, so some
values differ in how they were found, never in where they go: the same field names, the same types,
the same order, read back by churnguard.model_folder. Only three blocks belong to one path:
`cross_validation` and `deployed` (local) and `trained_on` (SageMaker).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb

from churnguard import __version__ as churnguard_version
from churnguard.constants import XGBOOST_CONTAINER_VERSION
from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import METADATA_SCHEMA_VERSION, model_id_of
from training import explain
from training.artifacts import model_json_bytes
from training.cutoff import (
    SMOOTHING_HALF_WIDTH,
    CostModel,
    cost_at,
    customer_costs,
    do_nothing_cost,
    optimal_cutoff,
)
from training.evaluate import mean_interval, quality_metrics

CUTOFF_RULE = "offer an incentive when churn probability >= cutoff"
OBJECTIVE = "binary:logistic"


def library_versions() -> dict[str, str]:
    """metadata's `versions`: what trained the model, and the serving container it was trained for."""
    return {
        "xgboost": xgb.__version__,
        "container": XGBOOST_CONTAINER_VERSION,
        "churnguard": churnguard_version,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def model_metrics(
    test_churn: np.ndarray,
    test_scores: np.ndarray,
    *,
    validation_auc: float,
    validation_cost: float | None,
    features: int,
    hyperparameters: Mapping[str, Any],
    rounds: int,
    **extra: Any,
) -> dict[str, Any]:
    """One model's entry in `metrics` (full or reduced): test quality, how it did where it was chosen,
    its size and settings; `extra` adds what one path records (SageMaker: the job's name)."""
    return {
        **quality_metrics(test_churn, test_scores),
        "validation_auc": validation_auc,
        "validation_cost": validation_cost,
        "features": features,
        "hyperparameters": dict(hyperparameters),
        "rounds": rounds,
        **extra,
    }


def cost_block(
    test_churn: np.ndarray,
    test_scores: np.ndarray,
    cutoff: float,
    costs: CostModel,
    *,
    chosen_on: str,
    validation_cost: float,
    validation_rows: int,
) -> dict[str, Any]:
    """metadata's `cost`: the chosen model's cost at its cut-off on the test rows, the assumptions it
    was chosen for (read by the engine and the offers report), and how the cut-off was chosen:
    `chosen_on` names the rows ("out_of_fold" locally, "validation" on SageMaker)."""
    at_cutoff = cost_at(test_churn, test_scores, cutoff, costs)
    best_cutoff, best_cost = optimal_cutoff(test_churn, test_scores, costs)
    rows = "out-of-fold" if chosen_on == "out_of_fold" else chosen_on
    return {
        "at_cutoff": at_cutoff,
        "do_nothing": do_nothing_cost(test_churn, costs),
        "test_rows": len(test_churn),
        "per_customer": round(at_cutoff / len(test_churn), 4),
        "per_customer_interval_95": mean_interval(customer_costs(test_churn, test_scores, cutoff, costs)),
        "offer_usd": costs.offer_usd,
        "lost_customer_usd": costs.lost_customer_usd,
        "cutoff_chosen_on": chosen_on,
        "cutoff_choice": {
            "rule": f"lowest {rows} cost averaged over neighbouring cut-offs",
            "half_width": SMOOTHING_HALF_WIDTH,
            "validation_cost": validation_cost,
            "validation_rows": validation_rows,
        },
        "best_on_test": {"cutoff": best_cutoff, "cost": best_cost},
    }


def build_metadata(
    *,
    booster: xgb.Booster,
    spec: FeatureSpec,
    cutoff: float,
    metrics: Mapping[str, Any],
    cost: Mapping[str, Any],
    data: Mapping[str, Any],
    seed: int,
    hyperparameters: Mapping[str, Any],
    search: Mapping[str, Any],
    reference: Mapping[str, Any],
    cross_validation: Mapping[str, Any] | None = None,
    trained_on: Mapping[str, Any] | None = None,
    deployed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """metadata.json for the shipped `booster` and its `spec`. The id, the feature list, the versions
    and the importance are computed here from the model itself, so no writer types them; the blocks
    that depend on how the run chose are given (metrics: model_metrics per model plus `chosen`, cost:
    cost_block). `hyperparameters` are the chosen model's tuned ones; the objective and its round
    count are added. `deployed` (local) says the shipped model was refit on every labelled row after
    the test figures were computed from the held-out fit."""
    return {
        "schema_version": METADATA_SCHEMA_VERSION,
        "features": spec.names,
        "feature_spec": spec.to_json(),
        "cutoff": cutoff,
        "cutoff_rule": CUTOFF_RULE,
        "metrics": dict(metrics),
        "cost": dict(cost),
        **({"cross_validation": dict(cross_validation)} if cross_validation is not None else {}),
        "data": dict(data),
        "versions": library_versions(),
        "seed": seed,
        "hyperparameters": {
            **hyperparameters,
            "objective": OBJECTIVE,
            "rounds": booster.num_boosted_rounds(),
        },
        "search": dict(search),
        **({"trained_on": dict(trained_on)} if trained_on is not None else {}),
        **({"deployed": dict(deployed)} if deployed is not None else {}),
        "importance": [row for row in explain.feature_importance(booster, spec.names) if row["splits"] > 0],
        "model_id": model_id_of(model_json_bytes(booster)),
        "reference": dict(reference),
    }
