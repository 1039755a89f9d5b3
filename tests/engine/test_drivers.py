"""Pure-Python churn drivers equal xgboost's own approximate (Saabas) contributions, customer by customer.

The model is a small booster trained here on the public churn data set through a feature spec with
every feature kind (numeric, one-hot, sum), so the comparison covers real thresholds and real values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost

from churnguard.drivers import DriverExplainer, ModelFileError, TreeEnsemble
from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import ModelFolderError, write_metadata
from training.data import load_customers

SPEC = FeatureSpec.from_json(
    [
        {"name": "acc_length", "kind": "numeric", "source": "acc_length"},
        {"name": "int_plan_yes", "kind": "one_hot", "source": "int_plan", "value": "yes"},
        {"name": "vmail_plan_no", "kind": "one_hot", "source": "vmail_plan", "value": "no"},
        {"name": "vmail_msg", "kind": "numeric", "source": "vmail_msg"},
        {"name": "day_mins", "kind": "numeric", "source": "day_mins"},
        {"name": "day_charge", "kind": "numeric", "source": "day_charge"},
        {"name": "eve_mins", "kind": "numeric", "source": "eve_mins"},
        {"name": "intl_calls", "kind": "numeric", "source": "intl_calls"},
        {"name": "intl_mins", "kind": "numeric", "source": "intl_mins"},
        {"name": "cust_service_calls", "kind": "numeric", "source": "cust_service_calls"},
        {
            "name": "total_mins",
            "kind": "sum",
            "sources": ["day_mins", "eve_mins", "night_mins", "intl_mins"],
        },
    ]
)


@pytest.fixture(scope="module")
def customers(public_data_path) -> list[dict[str, object]]:
    """Every row of the public data set as the validating loader types it."""
    return load_customers(public_data_path).to_dict("records")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, customers) -> Path:
    directory = tmp_path_factory.mktemp("model")
    features = np.array([SPEC.values_for(row) for row in customers], dtype=np.float32)
    labels = np.array([row["churn"] for row in customers], dtype=np.float32)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 5, "eta": 0.2, "seed": 1729, "subsample": 0.9},
        xgboost.DMatrix(features, label=labels, feature_names=SPEC.names),
        num_boost_round=40,
    )
    booster.save_model(directory / "model.json")
    write_metadata(directory, {"features": SPEC.names, "feature_spec": SPEC.to_json(), "cutoff": 0.5})
    return directory


def xgboost_contributions(model_dir: Path, customers) -> tuple[np.ndarray, np.ndarray]:
    booster = xgboost.Booster(model_file=str(model_dir / "model.json"))
    matrix = xgboost.DMatrix(
        np.array([SPEC.values_for(row) for row in customers], dtype=np.float32), feature_names=SPEC.names
    )
    return booster.predict(matrix, pred_contribs=True, approx_contribs=True), booster.predict(matrix)


def test_contributions_equal_xgboost_approx_contribs_for_every_customer(model_dir, customers):
    explainer = DriverExplainer.from_model_dir(model_dir)
    expected, probabilities = xgboost_contributions(model_dir, customers)
    ours = np.array([list(explainer.contributions(row).values()) for row in customers])
    assert ours.shape == expected.shape == (3333, len(SPEC.names) + 1)
    # xgboost adds in float32; the trees here add in float64.
    np.testing.assert_allclose(ours, expected, atol=2e-5, rtol=0)
    ours_probability = [explainer.ensemble.probability(SPEC.values_for(row)) for row in customers]
    np.testing.assert_allclose(ours_probability, probabilities, atol=1e-6, rtol=0)
    explained = [explainer.explain(row)[1] for row in customers]
    np.testing.assert_allclose(explained, probabilities, atol=1e-6, rtol=0)


def test_top_drivers_are_the_largest_group_sums_with_the_customers_values(model_dir, customers):
    explainer = DriverExplainer.from_model_dir(model_dir)
    expected, _ = xgboost_contributions(model_dir, customers[:50])
    for row, contributions in zip(customers[:50], expected, strict=True):
        by_name = dict(zip(SPEC.names, contributions[:-1], strict=True))
        drivers = explainer.top_drivers(row, top=3)
        sums = [sum(by_name[member.feature] for member in driver.members) for driver in drivers]
        for driver, total in zip(drivers, sums, strict=True):
            assert driver.contribution == pytest.approx(float(total), abs=5e-5)
            for member in driver.members:
                assert member.contribution == pytest.approx(float(by_name[member.feature]), abs=2e-5)
        assert [abs(total) for total in sums] == sorted((abs(total) for total in sums), reverse=True)
    high_caller = next(row for row in customers if row["cust_service_calls"] >= 5)
    by_feature = {driver.feature: driver for driver in explainer.top_drivers(high_caller, top=11)}
    calls = by_feature["cust_service_calls"].to_json()
    assert calls["value"] == float(high_caller["cust_service_calls"])
    assert calls["columns"] == {"cust_service_calls": high_caller["cust_service_calls"]}
    assert calls["effect"] == ("raises churn risk" if calls["contribution"] > 0 else "lowers churn risk")
    assert calls["text"] == f"customer service calls {high_caller['cust_service_calls']}: {calls['effect']}"
    usage = by_feature["minutes_and_charges"].to_json()
    assert usage["value"] is None and usage["label"] == "minutes and charges"
    assert set(usage["columns"]) == {"day_mins", "eve_mins", "night_mins", "intl_mins", "day_charge"}
    assert {member.feature for member in by_feature["minutes_and_charges"].members} == {
        "day_mins",
        "day_charge",
        "eve_mins",
        "intl_mins",
        "total_mins",
    }
    # The JSON lists the features that moved this customer's score; they add up to the driver.
    moved = {member.feature for member in by_feature["minutes_and_charges"].members if member.contribution}
    assert {member["feature"] for member in usage["members"]} == moved
    assert sum(member["contribution"] for member in usage["members"]) == pytest.approx(usage["contribution"])
    assert usage["text"].startswith(f"minutes and charges (day {high_caller['day_mins']}, evening ")


def test_drivers_add_up_with_the_bias_to_the_margin_and_hold_every_feature_once(model_dir, customers):
    explainer = DriverExplainer.from_model_dir(model_dir)
    _, probabilities = xgboost_contributions(model_dir, customers[:200])
    for row, probability in zip(customers[:200], probabilities, strict=True):
        drivers, bias = explainer.all_drivers(row)
        margin = sum(driver.contribution for driver in drivers) + bias
        assert 1 / (1 + np.exp(-margin)) == pytest.approx(float(probability), abs=1e-6)
        features = [member.feature for driver in drivers for member in driver.members]
        assert sorted(features) == sorted(SPEC.names)


def test_correlated_usage_features_are_one_driver_and_read_the_right_way_round(model_dir, customers):
    """Alone, day_mins often pushes against the usage it is part of (the trees split on total_mins
    instead); the usage driver is what the model says about the customer's minutes as a whole."""
    explainer = DriverExplainer.from_model_dir(model_dir)
    groups = {group.key: group for group in explainer.groups}
    assert set(groups) == {
        "acc_length",
        "int_plan_yes",
        "vmail_plan",
        "minutes_and_charges",
        "intl_calls",
        "cust_service_calls",
    }
    assert groups["vmail_plan"].label == "voicemail plan and messages"
    backwards = 0
    for row in customers:
        contributions = explainer.contributions(row)
        usage = sum(
            contributions[name] for name in ("day_mins", "day_charge", "eve_mins", "intl_mins", "total_mins")
        )
        if contributions["day_mins"] * usage < 0 and abs(contributions["day_mins"]) > 0.1:
            backwards += 1
            (driver,) = [d for d in explainer.all_drivers(row)[0] if d.feature == "minutes_and_charges"]
            assert driver.contribution == pytest.approx(usage, abs=1e-9)
    assert backwards > 0  # the public data has such customers: the test checks them, not an empty set


