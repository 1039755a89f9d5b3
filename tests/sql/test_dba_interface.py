"""The DBA interface (customers_with_churn_probability, customer_churn_probability) and the bulk-scoring
objects, on a real server: same names and arguments whatever the model, scores equal to xgboost's, and
the endpoint mode's rendering run with a compiled will_churn standing in for Aurora's SageMaker alias."""

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from churnguard.call_reason import install_call_reason_function
from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import ModelFolder
from churnguard.sentiment import install_sentiment_functions
from churnguard.sql_splitter import split_statements
from churnguard.sqlgen import (
    apply_sql_files,
    call_centre_session_sql,
    render_deploy_sql,
    stable_call_centre_session_sql,
)
from churnguard.sqlgen.statements import KEY_COLLATION
from tests.sql.test_model_compiler import FEATURE_LISTS, install_model, write_model
from training.synthetic import generate_customers

pytestmark = pytest.mark.mariadb

CUSTOMERS = 300
SEED = 11
PLANTED = {"area_code": 415, "phone": "358-1921"}
MESSAGE = "You morons! You charged me extra again!"


def booster_scores(model_dir: Path, rows: list[dict]) -> np.ndarray:
    spec = ModelFolder.read(model_dir).feature_spec
    features = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    booster = xgb.Booster(model_file=str(model_dir / "model.json"))
    return booster.predict(xgb.DMatrix(features, feature_names=spec.names))


