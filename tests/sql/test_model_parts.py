"""A compiled model too long for one RDS Data API statement: cut into parts, scored like xgboost.

The 300-tree fixture runs for real on MariaDB: will_churn (calling its parts), the bulk-scoring view
(a chain of layers), the refresh procedure, and a later model replacing the parts. A smaller budget
forces the rare forms too: trees cut into subtree functions, sums of sums, the view past its layers.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

import churnguard.sqlgen as sqlgen
import churnguard.sqlgen.statements as statements
from churnguard.bootstrap.apply import MAX_STATEMENT_CHARS
from churnguard.sqlgen import (
    apply_sql_files,
    load_model,
    local_function_files,
    render_deploy_sql,
    static_sql_files,
)
from churnguard.sqlgen.functions import feature_parameters, will_churn_parameters
from churnguard.sqlgen.loading import load_customers
from churnguard.sqlgen.model_compiler import probability_expression, sum_expression, tree_expression
from churnguard.sqlgen.model_parts import STATEMENT_BUDGET, split_model
from tests.fixtures.large_model import write_large_model
from training.synthetic import generate_customers

PART = re.compile(r"CREATE FUNCTION (will_churn_[0-9a-f]{16}_p\d{3})\(")
LAYER = re.compile(r"CREATE SQL SECURITY INVOKER VIEW (will_churn_[0-9a-f]{16}_v\d{3}) AS")
OBJECTS_SQL = (
    "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
    " AND ROUTINE_NAME LIKE 'will_churn%' UNION ALL SELECT TABLE_NAME FROM information_schema.VIEWS"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'will_churn%'"
)


def statements_of(model_dir: Path) -> list[str]:
    return [text for file in local_function_files(model_dir) for text in file.statements()]


def test_the_whole_model_is_too_long_and_every_statement_of_the_split_fits(large_model_dir: Path):
    spec, model = load_model(large_model_dir)
    assert len(probability_expression(model, feature_parameters(spec))) > 5 * MAX_STATEMENT_CHARS
    deploy = [
        text
        for file in render_deploy_sql(large_model_dir, inference_mode="in_database", endpoint_name=None)
        for text in file.statements()
    ]
    assert max(len(text) for text in deploy) <= STATEMENT_BUDGET < MAX_STATEMENT_CHARS
    parts = [match[1] for text in deploy if (match := PART.match(text))]
    layers = [match[1] for text in deploy if (match := LAYER.match(text))]
    assert parts == [f"will_churn_{model.model_id}_p{number:03d}" for number in range(1, len(parts) + 1)]
    assert layers == [f"will_churn_{model.model_id}_v{number:03d}" for number in range(1, len(layers) + 1)]
    assert 5 <= len(parts) == len(layers) <= statements.MAX_VIEW_LAYERS
    (will_churn,) = [text for text in deploy if text.startswith("CREATE FUNCTION will_churn(")]
    assert will_churn.startswith(f"CREATE FUNCTION will_churn({will_churn_parameters(spec)})")
    assert "COMMENT 'churnguard: xgboost model compiled to SQL, 300 trees'" in will_churn
    assert statements_of(large_model_dir) == statements_of(large_model_dir), "rendered the same every time"


def test_a_model_that_fits_is_still_one_function_and_one_view(trained_model_dir: Path, tmp_path: Path):
    # 25 trees of depth 4: well within one statement (the session's model may not be, issue 28).
    small_dir = write_large_model(trained_model_dir, tmp_path / "small", seed=27, trees=25, depth=4)
    rendered = statements_of(small_dir)
    assert not any(PART.match(text) or LAYER.match(text) for text in rendered)
    (view,) = [text for text in rendered if "VIEW customer_churn_scores" in text]
    assert "will_churn_" not in view


def scored_customers(client, spec, booster: xgb.Booster, rows: int = 300) -> tuple[list[dict], np.ndarray]:
    customers = client.query(f"SELECT * FROM customers ORDER BY area_code, phone LIMIT {rows}")
    features = np.array([spec.values_for(row) for row in customers], dtype=np.float64)
    return customers, booster.predict(xgb.DMatrix(features, feature_names=spec.names)).astype(float)


def assert_scores_agree_with_xgboost(client, model_dir: Path) -> None:
    """will_churn per customer, the bulk-scoring view and the refreshed table, each within 1e-6."""
    spec, _ = load_model(model_dir)
    booster = xgb.Booster(model_file=str(model_dir / "model.json"))
    customers, expected = scored_customers(client, spec, booster)
    call = sqlgen.will_churn_call(spec, "c")
    by_function = client.query(
        f"SELECT {call} AS p FROM (SELECT * FROM customers ORDER BY area_code, phone LIMIT 300) AS c"
        " ORDER BY c.area_code, c.phone"
    )
    client.execute("CALL refresh_customer_scores()")
    for source in ("customer_churn_scores", "customer_scores"):
        rows = client.query(
            f"SELECT churn_probability AS p FROM {source} ORDER BY area_code, phone LIMIT 300"
        )
        assert np.max(np.abs(np.array([row["p"] for row in rows]) - expected)) <= 1e-6, source
    assert np.max(np.abs(np.array([row["p"] for row in by_function]) - expected)) <= 1e-6
    assert len(customers) == 300


@pytest.mark.mariadb
def test_a_split_300_tree_model_scores_like_xgboost_and_a_new_model_drops_its_parts(
    sql_client, large_model_dir: Path, trained_model_dir: Path, tmp_path: Path
):
    apply_sql_files(sql_client, static_sql_files())
    load_customers(sql_client, generate_customers(1000, seed=41))
    apply_sql_files(sql_client, local_function_files(large_model_dir))
    assert_scores_agree_with_xgboost(sql_client, large_model_dir)
    first = {row["name"] for row in sql_client.query(OBJECTS_SQL)}
    _, model = load_model(large_model_dir)
    assert len(first) > 10 and all(
        name.startswith(f"will_churn_{model.model_id}_") for name in first - {"will_churn"}
    )

    other_dir = write_large_model(trained_model_dir, tmp_path / "other", seed=24, trees=120)
    apply_sql_files(sql_client, local_function_files(other_dir))
    _, other = load_model(other_dir)
    second = {row["name"] for row in sql_client.query(OBJECTS_SQL)} - {"will_churn"}
    assert second and all(name.startswith(f"will_churn_{other.model_id}_") for name in second)
    assert_scores_agree_with_xgboost(sql_client, other_dir)

    small_dir = write_large_model(trained_model_dir, tmp_path / "small", seed=27, trees=25, depth=4)
    apply_sql_files(sql_client, local_function_files(small_dir))
    assert {row["name"] for row in sql_client.query(OBJECTS_SQL)} == {"will_churn"}
    assert_scores_agree_with_xgboost(sql_client, small_dir)


@pytest.mark.mariadb
def test_a_model_of_a_thousand_small_trees_scores_like_xgboost(
    sql_client, trained_model_dir: Path, tmp_path: Path
):
    """The slow learners training keeps (issue 28: eta 0.01, up to 1,000 rounds of shallow, often
    split-less trees) put hundreds of trees in one layer's sum; written flat, MariaDB's nesting of that
    many additions overran its thread stack (error 1436) creating the bulk-scoring view."""
    model_dir = write_large_model(trained_model_dir, tmp_path / "model", seed=26, trees=1500, depth=1)
    spec, model = load_model(model_dir)
    split = split_model(model, feature_parameters(spec), budget=STATEMENT_BUDGET)
    assert len(model.trees) / len(split.tree_sums) > 400, "hundreds of trees in each layer's sum"
    apply_sql_files(sql_client, static_sql_files())
    load_customers(sql_client, generate_customers(1000, seed=42))
    apply_sql_files(sql_client, local_function_files(model_dir))
    assert_scores_agree_with_xgboost(sql_client, model_dir)


@pytest.mark.mariadb
@pytest.mark.parametrize("view_layers", [100, 1])
def test_trees_longer_than_the_budget_are_cut_into_subtree_functions(
    sql_client, trained_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_layers: int
):
    """A budget two thirds of the longest tree stands for trees deeper than a statement can hold:
    subtrees become functions and the tree sums need a sum of sums; with one layer allowed, the
    bulk-scoring view calls the parts instead of chaining layers."""
    model_dir = write_large_model(trained_model_dir, tmp_path / "model", seed=25, trees=40)
    spec, model = load_model(model_dir)
    names = feature_parameters(spec)
    budget = 2 * max(len(tree_expression(tree, names)) for tree in model.trees) // 3
    split = split_model(model, names, budget=budget)
    assert max(len(part.expression) for part in split.parts) <= budget
    assert len(sum_expression(split.terms)) <= budget
    assert any(part.name in tree_sum for part in split.parts for tree_sum in split.tree_sums), "subtree parts"
    assert len(split.terms) - 1 < len(split.tree_sums), "a sum of sums"

    monkeypatch.setattr(sqlgen, "expression_budget", lambda spec, model: budget)
    monkeypatch.setattr(statements, "MAX_VIEW_LAYERS", view_layers)
    rendered = statements_of(model_dir)
    layers = [text for text in rendered if LAYER.match(text)]
    assert len(layers) == (len(split.tree_sums) if view_layers > 1 else 0)
    apply_sql_files(sql_client, static_sql_files())
    load_customers(sql_client, generate_customers(400, seed=43))
    apply_sql_files(sql_client, local_function_files(model_dir))
    assert_scores_agree_with_xgboost(sql_client, model_dir)
