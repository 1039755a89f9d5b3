"""The SageMaker training execution role and its KMS key (`-c sagemaker_training=true` only).

`churnguard train --sagemaker` passes this role to the tuning, training and batch transform jobs it
starts. The role reaches nothing but the data bucket's model prefix (where each run stages its data
and its jobs write their models), reading (only) the prefix where Aurora writes the channels of a
run whose rows stay in the table (`--from-table`), the key that encrypts those objects and the jobs'
volumes, and the jobs' own log groups and metrics. A role and a key cost nothing while no job runs
except the key's monthly fee (docs/cost-and-teardown.md).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, logical_id

# The log groups SageMaker writes a training / transform job's container output to.
JOB_LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/TransformJobs")
# The built-in algorithm's ECR repository (sagemaker.image_uris: <account>.dkr.ecr.<region>...).
XGBOOST_REPOSITORY = "sagemaker-xgboost"
# The CloudWatch namespace of the built-in algorithms' job metrics.
METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"


class TrainingRole(Construct):
    """An execution role SageMaker assumes for churnguard's training jobs, scoped to `model_prefix`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        model_prefix: str,
        table_export_prefix: str,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description="churnguard: SageMaker training data, models and job volumes",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=cdk.Duration.days(7),
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="churnguard: SageMaker training, tuning and batch transform jobs",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{model_prefix}*", f"{table_export_prefix}*"]}},
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{model_prefix}*")],
            )
        )
        # Aurora writes a --from-table run's channels here (SSE-S3, the bucket's default): read only.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{table_export_prefix}*")]
            )
        )
        # Encrypt outputs, read SSE-KMS inputs, and let SageMaker create the grant for the volumes.
        self.key.grant_encrypt_decrypt(self.role)
        self.key.grant(self.role, "kms:CreateGrant", "kms:DescribeKey")
        log_groups = [
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{group}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for group in JOB_LOG_GROUPS
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=log_groups,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": [f"{METRICS_NAMESPACE}*"]}},
            )
        )
        # The built-in XGBoost image lives in the sagemaker-xgboost repository of an AWS-owned account
        # that differs by region; the authorisation token has no resource to scope to.
        self.role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[
                    stack.format_arn(
                        service="ecr", account="*", resource="repository", resource_name=XGBOOST_REPOSITORY
                    )
                ],
            )
        )
        self._acknowledge(bucket, model_prefix, table_export_prefix)

    def _acknowledge(self, bucket: s3.IBucket, model_prefix: str, table_export_prefix: str) -> None:
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{model_prefix}*]",
            "Each run stages its CSVs and its jobs write models under names SageMaker chooses "
            f"(<job>/output/model.tar.gz), so objects are matched by prefix: {model_prefix} of the "
            "project's data bucket only.",
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{table_export_prefix}*]",
            "SELECT INTO OUTFILE S3 names its part files itself (<prefix>.part_00000, ...) under each "
            f"--from-table run's folder, so the jobs read by prefix: {table_export_prefix} of the "
            "project's data bucket only, and only read.",
        )
        for group in JOB_LOG_GROUPS:
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                f"log-group:{group}:*]",
                f"SageMaker names one log stream per job and instance inside {group}; the role may write "
                "only to that group.",
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData has no resource-level permission (limited here by the "
            "cloudwatch:namespace condition to SageMaker's training namespace), and neither has "
            "ecr:GetAuthorizationToken.",
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:*:repository/{XGBOOST_REPOSITORY}]",
            "The built-in XGBoost image is pulled from AWS's sagemaker-xgboost repository, whose owning "
            "account differs by region; only that repository name is allowed.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Granted by CDK's key.grant_encrypt_decrypt on this construct's own key only.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "Granted by CDK's key.grant_encrypt_decrypt on this construct's own key only.",
        )
