"""The zone check of network=isolated at the EC2 boundary (botocore Stubber, EC2-shaped answers)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import SKIP_ZONE_CHECK_ENV, cdk_environment
from infra.availability_zones import (
    ZoneCheckError,
    availability_zones_for,
    choose_zones,
    endpoint_services,
    plan_zones,
)

REGION = "us-east-1"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
ZONE_IDS = ["use1-az6", "use1-az1", "use1-az2", "use1-az4"]
DEPLOY_ENV = {"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": REGION}
ZONE_FILTERS = [
    {"Name": "zone-type", "Values": ["availability-zone"]},
    {"Name": "state", "Values": ["available"]},
]


def zones_answer(zones: Sequence[str] = ZONES) -> dict[str, Any]:
    """DescribeAvailabilityZones as EC2 answers it (unordered on purpose)."""
    return {
        "AvailabilityZones": [
            {
                "State": "available",
                "OptInStatus": "opt-in-not-required",
                "Messages": [],
                "RegionName": REGION,
                "ZoneName": zone,
                "ZoneId": zone_id,
                "GroupName": REGION,
                "NetworkBorderGroup": REGION,
                "ZoneType": "availability-zone",
            }
            for zone, zone_id in reversed(list(zip(zones, ZONE_IDS, strict=False)))
        ]
    }


def service_answer(suffix: str, zones: Sequence[str]) -> dict[str, Any]:
    """DescribeVpcEndpointServices for one AWS service, shaped like EC2's answer."""
    name = f"com.amazonaws.{REGION}.{suffix}"
    return {
        "ServiceNames": [name],
        "ServiceDetails": [
            {
                "ServiceName": name,
                "ServiceId": "vpce-svc-0123456789abcdef0",
                "ServiceType": [{"ServiceType": "Interface"}],
                "AvailabilityZones": list(zones),
                "Owner": "amazon",
                "BaseEndpointDnsNames": [f"{suffix}.{REGION}.vpce.amazonaws.com"],
                "PrivateDnsName": f"{suffix}.{REGION}.amazonaws.com",
                "VpcEndpointPolicySupported": True,
                "AcceptanceRequired": False,
                "ManagesVpcEndpoints": False,
                "Tags": [],
                "PrivateDnsNameVerificationState": "verified",
                "SupportedIpAddressTypes": ["ipv4"],
            }
        ],
    }


def fake_client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


class StubbedEc2:
    """EC2 (and STS) clients whose answers are queued in the order the check asks."""

    def __init__(self, caller_account: str = DEPLOY_ENV["CDK_DEFAULT_ACCOUNT"]) -> None:
        self.client = fake_client("ec2")
        self.stubber = Stubber(self.client)
        self.sts = fake_client("sts")
        self.sts_stubber = Stubber(self.sts)
        self.sts_stubber.add_response(
            "get_caller_identity",
            {"UserId": "AROAEXAMPLE:deployer", "Account": caller_account, "Arn": "arn:aws:sts::x:assumed"},
        )
        self.sts_stubber.activate()
        self.asked_for: list[tuple[str, dict[str, Any]]] = []

    def offer(self, offered: dict[str, Sequence[str] | None], zones: Sequence[str] = ZONES) -> None:
        """Queue the zone list, then one answer per service (None: InvalidServiceName)."""
        self.stubber.add_response(
            "describe_availability_zones", zones_answer(zones), {"Filters": ZONE_FILTERS}
        )
        for suffix, service_zones in offered.items():
            name = f"com.amazonaws.{REGION}.{suffix}"
            expected = {"ServiceNames": [name]}
            if service_zones is None:
                self.stubber.add_client_error(
                    "describe_vpc_endpoint_services",
                    service_error_code="InvalidServiceName",
                    service_message=f"The Vpc Endpoint Service '{name}' does not exist",
                    http_status_code=400,
                    expected_params=expected,
                )
            else:
                self.stubber.add_response(
                    "describe_vpc_endpoint_services", service_answer(suffix, service_zones), expected
                )

    def factory(self, service: str, *, region_name: str) -> Any:
        self.asked_for.append((service, {"region_name": region_name}))
        return self.sts if service == "sts" else self.client


@pytest.fixture
def ec2() -> Iterator[StubbedEc2]:
    stubbed = StubbedEc2()
    with stubbed.stubber:
        yield stubbed
    stubbed.stubber.assert_no_pending_responses()


def every_service_everywhere(*, sagemaker: bool = True) -> dict[str, Sequence[str] | None]:
    return {suffix: ZONES for suffix in endpoint_services(needs_sagemaker_runtime=sagemaker)}


def plan(ec2: StubbedEc2, requested: Sequence[str] = (), *, sagemaker: bool = True):
    return plan_zones(
        network="isolated",
        needs_sagemaker_runtime=sagemaker,
        requested=requested,
        environ=DEPLOY_ENV,
        client_factory=ec2.factory,
    )


def test_isolated_deploy_takes_the_first_two_zones_offering_every_endpoint(ec2: StubbedEc2) -> None:
    offered = every_service_everywhere()
    offered["comprehend"] = ["us-east-1b", "us-east-1c", "us-east-1d"]  # not in us-east-1a
    ec2.offer(offered)
    chosen = plan(ec2)
    assert chosen.zones == ("us-east-1b", "us-east-1c")
    assert "us-east-1b, us-east-1c offer every interface endpoint" in chosen.note
    assert ec2.asked_for == [("sts", {"region_name": REGION}), ("ec2", {"region_name": REGION})]


