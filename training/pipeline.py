"""The training run end to end: features, split, search, reduced model, cut-off, artifacts, report.

`train()` is what `churnguard train`, the demo and the test fixture call. Everything it writes
depends only on the customer table and its arguments (no clock, no unseeded randomness), so the same
inputs give byte-identical models and metadata.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb

from churnguard import __version__ as churnguard_version
from churnguard.constants import DEFAULT_SEED, XGBOOST_CONTAINER_VERSION
from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec
from training import artifacts, explain
from training.cutoff import (
    CUTOFF_GRID,
    SMOOTHING_HALF_WIDTH,
    CostModel,
    cost_at,
    cost_curve,
    do_nothing_cost,
    optimal_cutoff,
    smoothed_optimal_cutoff,
)
from training.data import validate_customers
from training.evaluate import quality_metrics, roc_points
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.progress import Progress, SilentProgress
from training.report import REPORT_HTML, ReportInputs, write_report
from training.search import HYPERPARAMETER_RANGES, SearchResult, Trial, search
from training.split import SPLIT_RULES, Split, SplitRule, split_customers

DEFAULT_TRIALS = 40
# The reduced model is kept when its validation AUC is at most this much below the full model's.
DEFAULT_AUC_MARGIN = 0.005
# Fewer churners than this in a part of the split make its AUC and cut-off meaningless.
MIN_CHURNERS_PER_PART = 5
# How the search picks its winning trial (training/search.py): "cost" = lowest validation cost at the
# model's smoothed cut-off, AUC breaking ties; "auc" = highest validation AUC (the reference's way).
TRIAL_SELECTIONS: tuple[str, ...] = ("cost", "auc")
DEFAULT_TRIAL_SELECTION = "cost"


@dataclass(frozen=True)
class ModelRun:
    """One searched model (full or reduced) and its scores on each part of the split."""

    spec: FeatureSpec
    search: SearchResult
    validation_scores: np.ndarray
    test_scores: np.ndarray


@dataclass(frozen=True)
class TrainingResult:
    out_dir: Path
    metadata: dict[str, Any]
    booster: xgb.Booster
    feature_spec: FeatureSpec

    @property
    def model_tarball(self) -> Path:
        return self.out_dir / artifacts.MODEL_TARBALL

    @property
    def model_json(self) -> Path:
        return self.out_dir / artifacts.MODEL_JSON

    @property
    def metadata_path(self) -> Path:
        return self.out_dir / artifacts.METADATA_JSON

    @property
    def report_path(self) -> Path:
        return self.out_dir / REPORT_HTML


def train(
    customers: pd.DataFrame,
    out_dir: Path,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    split: SplitRule = "project",
    offer_usd: float = 50.0,
    lost_customer_usd: float = 500.0,
    auc_margin: float = DEFAULT_AUC_MARGIN,
    progress: Progress | None = None,
    trial_selection: str = DEFAULT_TRIAL_SELECTION,
) -> TrainingResult:
    """Train, explain, choose and package a churn model from a validated customer table."""
    progress = progress or SilentProgress()
    if trial_selection not in TRIAL_SELECTIONS:
        raise UserError(
            f"unknown trial selection {trial_selection!r}: use one of {', '.join(TRIAL_SELECTIONS)}"
        )
    if split not in SPLIT_RULES:
        raise UserError(f"unknown split {split!r}: use one of {', '.join(SPLIT_RULES)}")
    if trials < 1:
        raise UserError(f"--trials must be at least 1 (got {trials})")
    if auc_margin < 0:
        raise UserError(f"the AUC margin must not be negative (got {auc_margin})")
    costs = CostModel(offer_usd=offer_usd, lost_customer_usd=lost_customer_usd)
    customers = validate_customers(customers)
    churn = labels(customers)
    parts = split_customers(customers, split, seed)
    _check_parts(churn, parts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    validation_churn = churn[parts.validation]

    def validation_cost(scores: np.ndarray) -> float:
        # The cost the pipeline itself would incur on the validation rows with this model.
        return smoothed_optimal_cutoff(validation_churn, scores, costs)[1]

    rank_by_cost = validation_cost if trial_selection == "cost" else None
    full_spec = build_feature_spec(customers.iloc[parts.train])
    full = _search_model(
        customers, churn, parts, full_spec, "full model", trials, seed, progress, rank_by_cost
    )
    used = explain.used_features(full.search.booster) or set(full_spec.names)
    reduced_spec = subset_spec(full_spec, used)
    reduced = _search_model(
        customers, churn, parts, reduced_spec, "reduced model", trials, seed, progress, rank_by_cost
    )
    keep_reduced = reduced.search.best.validation_auc >= full.search.best.validation_auc - auc_margin
    chosen = reduced if keep_reduced else full

    progress.begin("choosing the cut-off and writing the artifacts")
    # The cut-off is chosen on the validation rows and its cost measured on the untouched test rows.
    cutoff, cost_on_validation = smoothed_optimal_cutoff(validation_churn, chosen.validation_scores, costs)
    test_churn = churn[parts.test]
    best_on_test_cutoff, best_on_test_cost = optimal_cutoff(test_churn, chosen.test_scores, costs)
    at_cutoff = cost_at(test_churn, chosen.test_scores, cutoff, costs)
    metadata = _metadata(
        customers=customers,
        churn=churn,
        parts=parts,
        split=split,
        seed=seed,
        trials=trials,
        trial_selection=trial_selection,
        auc_margin=auc_margin,
        runs={"full": full, "reduced": reduced},
        chosen_name="reduced" if keep_reduced else "full",
        cutoff=cutoff,
        cost={
            "at_cutoff": at_cutoff,
            "do_nothing": do_nothing_cost(test_churn, costs),
            "test_rows": len(parts.test),
            "per_customer": round(at_cutoff / len(parts.test), 4),
            "offer_usd": costs.offer_usd,
            "lost_customer_usd": costs.lost_customer_usd,
            "cutoff_chosen_on": "validation",
            "cutoff_choice": {
                "rule": "lowest validation cost averaged over neighbouring cut-offs",
                "half_width": SMOOTHING_HALF_WIDTH,
                "validation_cost": cost_on_validation,
                "validation_rows": len(parts.validation),
            },
            "best_on_test": {"cutoff": best_on_test_cutoff, "cost": best_on_test_cost},
        },
    )
    artifacts.write_model_files(chosen.search.booster, out_dir)
    artifacts.write_metadata(metadata, out_dir)
    write_report(
        ReportInputs(
            summary=_report_summary(metadata),
            importance=explain.feature_importance(chosen.search.booster, chosen.spec.names),
            tree_depths=explain.tree_depths(chosen.search.booster),
            first_tree_splits=explain.first_tree_splits(chosen.search.booster),
            roc={
                name: roc_points(test_churn, run.test_scores)
                for name, run in (("full", full), ("reduced", reduced))
            },
            cutoff_grid=CUTOFF_GRID,
            cost_curve=cost_curve(test_churn, chosen.test_scores, costs),
            cutoff=cutoff,
            test_customers=customers.iloc[parts.test],
            test_scores=chosen.test_scores,
        ),
        out_dir,
    )
    progress.end(f"cut-off {cutoff:.2f}, {metadata['metrics']['chosen']} model")
    return TrainingResult(out_dir, metadata, chosen.search.booster, chosen.spec)


def _check_parts(churn: np.ndarray, parts: Split) -> None:
    for name, rows in (("train", parts.train), ("validation", parts.validation), ("test", parts.test)):
        churners = int(churn[rows].sum())
        if churners < MIN_CHURNERS_PER_PART or churners == len(rows):
            raise UserError(
                f"the {name} part has {churners} churners among {len(rows)} customers: need at least "
                f"{MIN_CHURNERS_PER_PART} churners and some non-churners in every part (use more data)"
            )


def _search_model(
    customers: pd.DataFrame,
    churn: np.ndarray,
    parts: Split,
    spec: FeatureSpec,
    label: str,
    trials: int,
    seed: int,
    progress: Progress,
    validation_cost: Callable[[np.ndarray], float] | None,
) -> ModelRun:
    matrix = feature_matrix(customers, spec)

    def dmatrix(rows: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(matrix[rows], label=churn[rows], feature_names=spec.names)

    def report_trial(number: int, _trial: Trial, best: Trial) -> None:
        progress.advance(number, _describe(best))

    progress.begin(f"searching the {label} ({len(spec.names)} features)", trials)
    result = search(
        dmatrix(parts.train),
        dmatrix(parts.validation),
        trials=trials,
        seed=seed,
        on_trial=report_trial,
        validation_cost=validation_cost,
    )
    progress.end(_describe(result.best))
    return ModelRun(
        spec=spec,
        search=result,
        validation_scores=result.booster.predict(dmatrix(parts.validation)),
        test_scores=result.booster.predict(dmatrix(parts.test)),
    )


def _describe(best: Trial) -> str:
    auc = f"best validation AUC {best.validation_auc:.4f}"
    return auc if best.validation_cost is None else f"{auc}, validation cost ${best.validation_cost:,.0f}"


def _model_summary(run: ModelRun, test_churn: np.ndarray) -> dict[str, Any]:
    return {
        **quality_metrics(test_churn, run.test_scores),
        "validation_auc": round(run.search.best.validation_auc, 6),
        "validation_cost": run.search.best.validation_cost,
        "features": len(run.spec.names),
        "hyperparameters": run.search.best.hyperparameters,
        "rounds": run.search.best.best_round_count,
    }


def library_versions() -> dict[str, str]:
    return {
        "xgboost": xgb.__version__,
        "container": XGBOOST_CONTAINER_VERSION,
        "churnguard": churnguard_version,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def _metadata(
    *,
    customers: pd.DataFrame,
    churn: np.ndarray,
    parts: Split,
    split: str,
    seed: int,
    trials: int,
    trial_selection: str,
    auc_margin: float,
    runs: dict[str, ModelRun],
    chosen_name: str,
    cutoff: float,
    cost: dict[str, Any],
) -> dict[str, Any]:
    chosen = runs[chosen_name]
    test_churn = churn[parts.test]
    return {
        "schema_version": artifacts.METADATA_SCHEMA_VERSION,
        "features": chosen.spec.names,
        "feature_spec": chosen.spec.to_json(),
        "cutoff": cutoff,
        "cutoff_rule": "offer an incentive when churn probability >= cutoff",
        "metrics": {
            **{name: _model_summary(run, test_churn) for name, run in runs.items()},
            "chosen": chosen_name,
            "auc_margin": auc_margin,
            "chosen_on": "validation_auc",
        },
        "cost": cost,
        "data": {
            "fingerprint": artifacts.data_fingerprint(customers),
            "rows": len(customers),
            "churn_rate": round(float(churn.mean()), 6),
            "split": split,
            "train_rows": len(parts.train),
            "validation_rows": len(parts.validation),
            "test_rows": len(parts.test),
        },
        "versions": library_versions(),
        "seed": seed,
        "hyperparameters": {
            **chosen.search.best.hyperparameters,
            "objective": "binary:logistic",
            "rounds": chosen.search.best.best_round_count,
        },
        "search": {
            "trials": trials,
            "ranges": {name: [low, high] for name, (low, high, _) in HYPERPARAMETER_RANGES.items()},
            "objective_metric": "validation:auc",
            "trial_selection": trial_selection,
            "trial_selection_rule": (
                "lowest validation cost at the smoothed cut-off, then highest validation AUC"
                if trial_selection == "cost"
                else "highest validation AUC"
            ),
        },
        "importance": [
            row
            for row in explain.feature_importance(chosen.search.booster, chosen.spec.names)
            if row["splits"] > 0
        ],
    }


def _report_summary(metadata: dict[str, Any]) -> dict[str, Any]:
    metrics, cost = metadata["metrics"], metadata["cost"]
    return {
        "chosen model": f"{metrics['chosen']} ({len(metadata['features'])} features)",
        "test AUC full": metrics["full"]["test_auc"],
        "test AUC reduced": metrics["reduced"]["test_auc"],
        "cut-off": metadata["cutoff"],
        "cost at cut-off (test)": f"${cost['at_cutoff']:,.0f} (${cost['per_customer']:.2f} per customer)",
        "cost of doing nothing (test)": f"${cost['do_nothing']:,.0f}",
        "test rows": cost["test_rows"],
        "split": metadata["data"]["split"],
        "seed": metadata["seed"],
        "data fingerprint": metadata["data"]["fingerprint"],
    }
