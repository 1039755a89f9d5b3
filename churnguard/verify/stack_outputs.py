"""The deployed stack's outputs (infra/stack.py `_outputs`), read with CloudFormation DescribeStacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from churnguard.constants import NAME_PREFIX
from churnguard.errors import UserError

REQUIRED = (
    "ClusterArn",
    "AppSecretArn",
    "AdminSecretArn",
    "DatabaseName",
    "DataBucketName",
    "RecommendApiUrl",
)
# Absent when the model is compiled into the database (inference_mode=in_database), and without the
# agent console (-c console=true adds its page and API addresses, its user pool and app client).
OPTIONAL = ("EndpointName", "ConsoleUrl", "ConsoleApiUrl", "ConsoleUserPoolId", "ConsoleClientId")


def stack_name(stage: str) -> str:
    """As infra.config.StackOptions.stack_name names it."""
    return f"{NAME_PREFIX}-{stage}"


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    cluster_arn: str
    app_secret_arn: str
    admin_secret_arn: str
    database: str
    bucket: str
    api_url: str
    endpoint_name: str | None
    console_url: str | None = None
    console_api_url: str | None = None
    console_user_pool_id: str | None = None
    console_client_id: str | None = None


def read_outputs(cloudformation: Any, stage: str, region: str) -> StackOutputs:
    """The outputs of churnguard-<stage>; a missing stack or output is a UserError saying what to do."""
    name = stack_name(stage)
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise UserError(
                f"no stack {name} in {region}: deploy it first (make deploy), or pass the --stage/--region "
                "(or -c stage=...) it was deployed with"
            ) from None
        raise
    outputs: Mapping[str, str] = {
        output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])
    }
    missing = [key for key in REQUIRED if not outputs.get(key)]
    if missing:
        status = stacks[0].get("StackStatus", "unknown")
        raise UserError(
            f"stack {name} ({status}) has no output {missing[0]}: wait for the deploy to finish, or redeploy"
        )
    return StackOutputs(
        stack=name,
        cluster_arn=outputs["ClusterArn"],
        app_secret_arn=outputs["AppSecretArn"],
        admin_secret_arn=outputs["AdminSecretArn"],
        database=outputs["DatabaseName"],
        bucket=outputs["DataBucketName"],
        api_url=outputs["RecommendApiUrl"],
        endpoint_name=outputs.get("EndpointName") or None,
        console_url=outputs.get("ConsoleUrl") or None,
        console_api_url=outputs.get("ConsoleApiUrl") or None,
        console_user_pool_id=outputs.get("ConsoleUserPoolId") or None,
        console_client_id=outputs.get("ConsoleClientId") or None,
    )
