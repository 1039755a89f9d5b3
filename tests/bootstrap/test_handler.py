"""lambda/db_bootstrap/handler.py against a real MariaDB server, with moto's Secrets Manager and S3.

The handler's database calls go to MariaDB through the PyMySQL SqlClient instead of the Data API,
and `aurora=False` leaves out the Aurora-only statements (AWS_* roles, LOAD DATA FROM S3), which
MariaDB does not have: their text is checked in test_app_user.py and test_seed.py.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pymysql
import pytest

from churnguard.bootstrap import BootstrapError
from churnguard.bootstrap.apply import PlannedStatement, StatementFailed, run_planned
from churnguard.bootstrap.runner import SEED_AURORA_ONLY, SEED_NOT_REQUESTED
from churnguard.bootstrap.seed import (
    MESSAGES_SEED,
    csv_load_clauses,
    message_load_clauses,
    parse_seed_uri,
    seed_statements,
    write_messages_csv,
)
from churnguard.db import connect, parse_url
from churnguard.engine.failures import StatementRefused
from tests.bootstrap.conftest import (
    API_PASSWORD,
    APP_PASSWORD,
    CUSTOMER,
    HANDLER_PATH,
    REGION,
    handler,
    insert_customer_with_message,
    row_counts,
    run,
    schema_snapshot,
)

pytestmark = pytest.mark.mariadb


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
    updated = run(target, app_secret_arn, "Update", physical_id=created["PhysicalResourceId"])

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
        with pytest.raises(StatementRefused, match="command denied"):
            app.execute("DELETE FROM customers")
        with pytest.raises(StatementRefused, match="command denied"):
            app.execute("DROP TABLE customer_messages")
    with target.admin() as admin:
        grants = [next(iter(row.values())) for row in admin.query(f"SHOW GRANTS FOR '{target.app_user}'@'%'")]
    assert any(f"GRANT SELECT, INSERT, EXECUTE ON `{target.database}`.*" in grant for grant in grants)
    assert APP_PASSWORD not in " ".join(grants)


def test_the_api_user_gets_its_own_secret_password_and_table_grants_only(target, app_secret_arn):
    created = run(target, app_secret_arn, "Create")
    assert created["Data"]["ApiUserName"] == target.api_user
    insert_customer_with_message(target)
    server = parse_url(target.admin_url)
    credentials = f"{target.api_user}:{quote(API_PASSWORD, safe='')}"
    with connect(f"mysql://{credentials}@{server.host}:{server.port}/{target.database}") as api:
        assert api.query("SELECT phone FROM customers") == [{"phone": "382-4657"}]
        assert api.query("SELECT risk_band(0.9) AS band") == [{"band": "high"}]  # EXECUTE
        with pytest.raises(StatementRefused, match="command denied"):
            api.execute("INSERT INTO customer_messages (area_code, phone, message) VALUES (1, 'x', 'y')")
        with pytest.raises(StatementRefused, match="command denied"):
            api.query("SELECT * FROM customer_scores")
    with target.admin() as admin:
        grants = [next(iter(row.values())) for row in admin.query(f"SHOW GRANTS FOR '{target.api_user}'@'%'")]
    assert any(f"GRANT EXECUTE ON `{target.database}`.*" in grant for grant in grants)
    assert any(f"GRANT SELECT, INSERT ON `{target.database}`.`offers_log`" in grant for grant in grants)
    assert not any("SELECT, INSERT, EXECUTE" in grant for grant in grants)  # not the app user's rights
    assert API_PASSWORD not in " ".join(grants)


def test_update_applies_a_changed_secret_password(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    rotated = "N3w-pa55word_after.rotation"
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=app_secret_arn, SecretString=json.dumps({"username": target.app_user, "password": rotated})
    )
    run(target, app_secret_arn, "Update", physical_id="kept")
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


def test_a_refused_best_effort_statement_is_reported_and_the_deploy_goes_on(target, app_secret_arn):
    """A `.optional.sql` file (will_churn's COMMENT on Aurora's SageMaker alias) may be refused: the
    run succeeds, names the refusal in its attributes, and every later file still runs."""
    (target.sql_dir / "50_first.optional.sql").write_text(
        "ALTER FUNCTION no_such_function COMMENT 'churnguard model 0123456789abcdef, cut-off 0.3';\n"
        "CREATE TABLE IF NOT EXISTS after_refusal (x INT);\n",
        encoding="utf-8",
    )
    created = run(target, app_secret_arn, "Create")

    refused = created["Data"]["RefusedOptional"]
    assert refused.startswith("50_first.optional.sql statement 1 (line 1: ALTER FUNCTION no_such_function")
    assert "does not exist" in refused
    tables = {table for table, *_ in schema_snapshot(target)["tables"]}
    assert "after_refusal" in tables  # the file's next statement ran
    assert ("risk_band", "FUNCTION") in [routine[:2] for routine in schema_snapshot(target)["routines"]]


def test_nothing_refused_is_reported_as_none(target, app_secret_arn):
    (target.sql_dir / "50_first.optional.sql").write_text(
        "CREATE TABLE IF NOT EXISTS accepted (x INT);\n", encoding="utf-8"
    )
    assert run(target, app_secret_arn, "Create")["Data"]["RefusedOptional"] == "none"
    assert "accepted" in {table for table, *_ in schema_snapshot(target)["tables"]}


def test_a_destructive_statement_stops_the_deploy_before_anything_runs(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    (target.sql_dir / "55_new_table.sql").write_text("CREATE TABLE IF NOT EXISTS extra (x INT);\n")
    (target.sql_dir / "60_reset.sql").write_text("SELECT 1;\nTRUNCATE TABLE customers;\n")
    expected = r"60_reset\.sql statement 2 \(line 2: TRUNCATE TABLE customers\) is refused"
    with pytest.raises(BootstrapError, match=expected):
        run(target, app_secret_arn, "Update", physical_id="kept")
    assert row_counts(target)["customers"] == 1
    assert "extra" not in {table for table, *_ in schema_snapshot(target)["tables"]}


def test_delete_leaves_the_database_and_its_rows(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    insert_customer_with_message(target)
    deleted = run(target, app_secret_arn, "Delete", physical_id="churnguard-db-bootstrap-x")
    assert deleted == {"PhysicalResourceId": "churnguard-db-bootstrap-x"}
    assert target.database_exists()
    assert row_counts(target) == {"customers": 1, "customer_messages": 1}


def test_seed_on_mariadb_is_reported_as_aurora_only(target, app_secret_arn, seed_messages_uri, seed_uri):
    result = run(target, app_secret_arn, "Create", seed_uri=seed_uri, seed_messages_uri=seed_messages_uri)
    assert result["Data"]["Seed"] == result["Data"]["SeedMessages"] == SEED_AURORA_ONLY
    assert row_counts(target) == {"customers": 0, "customer_messages": 0}


def test_a_missing_seed_object_fails_before_the_database_is_touched(target, app_secret_arn, seed_uri):
    missing = seed_uri.replace("customers.csv", "missing.csv")
    with pytest.raises(BootstrapError, match=r"seed data s3://.*/missing\.csv cannot be read .*: 404"):
        run(target, app_secret_arn, "Create", seed_uri=missing)
    assert not target.database_exists()


def test_a_missing_messages_object_fails_before_the_database_is_touched(
    target, app_secret_arn, seed_uri, seed_messages_uri
):
    missing = seed_messages_uri.replace("messages.csv", "gone.csv")
    with pytest.raises(BootstrapError, match=r"seed messages s3://.*/gone\.csv cannot be read .*: 404"):
        run(target, app_secret_arn, "Create", seed_uri=seed_uri, seed_messages_uri=missing)
    assert not target.database_exists()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"username": "x_app", "password": "has'quote-and-long"}, "cannot be embedded in SQL"),
        ({"username": "x_app"}, "must be JSON with string fields username and password"),
        ("not json", "must be JSON"),
    ],
)
def test_a_bad_app_secret_fails_before_the_database_is_touched(target, api_secret, secret, message):
    value = secret if isinstance(secret, str) else json.dumps(secret)
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(Name="bad", SecretString=value)[
        "ARN"
    ]
    with pytest.raises(BootstrapError, match=message) as raised:
        run(target, arn, "Create")
    assert "has'quote" not in str(raised.value)
    assert not target.database_exists()


def test_an_unreadable_app_secret_is_named(target, api_secret):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-app-missing"
    with pytest.raises(
        BootstrapError, match=r"cannot read the app secret .*churnguard-app-missing: ResourceNotFound"
    ):
        run(target, arn, "Create")


def test_unknown_request_type_is_refused(target, app_secret_arn):
    with pytest.raises(BootstrapError, match="unknown RequestType 'Replace'"):
        run(target, app_secret_arn, "Replace")


def test_settings_come_from_the_environment_and_missing_ones_are_named():
    with pytest.raises(
        BootstrapError, match="missing environment variables: CLUSTER_ARN, APP_SECRET_ARN, API_SECRET_ARN"
    ):
        handler.HandlerSettings.from_environ({"ADMIN_SECRET_ARN": "arn:admin"})
    configured = handler.HandlerSettings.from_environ(
        {
            "CLUSTER_ARN": "arn:c",
            "ADMIN_SECRET_ARN": "arn:a",
            "APP_SECRET_ARN": "arn:p",
            "API_SECRET_ARN": "arn:i",
        }
    )
    assert (configured.app_secret_arn, configured.api_secret_arn) == ("arn:p", "arn:i")
    assert configured.database == "churnguard"
    assert configured.sql_dir == HANDLER_PATH.parent / "sql"
    assert configured.seed_uri is None and configured.seed_messages_uri is None
    seeded = handler.HandlerSettings.from_environ(
        {
            "CLUSTER_ARN": "arn:c",
            "ADMIN_SECRET_ARN": "arn:a",
            "APP_SECRET_ARN": "arn:p",
            "API_SECRET_ARN": "arn:i",
            "SEED_DATA_S3_URI": "s3://b-1/customers.csv",
            "SEED_MESSAGES_S3_URI": "s3://b-1/messages.csv",
        }
    )
    assert (seeded.seed_uri, seeded.seed_messages_uri) == ("s3://b-1/customers.csv", "s3://b-1/messages.csv")


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


def test_database_errors_that_quote_a_secret_back_are_redacted(target):
    step = PlannedStatement(
        "app user", 2, None, "ALTER USSER 'x'@'%' IDENTIFIED BY 'Qz7-secret_value'", "ALTER ..."
    )
    with target.open_client(None) as server, pytest.raises(StatementFailed) as raised:
        run_planned(server, [step], secrets=("Qz7-secret_value",))
    message = str(raised.value)
    assert "You have an error in your SQL syntax" in message  # MariaDB quotes the text near the error
    assert "***" in message
    assert "Qz7-secret_value" not in message


def test_seed_load_is_planned_only_while_customers_is_empty(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    seed = parse_seed_uri("s3://churnguard-data/seed/customers.csv")
    with target.admin() as admin:
        (activate, load) = seed_statements(admin, seed)
        assert activate.sql == "SET ROLE ALL", "the admin's AWS_LOAD_S3_ACCESS role, active in the session"
        assert load.sql.startswith("LOAD DATA FROM S3 FILE 's3://churnguard-data/seed/customers.csv'")
        insert_customer_with_message(target)
        assert seed_statements(admin, seed) == []


def test_the_stacks_sample_csv_loads_cleanly_with_the_seed_format(target, app_secret_arn, tmp_path):
    # LOAD DATA FROM S3 reads files exactly as LOAD DATA INFILE does, with the same clauses: load the
    # file infra/ uploads with those clauses into the real schema, and expect every value intact.
    from infra.bootstrap import write_seed_csv  # late: imports aws_cdk

    run(target, app_secret_arn, "Create")
    path = write_seed_csv(tmp_path, rows=40, seed=7)
    loaded, warnings = load_data_local(target, path, "customers", csv_load_clauses())
    assert loaded == 40
    assert warnings == ()
    with path.open(newline="") as csv_file:
        expected = list(csv.DictReader(csv_file))
    with target.admin() as admin:
        rows = {(row["area_code"], row["phone"]): row for row in admin.query("SELECT * FROM customers")}
    mismatches = [
        (record["phone"], name)
        for record in expected
        for name, text in record.items()
        if not same_value(rows[(int(record["area_code"]), record["phone"])][name], text)
    ]
    assert mismatches == []


def same_value(stored: Any, text: str) -> bool:
    if isinstance(stored, Decimal):
        return stored == Decimal(text)
    if isinstance(stored, int):
        return stored == int(text)
    return stored == text


def load_data_local(target, path: Path, table: str, clauses: str) -> tuple[int, tuple[Any, ...]]:
    """The local twin of the bootstrap's LOAD DATA FROM S3: the same IGNORE INTO TABLE and clauses,
    reading `path` from the client. Returns rows loaded and the server's warnings."""
    server = parse_url(target.admin_url)
    connection = pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=target.database,
        local_infile=True,
        autocommit=True,
        charset="utf8mb4",
    )
    with connection, connection.cursor() as cursor:
        loaded = cursor.execute(
            f"LOAD DATA LOCAL INFILE %(path)s IGNORE INTO TABLE {table} {clauses}", {"path": str(path)}
        )
        cursor.execute("SHOW WARNINGS")
        return loaded, cursor.fetchall()


