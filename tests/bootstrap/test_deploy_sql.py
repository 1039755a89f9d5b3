"""The bootstrap applying what churnguard.sqlgen.render_deploy_sql renders for a real trained model.

In-database mode runs for real on MariaDB (the compiled will_churn, its view and procedure); endpoint
mode's will_churn is Aurora's SageMaker alias, so only its splitting and planning are checked here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from churnguard.bootstrap.apply import plan_files
from churnguard.engine.failures import StatementRefused
from churnguard.sqlgen import render_deploy_sql
from tests.bootstrap.conftest import insert_customer_with_message, row_counts, run, schema_snapshot

pytestmark = pytest.mark.mariadb


def test_rendered_in_database_sql_applies_twice_to_the_same_schema_and_scores(
    target, app_secret_arn, trained_model_dir: Path
):
    files = render_deploy_sql(trained_model_dir, inference_mode="in_database", endpoint_name=None)
    for old in target.sql_dir.iterdir():
        old.unlink()
    for sql_file in files:
        (target.sql_dir / sql_file.name).write_text(sql_file.text, encoding="utf-8")

    created = run(target, app_secret_arn, "Create")
    assert created["Data"]["SqlFiles"] == ",".join(sql_file.name for sql_file in files)
    first = schema_snapshot(target)
    assert {"will_churn", "refresh_customer_scores"} <= {routine[0] for routine in first["routines"]}

    insert_customer_with_message(target)
    run(target, app_secret_arn, "Update", physical_id=created["PhysicalResourceId"])

    assert schema_snapshot(target) == first
    assert row_counts(target) == {"customers": 1, "customer_messages": 1}
    with target.app_client() as app:
        (score,) = app.query("SELECT churn_probability FROM customer_churn_scores")
    assert 0.0 <= score["churn_probability"] <= 1.0


def test_rendered_endpoint_sql_plans_one_statement_per_function(trained_model_dir: Path):
    files = render_deploy_sql(
        trained_model_dir, inference_mode="endpoint", endpoint_name="churnguard-xgboost"
    )
    planned = plan_files(files)
    will_churn = [step for step in planned if step.source == "91_will_churn.sql"]
    assert [step.display.split("(")[0] for step in will_churn] == [
        "DROP FUNCTION IF EXISTS will_churn",
        "CREATE FUNCTION will_churn",
    ]
    assert "ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT" in will_churn[1].sql
    assert "'churnguard-xgboost'" in will_churn[1].sql


def test_the_app_user_alone_can_refresh_scores_and_use_the_dba_interface_but_not_delete(
    target, app_secret_arn, trained_model_dir: Path
):
    """The objects run with the invoker's rights: what the deployed app user is granted (SELECT,
    INSERT, EXECUTE, and UPDATE on customer_scores only) must be enough for them, and no more."""
    files = render_deploy_sql(trained_model_dir, inference_mode="in_database", endpoint_name=None)
    for old in target.sql_dir.iterdir():
        old.unlink()
    for sql_file in files:
        (target.sql_dir / sql_file.name).write_text(sql_file.text, encoding="utf-8")
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    with target.app_client() as app:
        app.execute("CALL refresh_customer_scores()")
        (stored,) = app.query("SELECT area_code, phone, churn_probability FROM customer_scores")
        (one,) = app.query(
            "SELECT customer_churn_probability(%(a)s, %(p)s) AS p",
            {"a": stored["area_code"], "p": stored["phone"]},
        )
        (viewed,) = app.query("SELECT churn_probability FROM customers_with_churn_probability")
        assert stored["churn_probability"] == pytest.approx(one["p"], abs=1e-12)
        assert viewed["churn_probability"] == pytest.approx(one["p"], abs=1e-12)
        with pytest.raises(StatementRefused, match="DELETE command denied"):
            app.execute("DELETE FROM customer_scores")
        with pytest.raises(StatementRefused, match="UPDATE command denied"):
            app.execute("UPDATE customers SET churn = 1")
