"""on_event end to end on the Aurora path: the exact Data API, Secrets Manager and S3 calls it makes.

Every AWS client the handler creates is a real botocore client with a Stubber holding exactly the
expected calls, so a missing, extra or mis-addressed call fails the test. This is the only place the
Aurora-only statements (AWS_* roles, LOAD DATA FROM S3) are seen being sent.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from churnguard.bootstrap import BootstrapError
from tests.bootstrap.conftest import REGION, load_handler

handler = load_handler()

CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db"
ADMIN_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin-AbCdEf"
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-app-GhIjKl"
API_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-api-MnOpQr"
SEED_URI = "s3://churnguard-data-123/seed/customers.csv"
SEED_MESSAGES_URI = "s3://churnguard-data-123/seed/messages.csv"
APP_PASSWORD = "Aurora-app_pa55word.x"
APP_SECRET_VALUE = json.dumps({"username": "churnguard_app", "password": APP_PASSWORD})
API_PASSWORD = "Aurora-api_pa55word.y"
# What the bootstrap runs for the API user after the app user's (churnguard.bootstrap.app_user).
API_USER_STATEMENTS = [
    "CREATE USER IF NOT EXISTS 'churnguard_api'@'%'",
    "ALTER USER 'churnguard_api'@'%'",
    "GRANT EXECUTE ON `churnguard`.* TO 'churnguard_api'@'%'",
    "GRANT SELECT ON `churnguard`.`customers` TO 'churnguard_api'@'%'",
    "GRANT SELECT ON `churnguard`.`customer_messages` TO 'churnguard_api'@'%'",
    "GRANT SELECT ON `churnguard`.`models` TO 'churnguard_api'@'%'",
    "GRANT SELECT, INSERT ON `churnguard`.`offers_log` TO 'churnguard_api'@'%'",
    "GRANT SELECT, INSERT, UPDATE ON `churnguard`.`offer_outcomes` TO 'churnguard_api'@'%'",
    "GRANT INSERT ON `churnguard`.`offer_outcome_changes` TO 'churnguard_api'@'%'",
]


class StubbedAws:
    """One stubbed client per service, handed out by a replacement for the handler's aws_client."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        self.sql_sent: list[tuple[str | None, str]] = []
        self.calls: list[tuple[str, str | None]] = []  # (operation, transactionId) in order
        for service in ("rds-data", "secretsmanager", "s3"):
            client = boto3.client(
                service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
        self.clients["rds-data"].meta.events.register(
            "provide-client-params.rds-data.ExecuteStatement", self._record
        )
        self.clients["rds-data"].meta.events.register("provide-client-params.rds-data.*", self._record_call)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.sql_sent.append((params.get("database"), params["sql"]))

    def _record_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params.get("transactionId")))

    def client(self, service: str, *args: Any, **kwargs: Any) -> Any:
        return self.clients[service]

    def expect_statements(self, count: int, database: str | None) -> None:
        target = {"resourceArn": CLUSTER, "secretArn": ADMIN_SECRET}
        if database is not None:
            target["database"] = database
        for _ in range(count):
            self.stubbers["rds-data"].add_response(
                "execute_statement",
                {"numberOfRecordsUpdated": 0},
                {**target, "sql": ANY, "continueAfterTimeout": True},
            )

    def expect_part_lookups(self, views: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> None:
        """The two look-ups for a replaced model's parts (after files that create will_churn)."""
        for column, names in (("TABLE_NAME", views), ("ROUTINE_NAME", functions)):
            self.stubbers["rds-data"].add_response(
                "execute_statement",
                {
                    "columnMetadata": [{"name": column, "label": "name", "typeName": "VARCHAR"}],
                    "records": [[{"stringValue": name}] for name in names],
                },
                {
                    "resourceArn": CLUSTER,
                    "secretArn": ADMIN_SECRET,
                    "database": "churnguard",
                    "sql": ANY,
                    "includeResultMetadata": True,
                },
            )


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> StubbedAws:
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "10_schema.sql").write_text("CREATE TABLE IF NOT EXISTS customers (x INT);\n-- end\n")
    (sql_dir / "20_functions.sql").write_text(
        "DROP FUNCTION IF EXISTS will_churn;\n"
        "CREATE FUNCTION will_churn(a DOUBLE) RETURNS DOUBLE\n"
        "  ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churnguard-xgboost';\n"
    )
    (sql_dir / "README.txt").write_text("not SQL, not applied")
    for name, value in {
        "CLUSTER_ARN": CLUSTER,
        "ADMIN_SECRET_ARN": ADMIN_SECRET,
        "APP_SECRET_ARN": APP_SECRET,
        "API_SECRET_ARN": API_SECRET,
        "SQL_DIR": str(sql_dir),
        "SEED_DATA_S3_URI": SEED_URI,
        "SEED_MESSAGES_S3_URI": SEED_MESSAGES_URI,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_NAME", raising=False)
    stubbed = StubbedAws()
    monkeypatch.setattr(handler, "aws_client", stubbed.client)
    for stubber in stubbed.stubbers.values():
        stubber.activate()
    yield stubbed
    for stubber in stubbed.stubbers.values():
        stubber.deactivate()


def expect_app_secret(aws: StubbedAws) -> None:
    """The app user's secret, then the API user's: read before any database call."""
    for arn, name, password in (
        (APP_SECRET, "churnguard_app", APP_PASSWORD),
        (API_SECRET, "churnguard_api", API_PASSWORD),
    ):
        aws.stubbers["secretsmanager"].add_response(
            "get_secret_value",
            {"ARN": arn, "SecretString": json.dumps({"username": name, "password": password})},
            {"SecretId": arn},
        )


def expect_seed_object(aws: StubbedAws) -> None:
    """HEAD of both seed CSVs, customers first, before any database call."""
    for key in ("seed/customers.csv", "seed/messages.csv"):
        aws.stubbers["s3"].add_response(
            "head_object", {"ContentLength": 120}, {"Bucket": "churnguard-data-123", "Key": key}
        )


def expect_customers_count(aws: StubbedAws, has_rows: int, table: str = "customers") -> None:
    aws.stubbers["rds-data"].add_response(
        "execute_statement",
        {
            "columnMetadata": [{"name": "has_rows", "label": "has_rows", "typeName": "BIGINT"}],
            "records": [[{"longValue": has_rows}]],
        },
        {
            "resourceArn": CLUSTER,
            "secretArn": ADMIN_SECRET,
            "database": "churnguard",
            "sql": f"SELECT EXISTS(SELECT 1 FROM {table}) AS has_rows",
            "includeResultMetadata": True,
        },
    )


def expect_seed_load(aws: StubbedAws, transaction_id: str) -> None:
    """SET ROLE ALL and LOAD DATA FROM S3 inside one Data API transaction, then its commit."""
    target = {"resourceArn": CLUSTER, "secretArn": ADMIN_SECRET}
    stub = aws.stubbers["rds-data"]
    stub.add_response(
        "begin_transaction", {"transactionId": transaction_id}, {**target, "database": "churnguard"}
    )
    for _ in range(2):
        stub.add_response(
            "execute_statement",
            {"numberOfRecordsUpdated": 0},
            {
                **target,
                "database": "churnguard",
                "sql": ANY,
                "continueAfterTimeout": True,
                "transactionId": transaction_id,
            },
        )
    stub.add_response(
        "commit_transaction",
        {"transactionStatus": "Transaction Committed"},
        {**target, "transactionId": transaction_id},
    )


def test_create_on_aurora_sends_database_files_user_roles_and_seed_load_in_order(aws, caplog):
    caplog.set_level(logging.DEBUG)
    expect_app_secret(aws)
    expect_seed_object(aws)
    aws.expect_statements(1, database=None)
    aws.expect_statements(3, database="churnguard")
    stale_view, stale_part = "will_churn_0123456789abcdef_v001", "will_churn_0123456789abcdef_p001"
    aws.expect_part_lookups(views=(stale_view,), functions=("will_churn_helper", stale_part))
    aws.expect_statements(2 + 5 + 9 + 2 + 2, database="churnguard")
    expect_customers_count(aws, has_rows=0)
    expect_seed_load(aws, "tx-customers")
    expect_customers_count(aws, has_rows=0, table="customer_messages")
    expect_seed_load(aws, "tx-messages")

    result = handler.on_event({"RequestType": "Create"}, None)

    for stubber in aws.stubbers.values():
        stubber.assert_no_pending_responses()
    assert result["PhysicalResourceId"] == "churnguard-db-bootstrap-churnguard"
    assert result["Data"]["Seed"] == result["Data"]["SeedMessages"] == "loaded"
    assert result["Data"]["SqlFiles"] == "10_schema.sql,20_functions.sql"
    assert (result["Data"]["AppUserName"], result["Data"]["ApiUserName"]) == (
        "churnguard_app",
        "churnguard_api",
    )
    sent = aws.sql_sent
    assert sent[0] == (None, "CREATE DATABASE IF NOT EXISTS `churnguard` CHARACTER SET utf8mb4")
    assert [sql.split("\n")[0] for _, sql in sent[1:4]] == [
        "CREATE TABLE IF NOT EXISTS customers (x INT)",
        "DROP FUNCTION IF EXISTS will_churn",
        "CREATE FUNCTION will_churn(a DOUBLE) RETURNS DOUBLE",
    ]
    # will_churn was replaced (here by the SageMaker alias): a split model's parts go, views first.
    assert "information_schema.VIEWS" in sent[4][1] and "information_schema.ROUTINES" in sent[5][1]
    assert [sql for _, sql in sent[6:8]] == [
        f"DROP VIEW IF EXISTS `{stale_view}`",
        f"DROP FUNCTION IF EXISTS `{stale_part}`",
    ]
    assert [sql.split(" IDENTIFIED")[0] for _, sql in sent[8:13]] == [
        "CREATE USER IF NOT EXISTS 'churnguard_app'@'%'",
        "ALTER USER 'churnguard_app'@'%'",
        "GRANT SELECT, INSERT, EXECUTE ON `churnguard`.* TO 'churnguard_app'@'%'",
        "GRANT UPDATE ON `churnguard`.`customer_scores` TO 'churnguard_app'@'%'",
        "GRANT UPDATE ON `churnguard`.`offer_outcomes` TO 'churnguard_app'@'%'",
    ]
    # The API user, with its own secret's password, then both users' roles: the API user's are the
    # machine learning ones only (no call_reason alias in these files, so no Bedrock role either).
    assert [sql.split(" IDENTIFIED")[0] for _, sql in sent[13:22]] == API_USER_STATEMENTS
    assert sent[14][1] == f"ALTER USER 'churnguard_api'@'%' IDENTIFIED BY '{API_PASSWORD}'"
    app_roles = "AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS, AWS_LOAD_S3_ACCESS, AWS_SELECT_S3_ACCESS"
    api_roles = "AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS"
    assert [sql for _, sql in sent[22:26]] == [
        f"GRANT {app_roles} TO 'churnguard_app'@'%'",
        f"SET DEFAULT ROLE {app_roles} TO 'churnguard_app'@'%'",
        f"GRANT {api_roles} TO 'churnguard_api'@'%'",
        f"SET DEFAULT ROLE {api_roles} TO 'churnguard_api'@'%'",
    ]
    assert sent[27][1] == "SET ROLE ALL"
    assert sent[28][1].startswith(f"LOAD DATA FROM S3 FILE '{SEED_URI}' IGNORE INTO TABLE customers ")
    assert sent[29][1] == "SELECT EXISTS(SELECT 1 FROM customer_messages) AS has_rows"
    assert sent[30][1] == "SET ROLE ALL"
    assert sent[31][1].startswith(
        f"LOAD DATA FROM S3 FILE '{SEED_MESSAGES_URI}' IGNORE INTO TABLE customer_messages "
    )
    assert len(sent) == 32
    assert all(database == "churnguard" for database, _ in sent[1:])
    # The role is activated in the load's own session: both statements in one transaction, committed
    # after the load; every other statement outside any transaction.
    seed_calls = [call for call in aws.calls if call[1] is not None or call[0] != "ExecuteStatement"]
    assert seed_calls == [
        ("BeginTransaction", None),
        ("ExecuteStatement", "tx-customers"),
        ("ExecuteStatement", "tx-customers"),
        ("CommitTransaction", "tx-customers"),
        ("BeginTransaction", None),
        ("ExecuteStatement", "tx-messages"),
        ("ExecuteStatement", "tx-messages"),
        ("CommitTransaction", "tx-messages"),
    ]
    # Neither password reaches a log line or the answer CloudFormation keeps.
    for password in (APP_PASSWORD, API_PASSWORD):
        assert password not in caplog.text and password not in json.dumps(result)


def test_with_call_reasons_on_bedrock_both_users_get_the_bedrock_role(aws, tmp_path):
    (tmp_path / "sql" / "94_call_reason.sql").write_text(
        "DROP FUNCTION IF EXISTS call_reason_model;\n"
        "CREATE FUNCTION call_reason_model(request_body TEXT)\n  RETURNS TEXT\n  SQL SECURITY INVOKER\n"
        "  ALIAS AWS_BEDROCK_INVOKE_MODEL\n  MODEL ID 'amazon.nova-micro-v1:0';\n"
    )
    expect_app_secret(aws)
    expect_seed_object(aws)
    aws.expect_statements(1, database=None)
    aws.expect_statements(5, database="churnguard")
    aws.expect_part_lookups()
    aws.expect_statements(5 + 9 + 2 + 2, database="churnguard")
    expect_customers_count(aws, has_rows=1)
    expect_customers_count(aws, has_rows=1, table="customer_messages")

    handler.on_event({"RequestType": "Update", "PhysicalResourceId": "churnguard-db-bootstrap-x"}, None)

    for stubber in aws.stubbers.values():
        stubber.assert_no_pending_responses()
    grants = [sql for _, sql in aws.sql_sent if sql.startswith("GRANT AWS_")]
    assert grants == [
        "GRANT AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS, AWS_LOAD_S3_ACCESS, AWS_SELECT_S3_ACCESS, "
        "AWS_BEDROCK_ACCESS TO 'churnguard_app'@'%'",
        "GRANT AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS, AWS_BEDROCK_ACCESS TO 'churnguard_api'@'%'",
    ]


def test_an_api_secret_naming_the_app_user_is_refused_before_any_database_call(aws):
    for arn in (APP_SECRET, API_SECRET):
        aws.stubbers["secretsmanager"].add_response(
            "get_secret_value",
            {"ARN": arn, "SecretString": APP_SECRET_VALUE},
            {"SecretId": arn},
        )
    expect_seed_object(aws)
    with pytest.raises(BootstrapError, match="the API secret names the app user 'churnguard_app'"):
        handler.on_event({"RequestType": "Create"}, None)
    assert aws.sql_sent == []


def test_an_unreadable_api_secret_is_named_without_any_database_call(aws):
    aws.stubbers["secretsmanager"].add_response(
        "get_secret_value", {"ARN": APP_SECRET, "SecretString": APP_SECRET_VALUE}, {"SecretId": APP_SECRET}
    )
    aws.stubbers["secretsmanager"].add_client_error(
        "get_secret_value", service_error_code="AccessDeniedException", http_status_code=400
    )
    with pytest.raises(
        BootstrapError, match=f"cannot read the API secret {API_SECRET}: AccessDeniedException"
    ):
        handler.on_event({"RequestType": "Create"}, None)
    assert aws.sql_sent == []


@pytest.mark.parametrize(
    ("messages_have_rows", "expected_messages", "loaded_tables"),
    [
        (1, "skipped: customer_messages already has rows", []),
        (0, "loaded", ["customer_messages"]),
    ],
)
def test_update_loads_only_into_tables_that_are_still_empty(
    aws, messages_have_rows, expected_messages, loaded_tables
):
    expect_app_secret(aws)
    expect_seed_object(aws)
    aws.expect_statements(1, database=None)
    aws.expect_statements(3, database="churnguard")
    aws.expect_part_lookups()
    aws.expect_statements(5 + 9 + 2 + 2, database="churnguard")
    expect_customers_count(aws, has_rows=1)
    expect_customers_count(aws, has_rows=messages_have_rows, table="customer_messages")
    for table in loaded_tables:
        expect_seed_load(aws, f"tx-{table}")

    result = handler.on_event(
        {"RequestType": "Update", "PhysicalResourceId": "churnguard-db-bootstrap-x"}, None
    )

    for stubber in aws.stubbers.values():
        stubber.assert_no_pending_responses()
    assert result["PhysicalResourceId"] == "churnguard-db-bootstrap-x"
    assert result["Data"]["Seed"] == "skipped: customers already has rows"
    assert result["Data"]["SeedMessages"] == expected_messages
    loads = [sql for _, sql in aws.sql_sent if sql.startswith("LOAD DATA")]
    assert [load.split(" IGNORE INTO TABLE ")[1].split(" ")[0] for load in loads] == loaded_tables


def test_a_missing_messages_object_fails_before_any_database_call(aws):
    expect_app_secret(aws)
    aws.stubbers["s3"].add_response(
        "head_object", {"ContentLength": 120}, {"Bucket": "churnguard-data-123", "Key": "seed/customers.csv"}
    )
    aws.stubbers["s3"].add_client_error(
        "head_object", service_error_code="404", service_message="Not Found", http_status_code=404
    )
    with pytest.raises(BootstrapError, match=rf"seed messages {SEED_MESSAGES_URI} cannot be read .*: 404"):
        handler.on_event({"RequestType": "Create"}, None)
    assert aws.sql_sent == []


def test_a_statement_the_cluster_rejects_is_reported_by_file_and_statement_without_the_password(aws):
    expect_app_secret(aws)
    expect_seed_object(aws)
    aws.expect_statements(1, database=None)
    aws.expect_statements(3, database="churnguard")
    aws.expect_part_lookups()
    aws.expect_statements(1, database="churnguard")
    aws.stubbers["rds-data"].add_client_error(
        "execute_statement",
        service_error_code="BadRequestException",
        service_message=f"Database error code: 1064. Message: syntax error near '{APP_PASSWORD}'",
    )
    with pytest.raises(BootstrapError) as raised:
        handler.on_event({"RequestType": "Create"}, None)
    message = str(raised.value)
    assert message.startswith(
        "app user statement 2 (ALTER USER 'churnguard_app'@'%' IDENTIFIED BY '***') failed:"
    )
    assert "1064" in message
    assert APP_PASSWORD not in message


def test_delete_makes_no_aws_call_at_all(aws):
    # Nothing is stubbed: any call to rds-data, Secrets Manager or S3 would raise.
    assert handler.on_event({"RequestType": "Delete", "PhysicalResourceId": "p-1"}, None) == {
        "PhysicalResourceId": "p-1"
    }


def test_botocore_cannot_log_requests_at_debug_level_in_the_function(caplog):
    # At DEBUG, botocore logs whole requests: SQL text, parameter values, secret values. Even with
    # the function's log level (the root logger's) at DEBUG, the handler keeps them at INFO.
    caplog.set_level(logging.DEBUG)
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    for name in ("botocore", "boto3", "urllib3"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO
