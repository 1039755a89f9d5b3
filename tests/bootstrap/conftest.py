"""Fixtures for running the bootstrap against the session's real MariaDB server and moto's AWS.

Each test gets its own database name and app user name (both removed afterwards), an SQL folder with
the repository's schema files plus a stored function with a BEGIN ... END body, and moto's Secrets
Manager and S3 holding the app secret and the seed CSV.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
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
from tests.fixtures.mariadb import database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "lambda" / "db_bootstrap" / "handler.py"
HANDLER_MODULE = "db_bootstrap_handler"
REGION = "eu-west-1"
APP_PASSWORD = "Tr0ub4dor&3-correct_horse"
SEED_BUCKET = "churnguard-seed-test"
SEED_KEY = "seed/customers.csv"

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


@dataclass
class Target:
    """Where a test's bootstrap goes: a database and app user that exist only for that test."""

    admin_url: str
    database: str
    app_user: str
    sql_dir: Path

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
    for path in sorted((REPO_ROOT / "sql").glob("[0-9][0-9]_*.sql")):
        shutil.copy(path, sql_dir / path.name)
    (sql_dir / "90_test_functions.sql").write_text(FUNCTIONS_SQL, encoding="utf-8")
    made = Target(mariadb_url, f"bootstrap_{suffix}", f"cg_app_{suffix}", sql_dir)
    try:
        yield made
    finally:
        with connect(mariadb_url) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS `{made.database}`")
            admin.execute(f"DROP USER IF EXISTS '{made.app_user}'@'%'")


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
def app_secret_arn(aws: None, target: Target) -> str:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    created = secrets.create_secret(
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
