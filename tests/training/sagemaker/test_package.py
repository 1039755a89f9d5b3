"""Reading a job's model artifact: trimmed to its best round, named after the spec, checked."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from tests.training.sagemaker.sagemaker_service import model_tarball
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.sagemaker.package import ModelArtifactError, booster_from_job_output
from training.synthetic import generate_customers


def _early_stopped() -> tuple[xgb.Booster, object, np.ndarray]:
    customers = generate_customers(600, seed=8)
    spec = build_feature_spec(customers)
    matrix = feature_matrix(customers, spec)
    churn = labels(customers)
    train, validation = (
        xgb.DMatrix(matrix[:400], label=churn[:400]),
        xgb.DMatrix(matrix[400:], label=churn[400:]),
    )
    booster = xgb.train(
        {"objective": "binary:logistic", "eval_metric": "auc", "eta": 0.9, "max_depth": 6, "nthread": 1},
        train,
        num_boost_round=200,
        evals=[(validation, "validation")],
        early_stopping_rounds=10,
        verbose_eval=False,
    )
    return booster, spec, matrix


def test_the_rounds_after_the_best_are_cut_and_the_attributes_dropped() -> None:
    job_model, spec, matrix = _early_stopped()
    best = int(job_model.attr("best_iteration"))
    assert job_model.num_boosted_rounds() == best + 11  # what the job saved: ten rounds past its best
    booster = booster_from_job_output(model_tarball(job_model), spec)  # type: ignore[arg-type]
    assert booster.num_boosted_rounds() == best + 1
    assert booster.attr("best_iteration") is None and booster.attr("best_score") is None
    assert booster.feature_names == spec.names  # type: ignore[attr-defined]
    expected = job_model.predict(xgb.DMatrix(matrix), iteration_range=(0, best + 1))
    got = booster.predict(xgb.DMatrix(matrix, feature_names=spec.names))  # type: ignore[attr-defined]
    assert np.array_equal(got, expected)


def test_an_artifact_for_other_features_is_refused() -> None:
    job_model, spec, _ = _early_stopped()
    reduced = subset_spec(spec, set(spec.names[:5]))  # type: ignore[attr-defined]
    with pytest.raises(
        ModelArtifactError, match=f"takes {job_model.num_features()} features, the feature spec has 5"
    ):
        booster_from_job_output(model_tarball(job_model), reduced)


def test_an_artifact_without_the_member_is_refused() -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("model.bin")
        member.size = 1
        archive.addfile(member, io.BytesIO(b"x"))
    _, spec, _ = _early_stopped()
    with pytest.raises(ModelArtifactError, match="has no 'xgboost-model'"):
        booster_from_job_output(buffer.getvalue(), spec)  # type: ignore[arg-type]
