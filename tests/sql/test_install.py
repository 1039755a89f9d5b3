"""install_churnguard end to end on a real server, with the session's trained model."""

from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from churnguard.call_reason.labels import LABELS
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.engine.failures import StatementRefused
from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec, FeatureSpecError
from churnguard.local.install import install_churnguard
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen import call_centre_sql, check_installed_signature, run_template, will_churn_call
from churnguard.sqlgen.loading import insert_sql
from churnguard.sqlgen.statements import customer_from_row, customer_score_sql, customer_sql
from training.synthetic import generate_customers, generate_messages

pytestmark = pytest.mark.mariadb

CUSTOMERS = 400
SEED = 7


@pytest.fixture()
def installed(sql_client, trained_model_dir):
    customers = generate_customers(CUSTOMERS, seed=SEED)
    install_churnguard(
        sql_client,
        model_dir=trained_model_dir,
        customers=customers,
        messages=generate_messages(customers, seed=SEED),
    )
    return sql_client


def spec_of(model_dir: Path) -> FeatureSpec:
    return ModelFolder.read(model_dir).feature_spec


def xgboost_scores(model_dir: Path, spec: FeatureSpec, rows: list[dict]) -> np.ndarray:
    booster = xgb.Booster(model_file=str(model_dir / "model.json"))
    features = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    return booster.predict(xgb.DMatrix(features, feature_names=spec.names))


def test_every_row_agrees_with_xgboost_in_function_and_view(installed, trained_model_dir):
    spec = spec_of(trained_model_dir)
    columns = ", ".join(f"c.{name}" for name in COLUMN_NAMES)
    rows = installed.query(
        f"SELECT {columns}, {will_churn_call(spec, 'c')} AS by_function, s.churn_probability AS by_view"
        " FROM customers c JOIN customer_churn_scores s USING (area_code, phone) ORDER BY area_code, phone"
    )
    assert len(rows) == CUSTOMERS
    expected = xgboost_scores(trained_model_dir, spec, rows)
    by_function = np.array([row["by_function"] for row in rows])
    by_view = np.array([row["by_view"] for row in rows])
    assert np.max(np.abs(by_function - expected)) <= 1e-6
    assert np.max(np.abs(by_view - expected)) <= 1e-6
    assert np.ptp(expected) > 0.1  # a model scoring everyone alike would prove nothing


def test_refresh_procedure_materialises_the_same_scores(installed):
    filled_by_install = installed.query("SELECT COUNT(*) AS n FROM customer_scores")
    assert filled_by_install == [{"n": CUSTOMERS}]
    installed.execute("UPDATE customer_scores SET churn_probability = -1")
    installed.execute("CALL refresh_customer_scores()")
    rows = installed.query(
        "SELECT COUNT(*) AS n, MAX(ABS(m.churn_probability - v.churn_probability)) AS diff"
        " FROM customer_scores m JOIN customer_churn_scores v USING (area_code, phone)"
    )
    assert rows == [{"n": CUSTOMERS, "diff": 0.0}]


def test_the_engines_statements_give_every_customer_as_the_columns_do(installed, trained_model_dir):
    """The customer as one JSON object reads back to the very values, and types, of its columns."""
    spec = spec_of(trained_model_dir)
    columns = ", ".join(f"c.{name}" for name in COLUMN_NAMES)
    for key in installed.query("SELECT area_code, phone FROM customers ORDER BY area_code, phone"):
        (by_columns,) = installed.query(
            f"SELECT {columns}, {will_churn_call(spec, 'c')} AS churn_probability FROM customers c"
            " WHERE c.area_code = %(area_code)s AND c.phone = %(phone)s",
            key,
        )
        (scored,) = installed.query(customer_score_sql(spec), key)
        (unscored,) = installed.query(customer_sql(), key)
        for row, expected in ((scored, by_columns), (unscored, {**by_columns, "churn_probability": None})):
            customer = customer_from_row(row)
            customer.setdefault("churn_probability", None)
            assert customer == expected
            assert {name: type(value) for name, value in customer.items()} == {
                name: type(value) for name, value in expected.items()
            }


def test_call_centre_statement_for_the_reference_customers(installed, trained_model_dir):
    midpoint = 0.5
    sql = call_centre_sql(spec_of(trained_model_dir))
    high = installed.query(
        sql, {"area_code": 415, "phone": "358-1921", "message": "You morons! You charged me extra again!"}
    )
    low = installed.query(
        sql,
        {
            "area_code": 408,
            "phone": "375-9999",
            "message": "Thank you very much for resolving the issues with my bill!",
        },
    )
    assert len(high) == len(low) == 1
    assert set(COLUMN_NAMES) | {"churn_probability", "sentiment", "confidence", "call_reason"} == set(high[0])
    assert high[0]["churn_probability"] > midpoint > low[0]["churn_probability"]
    assert (high[0]["sentiment"], low[0]["sentiment"]) == ("NEGATIVE", "POSITIVE")
    assert high[0]["call_reason"] == "billing_dispute" and low[0]["call_reason"] in LABELS
    assert 0 < high[0]["confidence"] <= 1


