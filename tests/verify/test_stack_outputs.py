"""Reading churnguard-<stage>'s outputs with CloudFormation DescribeStacks (botocore Stubber)."""

from __future__ import annotations

import datetime as dt

import pytest

from churnguard.errors import UserError
from churnguard.verify.stack_outputs import read_outputs
from tests.verify.aws_stubs import OUTPUTS, RecordedClient

OUTPUT_VALUES = {
    "ClusterArn": OUTPUTS.cluster_arn,
    "ClusterEndpoint": "churnguard-dev.cluster-abc.eu-west-1.rds.amazonaws.com",
    "DatabaseName": "churnguard",
    "AdminSecretArn": OUTPUTS.admin_secret_arn,
    "AppSecretArn": OUTPUTS.app_secret_arn,
    "DataBucketName": OUTPUTS.bucket,
    "RecommendApiUrl": OUTPUTS.api_url,
    "EndpointName": "churnguard-dev-churn",
    "ConsoleUrl": OUTPUTS.console_url,
    "ConsoleApiUrl": OUTPUTS.console_api_url,
    "ConsoleUserPoolId": OUTPUTS.console_user_pool_id,
    "ConsoleClientId": OUTPUTS.console_client_id,
}


def stack(status: str, outputs: dict[str, str]) -> dict:
    return {
        "Stacks": [
            {
                "StackName": "churnguard-dev",
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/churnguard-dev/1",
                "CreationTime": dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
                "StackStatus": status,
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
            }
        ]
    }


def test_the_outputs_of_the_stages_stack_are_read():
    cloudformation = RecordedClient("cloudformation")
    cloudformation.answer("describe_stacks", stack("UPDATE_COMPLETE", OUTPUT_VALUES))

    with cloudformation:
        outputs = read_outputs(cloudformation.client, "dev", "eu-west-1")

    assert outputs == OUTPUTS
    assert cloudformation.requests == [("DescribeStacks", {"StackName": "churnguard-dev"})]


def test_an_in_database_stack_has_no_endpoint():
    cloudformation = RecordedClient("cloudformation")
    values = {key: value for key, value in OUTPUT_VALUES.items() if key != "EndpointName"}
    cloudformation.answer("describe_stacks", stack("CREATE_COMPLETE", values))

    with cloudformation:
        assert read_outputs(cloudformation.client, "dev", "eu-west-1").endpoint_name is None


def test_a_stack_without_the_console_has_no_console_addresses():
    cloudformation = RecordedClient("cloudformation")
    values = {key: value for key, value in OUTPUT_VALUES.items() if not key.startswith("Console")}
    cloudformation.answer("describe_stacks", stack("CREATE_COMPLETE", values))

    with cloudformation:
        outputs = read_outputs(cloudformation.client, "dev", "eu-west-1")
    assert (outputs.console_url, outputs.console_api_url) == (None, None)


def test_a_stack_that_does_not_exist_says_to_deploy_or_name_the_stage():
    cloudformation = RecordedClient("cloudformation")
    cloudformation.fail(
        "describe_stacks",
        {
            "service_error_code": "ValidationError",
            "service_message": "Stack with id churnguard-prod does not exist",
            "http_status_code": 400,
        },
    )

    with (
        cloudformation,
        pytest.raises(UserError, match="no stack churnguard-prod in eu-west-1: deploy it first"),
    ):
        read_outputs(cloudformation.client, "prod", "eu-west-1")


def test_a_stack_still_deploying_names_the_missing_output_and_status():
    cloudformation = RecordedClient("cloudformation")
    cloudformation.answer("describe_stacks", stack("CREATE_IN_PROGRESS", {}))

    with cloudformation, pytest.raises(UserError, match=r"\(CREATE_IN_PROGRESS\) has no output ClusterArn"):
        read_outputs(cloudformation.client, "dev", "eu-west-1")
