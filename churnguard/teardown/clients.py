"""The AWS clients the teardown uses, all from one session pinned to one region, each call bounded in time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from churnguard.aws_clients import NO_CREDENTIALS_HELP, NO_REGION_HELP, aws_client
from churnguard.errors import UserError


@dataclass(frozen=True)
class AwsClients:
    region: str
    sagemaker: Any
    s3: Any
    logs: Any
    rds: Any
    kms: Any
    cloudformation: Any
    secretsmanager: Any
    cognito: Any
    ec2: Any


def clients_for(session: boto3.Session) -> AwsClients:
    """Clients for every service the sweep reads; refuses early without a region or credentials."""
    if not session.region_name:
        raise UserError(NO_REGION_HELP)
    if session.get_credentials() is None:
        raise UserError(NO_CREDENTIALS_HELP)
    region = session.region_name

    def client(service: str) -> Any:
        return aws_client(service, session=session, region_name=region)

    return AwsClients(
        region=region,
        sagemaker=client("sagemaker"),
        s3=client("s3"),
        logs=client("logs"),
        rds=client("rds"),
        kms=client("kms"),
        cloudformation=client("cloudformation"),
        secretsmanager=client("secretsmanager"),
        cognito=client("cognito-idp"),
        ec2=client("ec2"),
    )
