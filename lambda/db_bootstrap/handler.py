"""Custom resource handler (CDK Provider framework `onEvent`) that bootstraps the Aurora database.

Create and Update apply the bundled SQL files, the app and API users and their Aurora roles, and the
optional seed data, all idempotently through the RDS Data API; Delete leaves the database and its data alone
(the cluster's own removal policy decides their fate). A failure raises an exception whose message
names the SQL file and statement; the Provider framework reports it to CloudFormation as the reason.

Environment: CLUSTER_ARN, ADMIN_SECRET_ARN (used by the Data API), APP_SECRET_ARN and API_SECRET_ARN
(each JSON with `username` and `password`: the app user, the API Lambdas' user), DATABASE_NAME
(default churnguard), SQL_DIR (default `sql`, relative to this folder), SEED_DATA_S3_URI (optional,
s3://bucket/key of the sample customers CSV), SEED_MESSAGES_S3_URI (optional, s3://bucket/key of the
sample messages CSV).
Imports: standard library, boto3 and churnguard's pure-Python modules only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from churnguard.aws_clients import aws_client
from churnguard.bootstrap import (
    AppUser,
    BootstrapError,
    BootstrapRequest,
    parse_seed_uri,
    read_sql_dir,
    run_bootstrap,
)
from churnguard.bootstrap.runner import OpenClient
from churnguard.bootstrap.seed import MESSAGES_SOURCE_NAME, SOURCE_NAME, S3Object
from churnguard.constants import DATABASE_NAME, NAME_PREFIX
from churnguard.dataapi import DataApiClient
from churnguard.request_logging import keep_requests_out_of_logs

LOGGER = logging.getLogger("churnguard.db_bootstrap")
LOGGER.setLevel(logging.INFO)
keep_requests_out_of_logs()

HANDLER_DIR = Path(__file__).resolve().parent
# Seconds a Data API call is read for: its 45-s statement limit plus the time its answer takes.
DATA_API_READ_TIMEOUT_S = 60.0
REQUIRED_ENV = ("CLUSTER_ARN", "ADMIN_SECRET_ARN", "APP_SECRET_ARN", "API_SECRET_ARN")


@dataclass(frozen=True)
class HandlerSettings:
    """The function's configuration, from its environment variables (set by infra/bootstrap.py)."""

    cluster_arn: str
    admin_secret_arn: str
    app_secret_arn: str
    api_secret_arn: str
    database: str
    sql_dir: Path
    seed_uri: str | None
    seed_messages_uri: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HandlerSettings:
        missing = [name for name in REQUIRED_ENV if not environ.get(name)]
        if missing:
            raise BootstrapError(
                f"the bootstrap function is missing environment variables: {', '.join(missing)}"
            )
        return cls(
            cluster_arn=environ["CLUSTER_ARN"],
            admin_secret_arn=environ["ADMIN_SECRET_ARN"],
            app_secret_arn=environ["APP_SECRET_ARN"],
            api_secret_arn=environ["API_SECRET_ARN"],
            database=environ.get("DATABASE_NAME") or DATABASE_NAME,
            sql_dir=HANDLER_DIR / (environ.get("SQL_DIR") or "sql"),
            seed_uri=environ.get("SEED_DATA_S3_URI") or None,
            seed_messages_uri=environ.get("SEED_MESSAGES_S3_URI") or None,
        )