def test_a_value_on_a_split_threshold_goes_where_xgboost_sends_it(model_dir, customers):
    """Put a customer's feature exactly on each threshold the trees use: float32 rounding must agree."""
    ensemble = TreeEnsemble.from_file(model_dir / "model.json")
    booster = xgboost.Booster(model_file=str(model_dir / "model.json"))
    base = SPEC.values_for(customers[0])
    rows = []
    for tree in ensemble.trees[:5]:
        for node, child in enumerate(tree.left):
            if child != -1:
                row = list(base)
                row[tree.split_feature[node]] = tree.threshold[node]
                rows.append(row)
    assert len(rows) > 20
    expected = booster.predict(
        xgboost.DMatrix(np.array(rows, dtype=np.float32), feature_names=SPEC.names),
        pred_contribs=True,
        approx_contribs=True,
    )
    np.testing.assert_allclose([ensemble.contributions(row) for row in rows], expected, atol=2e-5, rtol=0)


def test_a_model_that_disagrees_with_the_feature_spec_is_refused(model_dir, tmp_path):
    metadata = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
    swapped = [metadata["feature_spec"][1], metadata["feature_spec"][0], *metadata["feature_spec"][2:]]
    (tmp_path / "metadata.json").write_text(
        json.dumps({**metadata, "feature_spec": swapped, "features": [f["name"] for f in swapped]}),
        encoding="utf-8",
    )
    (tmp_path / "model.json").write_bytes((model_dir / "model.json").read_bytes())
    with pytest.raises(ModelFolderError, match="out of step at position 0"):
        DriverExplainer.from_model_dir(tmp_path)


def test_unusable_model_files_are_refused_with_the_reason(model_dir, tmp_path):
    with pytest.raises(ModelFolderError, match=r"holds no metadata\.json"):
        DriverExplainer.from_model_dir(tmp_path)
    model = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    model["learner"]["objective"]["name"] = "reg:squarederror"
    (tmp_path / "model.json").write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ModelFileError, match="only binary:logistic"):
        TreeEnsemble.from_file(tmp_path / "model.json")
    (tmp_path / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="cannot read it as JSON"):
        TreeEnsemble.from_file(tmp_path / "model.json")
