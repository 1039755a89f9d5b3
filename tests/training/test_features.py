"""The feature matrix equals what FeatureSpec.values_for computes from single rows, bit for bit."""

from __future__ import annotations

import numpy as np

from training.features import build_feature_spec, feature_matrix, subset_spec
from training.synthetic import generate_customers


def test_matrix_rows_equal_values_for_each_customer_exactly() -> None:
    customers = generate_customers(300, seed=21)
    spec = build_feature_spec(customers)
    matrix = feature_matrix(customers, spec)
    for position, row in enumerate(customers.to_dict(orient="records")):
        assert np.array_equal(matrix[position], np.array(spec.values_for(row), dtype=np.float64))


def test_identifiers_and_duplicated_charges_are_not_features() -> None:
    spec = build_feature_spec(generate_customers(300, seed=21))
    sources = {column for feature in spec.features for column in feature.source_columns()}
    assert "phone" not in sources and "churn" not in sources
    single_column_sources = {feature.source for feature in spec.features if feature.kind != "sum"}
    assert not any(str(source).endswith("_charge") for source in single_column_sources)


def test_categoricals_are_one_hot_with_text_values_and_usage_totals_are_sums() -> None:
    customers = generate_customers(300, seed=21)
    spec = build_feature_spec(customers)
    by_name = {feature.name: feature for feature in spec.features}
    assert by_name["area_code_415"].kind == "one_hot" and by_name["area_code_415"].value == "415"
    assert {"int_plan_yes", "int_plan_no", "vmail_plan_yes", "vmail_plan_no"} <= set(by_name)
    assert len([name for name in by_name if name.startswith("state_")]) == customers["state"].nunique()
    assert by_name["total_mins"].sources == ("day_mins", "eve_mins", "night_mins", "intl_mins")


def test_a_subset_keeps_the_original_order() -> None:
    spec = build_feature_spec(generate_customers(100, seed=1))
    reduced = subset_spec(spec, {"int_plan_yes", "acc_length", "total_mins"})
    assert reduced.names == ["acc_length", "total_mins", "int_plan_yes"]