def insert_customer(target) -> None:
    columns = ", ".join(CUSTOMER)
    values = ", ".join(f"%({name})s" for name in CUSTOMER)
    with target.admin() as admin:
        admin.execute(f"INSERT INTO customers ({columns}) VALUES ({values})", CUSTOMER)


def stored_messages(target) -> list[tuple[int, str, str, str]]:
    with target.admin() as admin:
        rows = admin.query("SELECT area_code, phone, message, received_at FROM customer_messages ORDER BY id")
    return [
        (row["area_code"], row["phone"], row["message"], f"{row['received_at']:%Y-%m-%d %H:%M:%S}")
        for row in rows
    ]


def test_seed_messages_load_is_planned_only_while_customer_messages_is_empty(target, app_secret_arn):
    run(target, app_secret_arn, "Create")
    seed = parse_seed_uri("s3://churnguard-data/seed/messages.csv")
    with target.admin() as admin:
        (activate, load) = seed_statements(admin, seed, MESSAGES_SEED)
        assert activate.sql == "SET ROLE ALL"
        assert load.sql.startswith(
            "LOAD DATA FROM S3 FILE 's3://churnguard-data/seed/messages.csv' "
            "IGNORE INTO TABLE customer_messages "
        )
        insert_customer_with_message(target)
        assert seed_statements(admin, seed, MESSAGES_SEED) == []
    assert row_counts(target) == {"customers": 1, "customer_messages": 1}, "nothing dropped or emptied"


