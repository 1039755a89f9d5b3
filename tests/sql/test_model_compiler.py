"""The model compiled to SQL: float32 split semantics, several feature lists, missing values."""

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.model_folder import ModelFolderError, write_metadata
from churnguard.sqlgen import ModelCompileError, apply_sql_files, local_function_files, static_sql_files
from churnguard.sqlgen.loading import load_customers
from churnguard.sqlgen.model_compiler import read_model, split_boundary
from training.synthetic import generate_customers

NUMERIC = [
    Feature(name, "numeric", source=name) for name in ("day_mins", "cust_service_calls", "intl_charge")
]
INT_PLAN_NO = Feature("int_plan_no", "one_hot", source="int_plan", value="no")
VMAIL_YES = Feature("vmail_plan_yes", "one_hot", source="vmail_plan", value="yes")
STATE_NJ = Feature("state_nj", "one_hot", source="state", value="NJ")
AREA_415 = Feature("area_code_415", "one_hot", source="area_code", value="415")
TOTAL_MINS = Feature("total_mins", "sum", sources=("day_mins", "eve_mins", "night_mins", "intl_mins"))
TOTAL_CHARGE = Feature(
    "total_charge", "sum", sources=("day_charge", "eve_charge", "night_charge", "intl_charge")
)

FEATURE_LISTS = {
    "numeric only": NUMERIC,
    "one-hot and sums": [INT_PLAN_NO, TOTAL_MINS, *NUMERIC[1:], TOTAL_CHARGE],
    "many one-hots": [
        STATE_NJ,
        AREA_415,
        VMAIL_YES,
        INT_PLAN_NO,
        NUMERIC[0],
        Feature("eve_mins", "numeric", source="eve_mins"),
    ],
}


@pytest.mark.parametrize(
    "threshold",
    [161.6, 0.1, 1.0, 0.5, 2.0, -3.7, 1e-3, 335.4, 17.2, 1e30, -1e-30, 123456.789],
)
def test_split_boundary_matches_float32_comparison(threshold):
    t32 = np.float32(threshold)
    boundary, inclusive = split_boundary(float(t32))
    below = float(np.nextafter(t32, np.float32(-np.inf)))
    candidates = {
        boundary,
        float(np.nextafter(boundary, -np.inf)),
        float(np.nextafter(boundary, np.inf)),
        float(t32),
        below,
        threshold,
        float(np.nextafter(threshold, -np.inf)),
        float(np.nextafter(threshold, np.inf)),
    }
    for x in candidates:
        sql_says = x <= boundary if inclusive else x < boundary
        assert sql_says == bool(np.float32(x) < t32), (threshold, x)


def test_split_boundary_on_random_values():
    rng = np.random.default_rng(1729)
    thresholds = rng.uniform(-500, 500, 2000).astype(np.float32)
    for t32 in thresholds:
        boundary, inclusive = split_boundary(float(t32))
        for x in (boundary, float(np.nextafter(boundary, -np.inf)), float(np.nextafter(boundary, np.inf))):
            assert (x <= boundary if inclusive else x < boundary) == bool(np.float32(x) < t32)


def write_model(
    out_dir: Path, spec: FeatureSpec, customers, *, seed: int, with_missing: bool = False
) -> xgb.Booster:
    """A small real model for `spec`, saved as training does (model.json + metadata.json)."""
    features = np.array([spec.values_for(row) for row in customers.to_dict("records")], dtype=np.float64)
    labels = customers["churn"].astype(int).to_numpy()
    if with_missing:  # teach the trees default directions
        rng = np.random.default_rng(seed)
        features = np.where(rng.random(features.shape) < 0.15, np.nan, features)
    params = {"objective": "binary:logistic", "max_depth": 5, "eta": 0.3, "seed": seed, "base_score": 0.3}
    booster = xgb.train(params, xgb.DMatrix(features, labels, feature_names=spec.names), num_boost_round=25)
    booster.save_model(str(out_dir / "model.json"))
    write_metadata(out_dir, {"features": spec.names, "feature_spec": spec.to_json(), "cutoff": 0.3})
    return booster


def install_model(client, model_dir: Path, customers) -> None:
    apply_sql_files(client, static_sql_files())
    load_customers(client, customers)
    apply_sql_files(client, local_function_files(model_dir))


@pytest.mark.mariadb
@pytest.mark.parametrize("name", list(FEATURE_LISTS))
def test_each_feature_list_compiles_and_agrees_with_xgboost(sql_client, tmp_path, name):
    spec = FeatureSpec(tuple(FEATURE_LISTS[name]))
    customers = generate_customers(600, seed=11)
    booster = write_model(tmp_path, spec, customers, seed=3)
    install_model(sql_client, tmp_path, customers)
    rows = sql_client.query(
        "SELECT c.*, s.churn_probability"
        " FROM customers c JOIN customer_churn_scores s USING (area_code, phone)"
    )
    features = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    expected = booster.predict(xgb.DMatrix(features, feature_names=spec.names))
    got = np.array([row["churn_probability"] for row in rows])
    assert len(rows) == 600
    assert np.max(np.abs(got - expected)) <= 1e-6
    parameters = sql_client.query(
        "SELECT PARAMETER_NAME AS name FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE()"
        " AND SPECIFIC_NAME = 'will_churn' AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION"
    )
    assert [row["name"] for row in parameters] == spec.names
    helpers = sql_client.query(
        "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
        " AND ROUTINE_NAME NOT IN ('will_churn', 'refresh_customer_scores', 'customer_churn_probability')"
        " ORDER BY ROUTINE_NAME"
    )
    expected_helpers = sorted(
        "".join(part.capitalize() for part in f.name.split("_")) for f in spec.features if f.kind == "one_hot"
    )
    assert sorted(row["name"] for row in helpers) == sorted(expected_helpers, key=str.lower)


@pytest.mark.mariadb
def test_one_hot_helpers_compare_exactly(sql_client, tmp_path):
    spec = FeatureSpec((INT_PLAN_NO, STATE_NJ, NUMERIC[0]))
    customers = generate_customers(200, seed=5)
    write_model(tmp_path, spec, customers, seed=1)
    install_model(sql_client, tmp_path, customers)
    rows = sql_client.query(
        "SELECT IntPlanNo('no') AS a, IntPlanNo('No') AS b, IntPlanNo('no ') AS c, IntPlanNo(NULL) AS d,"
        " StateNj('NJ') AS e, StateNj('nj') AS f"
    )
    assert rows == [{"a": 1, "b": 0, "c": 0, "d": 0, "e": 1, "f": 0}]


@pytest.mark.mariadb
def test_missing_values_follow_the_default_directions(sql_client, tmp_path):
    spec = FeatureSpec(tuple(FEATURE_LISTS["one-hot and sums"]))
    customers = generate_customers(600, seed=12)
    booster = write_model(tmp_path, spec, customers, seed=4, with_missing=True)
    install_model(sql_client, tmp_path, customers)
    rng = np.random.default_rng(9)
    features = np.array(
        [spec.values_for(row) for row in customers.head(150).to_dict("records")], dtype=np.float64
    )
    features = np.where(rng.random(features.shape) < 0.4, np.nan, features)
    expected = booster.predict(xgb.DMatrix(features, feature_names=spec.names))
    placeholders = ", ".join(f"%(f{i})s" for i in range(len(spec.names)))
    for row, want in zip(features, expected, strict=True):
        params = {f"f{i}": None if np.isnan(value) else float(value) for i, value in enumerate(row)}
        got = sql_client.query(f"SELECT will_churn({placeholders}) AS p", params)[0]["p"]
        assert abs(got - want) <= 1e-6


def test_models_the_compiler_cannot_honour_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(60, 2)), rng.integers(0, 3, 60)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(features, labels), 2)
    booster.save_model(str(tmp_path / "multi.json"))
    with pytest.raises(ModelCompileError, match="binary:logistic"):
        read_model(tmp_path / "multi.json")
    (tmp_path / "junk.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelCompileError, match="not an xgboost JSON model"):
        read_model(tmp_path / "junk.json")


def test_model_and_metadata_feature_names_must_agree(tmp_path):
    spec = FeatureSpec(tuple(NUMERIC))
    write_model(tmp_path, spec, generate_customers(100, seed=2), seed=1)
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    reordered = [metadata["feature_spec"][1], metadata["feature_spec"][0], metadata["feature_spec"][2]]
    metadata["feature_spec"] = reordered
    metadata["features"] = [item["name"] for item in reordered]
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelFolderError, match="out of step"):
        local_function_files(tmp_path)
