"""The AWS clients the teardown uses, all from one session pinned to one region, each call bounded in time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from churnguard.aws_clients import aws_client
from churnguard.errors import UserError

NO_CREDENTIALS_HELP = (
    "no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`) or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the account the stack was deployed to, then rerun"
)


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


def clients_for(session: boto3.Session) -> AwsClients:
    """Clients for every service the sweep reads; refuses early without a region or credentials."""
    if not session.region_name:
        raise UserError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
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
    )
