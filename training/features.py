"""From customer rows to the model's feature matrix, through the one FeatureSpec the SQL layer also reads.

The matrix is computed column by column with the same float64 arithmetic, in the same order, as
`FeatureSpec.values_for(row)`, so a score computed in SQL or in the call-centre API from a single row
sees exactly the values the model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from churnguard.feature_spec import Feature, FeatureSpec

# Columns used as they are. The charge columns are left out: each is its minutes times a fixed price.
NUMERIC_COLUMNS: tuple[str, ...] = (
    "acc_length", "vmail_msg", "day_mins", "day_calls", "eve_mins", "eve_calls", "night_mins",
    "night_calls", "intl_mins", "intl_calls", "cust_service_calls",
)  # fmt: skip

# Usage totals: a tree needs many splits to approximate a sum, so it gets the sums directly. The
# total charge is the customer's bill, the strongest single churn signal in the public data.
SUM_FEATURES: dict[str, tuple[str, ...]] = {
    "total_mins": ("day_mins", "eve_mins", "night_mins", "intl_mins"),
    "total_calls": ("day_calls", "eve_calls", "night_calls", "intl_calls"),
    "total_charge": ("day_charge", "eve_charge", "night_charge", "intl_charge"),
}

ONE_HOT_COLUMNS: tuple[str, ...] = ("state", "area_code", "int_plan", "vmail_plan")


def build_feature_spec(customers: pd.DataFrame) -> FeatureSpec:
    """The full feature spec: numeric columns, usage totals, then one indicator per category seen.

    Categories come from the data (sorted as text), so a state absent from training gets no column
    rather than a column that is always zero.
    """
    return feature_spec_from_categories(
        {column: customers[column].astype(str).unique() for column in ONE_HOT_COLUMNS}
    )


def feature_spec_from_categories(categories: Mapping[str, Iterable[str]]) -> FeatureSpec:
    """The full feature spec from the values seen in each ONE_HOT_COLUMNS column (as text), however
    they were found: in a DataFrame here, or by Aurora with SELECT DISTINCT (training.sagemaker.table_sql)."""
    features = [Feature(name=column, kind="numeric", source=column) for column in NUMERIC_COLUMNS]
    features += [Feature(name=name, kind="sum", sources=sources) for name, sources in SUM_FEATURES.items()]
    for column in ONE_HOT_COLUMNS:
        for value in sorted({str(value) for value in categories[column]}):
            features.append(Feature(name=f"{column}_{value}", kind="one_hot", source=column, value=value))
    return FeatureSpec(tuple(features))


def subset_spec(spec: FeatureSpec, keep: set[str] | frozenset[str]) -> FeatureSpec:
    """The features of `spec` named in `keep`, in the spec's order."""
    return FeatureSpec(tuple(feature for feature in spec.features if feature.name in keep))


def feature_matrix(customers: pd.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """An (rows x features) float64 matrix, column j computed as `spec.features[j]` prescribes."""
    matrix = np.empty((len(customers), len(spec.features)), dtype=np.float64)
    for position, feature in enumerate(spec.features):
        if feature.kind == "numeric":
            matrix[:, position] = customers[str(feature.source)].to_numpy(dtype=np.float64)
        elif feature.kind == "one_hot":
            matrix[:, position] = (customers[str(feature.source)].astype(str) == feature.value).to_numpy(
                dtype=np.float64
            )
        else:
            total = np.zeros(len(customers), dtype=np.float64)
            for source in feature.sources:
                total = total + customers[source].to_numpy(dtype=np.float64)
            matrix[:, position] = total
    return matrix


def labels(customers: pd.DataFrame) -> np.ndarray:
    """The churn label as 0/1 integers."""
    return customers["churn"].astype(bool).to_numpy().astype(np.int64)
