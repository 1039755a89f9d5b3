"""Averaged boosters written as one xgboost model: xgboost, the drivers and the SQL compiler agree with
the mean of the members' margins."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from churnguard.drivers import TreeEnsemble
from churnguard.feature_spec import FeatureSpec
from churnguard.sqlgen import apply_sql_files, local_function_files, static_sql_files
from churnguard.sqlgen.loading import load_customers
from training.ensemble import average_boosters, average_probabilities
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.synthetic import generate_customers

# Each member sees its own rows and its own feature subset, as the reduced model's fold models do.
MEMBER_FEATURES = (
    ["day_mins", "cust_service_calls", "int_plan_yes", "total_charge"],
    ["cust_service_calls", "eve_mins", "int_plan_yes", "vmail_msg"],
    ["day_mins", "total_charge", "intl_calls"],
)


@pytest.fixture(scope="module")
def customers():
    return generate_customers(1500, seed=5)


@pytest.fixture(scope="module")
def spec(customers) -> FeatureSpec:
    used = {name for names in MEMBER_FEATURES for name in names}
    return subset_spec(build_feature_spec(customers), used)


def _member(customers, spec: FeatureSpec, names: list[str], number: int) -> xgb.Booster:
    member_spec = subset_spec(spec, set(names))
    rows = slice(number * 300, number * 300 + 900)
    matrix = feature_matrix(customers.iloc[rows], member_spec)
    # Some missing values, so the trees learn default directions the merge must keep.
    matrix = np.where(np.random.default_rng(number).random(matrix.shape) < 0.1, np.nan, matrix)
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.4, "seed": number, "nthread": 1}
    dtrain = xgb.DMatrix(matrix, label=labels(customers.iloc[rows]), feature_names=member_spec.names)
    return xgb.train(params, dtrain, num_boost_round=6 + number)


@pytest.fixture(scope="module")
def members(customers, spec) -> list[tuple[xgb.Booster, FeatureSpec]]:
    return [
        (_member(customers, spec, names, number), subset_spec(spec, set(names)))
        for number, names in enumerate(MEMBER_FEATURES)
    ]


def _matrix(customers, spec: FeatureSpec) -> np.ndarray:
    matrix = feature_matrix(customers, spec)
    return np.where(np.random.default_rng(9).random(matrix.shape) < 0.1, np.nan, matrix)


def _mean_margin(members, spec: FeatureSpec, matrix: np.ndarray) -> np.ndarray:
    """The mean of the members' margins, each member fed its own columns of `matrix` (over `spec`)."""
    margins = []
    for booster, member_spec in members:
        columns = [spec.names.index(name) for name in member_spec.names]
        member_matrix = xgb.DMatrix(matrix[:, columns], feature_names=member_spec.names)
        margins.append(booster.predict(member_matrix, output_margin=True))
    return np.mean(np.asarray(margins, dtype=np.float64), axis=0)


def test_the_averaged_model_scores_the_mean_of_the_members_margins(customers, spec, members) -> None:
    averaged = average_boosters([booster for booster, _ in members], spec.names)
    values = _matrix(generate_customers(2000, seed=6), spec)
    expected_margin = _mean_margin(members, spec, values)
    matrix = xgb.DMatrix(values, feature_names=spec.names)
    margin = averaged.predict(matrix, output_margin=True)
    probability = averaged.predict(matrix)
    assert averaged.num_boosted_rounds() == sum(booster.num_boosted_rounds() for booster, _ in members)
    assert np.max(np.abs(probability - 1.0 / (1.0 + np.exp(-expected_margin)))) <= 1e-6
    assert np.max(np.abs(margin - expected_margin)) <= 1e-5
    assert list(averaged.feature_names) == spec.names


def test_the_probabilities_average_in_margin_space() -> None:
    scores = [np.array([0.2, 0.9]), np.array([0.5, 0.5])]
    logit = np.log(np.array([0.25, 9.0]))  # mean of the two margins per row: (logit 0.2 + 0) / 2, ...
    assert average_probabilities(scores) == pytest.approx(1.0 / (1.0 + np.exp(-logit / 2)))
    assert average_probabilities(scores[:1]) is scores[0]


def test_the_saved_average_is_read_by_the_drivers_like_xgboost(tmp_path: Path, spec, members) -> None:
    averaged = average_boosters([booster for booster, _ in members], spec.names)
    averaged.save_model(str(tmp_path / "model.json"))
    reloaded = xgb.Booster(model_file=str(tmp_path / "model.json"))
    ensemble = TreeEnsemble.from_file(tmp_path / "model.json")
    fresh = generate_customers(200, seed=7)
    matrix = _matrix(fresh, spec)
    expected = reloaded.predict(xgb.DMatrix(matrix, feature_names=spec.names))
    assert np.array_equal(expected, averaged.predict(xgb.DMatrix(matrix, feature_names=spec.names)))
    for row, want in zip(matrix, expected, strict=True):
        values = [None if np.isnan(value) else float(value) for value in row]
        assert ensemble.probability(values) == pytest.approx(float(want), abs=1e-6)


def test_a_member_splitting_on_an_unlisted_feature_is_refused(spec, members) -> None:
    with pytest.raises(ValueError, match="not in the merged feature list"):
        average_boosters([booster for booster, _ in members], spec.names[:2])
    with pytest.raises(ValueError, match="at least one booster"):
        average_boosters([], spec.names)


@pytest.mark.mariadb
def test_the_averaged_model_compiles_to_sql_within_1e6(sql_client, tmp_path: Path, spec, members) -> None:
    averaged = average_boosters([booster for booster, _ in members], spec.names)
    averaged.save_model(str(tmp_path / "model.json"))
    metadata = {"schema_version": 1, "features": spec.names, "feature_spec": spec.to_json()}
    (tmp_path / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    fresh = generate_customers(500, seed=8)
    apply_sql_files(sql_client, static_sql_files())
    load_customers(sql_client, fresh)
    apply_sql_files(sql_client, local_function_files(tmp_path / "metadata.json"))
    rows = sql_client.query(
        "SELECT c.*, s.churn_probability"
        " FROM customers c JOIN customer_churn_scores s USING (area_code, phone)"
    )
    features = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    expected = averaged.predict(xgb.DMatrix(features, feature_names=spec.names))
    got = np.array([row["churn_probability"] for row in rows], dtype=np.float64)
    assert len(rows) == 500
    assert np.max(np.abs(got - expected)) <= 1e-6
