"""Fixtures for running the bootstrap against the session's real MariaDB server and moto's AWS.

Each test gets its own database name and app user name (both removed afterwards), an SQL folder with
the repository's schema files plus a stored function with a BEGIN ... END body, and moto's Secrets
Manager and S3 holding the app secret and the seed CSVs.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws

from churnguard.db import PyMySqlClient, connect, parse_url
from churnguard.sqlgen.files import static_sql_files
from tests.fixtures.mariadb import database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "lambda" / "db_bootstrap" / "handler.py"
HANDLER_MODULE = "db_bootstrap_handler"
REGION = "eu-west-1"
APP_PASSWORD = "Tr0ub4dor&3-correct_horse"
API_PASSWORD = "Api-Tr0ub4dor&3-battery_staple"
SEED_BUCKET = "churnguard-seed-test"
SEED_KEY = "seed/customers.csv"
SEED_MESSAGES_KEY = "seed/messages.csv"

# A function with a compound body: it only survives splitting if BEGIN ... END is kept whole.
FUNCTIONS_SQL = """\
-- Test function standing in for the rendered ones: a compound body with inner semicolons.
DROP FUNCTION IF EXISTS risk_band;
CREATE FUNCTION risk_band(p DOUBLE) RETURNS VARCHAR(8) DETERMINISTIC
BEGIN
  DECLARE band VARCHAR(8);
  IF p >= 0.5 THEN SET band = 'high'; ELSE SET band = CASE WHEN p >= 0.2 THEN 'mid' ELSE 'low' END; END IF;
  RETURN band;
END;
"""


def load_handler() -> Any:
    """The Lambda handler module; `lambda` is a Python keyword, so it is loaded from its path."""
    if HANDLER_MODULE in sys.modules:
        return sys.modules[HANDLER_MODULE]
    spec = importlib.util.spec_from_file_location(HANDLER_MODULE, HANDLER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[HANDLER_MODULE] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


handler = load_handler()


@dataclass
class Target:
    """Where a test's bootstrap goes: a database, app user and API user that exist only for that
    test; `api_secret_arn` is set by the api_secret fixture."""

    admin_url: str
    database: str
    app_user: str
    sql_dir: Path
    api_user: str
    api_secret_arn: str = ""

    def open_client(self, database: str | None) -> PyMySqlClient:
        return connect(self.admin_url if database is None else database_url(self.admin_url, database))

    def admin(self) -> PyMySqlClient:
        return connect(database_url(self.admin_url, self.database))

    def app_client(self, password: str = APP_PASSWORD) -> PyMySqlClient:
        server = parse_url(self.admin_url)
        credentials = f"{self.app_user}:{quote(password, safe='')}"
        return connect(f"mysql://{credentials}@{server.host}:{server.port}/{self.database}")

    def database_exists(self) -> bool:
        with connect(self.admin_url) as admin:
            rows = admin.query(
                "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = %(db)s",
                {"db": self.database},
            )
        return rows[0]["n"] == 1


@pytest.fixture()
def target(mariadb_url: str, tmp_path: Path) -> Iterator[Target]:
    suffix = uuid.uuid4().hex[:10]
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    for file in static_sql_files():  # the schema as infra bundles it: release 0.1.0's files, migrations
        (sql_dir / file.name).write_text(file.text, encoding="utf-8")
    (sql_dir / "90_test_functions.sql").write_text(FUNCTIONS_SQL, encoding="utf-8")
    made = Target(mariadb_url, f"bootstrap_{suffix}", f"cg_app_{suffix}", sql_dir, f"cg_api_{suffix}")
    try:
        yield made
    finally:
        with connect(mariadb_url) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS `{made.database}`")
            admin.execute(f"DROP USER IF EXISTS '{made.app_user}'@'%'")
            admin.execute(f"DROP USER IF EXISTS '{made.api_user}'@'%'")


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture()
def api_secret(aws: None, target: Target) -> None:
    """The API user's secret in moto's Secrets Manager, its ARN kept on `target`."""
    target.api_secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"churnguard-api-{target.api_user}",
        SecretString=json.dumps({"username": target.api_user, "password": API_PASSWORD}),
    )["ARN"]


@pytest.fixture()
def app_secret_arn(api_secret: None, target: Target) -> str:
    """The app user's secret in moto's Secrets Manager (the API user's is made beside it)."""
    created = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"churnguard-app-{target.app_user}",
        SecretString=json.dumps({"username": target.app_user, "password": APP_PASSWORD}),
    )
    return created["ARN"]


@pytest.fixture()
def seed_uri(aws: None) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=SEED_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=SEED_BUCKET, Key=SEED_KEY, Body=b"state,acc_length\n")
    return f"s3://{SEED_BUCKET}/{SEED_KEY}"


@pytest.fixture()
def seed_messages_uri(seed_uri: str) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=SEED_BUCKET, Key=SEED_MESSAGES_KEY, Body=b'"area_code","phone"\n')
    return f"s3://{SEED_BUCKET}/{SEED_MESSAGES_KEY}"


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


def settings(
    target: Target, app_secret_arn: str, seed_uri: str | None = None, seed_messages_uri: str | None = None
) -> Any:
    return handler.HandlerSettings(
        cluster_arn="arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db",
        admin_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin",
        app_secret_arn=app_secret_arn,
        api_secret_arn=target.api_secret_arn,
        database=target.database,
        sql_dir=target.sql_dir,
        seed_uri=seed_uri,
        seed_messages_uri=seed_messages_uri,
    )


def run(
    target: Target,
    app_secret_arn: str,
    request_type: str,
    *,
    physical_id: str | None = None,
    seed_uri: str | None = None,
    seed_messages_uri: str | None = None,
) -> dict[str, Any]:
    """handle_event for one CloudFormation request, on MariaDB (aurora=False) with moto's AWS."""
    event = {"RequestType": request_type}
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return handler.handle_event(
        event,
        settings(target, app_secret_arn, seed_uri, seed_messages_uri),
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
