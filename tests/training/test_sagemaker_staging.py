"""The run's S3 objects: the Aurora table export read back, and the outputs `--stage` reads."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from churnguard.aws_clients import aws_client
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.errors import UserError
from churnguard.sql_client import Params, Row
from tests.training.sagemaker_service import BUCKET, REGION, RUN_NAME, settings
from training.sagemaker_stack import read_training_target
from training.sagemaker_staging import export_table, remove_prefix
from training.synthetic import generate_customers


class ExportingAurora:
    """Stands in for Aurora behind the Data API: runs the export by writing part files where it is told."""

    def __init__(self, s3: Any, customers: Any) -> None:
        self.s3, self.customers, self.statements = s3, customers, []

    def execute(self, sql: str, params: Params | None = None) -> int:
        self.statements.append((sql, params))
        location = sql.split("INTO OUTFILE S3 '", 1)[1].split("'", 1)[0]
        key = location.removeprefix(f"s3://{BUCKET}/")
        half = len(self.customers) // 2
        for number, rows in enumerate((self.customers[:half], self.customers[half:])):
            body = rows[list(COLUMN_NAMES)].to_csv(index=False, header=False, lineterminator="\n")
            self.s3.put_object(Bucket=BUCKET, Key=f"{key}.part_{number:05d}", Body=body.encode())
        return len(self.customers)

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        raise AssertionError("the export needs no query")


def test_the_table_is_exported_to_the_runs_tmp_prefix_and_read_back() -> None:
    customers = generate_customers(120, seed=3).sort_values(["area_code", "phone"], ignore_index=True)
    with mock_aws():
        s3 = aws_client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        aurora = ExportingAurora(s3, customers)
        table = export_table(aurora, s3, settings())  # type: ignore[arg-type]
        assert remove_prefix(s3, BUCKET, f"tmp/{RUN_NAME}/") == 2
        assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
    ((sql, params),) = aurora.statements
    assert params is None  # nothing bound: the location is a checked literal
    assert f"INTO OUTFILE S3 's3://{BUCKET}/tmp/{RUN_NAME}/customers'" in sql
    assert sql.lstrip().startswith("SELECT state, acc_length")
    assert table.equals(customers)


def _stack(outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "churnguard-dev",
                "CreationTime": "2026-11-26T12:00:00Z",
                "StackStatus": "UPDATE_COMPLETE",
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
            }
        ]
    }


BASE_OUTPUTS = {
    "ClusterArn": "arn:aws:rds:eu-west-1:123456789012:cluster:churnguard-dev",
    "AppSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app",
    "AdminSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin",
    "DatabaseName": "churnguard",
    "DataBucketName": BUCKET,
    "RecommendApiUrl": "https://example.lambda-url.eu-west-1.on.aws/",
}


def _cloudformation(outputs: dict[str, str]) -> Any:
    client = aws_client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    for _ in range(2):
        stubber.add_response("describe_stacks", _stack(outputs), {"StackName": "churnguard-dev"})
    stubber.activate()
    return client


def test_stage_outputs_give_bucket_role_and_key() -> None:
    role = "arn:aws:iam::123456789012:role/churnguard-dev-TrainingRole"
    key = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    target = read_training_target(
        _cloudformation({**BASE_OUTPUTS, "TrainingRoleArn": role, "TrainingKeyArn": key}), "dev", REGION
    )
    assert (target.stack.bucket, target.role_arn, target.key_arn) == (BUCKET, role, key)
    assert target.stack.cluster_arn == BASE_OUTPUTS["ClusterArn"]


def test_a_stack_without_the_training_role_says_how_to_get_it() -> None:
    with pytest.raises(UserError, match="no output TrainingRoleArn: deploy it with SageMaker training on"):
        read_training_target(_cloudformation(BASE_OUTPUTS), "dev", REGION)