def test_the_stacks_sample_messages_load_intact_with_the_seed_format(target, app_secret_arn, tmp_path):
    # The generated messages hold apostrophes, double quotes and commas; loaded with the bootstrap's
    # own clauses after the customers they belong to, every one must come back byte for byte.
    from infra.bootstrap import write_seed_csv, write_seed_messages_csv  # late: imports aws_cdk

    run(target, app_secret_arn, "Create")
    customers = write_seed_csv(tmp_path, rows=60, seed=1729)
    messages = write_seed_messages_csv(tmp_path, rows=60, seed=1729)
    assert load_data_local(target, customers, "customers", csv_load_clauses()) == (60, ())
    loaded, warnings = load_data_local(target, messages, "customer_messages", message_load_clauses())

    assert (loaded, warnings) == (60, ())
    with messages.open(encoding="utf-8", newline="") as csv_file:
        expected = [
            (int(row["area_code"]), row["phone"], row["message"], row["received_at"])
            for row in csv.DictReader(csv_file)
        ]
    assert stored_messages(target) == expected
    texts = [message for _, _, message, _ in expected]
    assert any("'" in text for text in texts) and any('"' in text for text in texts)
    assert any("," in text for text in texts)


HARD_MESSAGES = [
    "Comma, \"quoted\" and 'apostrophe'",
    '"starts and ends with quotes"',
    'a","b',
    "line one\nline two",
    "windows\r\nline break",
    "C:\\new\\table \\N \\t \\",
    "NULL",
    "",
    "  padded  ",
    "emoji \U0001f4de and \u00fcn\u00efc\u00f6d\u00e9",
    '""',
    ",",
]


