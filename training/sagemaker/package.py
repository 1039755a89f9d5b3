"""The model folder from a SageMaker run: the same files, read the same way, as a local run's.

SageMaker trains the models; this module turns the best tuning job's booster and the reduced model's
booster, with their scores on the validation and test rows, into model.tar.gz, model.json,
metadata.json and report.html. The cut-off is chosen on the validation rows (held out from training)
and the cost is measured on the test rows, never seen by any job's choices. The folder is written
beside `out_dir` and moved into place only when complete, so a failure leaves no half-written folder.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import MODEL_TARBALL, write_metadata
from training import artifacts, explain
from training.cutoff import (
    CUTOFF_GRID,
    CostModel,
    cost_curve,
    smoothed_optimal_cutoff,
)
from training.evaluate import roc_points
from training.features import feature_matrix, labels
from training.metadata import build_metadata, cost_block, model_metrics
from training.pipeline import report_summary
from training.report import ReportInputs, write_report
from training.sagemaker.jobs import tuned_ranges
from training.split import Split


class ModelArtifactError(ValueError):
    """A job's model.tar.gz does not hold the built-in algorithm's `xgboost-model`."""


def booster_from_job_output(tarball: bytes, spec: FeatureSpec) -> xgb.Booster:
    """The booster a built-in XGBoost job saved (member `xgboost-model`), named after `spec`'s features.

    When the job stopped early, the rounds after its best one are cut off (as the local search trims
    its folds) and the best-iteration attributes dropped, so the trees shipped, the trees a batch
    transform job scores (it gets this booster, repackaged) and the trees whose scores choose the
    cut-off are the same, however a reader treats those attributes.
    """
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.extractfile(artifacts.MODEL_MEMBER)
        except KeyError:
            raise ModelArtifactError(
                f"the job's model.tar.gz has no {artifacts.MODEL_MEMBER!r} (members: {archive.getnames()})"
            ) from None
        assert member is not None
        booster = xgb.Booster()
        booster.load_model(bytearray(member.read()))
    if booster.num_features() != len(spec.names):
        raise ModelArtifactError(
            f"the job's model takes {booster.num_features()} features, the feature spec has {len(spec.names)}"
        )
    best = booster.attr("best_iteration")
    if best is not None:
        booster = booster[: int(best) + 1]
        # Without the attributes every reader (the serving container, the SQL compiler, the drivers)
        # scores with every tree kept, whatever it does with best_iteration.
        booster.set_attr(best_iteration=None, best_score=None)
    booster.feature_names = list(spec.names)
    return booster


def model_tarball_bytes(booster: xgb.Booster) -> bytes:
    """model.tar.gz exactly as the model folder holds it, for a batch transform job to score with."""
    with tempfile.TemporaryDirectory(prefix="churnguard-model-") as folder:
        artifacts.write_model_files(booster, Path(folder))
        return (Path(folder) / MODEL_TARBALL).read_bytes()


@dataclass(frozen=True)
class ScoredModel:
    """One model SageMaker trained, with its scores on the validation and the test rows."""

    spec: FeatureSpec
    booster: xgb.Booster
    validation_scores: np.ndarray
    test_scores: np.ndarray
    hyperparameters: dict[str, str]
    job_name: str


@dataclass(frozen=True)
class HeldOut:
    """What the choice, the cut-off and the report read besides the models' scores: the labels of the
    validation and test rows (in the order of the scores), metadata.json's `data` block, and the test
    customers when the rows are here (None when they stayed in Aurora: the report then says what it
    cannot show)."""

    validation_churn: np.ndarray
    test_churn: np.ndarray
    data: dict[str, Any]
    test_customers: pd.DataFrame | None = None


# metadata.json's `reference` for the chosen model (its name and the model), however it is counted.
ReferenceBuilder = Callable[[str, "ScoredModel"], dict[str, Any]]


@dataclass(frozen=True)
class RunFacts:
    """What the metadata records about the run besides the models."""

    seed: int
    auc_margin: float
    costs: CostModel
    tuning_job: str
    jobs: int
    instance_type: str
    instance_count: int
    data_source: str


@contextmanager
def staged_folder(out_dir: Path) -> Iterator[Path]:
    """A fresh folder beside `out_dir` that replaces it only if the block completes."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = out_dir.parent / f".{out_dir.name}.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(previous)
    staging.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)


def _auc(churn: np.ndarray, scores: np.ndarray) -> float:
    return round(float(roc_auc_score(churn, scores)), 6)


def _typed(hyperparameters: dict[str, str]) -> dict[str, float | int]:
    ranges = tuned_ranges()
    return {
        name: int(float(value)) if ranges[name][2] else float(value)
        for name, value in hyperparameters.items()
        if name in ranges
    }


