"""lambda/db_bootstrap/handler.py against a real MariaDB server, with moto's Secrets Manager and S3.

The handler's database calls go to MariaDB through the PyMySQL SqlClient instead of the Data API,
and `aurora=False` leaves out the Aurora-only statements (AWS_* roles, LOAD DATA FROM S3), which
MariaDB does not have: their text is checked in test_app_user.py and test_seed.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest

from churnguard.bootstrap import BootstrapError
from churnguard.bootstrap.runner import SEED_AURORA_ONLY, SEED_NOT_REQUESTED
from tests.bootstrap.conftest import APP_PASSWORD, HANDLER_PATH, REGION, Target, load_handler

pytestmark = pytest.mark.mariadb

CUSTOMER = {
    "state": "KS",
    "acc_length": 128,
    "area_code": 415,
    "phone": "382-4657",
    "int_plan": "no",
    "vmail_plan": "yes",
    "vmail_msg": 25,
    "day_mins": "265.10",
    "day_calls": 110,
    "day_charge": "45.07",
    "eve_mins": "197.40",
    "eve_calls": 99,
    "eve_charge": "16.78",
    "night_mins": "244.70",
    "night_calls": 91,
    "night_charge": "11.01",
    "intl_mins": "10.00",
    "intl_calls": 3,
    "intl_charge": "2.70",
    "cust_service_calls": 1,
    "churn": 0,
}


handler = load_handler()


def settings(target: Target, app_secret_arn: str, seed_uri: str | None = None) -> Any:
    return handler.HandlerSettings(
        cluster_arn="arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db",
        admin_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin",
        app_secret_arn=app_secret_arn,
        database=target.database,
        sql_dir=target.sql_dir,
        seed_uri=seed_uri,
    )


def run(target: Target, app_secret_arn: str, request_type: str, **extra: Any) -> dict[str, Any]:
    event = {"RequestType": request_type, **extra}
    return handler.handle_event(
        event,
        settings(target, app_secret_arn, extra.pop("seed_uri", None) if "seed_uri" in extra else None),
        open_client=target.open_client,
        secretsmanager=boto3.client("secretsmanager", region_name=REGION),
        s3=boto3.client("s3", region_name=REGION),
        aurora=False,
    )


def schema_snapshot(target: Target) -> dict[str, list[tuple[Any, ...]]]:
    """Everything information_schema says about the database's structure, in a stable order."""
    queries = {
        "tables": "SELECT table_name, engine, table_collation FROM information_schema.tables "
        "WHERE table_schema = %(db)s ORDER BY table_name",
        "columns": "SELECT table_name, column_name, ordinal_position, column_type, is_nullable, "
        "column_default, extra FROM information_schema.columns WHERE table_schema = %(db)s "
        "ORDER BY table_name, ordinal_position",
        "indexes": "SELECT table_name, index_name, seq_in_index, column_name, non_unique "
        "FROM information_schema.statistics WHERE table_schema = %(db)s "
        "ORDER BY table_name, index_name, seq_in_index",
        "constraints": "SELECT table_name, constraint_name, constraint_type "
        "FROM information_schema.table_constraints WHERE constraint_schema = %(db)s "
        "ORDER BY table_name, constraint_name",
        "routines": "SELECT routine_name, routine_type, dtd_identifier, routine_definition "
        "FROM information_schema.routines WHERE routine_schema = %(db)s ORDER BY routine_name",
    }
    with target.admin() as admin:
        return {
            name: [tuple(row.values()) for row in admin.query(sql, {"db": target.database})]
            for name, sql in queries.items()
        }


def insert_customer_with_message(target: Target) -> None:
    columns = ", ".join(CUSTOMER)
    values = ", ".join(f"%({name})s" for name in CUSTOMER)
    with target.admin() as admin:
        admin.execute(f"INSERT INTO customers ({columns}) VALUES ({values})", CUSTOMER)
        admin.execute(
            "INSERT INTO customer_messages (area_code, phone, message) VALUES (%(a)s, %(p)s, %(m)s)",
            {"a": 415, "p": "382-4657", "m": "Thanks, the new plan works ✓"},
        )


def row_counts(target: Target) -> dict[str, int]:
    with target.admin() as admin:
        return {
            table: admin.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
            for table in ("customers", "customer_messages")
        }


def test_create_then_update_gives_the_same_schema_and_keeps_rows(target, app_secret_arn):
    created = run(target, app_secret_arn, "Create")
    assert created["PhysicalResourceId"] == f"churnguard-db-bootstrap-{target.database}"
    assert created["Data"]["DatabaseName"] == target.database
    assert created["Data"]["SqlFiles"].split(",")[-1] == "90_test_functions.sql"
    assert created["Data"]["Seed"] == SEED_NOT_REQUESTED
    first = schema_snapshot(target)
    assert {"customers", "customer_messages"} <= {table for table, *_ in first["tables"]}
    assert ("risk_band", "FUNCTION") in [routine[:2] for routine in first["routines"]]

    insert_customer_with_message(target)
    updated = run(target, app_secret_arn, "Update", PhysicalResourceId=created["PhysicalResourceId"])

    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert schema_snapshot(target) == first
    assert row_counts(target) == {"customers": 1, "customer_messages": 1}
    with target.admin() as admin:
        bands = admin.query("SELECT risk_band(0.7) AS high, risk_band(0.3) AS mid, risk_band(0.1) AS low")
    assert bands == [{"high": "high", "mid": "mid", "low": "low"}]


def test_app_user_gets_the_secret_password_and_only_read_insert_execute(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    with target.app_client() as app:
        assert app.query("SELECT phone FROM customers") == [{"phone": "382-4657"}]
        assert app.query("SELECT risk_band(0.9) AS band") == [{"band": "high"}]
        with pytest.raises(pymysql.err.OperationalError, match="command denied"):
            app.execute("DELETE FROM customers")
        with pytest.raises(pymysql.err.OperationalError, match="command denied"):
            app.execute("DROP TABLE customer_messages")
    with target.admin() as admin:
        grants = [next(iter(row.values())) for row in admin.query(f"SHOW GRANTS FOR '{target.app_user}'@'%'")]
    assert any(f"GRANT SELECT, INSERT, EXECUTE ON `{target.database}`.*" in grant for grant in grants)
    assert APP_PASSWORD not in " ".join(grants)


def test_update_applies_a_changed_secret_password(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    rotated = "N3w-pa55word_after.rotation"
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=app_secret_arn, SecretString=json.dumps({"username": target.app_user, "password": rotated})
    )
    run(target, app_secret_arn, "Update", PhysicalResourceId="kept")
    with target.app_client(rotated) as app:
        assert app.query("SELECT 1 AS ok") == [{"ok": 1}]
    with pytest.raises(Exception, match="Access denied"):
        target.app_client(APP_PASSWORD)


def test_a_failing_statement_is_reported_by_file_and_statement_and_later_files_do_not_run(
    target, app_secret_arn
):
    (target.sql_dir / "50_broken.sql").write_text(
        "-- a statement that the server rejects\n"
        "CREATE TABLE IF NOT EXISTS before_failure (x INT);\n"
        "\n"
        "INSERT INTO no_such_table VALUES (1);\n"
        "CREATE TABLE IF NOT EXISTS after_failure (x INT);\n",
        encoding="utf-8",
    )
    with pytest.raises(BootstrapError) as raised:
        run(target, app_secret_arn, "Create")
    message = str(raised.value)
    assert message.startswith(
        "50_broken.sql statement 2 (line 4: INSERT INTO no_such_table VALUES (1)) failed:"
    )
    assert "no_such_table" in message and "doesn't exist" in message
    tables = {table for table, *_ in schema_snapshot(target)["tables"]}
    assert "before_failure" in tables
    assert "after_failure" not in tables
    assert "risk_band" not in {routine[0] for routine in schema_snapshot(target)["routines"]}


def test_a_destructive_statement_stops_the_deploy_before_anything_runs(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    (target.sql_dir / "55_new_table.sql").write_text("CREATE TABLE IF NOT EXISTS extra (x INT);\n")
    (target.sql_dir / "60_reset.sql").write_text("SELECT 1;\nTRUNCATE TABLE customers;\n")
    expected = r"60_reset\.sql statement 2 \(line 2: TRUNCATE TABLE customers\) is refused"
    with pytest.raises(BootstrapError, match=expected):
        run(target, app_secret_arn, "Update", PhysicalResourceId="kept")
    assert row_counts(target)["customers"] == 1
    assert "extra" not in {table for table, *_ in schema_snapshot(target)["tables"]}


def test_delete_leaves_the_database_and_its_rows(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    deleted = run(target, app_secret_arn, "Delete", PhysicalResourceId="churnguard-db-bootstrap-x")
    assert deleted == {"PhysicalResourceId": "churnguard-db-bootstrap-x"}
    assert target.database_exists()
    assert row_counts(target) == {"customers": 1, "customer_messages": 1}


def test_seed_on_mariadb_is_reported_as_aurora_only(target, app_secret_arn, seed_uri):
    result = run(target, app_secret_arn, "Create", seed_uri=seed_uri)
    assert result["Data"]["Seed"] == SEED_AURORA_ONLY
    assert row_counts(target)["customers"] == 0


def test_a_missing_seed_object_fails_before_the_database_is_touched(target, app_secret_arn, seed_uri):
    missing = seed_uri.replace("customers.csv", "missing.csv")
    with pytest.raises(BootstrapError, match=r"seed data s3://.*/missing\.csv cannot be read .*: 404"):
        run(target, app_secret_arn, "Create", seed_uri=missing)
    assert not target.database_exists()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"username": "x_app", "password": "has'quote-and-long"}, "cannot be embedded in SQL"),
        ({"username": "x_app"}, "must be JSON with string fields username and password"),
        ("not json", "must be JSON"),
    ],
)
def test_a_bad_app_secret_fails_before_the_database_is_touched(target, aws, secret, message):
    value = secret if isinstance(secret, str) else json.dumps(secret)
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(Name="bad", SecretString=value)[
        "ARN"
    ]
    with pytest.raises(BootstrapError, match=message) as raised:
        run(target, arn, "Create")
    assert "has'quote" not in str(raised.value)
    assert not target.database_exists()


def test_an_unreadable_app_secret_is_named(target, aws):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-app-missing"
    with pytest.raises(
        BootstrapError, match=r"cannot read the app secret .*churnguard-app-missing: ResourceNotFound"
    ):
        run(target, arn, "Create")


def test_unknown_request_type_is_refused(target, app_secret_arn):
    with pytest.raises(BootstrapError, match="unknown RequestType 'Replace'"):
        run(target, app_secret_arn, "Replace")


def test_settings_come_from_the_environment_and_missing_ones_are_named():
    with pytest.raises(BootstrapError, match="missing environment variables: CLUSTER_ARN, APP_SECRET_ARN"):
        handler.HandlerSettings.from_environ({"ADMIN_SECRET_ARN": "arn:admin"})
    configured = handler.HandlerSettings.from_environ(
        {"CLUSTER_ARN": "arn:c", "ADMIN_SECRET_ARN": "arn:a", "APP_SECRET_ARN": "arn:p"}
    )
    assert configured.database == "churnguard"
    assert configured.sql_dir == HANDLER_PATH.parent / "sql"
    assert configured.seed_uri is None


def test_the_handler_imports_only_the_standard_library_boto3_and_churnguard():
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('h', {str(HANDLER_PATH)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['h'] = module\n"
        "spec.loader.exec_module(module)\n"
        "heavy = {'numpy', 'pandas', 'yaml', 'pymysql', 'xgboost', 'sklearn', 'matplotlib'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=Path("/")
    )
    assert result.stdout.strip() == "[]"
