"""A 300-tree in-database model's whole bootstrap through a Data API stand-in that enforces its limit.

The stand-in is a real botocore `rds-data` client (request shapes checked against the service model)
whose ExecuteStatement is answered by the session's MariaDB server, except that `sql` longer than
65,536 characters gets the error AWS answers a request breaking a length constraint with:
ValidationException. The handler runs exactly as on Aurora, through churnguard.dataapi.DataApiClient,
minus the Aurora-only roles and seed load (MariaDB has neither; their statements are a few hundred
characters, tests/bootstrap/test_handler_data_api.py sees them sent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from churnguard.bootstrap.apply import MAX_STATEMENT_CHARS
from churnguard.dataapi import DataApiClient
from churnguard.db import connect
from churnguard.engine.failures import DatabaseFailure
from churnguard.sqlgen import load_model, render_deploy_sql
from churnguard.sqlgen.model_compiler import probability_expression
from tests.bootstrap.conftest import REGION, Target, handler, insert_customer_with_message, settings
from tests.fixtures.mariadb import database_url

pytestmark = pytest.mark.mariadb

CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-db"
ADMIN_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churnguard-admin"


class DataApiOverMariaDb:
    """botocore's rds-data client, its ExecuteStatement answered by a MariaDB server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.sent: list[str] = []
        self.client = boto3.client(
            "rds-data", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.client.meta.events.register("before-call.rds-data.ExecuteStatement", self._answer)

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        request = json.loads(params["body"])
        sql = request["sql"]
        self.sent.append(sql)
        if len(sql) > MAX_STATEMENT_CHARS:
            return AWSResponse(None, 400, {}, None), {
                "Error": {
                    "Code": "ValidationException",
                    "Message": "1 validation error detected: Value at 'sql' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {MAX_STATEMENT_CHARS}",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        database = request.get("database")
        url = self.admin_url if database is None else database_url(self.admin_url, database)
        with connect(url) as server:
            if request.get("includeResultMetadata"):
                rows = server.query(sql)
                return AWSResponse(None, 200, {}, None), _records(rows)
            return AWSResponse(None, 200, {}, None), {"numberOfRecordsUpdated": server.execute(sql)}


def _records(rows: list[dict[str, Any]]) -> dict[str, Any]:
    labels = list(rows[0]) if rows else []
    return {
        "columnMetadata": [{"name": label, "label": label, "typeName": "VARCHAR"} for label in labels],
        "records": [[_field(row[label]) for label in labels] for row in rows],
    }


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


@pytest.fixture()
def data_api(mariadb_url: str) -> DataApiOverMariaDb:
    return DataApiOverMariaDb(mariadb_url)


def open_client(data_api: DataApiOverMariaDb):
    def opened(database: str | None) -> DataApiClient:
        return DataApiClient(
            data_api.client, resource_arn=CLUSTER, secret_arn=ADMIN_SECRET, database=database
        )

    return opened


def test_the_stand_in_refuses_the_whole_compiled_model_as_aurora_would(data_api, large_model_dir: Path):
    spec, model = load_model(large_model_dir)
    whole = f"SELECT {probability_expression(model, [f'{value}e0' for value in range(len(spec.names))])} AS p"
    with pytest.raises(DatabaseFailure) as refused:
        open_client(data_api)(None).query(whole)
    assert refused.value.code == "ValidationException"
    assert open_client(data_api)(None).query("SELECT 1 AS one") == [{"one": 1}]


def test_a_300_tree_models_bootstrap_fits_the_data_api_and_succeeds(
    data_api, target: Target, app_secret_arn: str, large_model_dir: Path
):
    files = render_deploy_sql(large_model_dir, inference_mode="in_database", endpoint_name=None)
    for old in target.sql_dir.iterdir():
        old.unlink()
    for sql_file in files:
        (target.sql_dir / sql_file.name).write_text(sql_file.text, encoding="utf-8")
    secretsmanager = boto3.client("secretsmanager", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)

    for request in ({"RequestType": "Create"}, {"RequestType": "Update", "PhysicalResourceId": "p-1"}):
        result = handler.handle_event(
            request,
            settings(target, app_secret_arn),
            open_client=open_client(data_api),
            secretsmanager=secretsmanager,
            s3=s3,
            aurora=False,
        )
        assert result["Data"]["SqlFiles"] == ",".join(sql_file.name for sql_file in files)

    assert max(len(sql) for sql in data_api.sent) <= MAX_STATEMENT_CHARS
    assert sum(len(sql) for sql in data_api.sent) > 10 * MAX_STATEMENT_CHARS, "the model went, in parts"
    insert_customer_with_message(target)
    with target.app_client() as app:
        (viewed,) = app.query("SELECT churn_probability AS p FROM customer_churn_scores")
        (called,) = app.query("SELECT customer_churn_probability(415, '382-4657') AS p")
    assert 0.0 < viewed["p"] < 1.0 and abs(viewed["p"] - called["p"]) <= 1e-9