def write_sagemaker_model(
    held_out: HeldOut,
    models: dict[str, ScoredModel],
    facts: RunFacts,
    out_dir: Path,
    reference: ReferenceBuilder,
) -> dict[str, Any]:
    """Choose full or reduced and the cut-off on the validation rows, then write the model folder."""
    validation_churn, test_churn = held_out.validation_churn, held_out.test_churn
    validation_auc = {name: _auc(validation_churn, model.validation_scores) for name, model in models.items()}
    chosen_name = (
        "reduced" if validation_auc["reduced"] >= validation_auc["full"] - facts.auc_margin else "full"
    )
    chosen = models[chosen_name]
    costs = facts.costs
    cutoff, validation_cost = smoothed_optimal_cutoff(validation_churn, chosen.validation_scores, costs)
    validation_costs = {
        name: smoothed_optimal_cutoff(validation_churn, model.validation_scores, costs)[1]
        for name, model in models.items()
    }
    metadata = build_metadata(
        booster=chosen.booster,
        spec=chosen.spec,
        cutoff=cutoff,
        metrics={
            **{
                name: model_metrics(
                    test_churn,
                    model.test_scores,
                    validation_auc=validation_auc[name],
                    validation_cost=validation_costs[name],
                    features=len(model.spec.names),
                    hyperparameters=_typed(model.hyperparameters),
                    rounds=model.booster.num_boosted_rounds(),
                    job=model.job_name,
                )
                for name, model in models.items()
            },
            "chosen": chosen_name,
            "auc_margin": facts.auc_margin,
            "chosen_on": "validation AUC",
        },
        cost=cost_block(
            test_churn,
            chosen.test_scores,
            cutoff,
            costs,
            chosen_on="validation",
            validation_cost=validation_cost,
            validation_rows=len(validation_churn),
        ),
        data={**held_out.data, "source": facts.data_source},
        seed=facts.seed,
        hyperparameters=_typed(chosen.hyperparameters),
        search={
            "trials": facts.jobs,
            "ranges": {name: [low, high] for name, (low, high, _) in tuned_ranges().items()},
            "objective_metric": "validation:auc (SageMaker tuning job, Bayesian)",
            "trial_selection": "auc",
            "tuning_job": facts.tuning_job,
        },
        trained_on={
            "service": "sagemaker",
            "instance_type": facts.instance_type,
            "instance_count": facts.instance_count,
        },
        reference=reference(chosen_name, chosen),
    )
    with staged_folder(out_dir) as folder:
        artifacts.write_model_files(chosen.booster, folder)
        write_metadata(folder, metadata)
        write_report(
            ReportInputs(
                summary=_summary(metadata),
                cross_validation=[
                    {
                        "model": name + (" (chosen)" if name == chosen_name else ""),
                        "folds": "one validation part",
                        "AUC mean": validation_auc[name],
                        "validation rows": len(validation_churn),
                        "cost per customer": _per_customer(
                            metadata["metrics"][name]["validation_cost"], len(validation_churn)
                        ),
                        "job": model.job_name,
                    }
                    for name, model in models.items()
                ],
                importance=explain.feature_importance(chosen.booster, chosen.spec.names),
                tree_depths=explain.tree_depths(chosen.booster),
                first_tree_splits=explain.first_tree_splits(chosen.booster),
                roc={name: roc_points(test_churn, model.test_scores) for name, model in models.items()},
                cutoff_grid=CUTOFF_GRID,
                cost_curve=cost_curve(test_churn, chosen.test_scores, costs),
                cutoff=cutoff,
                test_customers=held_out.test_customers,
                test_churn=test_churn,
                test_scores=chosen.test_scores,
            ),
            folder,
        )
    return metadata


def split_data_block(customers: pd.DataFrame, parts: Split, split: str) -> dict[str, Any]:
    """metadata.json's `data` block for a table that is here, split by training.split."""
    return {
        "fingerprint": artifacts.data_fingerprint(customers),
        "rows": len(customers),
        "churn_rate": round(float(labels(customers).mean()), 6),
        "split": split,
        "train_rows": len(parts.train),
        "validation_rows": len(parts.validation),
        "test_rows": len(parts.test),
    }


def trained_rows_reference(trained_customers: pd.DataFrame, chosen: ScoredModel) -> dict[str, Any]:
    """The reference distributions drift compares with (docs/lifecycle.md), as local training writes
    them: the chosen model's features and its own scores over the rows the jobs trained on."""
    names = list(chosen.spec.names)
    trained = feature_matrix(trained_customers, chosen.spec)
    return artifacts.reference_distributions(
        names, trained, chosen.booster.predict(xgb.DMatrix(trained, feature_names=names))
    )


def _per_customer(cost: float, rows: int) -> str:
    return f"${cost / rows:.2f}"


def _summary(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "trained on": f"SageMaker (tuning job {metadata['search']['tuning_job']})",
        **report_summary(metadata, cutoff_chosen_on="the validation rows"),
    }