def on_event(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The Provider framework's entry point: one CloudFormation lifecycle event for the resource."""
    settings = HandlerSettings.from_environ(os.environ)
    # The Data API ends a statement after 45 s (docs/bootstrap.md): a read never waits longer than
    # that plus its answer, and the function's 10-minute timeout bounds the whole event.
    rds_data = aws_client("rds-data", read_timeout=DATA_API_READ_TIMEOUT_S)

    def open_client(database: str | None) -> DataApiClient:
        return DataApiClient(
            rds_data,
            resource_arn=settings.cluster_arn,
            secret_arn=settings.admin_secret_arn,
            database=database,
        )

    return handle_event(
        event,
        settings,
        open_client=open_client,
        secretsmanager=aws_client("secretsmanager"),
        s3=aws_client("s3"),
        aurora=True,
    )


def handle_event(
    event: Mapping[str, Any],
    settings: HandlerSettings,
    *,
    open_client: OpenClient,
    secretsmanager: Any,
    s3: Any,
    aurora: bool,
) -> dict[str, Any]:
    """Everything on_event does, with the database and AWS clients passed in.

    `aurora` enables the Aurora-only statements (AWS_* roles, LOAD DATA FROM S3); on_event always sets
    it, the tests against the local MariaDB server do not.
    """
    request_type = event.get("RequestType")
    physical_id = event.get("PhysicalResourceId") or f"{NAME_PREFIX}-db-bootstrap-{settings.database}"
    LOGGER.info("%s request for %s", request_type, physical_id)
    if request_type == "Delete":
        LOGGER.info("leaving database %s and its data in place", settings.database)
        return {"PhysicalResourceId": physical_id}
    if request_type not in ("Create", "Update"):
        raise BootstrapError(f"unknown RequestType {request_type!r}: expected Create, Update or Delete")

    sql_files = read_sql_dir(settings.sql_dir)
    app_user = read_user_secret(secretsmanager, settings.app_secret_arn, "app secret")
    api_user = read_user_secret(secretsmanager, settings.api_secret_arn, "API secret")
    seed = checked_seed_object(s3, settings.seed_uri, SOURCE_NAME)
    seed_messages = checked_seed_object(s3, settings.seed_messages_uri, MESSAGES_SOURCE_NAME)

    report = run_bootstrap(
        open_client,
        BootstrapRequest(
            database=settings.database,
            sql_files=sql_files,
            app_user=app_user,
            api_user=api_user,
            aurora=aurora,
            seed=seed,
            seed_messages=seed_messages,
        ),
    )
    LOGGER.info(
        "database %s ready: %d statements from %d files; roles %s; seed %s; seed messages %s; "
        "%d best-effort statements refused",
        report.database,
        report.statements,
        len(report.files),
        report.aurora_roles,
        report.seed,
        report.seed_messages,
        len(report.refused_optional),
    )
    return {
        "PhysicalResourceId": physical_id,
        "Data": {
            "DatabaseName": report.database,
            "AppUserName": app_user.name,
            "ApiUserName": api_user.name,
            "Statements": str(report.statements),
            "SqlFiles": ",".join(report.files),
            "Seed": report.seed,
            "SeedMessages": report.seed_messages,
            "RefusedOptional": " | ".join(report.refused_optional) or "none",
            "MigrationsApplied": ",".join(report.migrations_applied) or "none",
        },
    }


def read_user_secret(secretsmanager: Any, secret_arn: str, what: str) -> AppUser:
    """A database user's name and password from its secret (`what`: "app secret", "API secret");
    errors name the secret, never its content."""
    try:
        secret = secretsmanager.get_secret_value(SecretId=secret_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise BootstrapError(f"cannot read the {what} {secret_arn}: {code}") from None
    try:
        values = json.loads(secret.get("SecretString") or "")
        name, password = values["username"], values["password"]
    except (ValueError, KeyError, TypeError):
        raise BootstrapError(
            f"the {what} {secret_arn} must be JSON with string fields username and password"
        ) from None
    if not isinstance(name, str) or not isinstance(password, str):
        raise BootstrapError(f"the {what} {secret_arn} must have string username and password")
    return AppUser(name=name, password=password)


def checked_seed_object(s3: Any, uri: str | None, source: str) -> S3Object | None:
    """The seed CSV at `uri` (None when not configured), checked to exist.

    Fails before touching the database when the object is missing, with a message naming it (`seed
    data` for customers, `seed messages`), instead of Aurora's less direct LOAD DATA error half-way
    through the run.
    """
    if not uri:
        return None
    seed = parse_seed_uri(uri, source)
    try:
        s3.head_object(Bucket=seed.bucket, Key=seed.key)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise BootstrapError(
            f"{source} {seed.uri} cannot be read by the bootstrap function: {code}"
        ) from None
    return seed
