"""The SageMaker endpoint that scores churn for Aurora's will_churn(): built-in XGBoost, our artifact.

The artifact is `model.tar.gz` from the training run, uploaded as a CDK asset under a key that keeps
the `.tar.gz` SageMaker requires (infra/tarball_asset.py); the execution role may read exactly that
object and pull exactly the XGBoost repository. Serverless inference by default
(nothing billed while idle); a real-time instance by option. The endpoint's log group is the stack's
own, so it is tagged, has a retention and goes (or stays) with the stack like every other log group.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.asset_arns import asset_object_arn
from infra.log_retention import LOG_RETENTION
from infra.nag import acknowledge
from infra.tarball_asset import tarball_asset
from infra.xgboost_image import IMAGE_URI_KEY, REGISTRY_ACCOUNT_KEY, xgboost_image_mapping

VARIANT_NAME = "AllTraffic"
XGBOOST_REPOSITORY = "sagemaker-xgboost"


class ModelEndpoint(Construct):
    """Execution role, CfnModel, endpoint config (serverless or real-time) and the named endpoint."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifact_path: Path,
        endpoint_name: str,
        serverless: bool,
        memory_mb: int,
        max_concurrency: int,
        instance_type: str,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.endpoint_name = endpoint_name
        self.artifact = tarball_asset(self, "Artifact", artifact_path)
        images = xgboost_image_mapping(self, "XGBoostImages")

        self.role = iam.Role(
            self,
            "ExecutionRole",
            description="churnguard: SageMaker serves the churn model",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[asset_object_arn(self, self.artifact.bucket_name, self.artifact.object_key)],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                resources=[
                    stack.format_arn(
                        service="ecr",
                        account=images.find_in_map(cdk.Aws.REGION, REGISTRY_ACCOUNT_KEY),
                        resource="repository",
                        resource_name=XGBOOST_REPOSITORY,
                    )
                ],
            )
        )
        self.token_statement = iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        self.role.add_to_policy(self.token_statement)
        self.log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{endpoint_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[self.log_group_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
            )
        )

        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; cloudwatch:PutMetricData is "
            "limited by condition to the /aws/sagemaker/Endpoints namespace.",
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
            f"log-group:/aws/sagemaker/Endpoints/{endpoint_name}:*]",
            "The log streams SageMaker creates in this endpoint's own log group have generated names.",
        )

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=images.find_in_map(cdk.Aws.REGION, IMAGE_URI_KEY),
                model_data_url=self.artifact.s3_object_url,
            ),
            # Serverless inference does not support network isolation; a real-time container gets it.
            enable_network_isolation=None if serverless else True,
        )
        self.model.node.add_dependency(self.role)

        if serverless:
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.model.attr_model_name,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    max_concurrency=max_concurrency, memory_size_in_mb=memory_mb
                ),
            )
        else:
            variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.model.attr_model_name,
                initial_instance_count=1,
                initial_variant_weight=1.0,
                instance_type=instance_type,
            )
        self.endpoint_config = sagemaker.CfnEndpointConfig(self, "Config", production_variants=[variant])
        # SageMaker writes to /aws/sagemaker/Endpoints/<name> and creates it, untagged and kept forever,
        # if it does not exist; the teardown sweep finds leftovers only by tag. Created here first, the
        # stack owns it: tagged, 3 months' retention, removed with a dev stack, kept by a prod one.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/sagemaker/Endpoints/{endpoint_name}",
            retention=LOG_RETENTION,
            removal_policy=removal_policy,
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.endpoint.node.add_dependency(self.log_group)
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> None:
        """InvokeEndpoint on this endpoint only (what Aurora's will_churn() calls)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[self.endpoint_arn])
        )
