"""boto3 clients with bounded time: every AWS call churnguard makes goes through `aws_client`.

botocore's defaults wait 60 s to connect and 60 s per read, with legacy retries: a call-centre
answer or a CLI command could hang for minutes on an unreachable endpoint. One place sets connect
and read timeouts and botocore's *standard* retry mode (capped attempts with jittered backoff), so no
module writes its own retry loop or forgets a timeout.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Seconds. Connect fails fast (an unreachable endpoint is not going to answer later); reads allow for
# a Data API call that waits on Aurora. Callers with a tighter budget pass their own.
DEFAULT_CONNECT_TIMEOUT_S = 3.0
DEFAULT_READ_TIMEOUT_S = 20.0
# Total attempts, the first included (botocore's standard mode counts them this way).
DEFAULT_MAX_ATTEMPTS = 3

NO_CREDENTIALS_HELP = (
    "no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`) or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the account the stack was deployed to, then rerun"
)
NO_REGION_HELP = "no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION"
REJECTED_CREDENTIALS_HELP = (
    "AWS rejected the credentials ({code}): they have expired or belong to no account; refresh them "
    "(`aws sso login`, or new access keys) and rerun"
)
# Error codes AWS services answer with when the caller's credentials are expired or unknown.
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "RequestExpired",
    }
)


def bounded_config(
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Config:
    """A botocore Config with both timeouts and the standard retry mode."""
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )


def aws_client(
    service_name: str,
    *,
    session: boto3.Session | None = None,
    region_name: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Any:
    """A boto3 client for `service_name` whose every call is bounded in time (see the module doc)."""
    config = bounded_config(
        connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
    )
    factory = session if session is not None else boto3
    return factory.client(service_name, region_name=region_name, config=config)


def missing_setup_message(error: BaseException) -> str | None:
    """The one-line fix when `error` means the AWS credentials or region are missing or rejected.

    Lets every command turn botocore's missing-setup errors (which otherwise surface as a long
    traceback from deep inside an upload or a waiter) into the sentence a person can act on.
    """
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return NO_CREDENTIALS_HELP
    if isinstance(error, NoRegionError):
        return NO_REGION_HELP
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in REJECTED_CREDENTIAL_CODES:
            return REJECTED_CREDENTIALS_HELP.format(code=code)
    return None
