"""A Python Lambda function inside the VPC with its own role and log group: the shape both Lambdas share.

The role starts with nothing but writing to the function's own log group and managing the VPC
network interfaces Lambda attaches; the stack adds each function's data permissions explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.log_retention import LOG_RETENTION
from infra.nag import acknowledge

# The runtime the handlers are written and tested for (docs/architecture.md, "AWS side").
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_12
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


class VpcPythonFunction(Construct):
    """Function + role + log group with a fixed retention, in the given subnets and security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        description: str,
        bundle: Path,
        handler: str,
        environment: Mapping[str, str],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        timeout: cdk.Duration,
        memory_mb: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=removal_policy)
        self.role = iam.Role(
            self,
            "Role",
            description=f"churnguard: {description}",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(VPC_ACCESS_POLICY)],
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"churnguard: {description}",
            runtime=PYTHON_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(str(bundle)),
            handler=handler,
            environment=dict(environment),
            role=self.role,
            log_group=self.log_group,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            timeout=timeout,
            memory_size=memory_mb,
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{VPC_ACCESS_POLICY}]",
            "AWS's policy for attaching a Lambda function to a VPC (network interface management); "
            "those EC2 actions support no resource-level scope, so a custom copy would not be narrower.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "The handlers and their tests target Python 3.12 (docs/architecture.md); a runtime upgrade "
            "is a deliberate change made together with the code and its tests.",
        )