def test_messages_with_quotes_commas_line_breaks_and_backslashes_survive_the_load(
    target, app_secret_arn, tmp_path
):
    run(target, app_secret_arn, "Create")
    insert_customer(target)
    rows = [
        (CUSTOMER["area_code"], CUSTOMER["phone"], message, f"2025-12-01 00:00:{second:02d}")
        for second, message in enumerate(HARD_MESSAGES)
    ]
    path = tmp_path / "messages.csv"
    with path.open("w", encoding="utf-8", newline="") as csv_file:
        write_messages_csv(csv_file, rows)

    loaded, warnings = load_data_local(target, path, "customer_messages", message_load_clauses())

    assert (loaded, warnings) == (len(HARD_MESSAGES), ())
    assert stored_messages(target) == rows


def test_messages_of_customers_not_in_the_table_are_left_out_not_fatal(target, app_secret_arn, tmp_path):
    # The customers load is skipped when that table already holds other customers; the sample
    # messages then name customers that do not exist, and IGNORE leaves them out with a warning
    # (a foreign-key error downgraded, as MySQL 8 documents for IGNORE) instead of failing the deploy.
    run(target, app_secret_arn, "Create")
    insert_customer(target)
    path = tmp_path / "messages.csv"
    with path.open("w", encoding="utf-8", newline="") as csv_file:
        write_messages_csv(
            csv_file,
            [
                (415, "382-4657", "Known customer", "2025-12-01 10:00:00"),
                (415, "999-0000", "Nobody has this number", "2025-12-01 11:00:00"),
            ],
        )

    loaded, warnings = load_data_local(target, path, "customer_messages", message_load_clauses())

    assert loaded == 1
    assert [warning[1] for warning in warnings] == [1452]
    assert [message for _, _, message, _ in stored_messages(target)] == ["Known customer"]
