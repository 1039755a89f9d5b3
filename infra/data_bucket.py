"""The data bucket: exports, imports, training data and model artifacts, plus its access-log bucket.

Aurora's SELECT INTO OUTFILE S3 and LOAD DATA FROM S3 use it, so it uses S3-managed encryption
(no KMS grant needed by the cluster role) and lifecycle rules expire the scratch prefixes.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, logical_id

EXPORTS_PREFIX = "exports/"
IMPORTS_PREFIX = "imports/"
TMP_PREFIX = "tmp/"
MODEL_PREFIX = "model/"
# Inside TMP_PREFIX (so Aurora writes it and it expires): the files Aurora exports for SageMaker
# training from the table (training.sagemaker.jobs TABLE_EXPORT_PREFIX), which the training role reads.
TRAINING_EXPORT_PREFIX = f"{TMP_PREFIX}training/"
# Prefixes Aurora reads and writes; nothing else in the bucket is reachable from SQL.
AURORA_PREFIXES = (EXPORTS_PREFIX, IMPORTS_PREFIX, TMP_PREFIX)


class DataBucket(Construct):
    """Private, TLS-only, encrypted bucket with access logs and expiring scratch prefixes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        destroy_on_delete: bool,
        temporary_object_days: int = 7,
        access_log_days: int = 90,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = cdk.RemovalPolicy.DESTROY if destroy_on_delete else cdk.RemovalPolicy.RETAIN
        common = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": removal,
            "auto_delete_objects": destroy_on_delete,
        }
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=cdk.Duration.days(access_log_days))
            ],
            **common,
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging its own accesses into itself would loop.",
        )
        self.bucket = s3.Bucket(
            self,
            "Data",
            versioned=False,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="data-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id=f"expire-{prefix.rstrip('/')}",
                    prefix=prefix,
                    expiration=cdk.Duration.days(temporary_object_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
                for prefix in (TMP_PREFIX, EXPORTS_PREFIX)
            ],
            **common,
        )

    def grant_aurora_access(self, role: iam.IRole) -> None:
        """What LOAD DATA FROM S3 and SELECT INTO OUTFILE S3 need: objects under the Aurora prefixes
        only, and ListBucket on the bucket as AWS's Aurora S3 policy states it, with no s3:prefix
        condition, because AWS does not say which prefix Aurora lists with (docs/infra.md). A listing
        shows key names, never contents."""
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObject",
                    "s3:GetObjectVersion",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                    "s3:DeleteObject",
                ],
                resources=[self.bucket.arn_for_objects(f"{prefix}*") for prefix in AURORA_PREFIXES],
            )
        )
        for prefix in AURORA_PREFIXES:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{logical_id(self.bucket)}.Arn>/{prefix}*]",
                "SELECT INTO OUTFILE S3 writes files it names itself (part numbers, manifests) and LOAD "
                f"DATA FROM S3 reads what users upload, so objects are matched by prefix: {prefix} of the "
                "project's data bucket only.",
            )