def interface_shape(client) -> dict:
    """What a saved query depends on: the function's parameters and result, the views' columns."""
    parameters = client.query(
        "SELECT ORDINAL_POSITION AS position, PARAMETER_NAME AS name, DTD_IDENTIFIER AS type"
        " FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE()"
        " AND SPECIFIC_NAME = 'customer_churn_probability' ORDER BY ORDINAL_POSITION"
    )
    columns = client.query(
        "SELECT TABLE_NAME AS view_name, COLUMN_NAME AS name, DATA_TYPE AS type"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_NAME IN ('customers_with_churn_probability', 'customer_churn_scores')"
        " ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    return {"parameters": parameters, "columns": columns}


def run_pasted(client, text: str) -> list[dict]:
    """Run a SET ...; SELECT ...; block as a DBA pastes it, on one session; the last rows."""
    rows: list[dict] = []
    for statement in split_statements(text):
        rows = client.query(statement.text)
    return rows


@pytest.fixture()
def customers():
    return generate_customers(CUSTOMERS, seed=SEED)


def test_the_interface_keeps_its_names_and_arguments_when_the_model_changes(sql_client, tmp_path, customers):
    shapes, scores = [], []
    stable = stable_call_centre_session_sql()
    for name in ("numeric only", "many one-hots"):  # 3 and 6 features, different columns
        model_dir = tmp_path / name.replace(" ", "_")
        model_dir.mkdir()
        write_model(model_dir, FeatureSpec(tuple(FEATURE_LISTS[name])), customers, seed=SEED)
        install_model(sql_client, model_dir, customers)
        install_sentiment_functions(sql_client)
        install_call_reason_function(sql_client)
        shapes.append(interface_shape(sql_client))
        rows = sql_client.query("SELECT * FROM customers ORDER BY area_code, phone")
        expected = booster_scores(model_dir, rows)
        by_function = np.array(
            [
                sql_client.query(
                    "SELECT customer_churn_probability(%(area_code)s, %(phone)s) AS p",
                    {"area_code": row["area_code"], "phone": row["phone"]},
                )[0]["p"]
                for row in rows
            ]
        )
        assert np.max(np.abs(by_function - expected)) <= 1e-6
        (pasted,) = run_pasted(
            sql_client, f"SET @area_code = 415; SET @phone = '358-1921'; SET @message = 'thanks'; {stable};"
        )
        scores.append(pasted["churn_probability"])
    assert shapes[0] == shapes[1]
    assert [(p["name"], p["type"].split("(")[0]) for p in shapes[0]["parameters"]] == [
        (None, "double"),
        ("in_area_code", "int"),
        ("in_phone", "varchar"),
    ]
    assert scores[0] != scores[1]  # the same text, each time scored by the model installed


@pytest.fixture()
def installed(sql_client, trained_model_dir, customers):
    install_model(sql_client, trained_model_dir, customers)
    install_sentiment_functions(sql_client)
    install_call_reason_function(sql_client)
    return sql_client


def test_view_and_function_agree_with_xgboost_and_an_unknown_key_is_null(installed, trained_model_dir):
    rows = installed.query("SELECT * FROM customers_with_churn_probability ORDER BY area_code, phone")
    assert len(rows) == CUSTOMERS
    expected = booster_scores(trained_model_dir, rows)
    assert np.max(np.abs(np.array([row["churn_probability"] for row in rows]) - expected)) <= 1e-6
    (unknown,) = installed.query("SELECT customer_churn_probability(999, '000-0000') AS p")
    assert unknown["p"] is None


def test_a_key_lookup_on_the_view_reads_one_row_by_primary_key(installed):
    plan = installed.query(
        "EXPLAIN SELECT * FROM customers_with_churn_probability WHERE area_code = 415 AND phone = '358-1921'"
    )
    assert [(step["table"], step["type"], step["key"]) for step in plan] == [("c", "const", "PRIMARY")]
    installed.execute("SET @area_code = 415, @phone = '358-1921', @message = 'hello'")
    (stable_plan,) = installed.query(f"EXPLAIN {stable_call_centre_session_sql()}")
    assert (stable_plan["table"], stable_plan["type"], stable_plan["key"]) == ("c", "const", "PRIMARY")


@pytest.mark.parametrize(
    ("names", "naive_key", "naive_error"),
    [
        ("utf8mb4 COLLATE utf8mb4_general_ci", "@phone", "Illegal mix of collations"),
        ("utf8mb3", f"@phone COLLATE {KEY_COLLATION}", "is not valid for CHARACTER SET"),
        ("latin1", f"@phone COLLATE {KEY_COLLATION}", "is not valid for CHARACTER SET"),
    ],
)
def test_session_variables_of_any_client_character_set_work_where_naive_comparisons_fail(
    installed, names, naive_key, naive_error
):
    installed.execute(f"SET NAMES {names}")
    installed.execute("SET @area_code = 415, @phone = '358-1921', @message = 'thank you'")
    with pytest.raises(Exception, match=naive_error):
        installed.query(f"SELECT phone FROM customers WHERE area_code = 415 AND phone = {naive_key}")
    (by_function,) = installed.query("SELECT customer_churn_probability(415, @phone) AS p")
    (by_view,) = run_pasted(installed, stable_call_centre_session_sql())
    assert by_view["phone"] == "358-1921"
    assert by_function["p"] == pytest.approx(by_view["churn_probability"], abs=1e-12)
    (column,) = installed.query(
        "SELECT COLLATION_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_NAME = 'customers' AND COLUMN_NAME = 'phone'"
    )
    assert column["name"] == KEY_COLLATION


def test_the_printed_and_the_stable_call_centre_statements_give_the_same_answer(installed, trained_model_dir):
    spec = ModelFolder.read(trained_model_dir).feature_spec
    settings = f"SET @area_code = 415; SET @phone = '358-1921'; SET @message = '{MESSAGE}';"
    (model_specific,) = run_pasted(installed, f"{settings} {call_centre_session_sql(spec)};")
    (stable,) = run_pasted(installed, f"{settings} {stable_call_centre_session_sql()};")
    assert model_specific == stable
    assert stable["sentiment"] == "NEGATIVE"
    assert {key: stable[key] for key in PLANTED} == PLANTED


def test_endpoint_mode_bulk_scoring_and_interface_run_over_will_churn(installed, trained_model_dir):
    """Aurora's alias cannot run here; the compiled will_churn has the same name and signature, so the
    endpoint mode's view, procedure and DBA interface are applied over it and must score the same."""
    files = render_deploy_sql(trained_model_dir, inference_mode="endpoint", endpoint_name="cg-ep-1")
    over_will_churn = [f for f in files if f.name in ("92_bulk_scoring.sql", "93_dba_interface.sql")]
    apply_sql_files(installed, over_will_churn)
    installed.execute("DELETE FROM customer_scores")
    installed.execute("CALL refresh_customer_scores()")
    rows = installed.query(
        "SELECT c.*, s.churn_probability AS stored, v.churn_probability AS viewed"
        " FROM customers c JOIN customer_scores s USING (area_code, phone)"
        " JOIN customer_churn_scores v USING (area_code, phone) ORDER BY area_code, phone"
    )
    assert len(rows) == CUSTOMERS
    expected = booster_scores(trained_model_dir, rows)
    assert np.max(np.abs(np.array([row["stored"] for row in rows]) - expected)) <= 1e-6
    assert np.max(np.abs(np.array([row["viewed"] for row in rows]) - expected)) <= 1e-6