@pytest.mark.parametrize(
    "message",
    [
        "It's my \"bill\" again; O'Brien here \\ C:\\path\\",
        "Emoji 😡😡😡 and accents: café, naïve",
        "a" * 2500 + "é" * 1250,  # 5,000 bytes in UTF-8
        "'; DROP TABLE customers; --",
        "%(phone)s %s %% {0}",
    ],
)
def test_awkward_messages_are_bound_as_data(installed, trained_model_dir, message):
    sql = call_centre_sql(spec_of(trained_model_dir))
    rows = installed.query(sql, {"area_code": 415, "phone": "358-1921", "message": message})
    assert len(rows) == 1 and rows[0]["sentiment"] in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    installed.execute(
        "INSERT INTO customer_messages (area_code, phone, message) VALUES (%(a)s, %(p)s, %(m)s)",
        {"a": 415, "p": "358-1921", "m": message},
    )
    stored = installed.query("SELECT message FROM customer_messages ORDER BY id DESC LIMIT 1")
    assert stored == [{"message": message}]
    assert installed.query("SELECT COUNT(*) AS n FROM customers") == [{"n": CUSTOMERS}]


@pytest.mark.parametrize(
    ("area_code", "phone"),
    [("415", "358-1921' OR '1'='1"), ("415 OR 1=1", "358-1921"), ("415", "x'; DELETE FROM customers; --")],
)
def test_injection_attempts_find_nobody_and_change_nothing(installed, trained_model_dir, area_code, phone):
    sql = call_centre_sql(spec_of(trained_model_dir))
    try:
        rows = installed.query(sql, {"area_code": area_code, "phone": phone, "message": "hi"})
    except StatementRefused:
        rows = []  # a strict server may refuse the non-numeric area code outright: also fine
    assert rows == [] or all(row["phone"] == "358-1921" for row in rows)
    assert len(rows) <= 1
    assert installed.query("SELECT COUNT(*) AS n FROM customers") == [{"n": CUSTOMERS}]


def test_messages_are_loaded_for_their_customers(installed):
    rows = installed.query(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT area_code, phone) AS customers FROM customer_messages"
    )
    assert rows == [{"n": CUSTOMERS, "customers": CUSTOMERS}]


def test_installing_twice_gives_the_same_database(installed, trained_model_dir):
    before = installed.query(
        "SELECT area_code, phone, churn_probability FROM customer_churn_scores ORDER BY 1, 2"
    )
    customers = generate_customers(CUSTOMERS, seed=SEED)
    install_churnguard(installed, model_dir=trained_model_dir, customers=customers)
    after = installed.query(
        "SELECT area_code, phone, churn_probability FROM customer_churn_scores ORDER BY 1, 2"
    )
    assert before == after


def test_signature_check_passes_for_the_model_and_fails_when_order_differs(installed, trained_model_dir):
    spec = spec_of(trained_model_dir)
    check_installed_signature(installed, spec)
    swapped = FeatureSpec((spec.features[1], spec.features[0], *spec.features[2:]))
    with pytest.raises(FeatureSpecError, match="position 0"):
        check_installed_signature(installed, swapped)
    shorter = FeatureSpec(spec.features[:-1])
    with pytest.raises(FeatureSpecError, match="features expected"):
        check_installed_signature(installed, shorter)


def test_signature_check_fails_without_will_churn(sql_client, trained_model_dir):
    with pytest.raises(FeatureSpecError, match="not installed"):
        check_installed_signature(sql_client, spec_of(trained_model_dir))


def test_schema_matches_the_customer_columns_and_rejects_bad_rows(installed):
    columns = installed.query(
        "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' ORDER BY ORDINAL_POSITION"
    )
    assert [row["name"] for row in columns] == list(COLUMN_NAMES)
    key = installed.query(
        "SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_NAME = 'customers' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION"
    )
    assert [row["name"] for row in key] == ["area_code", "phone"]
    row = installed.query("SELECT * FROM customers WHERE area_code = 415 AND phone = '358-1921'")[0]
    with pytest.raises(StatementRefused, match="database error 1062"):  # the key: same customer twice
        installed.execute(
            insert_sql("customers", COLUMN_NAMES),
            row,
        )
    with pytest.raises(StatementRefused, match="int_plan"):  # CHECK: yes/no only
        installed.execute(
            insert_sql("customers", COLUMN_NAMES),
            {**row, "phone": "000-0000", "int_plan": "yep"},
        )


def test_export_and_load_round_trip_local_form(installed, tmp_path):
    before = installed.query(f"SELECT {', '.join(COLUMN_NAMES)} FROM customers ORDER BY area_code, phone")
    export_path = tmp_path / "customers.csv"
    run_template(installed, "export_customers.local.sql", {"path": str(export_path)})
    assert export_path.exists()
    installed.execute("DELETE FROM customers")
    run_template(installed, "load_customers.local.sql", {"path": str(export_path)})
    after = installed.query(f"SELECT {', '.join(COLUMN_NAMES)} FROM customers ORDER BY area_code, phone")
    assert after == before


def test_values_the_columns_would_round_are_refused(sql_client, trained_model_dir):
    customers = generate_customers(10, seed=SEED)
    customers.loc[3, "day_mins"] = 100.123
    with pytest.raises(UserError, match="row 3, column day_mins"):
        install_churnguard(sql_client, model_dir=trained_model_dir, customers=customers)


def test_missing_model_is_a_user_error(sql_client, tmp_path):
    with pytest.raises(UserError, match=r"metadata\.json"):
        install_churnguard(sql_client, model_dir=tmp_path, customers=generate_customers(10, seed=SEED))
