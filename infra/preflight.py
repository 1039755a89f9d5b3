"""The checks `make deploy` runs before it changes anything, with the caller's own credentials.

A deploy that fails on AWS fails late: CreateDBCluster with an engine version the region no longer
offers fails after the VPC and the NAT gateway exist, and the stack rolls back. So, before the model is
kept and `cdk deploy` runs, this module asks (each question one attempt, bounded in time, because the
user is waiting):

1. are there credentials at all (answered offline, in about a second), and whose are they (STS);
2. is the region one where Aurora machine learning reaches Comprehend (infra/deploy_regions.py);
3. does RDS offer the engine version there (DescribeDBEngineVersions, Aurora MySQL 3 only), with
   auto-pause when `min_acu=0` and the requested maximum capacity (its ServerlessV2FeaturesSupport);
4. can the writer be ordered with it (DescribeOrderableDBInstanceOptions, `db.serverless` for
   Aurora Serverless v2 or the provisioned class).

Each refusal is one sentence naming what AWS offers instead and the `-c` option that picks it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from churnguard.aws_clients import aws_client, missing_setup_message
from churnguard.errors import UserError
from infra.config import StackOptions
from infra.deploy_regions import check_deploy_region

ENGINE = "aurora-mysql"
# Aurora MySQL version 3's parameter group family: only MySQL 8.0-compatible versions are listed.
PARAMETER_GROUP_FAMILY = "aurora-mysql8.0"
SERVERLESS_INSTANCE_CLASS = "db.serverless"
# One attempt each: the user is at the terminal, and a second try of an unreachable endpoint only
# doubles the wait. Pages are capped so a misbehaving answer cannot keep the command asking.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0
MAX_PAGES = 10
PAGE_SIZE = 100
RDS_ACTIONS = "rds:DescribeDBEngineVersions and rds:DescribeOrderableDBInstanceOptions"
NO_CREDENTIALS = (
    "no AWS credentials found, so nothing was deployed: set AWS_PROFILE (after `aws sso login` or "
    "`aws configure`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the account to deploy to, then rerun"
)
NO_REGION = "no AWS region, so nothing was deployed: set AWS_REGION (or your profile's region), then rerun"
ClientFactory = Callable[[str, boto3.Session], Any]
_VERSION_NUMBERS = re.compile(r"mysql_aurora\.([0-9.]+)$")


class PreflightError(UserError):
    """Something `make deploy` would only find out from AWS after building half the stack."""


@dataclass(frozen=True)
class DeployTarget:
    """Where `cdk deploy` will deploy with these credentials."""

    account: str
    region: str


def caller_session() -> boto3.Session:
    """boto3's default session, refusing a missing profile. Its region is the one `cdk deploy` uses:
    AWS_REGION first (the CDK CLI's SDK reads it; boto3 alone does not), then AWS_DEFAULT_REGION, then
    the profile's."""
    try:
        return boto3.Session(region_name=os.environ.get("AWS_REGION") or None)
    except ProfileNotFound as error:
        raise PreflightError(
            f"AWS_PROFILE={error.kwargs.get('profile', '')!r} names no profile of your AWS configuration, so "
            "nothing was deployed: set AWS_PROFILE to one (`aws configure list-profiles`) or unset it"
        ) from None


def deploy_target(
    session: boto3.Session, requested_region: str | None, client: ClientFactory | None = None
) -> DeployTarget:
    """The account and region of the caller's credentials; refuses when there are none, when the
    region is missing, differs from `-c region` or cannot run churnguard (all answered offline), or when
    STS rejects the credentials."""
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise PreflightError(
            f"the AWS credentials could not be loaded ({error}); nothing was deployed"
        ) from None
    if credentials is None:
        raise PreflightError(NO_CREDENTIALS)
    region = session.region_name
    if not region:
        raise PreflightError(NO_REGION)
    if requested_region and requested_region != region:
        raise PreflightError(
            f"-c region={requested_region}, but cdk deploy would deploy to {region} (AWS_REGION or your "
            f"profile's region): export AWS_REGION={requested_region} to deploy there"
        )
    check_deploy_region(region)
    sts = (client or preflight_client)("sts", session)
    try:
        account = sts.get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as error:
        raise PreflightError(_aws_failure(error, "sts:GetCallerIdentity")) from None
    return DeployTarget(account=account, region=region)


def check_engine(rds: Any, options: StackOptions, region: str) -> str:
    """Refuse an engine version the region does not offer for this writer; else say what was found."""
    version = options.engine_version
    instance_class = writer_instance_class(options)
    try:
        offered = engine_versions(rds)
        entry = offered.get(version)
        if entry is None:
            raise PreflightError(
                f"Aurora MySQL {version} is not offered in {region} (RDS DescribeDBEngineVersions); "
                + _alternatives(rds, offered, options, region)
            )
        _check_serverless_limits(entry, options, region)
        if not _orderable(rds, version, instance_class):
            raise PreflightError(
                f"Aurora MySQL {version} cannot be ordered as {instance_class} in {region} (RDS "
                f"DescribeOrderableDBInstanceOptions); " + _alternatives(rds, offered, options, region)
            )
    except (ClientError, BotoCoreError) as error:
        raise PreflightError(_aws_failure(error, RDS_ACTIONS)) from None
    return f"Aurora MySQL {version} is offered in {region} and orderable as {instance_class}"


def writer_instance_class(options: StackOptions) -> str:
    """The DBInstanceClass the writer is created with: db.serverless for Aurora Serverless v2."""
    return SERVERLESS_INSTANCE_CLASS if options.capacity == "serverless" else f"db.{options.instance_class}"


def engine_versions(rds: Any) -> dict[str, dict[str, Any]]:
    """Every available Aurora MySQL 3 engine version of the region, by EngineVersion."""
    pages = _pages(
        rds.describe_db_engine_versions,
        "DBEngineVersions",
        Engine=ENGINE,
        DBParameterGroupFamily=PARAMETER_GROUP_FAMILY,
        MaxRecords=PAGE_SIZE,
    )
    return {
        entry["EngineVersion"]: entry for entry in pages if entry.get("Status", "available") == "available"
    }


def orderable_versions(rds: Any, instance_class: str) -> set[str]:
    """The Aurora MySQL engine versions a writer of `instance_class` can be ordered with."""
    pages = _pages(
        rds.describe_orderable_db_instance_options,
        "OrderableDBInstanceOptions",
        Engine=ENGINE,
        DBInstanceClass=instance_class,
        MaxRecords=PAGE_SIZE,
    )
    return {entry["EngineVersion"] for entry in pages}


def run_preflight(
    options: StackOptions,
    *,
    requested_region: str | None = None,
    session: boto3.Session | None = None,
    client: ClientFactory | None = None,
) -> str:
    """All the checks with the caller's default credentials (or `session`); the line to print when they
    pass. `client(service, session)` makes the AWS clients: bounded, one attempt, unless a test stubs it."""
    session = session or caller_session()
    client = client or preflight_client
    target = deploy_target(session, requested_region, client)
    found = check_engine(client("rds", session), options, target.region)
    return f"preflight passed for account {target.account} in {target.region}: {found}"


def version_key(version: str) -> tuple[int, ...]:
    """8.0.mysql_aurora.3.10.4 -> (3, 10, 4), so versions sort as numbers, not text."""
    match = _VERSION_NUMBERS.search(version)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _check_serverless_limits(entry: dict[str, Any], options: StackOptions, region: str) -> None:
    """AWS states per version the Serverless v2 capacity range: MinCapacity 0 means auto-pause works."""
    limits = entry.get("ServerlessV2FeaturesSupport")
    if options.capacity != "serverless" or not limits:
        return
    version = options.engine_version
    if options.min_acu == 0 and limits.get("MinCapacity", 0) > 0:
        raise PreflightError(
            f"Aurora MySQL {version} in {region} cannot pause at 0 ACU (its Serverless v2 minimum is "
            f"{limits['MinCapacity']:g} ACU): deploy with -c min_acu={limits['MinCapacity']:g}, or a version "
            "that supports auto-pause with -c engine_version=..."
        )
    if "MaxCapacity" in limits and options.max_acu > limits["MaxCapacity"]:
        raise PreflightError(
            f"Aurora MySQL {version} in {region} scales Serverless v2 to {limits['MaxCapacity']:g} ACU at "
            f"most, not {options.max_acu:g}: deploy with -c max_acu={limits['MaxCapacity']:g}"
        )


def _orderable(rds: Any, version: str, instance_class: str) -> bool:
    response = rds.describe_orderable_db_instance_options(
        Engine=ENGINE, EngineVersion=version, DBInstanceClass=instance_class, MaxRecords=20
    )
    return bool(response.get("OrderableDBInstanceOptions"))


def _alternatives(rds: Any, offered: dict[str, dict[str, Any]], options: StackOptions, region: str) -> str:
    """The versions that would work here, and the option naming the best one (the newest of the same
    minor release, so an LTS line stays on LTS, else the newest)."""
    instance_class = writer_instance_class(options)
    usable = sorted(
        (
            version
            for version in orderable_versions(rds, instance_class) & set(offered)
            if _meets_capacity(offered[version], options)
        ),
        key=version_key,
    )
    if not usable:
        return f"no Aurora MySQL 3 version there can be ordered as {instance_class} with these options"
    minor = version_key(options.engine_version)[:2]
    same_minor = [version for version in usable if version_key(version)[:2] == minor]
    best = (same_minor or usable)[-1]
    return f"offered there as {instance_class}: {', '.join(usable)}; deploy with -c engine_version={best}"


def _meets_capacity(entry: dict[str, Any], options: StackOptions) -> bool:
    try:
        _check_serverless_limits(entry, options, "")
    except PreflightError:
        return False
    return True


def _pages(call: Any, key: str, **request: Any) -> Iterator[dict[str, Any]]:
    """The items of up to MAX_PAGES pages of an RDS Describe call that pages with Marker."""
    for _ in range(MAX_PAGES):
        response = call(**request)
        yield from response.get(key, [])
        if not response.get("Marker"):
            return
        request["Marker"] = response["Marker"]


def _aws_failure(error: BaseException, actions: str) -> str:
    setup = missing_setup_message(error)
    if setup is not None:
        return f"{setup}; nothing was deployed"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            return (
                f"AWS refused the pre-deploy check ({code}): allow {actions} (read-only) to these credentials"
            )
        return f"AWS refused the pre-deploy check: {error}"
    return f"could not reach AWS for the pre-deploy check ({error}); check the network and rerun"


def preflight_client(service: str, session: boto3.Session) -> Any:
    """A client whose every call is one attempt of at most CONNECT_TIMEOUT_S + READ_TIMEOUT_S."""
    return aws_client(
        service,
        session=session,
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_attempts=1,
    )
