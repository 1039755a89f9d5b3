"""ARNs of uploaded CDK file assets, so IAM statements can name the one object instead of the bucket,
and the KMS grant a role needs to read them when the CDK bootstrap encrypts its bucket with a key
of the user's own.

Assets live in the CDK bootstrap bucket, shared by every stack in the account and region; a grant
on `bucket/*` (what `Asset.grant_read` gives) would expose other stacks' assets too.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def asset_bucket_arn(scope: IConstruct, bucket_name: str) -> str:
    return cdk.Stack.of(scope).format_arn(service="s3", region="", account="", resource=bucket_name)


def asset_object_arn(scope: IConstruct, bucket_name: str, object_key: str) -> str:
    return f"{asset_bucket_arn(scope, bucket_name)}/{object_key}"


def grant_asset_key_decrypt(role: iam.IRole, key_arn: str) -> None:
    """kms:Decrypt on the bootstrap bucket's customer managed key (`-c asset_key_arn=...`), only for
    reads through S3 in the stack's region: what S3 asks of a reader of an SSE-KMS object."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.amazonaws.com"}},
        )
    )
