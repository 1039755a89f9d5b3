"""The outputs `churnguard train --sagemaker --stage` reads."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from churnguard.aws_clients import aws_client
from churnguard.errors import UserError
from tests.training.sagemaker.sagemaker_service import BUCKET, REGION
from training.sagemaker.stack import read_training_target


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
