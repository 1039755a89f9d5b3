"""The AWS clients the teardown uses, all from one session pinned to one region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from churnguard.aws_clients import NO_CREDENTIALS_HELP, NO_REGION_HELP
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


def clients_for(session: boto3.Session) -> AwsClients:
    """Clients for every service the sweep reads; refuses early without a region or credentials."""
    if not session.region_name:
        raise UserError(NO_REGION_HELP)
    if session.get_credentials() is None:
        raise UserError(NO_CREDENTIALS_HELP)
    return AwsClients(
        region=session.region_name,
        sagemaker=session.client("sagemaker"),
        s3=session.client("s3"),
        logs=session.client("logs"),
        rds=session.client("rds"),
        kms=session.client("kms"),
        cloudformation=session.client("cloudformation"),
    )
