"""The recommendation API: lambda/recommend behind a Lambda Function URL that only IAM-signed calls reach.

The call-centre back end signs its requests (SigV4) with a role that is granted lambda:InvokeFunctionUrl
and lambda:InvokeFunction on this function (AWS requires both for function URLs created since
October 2025: docs/infra.md); there is no anonymous access. The function reads Aurora through the Data API as
the API user (table-level grants, no S3 role: docs/bootstrap.md) and explains scores with the model's trees
bundled beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from churnguard.call_reason.labels import CALL_REASONS_ENV
from churnguard.constants import DATABASE_NAME
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S, longest_api_wait_s
from churnguard.model_folder import METADATA_JSON, MODEL_JSON
from infra.lambda_assets import stage_bundle
from infra.vpc_function import VpcPythonFunction

MODEL_DIR_IN_BUNDLE = "model"
# What the recommend handler reads (ModelFolder.read): the feature spec and cut-off, and the trees.
BUNDLED_MODEL_FILES = (METADATA_JSON, MODEL_JSON)
# Seconds. The function's timeout is the longest the handler waits on the database for one answer
# (5.5 s with the default 5-s budget) plus a cold start (loading the rules and the trees: under 1 s
# for a 300-tree model, measured by bench/bench_engine.py) with room to spare, so a slow database is
# the handler's own 503, never Lambda cutting the invocation off with a bare 502.
COLD_START_ALLOWANCE_S = 5
API_TIMEOUT_S = math.floor(longest_api_wait_s(DEFAULT_ANSWER_TIMEOUT_S) + COLD_START_ALLOWANCE_S) + 1


@dataclass(frozen=True)
class EngineWiring:
    """What every function answering through the incentive engine is given: the model it explains
    with, the cluster and the API user's secret it reads Aurora through, where it runs, and its removal
    policy.
    The recommend API and the console's API take the same one (infra/stack.py)."""

    model_dir: Path
    cluster_arn: str
    api_secret_arn: str
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    removal_policy: cdk.RemovalPolicy
    # -c call_reasons: with "off" the engine asks the database for no call reason (CALL_REASONS_ENV).
    call_reasons: str = "bedrock"

    def model_files(self) -> dict[str, bytes]:
        """The model files the handler reads, by their path in the bundle."""
        return {
            f"{MODEL_DIR_IN_BUNDLE}/{name}": (self.model_dir / name).read_bytes()
            for name in BUNDLED_MODEL_FILES
        }


def engine_function(
    scope: Construct, *, description: str, bundle: Path, wiring: EngineWiring
) -> VpcPythonFunction:
    """A function (construct id "Handler") that answers through the incentive engine: the recommend
    API's and the console's. Both read Aurora as the API user through the Data API, with the model
    bundled beside the handler, and share the timeout derived above."""
    return VpcPythonFunction(
        scope,
        "Handler",
        description=description,
        bundle=bundle,
        handler="handler.handler",
        environment={
            "CLUSTER_ARN": wiring.cluster_arn,
            "API_SECRET_ARN": wiring.api_secret_arn,
            "DATABASE_NAME": DATABASE_NAME,
            "MODEL_DIR": MODEL_DIR_IN_BUNDLE,
            CALL_REASONS_ENV: wiring.call_reasons,
        },
        vpc=wiring.vpc,
        subnets=wiring.subnets,
        security_group=wiring.security_group,
        timeout=cdk.Duration.seconds(API_TIMEOUT_S),
        memory_mb=512,
        removal_policy=wiring.removal_policy,
    )


class RecommendApi(Construct):
    """Recommend function and its AWS_IAM Function URL."""

    def __init__(self, scope: Construct, construct_id: str, *, wiring: EngineWiring) -> None:
        super().__init__(scope, construct_id)
        bundle = stage_bundle("recommend", handler_module="handler", extra_files=wiring.model_files())
        self.handler = engine_function(
            self, description="recommends an offer for one customer", bundle=bundle, wiring=wiring
        )
        self.url = self.handler.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
