"""The Availability Zones of an isolated network: two in which AWS offers every interface endpoint it needs.

Interface endpoint services are not offered in every Availability Zone of a region (Comprehend's
documentation says so of its own endpoint), and CloudFormation only finds out when it creates the
endpoint, after the VPC, the subnets and the other endpoints: the deploy would fail half-way and roll
back. So before anything is built, when the CDK CLI has credentials and a concrete account/region,
EC2 is asked which zones offer each service (`DescribeVpcEndpointServices`, the call Comprehend's
page tells you to run), as the account the CLI deploys to (zone names differ between accounts, so
STS confirms the account first), and the stack is built in two zones that offer all of them, or
synthesis stops with a message naming the zone and the service. Without credentials (`make synth` on a
laptop, CI) nothing can be asked: the stack stays environment-agnostic and CloudFormation picks the
region's first two zones at deploy time, unchecked; the message says so.

`network=nat` has no interface endpoints, so nothing is checked there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from churnguard.aws_clients import aws_client
from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import SKIP_ZONE_CHECK_ENV

# Service suffixes of com.amazonaws.<region>.<suffix>: what the isolated network's interface
# endpoints serve (infra/network.py builds one endpoint per entry).
BASE_ENDPOINT_SERVICES = ("comprehend", "rds-data", "secretsmanager")
SAGEMAKER_RUNTIME_SERVICE = "sagemaker.runtime"
BEDROCK_RUNTIME_SERVICE = "bedrock-runtime"
ZONE_COUNT = 2
NAT_HINT = "or deploy with -c network=nat (one NAT gateway, no interface endpoints)"
# The check runs inside the app with boto3's default credential chain; `cdk deploy --profile P` does not
# hand P to the app, so the profile must be in the environment.
PROFILE_HINT = "with `cdk deploy --profile P`, export AWS_PROFILE=P instead so the app uses it too"

ClientFactory = Callable[..., Any]


class ZoneCheckError(UserError):
    """The isolated network cannot be placed in two zones offering every endpoint it needs."""


@dataclass(frozen=True)
class ZonePlan:
    """The zones to build in (None: leave the choice to CloudFormation) and a line saying why."""

    zones: tuple[str, ...] | None
    note: str


def endpoint_services(
    *, needs_sagemaker_runtime: bool, needs_bedrock_runtime: bool = False
) -> tuple[str, ...]:
    """The interface endpoint services of an isolated network, as com.amazonaws.<region>.<suffix> suffixes:
    the SageMaker runtime with an endpoint, the Bedrock runtime with call reasons (call_reason)."""
    return (
        BASE_ENDPOINT_SERVICES
        + ((SAGEMAKER_RUNTIME_SERVICE,) if needs_sagemaker_runtime else ())
        + ((BEDROCK_RUNTIME_SERVICE,) if needs_bedrock_runtime else ())
    )


def service_name(region: str, suffix: str) -> str:
    return f"com.amazonaws.{region}.{suffix}"


def usable_zones(ec2: Any) -> list[str]:
    """The region's Availability Zones this account can use (no Local or Wavelength Zones), sorted."""
    response = ec2.describe_availability_zones(
        Filters=[
            {"Name": "zone-type", "Values": ["availability-zone"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )
    return sorted(zone["ZoneName"] for zone in response.get("AvailabilityZones", []))


def offered_zones(ec2: Any, region: str, services: Sequence[str]) -> dict[str, set[str]]:
    """For each service suffix, the zones where its interface endpoint can be created (empty: not offered).

    One call per service: EC2 refuses the whole request with InvalidServiceName when one named service
    does not exist in the region, and asking separately tells which one it is.
    """
    offered: dict[str, set[str]] = {}
    for suffix in services:
        name = service_name(region, suffix)
        offered[suffix] = set()
        request: dict[str, Any] = {"ServiceNames": [name]}
        while True:
            try:
                response = ec2.describe_vpc_endpoint_services(**request)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "InvalidServiceName":
                    break
                raise
            for detail in response.get("ServiceDetails", []):
                types = {entry.get("ServiceType") for entry in detail.get("ServiceType", [])}
                if detail.get("ServiceName") == name and "Interface" in types:
                    offered[suffix].update(detail.get("AvailabilityZones", []))
            if not response.get("NextToken"):
                break
            request["NextToken"] = response["NextToken"]
    return offered


def choose_zones(
    region: str,
    zones: Sequence[str],
    offered: Mapping[str, set[str]],
    requested: Sequence[str] = (),
) -> tuple[str, ...]:
    """`requested` if every service is offered in each of them, else the first two zones offering all.

    Raises ZoneCheckError naming each zone and the service it lacks.
    """
    if requested:
        for zone in requested:
            if zone not in zones:
                raise ZoneCheckError(
                    f"availability zone {zone} is not an available zone of {region} for this account "
                    f"(available: {', '.join(zones) or 'none'}); fix -c availability_zones"
                )
            missing = _missing_services(zone, offered)
            if missing:
                raise ZoneCheckError(
                    f"availability zone {zone} does not offer the interface endpoint for "
                    f"{', '.join(missing)} ({region}); choose zones offering every one "
                    f"({', '.join(_complete_zones(zones, offered)) or 'none'}) with -c availability_zones, "
                    f"{NAT_HINT}"
                )
        return tuple(requested)
    complete = _complete_zones(zones, offered)
    if len(complete) >= ZONE_COUNT:
        return tuple(complete[:ZONE_COUNT])
    lacking = "; ".join(
        f"{zone} lacks {', '.join(_missing_services(zone, offered))}"
        for zone in zones
        if _missing_services(zone, offered)
    )
    raise ZoneCheckError(
        f"network=isolated needs {ZONE_COUNT} availability zones of {region} offering the interface "
        f"endpoints for {', '.join(offered)}, but only {len(complete)} do "
        f"({lacking or 'no zones available'}); {NAT_HINT}"
    )


def _missing_services(zone: str, offered: Mapping[str, set[str]]) -> list[str]:
    return [service for service, service_zones in offered.items() if zone not in service_zones]


def _complete_zones(zones: Sequence[str], offered: Mapping[str, set[str]]) -> list[str]:
    return [zone for zone in zones if not _missing_services(zone, offered)]


def _same_account(sts: Any, account: str) -> None:
    """Zone names differ between accounts (us-east-1a is not the same zone everywhere): the check must
    ask as the account the CDK CLI deploys to."""
    asked_as = sts.get_caller_identity()["Account"]
    if asked_as != account:
        raise ZoneCheckError(
            f"the zone check's credentials are for account {asked_as}, but cdk deploys to {account}; "
            f"{PROFILE_HINT}"
        )


def plan_zones(
    *,
    network: str,
    needs_sagemaker_runtime: bool,
    requested: Sequence[str] = (),
    environ: Mapping[str, str] = os.environ,
    needs_bedrock_runtime: bool = False,
    client_factory: ClientFactory = aws_client,
) -> ZonePlan:
    """Decide the zones before anything is built (see the module doc for when EC2 is asked)."""
    given = tuple(requested) or None
    if network != "isolated":
        return ZonePlan(given, "network=nat has no interface endpoints: no zone check needed")
    if environ.get(SKIP_ZONE_CHECK_ENV):
        return ZonePlan(given, f"zone check skipped ({SKIP_ZONE_CHECK_ENV} is set)")
    region = environ.get("CDK_DEFAULT_REGION")
    if not (region and environ.get("CDK_DEFAULT_ACCOUNT")):
        return ZonePlan(
            given,
            "network=isolated: no AWS credentials/region, so the interface endpoints' Availability Zones "
            "were NOT checked; `cdk deploy` with credentials checks them before deploying",
        )
    services = endpoint_services(
        needs_sagemaker_runtime=needs_sagemaker_runtime, needs_bedrock_runtime=needs_bedrock_runtime
    )
    account = environ["CDK_DEFAULT_ACCOUNT"]
    try:
        _same_account(client_factory("sts", region_name=region), account)
        ec2 = client_factory("ec2", region_name=region)
        zones = usable_zones(ec2)
        offered = offered_zones(ec2, region, services)
    except (ClientError, BotoCoreError) as error:
        raise ZoneCheckError(
            f"could not check which availability zones of {region} offer the interface endpoints "
            f"network=isolated needs ({error}); allow ec2:DescribeAvailabilityZones and "
            f"ec2:DescribeVpcEndpointServices ({PROFILE_HINT}), {NAT_HINT}"
        ) from None
    chosen = choose_zones(region, zones, offered, requested)
    return ZonePlan(
        chosen,
        f"network=isolated: {', '.join(chosen)} offer every interface endpoint ({', '.join(services)})",
    )


def availability_zones_for(
    *,
    network: str,
    needs_sagemaker_runtime: bool,
    requested: Sequence[str] = (),
    needs_bedrock_runtime: bool = False,
) -> list[str] | None:
    """The stack's zones (None: CloudFormation chooses), the reason printed on stderr for the deployer."""
    plan = plan_zones(
        network=network,
        needs_sagemaker_runtime=needs_sagemaker_runtime,
        requested=requested,
        needs_bedrock_runtime=needs_bedrock_runtime,
    )
    if network == "isolated":
        print(f"churnguard: {plan.note}", file=sys.stderr)
    return list(plan.zones) if plan.zones is not None else None