def test_in_database_mode_does_not_ask_about_the_sagemaker_runtime(ec2: StubbedEc2) -> None:
    ec2.offer(every_service_everywhere(sagemaker=False))
    assert plan(ec2, sagemaker=False).zones == ("us-east-1a", "us-east-1b")


def test_too_few_complete_zones_stop_naming_each_zone_and_missing_service(ec2: StubbedEc2) -> None:
    offered = every_service_everywhere()
    offered["comprehend"] = ["us-east-1b", "us-east-1c"]
    offered["sagemaker.runtime"] = ["us-east-1a", "us-east-1b", "us-east-1d"]
    ec2.offer(offered)
    with pytest.raises(ZoneCheckError) as raised:
        plan(ec2)
    message = str(raised.value)
    assert "only 1 do" in message
    assert "us-east-1a lacks comprehend" in message
    assert "us-east-1c lacks sagemaker.runtime" in message
    assert "us-east-1d lacks comprehend" in message
    assert "-c network=nat" in message
    assert isinstance(raised.value, UserError), "printed as one line by app.py, exit code 2"


def test_a_service_missing_from_the_region_is_named(ec2: StubbedEc2) -> None:
    offered = every_service_everywhere()
    offered["comprehend"] = None  # EC2: InvalidServiceName
    ec2.offer(offered)
    with pytest.raises(ZoneCheckError, match="us-east-1a lacks comprehend; us-east-1b lacks comprehend"):
        plan(ec2)


def test_requested_zones_are_kept_when_they_offer_everything(ec2: StubbedEc2) -> None:
    ec2.offer(every_service_everywhere())
    assert plan(ec2, ["us-east-1d", "us-east-1a"]).zones == ("us-east-1d", "us-east-1a")


def test_a_requested_zone_without_an_endpoint_stops_naming_zone_and_service(ec2: StubbedEc2) -> None:
    offered = every_service_everywhere()
    offered["rds-data"] = ["us-east-1a", "us-east-1c"]
    ec2.offer(offered)
    with pytest.raises(ZoneCheckError) as raised:
        plan(ec2, ["us-east-1a", "us-east-1b"])
    assert "availability zone us-east-1b does not offer the interface endpoint for rds-data" in str(
        raised.value
    )
    assert "(us-east-1a, us-east-1c)" in str(raised.value), "names the zones that would work"


def test_a_requested_zone_unknown_to_the_account_is_refused(ec2: StubbedEc2) -> None:
    ec2.offer(every_service_everywhere(), zones=ZONES[:3])
    with pytest.raises(ZoneCheckError, match="us-east-1d is not an available zone of us-east-1"):
        plan(ec2, ["us-east-1a", "us-east-1d"])


def test_access_denied_stops_before_deploying_with_the_permissions_to_add(ec2: StubbedEc2) -> None:
    ec2.stubber.add_client_error(
        "describe_availability_zones",
        service_error_code="UnauthorizedOperation",
        service_message="You are not authorized to perform this operation.",
        http_status_code=403,
    )
    with pytest.raises(ZoneCheckError) as raised:
        plan(ec2)
    assert "UnauthorizedOperation" in str(raised.value)
    assert "ec2:DescribeVpcEndpointServices" in str(raised.value)


def test_credentials_of_another_account_stop_before_asking_ec2() -> None:
    other = StubbedEc2(caller_account="210987654321")
    with pytest.raises(ZoneCheckError) as raised:
        plan(other)
    assert "credentials are for account 210987654321, but cdk deploys to 123456789012" in str(raised.value)
    assert "export AWS_PROFILE" in str(raised.value)
    assert other.asked_for == [("sts", {"region_name": REGION})], "zone names differ between accounts"


def test_without_credentials_nothing_is_asked_and_the_note_says_unchecked() -> None:
    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("EC2 must not be asked without credentials")

    unchecked = plan_zones(
        network="isolated", needs_sagemaker_runtime=True, environ={}, client_factory=no_client
    )
    assert unchecked.zones is None and "NOT checked" in unchecked.note
    given = plan_zones(
        network="isolated",
        needs_sagemaker_runtime=True,
        requested=("us-east-1a", "us-east-1c"),
        environ={"CDK_DEFAULT_REGION": REGION},  # a region but no account: the CLI found no credentials
        client_factory=no_client,
    )
    assert given.zones == ("us-east-1a", "us-east-1c") and "NOT checked" in given.note


def test_nat_network_and_teardown_synthesis_ask_nothing() -> None:
    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("EC2 must not be asked")

    nat = plan_zones(
        network="nat", needs_sagemaker_runtime=True, environ=DEPLOY_ENV, client_factory=no_client
    )
    assert nat.zones is None
    teardown_env = {**DEPLOY_ENV, SKIP_ZONE_CHECK_ENV: cdk_environment(REGION)[SKIP_ZONE_CHECK_ENV]}
    skipped = plan_zones(
        network="isolated", needs_sagemaker_runtime=True, environ=teardown_env, client_factory=no_client
    )
    assert skipped.zones is None and "skipped" in skipped.note


def test_the_stack_prints_why_for_isolated_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    assert availability_zones_for(network="nat", needs_sagemaker_runtime=True) is None
    assert capsys.readouterr().err == ""
    assert availability_zones_for(network="isolated", needs_sagemaker_runtime=True) is None
    assert "Availability Zones were NOT checked" in capsys.readouterr().err


def test_choose_zones_is_deterministic() -> None:
    offered = {"comprehend": {"us-east-1c", "us-east-1a", "us-east-1b"}, "rds-data": set(ZONES)}
    assert choose_zones(REGION, ZONES, offered) == ("us-east-1a", "us-east-1b")
