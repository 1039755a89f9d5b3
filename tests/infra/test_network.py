"""The VPC: private by default, NAT by option, flow logs, and the endpoints Aurora ML and the Lambdas use."""

from __future__ import annotations

import json

from tests.infra.conftest import Synthesized


def endpoint_services(synth: Synthesized) -> set[str]:
    """Service suffixes of the VPC endpoints, e.g. {"s3", "comprehend", "rds-data"}."""
    services = set()
    for endpoint in synth.resources("AWS::EC2::VPCEndpoint").values():
        name = json.dumps(endpoint["Properties"]["ServiceName"])
        services.add(name.rsplit(".", 1)[-1].strip('"]} '))
    return services


def test_default_network_has_no_internet_path(default_synth: Synthesized) -> None:
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert not default_synth.resources(resource_type), f"{resource_type} in the default network"
    subnets = default_synth.resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(not subnet["Properties"].get("MapPublicIpOnLaunch", False) for subnet in subnets.values())
    zones = {json.dumps(subnet["Properties"]["AvailabilityZone"]) for subnet in subnets.values()}
    assert len(zones) == 2, "one subnet in each of two availability zones"
    routes = default_synth.resources("AWS::EC2::Route")
    assert not routes, "isolated subnets have no default route"


def test_default_network_has_every_endpoint_it_needs(default_synth: Synthesized) -> None:
    assert endpoint_services(default_synth) == {"s3", "comprehend", "rds-data", "secretsmanager", "runtime"}
    runtime = [
        endpoint
        for endpoint in default_synth.resources("AWS::EC2::VPCEndpoint").values()
        if "sagemaker.runtime" in json.dumps(endpoint["Properties"]["ServiceName"])
    ]
    assert len(runtime) == 1
    interface = [
        endpoint["Properties"]
        for endpoint in default_synth.resources("AWS::EC2::VPCEndpoint").values()
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(interface) == 4 and all(props["PrivateDnsEnabled"] for props in interface)


def test_in_database_mode_has_no_sagemaker_runtime_endpoint(in_database_synth: Synthesized) -> None:
    assert endpoint_services(in_database_synth) == {"s3", "comprehend", "rds-data", "secretsmanager"}


def test_nat_option_adds_one_nat_gateway_and_public_subnets(prod_synth: Synthesized) -> None:
    assert len(prod_synth.resources("AWS::EC2::NatGateway")) == 1
    assert len(prod_synth.resources("AWS::EC2::InternetGateway")) == 1
    public = [
        s for s in prod_synth.resources("AWS::EC2::Subnet").values() if s["Properties"]["MapPublicIpOnLaunch"]
    ]
    assert len(public) == 2
    # With a NAT gateway the interface endpoints (billed per hour and AZ) are left out; S3 stays free.
    assert endpoint_services(prod_synth) == {"s3"}
    assert not prod_synth.resources("AWS::EC2::SecurityGroupIngress"), "no endpoints, nothing to let in"
    assert len(prod_synth.resources("AWS::EC2::SecurityGroup")) == 2, "database and Lambda groups only"


def test_flow_logs_capture_all_traffic(every_synth: Synthesized) -> None:
    (_, flow_log) = every_synth.only("AWS::EC2::FlowLog")
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["ResourceType"] == "VPC"


def test_no_security_group_allows_ingress_from_anywhere(every_synth: Synthesized) -> None:
    rules = []
    for group in every_synth.resources("AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    rules += [rule["Properties"] for rule in every_synth.resources("AWS::EC2::SecurityGroupIngress").values()]
    for rule in rules:
        assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0", rule


def test_only_the_endpoints_accept_traffic_and_only_from_churnguard_groups(
    default_synth: Synthesized,
) -> None:
    ingress = [
        rule["Properties"] for rule in default_synth.resources("AWS::EC2::SecurityGroupIngress").values()
    ]
    assert len(ingress) == 2, "endpoints accept HTTPS from the database and Lambda groups, nothing else"
    for rule in ingress:
        assert rule["FromPort"] == rule["ToPort"] == 443
        assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule
    for group in default_synth.resources("AWS::EC2::SecurityGroup").values():
        assert not group["Properties"].get("SecurityGroupIngress"), group["Properties"]["GroupDescription"]
        for rule in group["Properties"].get("SecurityGroupEgress", []):
            assert rule.get("FromPort") == 443 or rule.get("CidrIp") == "255.255.255.255/32", rule
