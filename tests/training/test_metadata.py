"""One metadata.json: a folder written by local training and one written by the SageMaker packaging
are read identically, by ModelFolder and by every part that reads a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from churnguard.drivers import DriverExplainer
from churnguard.engine.economics import economics_of
from churnguard.lifecycle.drift import references
from churnguard.lifecycle.identity import identity_of
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen import load_model
from training.cutoff import CostModel
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.sagemaker.package import (
    HeldOut,
    RunFacts,
    ScoredModel,
    split_data_block,
    trained_rows_reference,
    write_sagemaker_model,
)
from training.split import split_customers
from training.synthetic import generate_customers

SEED = 31
# The blocks only one path writes: how the model was chosen (folds locally), where it trained.
LOCAL_ONLY = {"cross_validation", "deployed"}
SAGEMAKER_ONLY = {"trained_on"}


@pytest.fixture(scope="module")
def sagemaker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder from the SageMaker packaging, with boosters trained here standing in for the jobs'."""
    customers = generate_customers(1_500, seed=SEED)
    parts = split_customers(customers, "project", SEED)
    churn = labels(customers)
    full_spec = build_feature_spec(customers.iloc[parts.train])
    specs = {"full": full_spec, "reduced": subset_spec(full_spec, set(full_spec.names[:8]))}
    hyperparameters = {"eta": "0.3", "max_depth": "4", "num_round": "30", "_tuning_objective_metric": "auc"}
    models = {}
    for name, spec in specs.items():
        matrix = feature_matrix(customers, spec)
        booster = xgb.train(
            {"objective": "binary:logistic", "eta": 0.3, "max_depth": 4, "seed": SEED, "nthread": 1},
            xgb.DMatrix(matrix[parts.train], label=churn[parts.train], feature_names=spec.names),
            num_boost_round=30,
        )

        def scores(rows: np.ndarray, booster: xgb.Booster = booster, matrix: np.ndarray = matrix) -> Any:
            return booster.predict(xgb.DMatrix(matrix[rows], feature_names=booster.feature_names))

        models[name] = ScoredModel(
            spec, booster, scores(parts.validation), scores(parts.test), hyperparameters, f"job-{name}"
        )
    out = tmp_path_factory.mktemp("sagemaker-model") / "model"
    write_sagemaker_model(
        HeldOut(
            churn[parts.validation],
            churn[parts.test],
            split_data_block(customers, parts, "project"),
            customers.iloc[parts.test],
        ),
        models,
        RunFacts(SEED, 0.005, CostModel(), "tuning-1", 4, "ml.m5.large", 1, "synthetic customers"),
        out,
        lambda _name, chosen: trained_rows_reference(customers.iloc[parts.train], chosen),
    )
    return out


def shape(value: Any) -> Any:
    """What a reader relies on: the keys of objects (recursively) and the kind of every value."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "number" if isinstance(value, int | float) else type(value).__name__


def test_both_folders_have_the_same_fields_in_the_same_order(
    trained_model_dir: Path, sagemaker_dir: Path
) -> None:
    local, sagemaker = ModelFolder.read(trained_model_dir).document, ModelFolder.read(sagemaker_dir).document
    assert [key for key in local if key not in LOCAL_ONLY] == [
        key for key in sagemaker if key not in SAGEMAKER_ONLY
    ]
    for block in ("cost", "versions", "reference"):
        without_features = {k: v for k, v in local[block].items() if k != "features"}
        assert shape(without_features) == shape(
            {k: v for k, v in sagemaker[block].items() if k != "features"}
        )
    for name in ("full", "reduced"):
        # The tuned hyper-parameters' names are the run's (the tuner reports those it tuned).
        assert shape({k: v for k, v in local["metrics"][name].items() if k != "hyperparameters"}) == shape(
            {k: v for k, v in sagemaker["metrics"][name].items() if k not in ("job", "hyperparameters")}
        )
    assert shape(local["data"]) == shape({k: v for k, v in sagemaker["data"].items() if k != "source"})
    assert shape(local["importance"][0]) == shape(sagemaker["importance"][0])
    for document in (local, sagemaker):
        assert set(document["reference"]["features"]) == set(document["features"])
        assert {"objective", "rounds"} <= set(document["hyperparameters"])


def test_every_typed_field_is_read_from_both(trained_model_dir: Path, sagemaker_dir: Path) -> None:
    for directory in (trained_model_dir, sagemaker_dir):
        folder = ModelFolder.read(directory)
        typed = {
            "model_id": folder.model_id,
            "offer_usd": folder.offer_usd,
            "lost_customer_usd": folder.lost_customer_usd,
            "chosen": folder.chosen,
            "data_fingerprint": folder.data_fingerprint,
            "container_version": folder.container_version,
            "reference": folder.reference,
        }
        assert [name for name, value in typed.items() if value is None] == [], directory
        assert 0.0 < folder.cutoff < 1.0
        assert folder.chosen_block("metrics")["test_auc"] > 0.5


def test_every_reader_reads_both(trained_model_dir: Path, sagemaker_dir: Path) -> None:
    """sqlgen, the drivers, the engine's economics, the lifecycle's identity and drift references."""
    for directory in (trained_model_dir, sagemaker_dir):
        folder = ModelFolder.read(directory)
        spec, trees = load_model(directory)
        assert spec.names == folder.features and trees.trees
        assert DriverExplainer.from_folder(folder).spec.names == folder.features
        economics = economics_of(folder)
        assert (economics.cutoff, economics.offer_usd, economics.lost_customer_usd) == (
            folder.cutoff,
            50.0,
            500.0,
        )
        identity = identity_of(folder)
        assert identity.model_id == folder.model_id and identity.test_metrics["test_auc"] > 0.5
        assert set(references(folder)) == {*folder.features, "score"}


def test_both_reports_state_the_cost_assumptions_the_cutoff_was_chosen_for(
    trained_model_dir: Path, sagemaker_dir: Path
) -> None:
    """The manager's section reads the cost block from the folder: the SageMaker report used to be
    handed no metadata and priced every offer and every lost customer at $0."""
    for directory in (trained_model_dir, sagemaker_dir):
        report = (directory / "report.html").read_text(encoding="utf-8")
        assert "An incentive offer costs <b>$50.00</b>; a customer who leaves costs <b>$500.00</b>" in report
