"""The VPC: one NAT gateway by default, interface endpoints when isolated, flow logs, S3 endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.nag import add_nag_checks
from infra.network import Network
from tests.infra.conftest import Synthesized


def endpoint_services(synth: Synthesized) -> set[str]:
    """Service suffixes of the VPC endpoints, e.g. {"s3", "comprehend", "rds-data"}."""
    services = set()
    for endpoint in synth.resources("AWS::EC2::VPCEndpoint").values():
        name = json.dumps(endpoint["Properties"]["ServiceName"])
        services.add(name.rsplit(".", 1)[-1].strip('"]} '))
    return services


def subnet_ids(synth: Synthesized, *, public: bool) -> set[str]:
    return {
        logical_id
        for logical_id, subnet in synth.resources("AWS::EC2::Subnet").items()
        if subnet["Properties"].get("MapPublicIpOnLaunch", False) == public
    }


def refs(value: Any) -> set[str]:
    """Logical ids a property refers to with Ref."""
    return {item["Ref"] for item in value if isinstance(item, dict) and "Ref" in item}


def default_route_targets(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Route table logical id -> the 0.0.0.0/0 route's properties."""
    return {
        route["Properties"]["RouteTableId"]["Ref"]: route["Properties"]
        for route in synth.resources("AWS::EC2::Route").values()
        if route["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    }


def route_table_of(synth: Synthesized, subnet: str) -> str:
    (table,) = [
        association["Properties"]["RouteTableId"]["Ref"]
        for association in synth.resources("AWS::EC2::SubnetRouteTableAssociation").values()
        if association["Properties"]["SubnetId"] == {"Ref": subnet}
    ]
    return table


def test_default_network_leaves_private_subnets_through_one_nat_gateway(default_synth: Synthesized) -> None:
    (nat_id, nat) = default_synth.only("AWS::EC2::NatGateway")
    default_synth.only("AWS::EC2::InternetGateway")
    default_synth.only("AWS::EC2::EIP")
    public, private = subnet_ids(default_synth, public=True), subnet_ids(default_synth, public=False)
    assert len(public) == 2 and len(private) == 2
    assert nat["Properties"]["SubnetId"]["Ref"] in public, "the NAT gateway sits in a public subnet"
    routes = default_route_targets(default_synth)
    for subnet in private:
        assert routes[route_table_of(default_synth, subnet)] == {
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": {"Ref": nat_id},
            "RouteTableId": {"Ref": route_table_of(default_synth, subnet)},
        }, "a private subnet's only way out is the one NAT gateway"
    for subnet in public:
        assert "GatewayId" in routes[route_table_of(default_synth, subnet)]


def test_default_network_puts_database_and_lambdas_in_the_private_subnets(default_synth: Synthesized) -> None:
    private = subnet_ids(default_synth, public=False)
    (_, subnet_group) = default_synth.only("AWS::RDS::DBSubnetGroup")
    assert refs(subnet_group["Properties"]["SubnetIds"]) == private
    functions = default_synth.resources("AWS::Lambda::Function")
    in_vpc = [function for function in functions.values() if "VpcConfig" in function["Properties"]]
    assert len(in_vpc) == 2, "bootstrap and recommend functions"
    for function in in_vpc:
        assert refs(function["Properties"]["VpcConfig"]["SubnetIds"]) == private


def test_default_network_keeps_only_the_free_s3_gateway_endpoint(default_synth: Synthesized) -> None:
    assert endpoint_services(default_synth) == {"s3"}
    (_, s3) = default_synth.only("AWS::EC2::VPCEndpoint")
    assert s3["Properties"]["VpcEndpointType"] == "Gateway"
    private_tables = {route_table_of(default_synth, s) for s in subnet_ids(default_synth, public=False)}
    assert refs(s3["Properties"]["RouteTableIds"]) == private_tables
    assert not default_synth.resources("AWS::EC2::SecurityGroupIngress"), "no endpoints, nothing to let in"
    assert len(default_synth.resources("AWS::EC2::SecurityGroup")) == 2, "database and Lambda groups only"


def test_isolated_network_has_no_internet_path(prod_synth: Synthesized) -> None:
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert not prod_synth.resources(resource_type), f"{resource_type} in the isolated network"
    subnets = prod_synth.resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert not subnet_ids(prod_synth, public=True)
    zones = {json.dumps(subnet["Properties"]["AvailabilityZone"]) for subnet in subnets.values()}
    assert len(zones) == 2, "one subnet in each of two availability zones"
    assert "Fn::GetAZs" in next(iter(zones)), "synthesized without credentials: CloudFormation picks them"
    assert not prod_synth.resources("AWS::EC2::Route"), "isolated subnets have no default route"


def test_isolated_network_has_every_endpoint_it_needs(prod_synth: Synthesized) -> None:
    services = {"s3", "comprehend", "rds-data", "secretsmanager", "runtime", "bedrock-runtime"}
    assert endpoint_services(prod_synth) == services
    runtime = [
        endpoint
        for endpoint in prod_synth.resources("AWS::EC2::VPCEndpoint").values()
        if "sagemaker.runtime" in json.dumps(endpoint["Properties"]["ServiceName"])
    ]
    assert len(runtime) == 1
    interface = [
        endpoint["Properties"]
        for endpoint in prod_synth.resources("AWS::EC2::VPCEndpoint").values()
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(interface) == 5 and all(props["PrivateDnsEnabled"] for props in interface)
    assert all(len(props["SubnetIds"]) == 2 for props in interface)


def test_in_database_mode_has_no_sagemaker_runtime_endpoint(in_database_synth: Synthesized) -> None:
    # (and, with call_reasons=off, no bedrock-runtime endpoint)
    assert endpoint_services(in_database_synth) == {"s3", "comprehend", "rds-data", "secretsmanager"}


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
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, rule


def test_security_groups_allow_https_out_only(every_synth: Synthesized) -> None:
    for group in every_synth.resources("AWS::EC2::SecurityGroup").values():
        assert not group["Properties"].get("SecurityGroupIngress"), group["Properties"]["GroupDescription"]
        for rule in group["Properties"].get("SecurityGroupEgress", []):
            # CDK's placeholder for "no egress" matches no address at all.
            assert rule.get("FromPort") == rule.get("ToPort") == 443 or rule.get("CidrIp") == (
                "255.255.255.255/32"
            ), rule


def test_only_the_endpoints_accept_traffic_and_only_from_churnguard_groups(prod_synth: Synthesized) -> None:
    ingress = [rule["Properties"] for rule in prod_synth.resources("AWS::EC2::SecurityGroupIngress").values()]
    assert len(ingress) == 2, "endpoints accept HTTPS from the database and Lambda groups, nothing else"
    for rule in ingress:
        assert rule["FromPort"] == rule["ToPort"] == 443
        assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule


def test_checked_zones_are_written_into_the_template(tmp_path: Path) -> None:
    """The zones the pre-deploy check chose replace CloudFormation's "first two of the region"."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "ZoneCanary")
    Network(
        stack,
        "Network",
        use_nat_gateway=False,
        needs_sagemaker_runtime=True,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        availability_zones=["eu-west-1b", "eu-west-1c"],
    )
    add_nag_checks(app)
    template = app.synth().get_stack_by_name("ZoneCanary").template
    resources = template["Resources"].values()
    zones = sorted(r["Properties"]["AvailabilityZone"] for r in resources if r["Type"] == "AWS::EC2::Subnet")
    assert zones == ["eu-west-1b", "eu-west-1c"]
    interface = [
        r["Properties"]
        for r in resources
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    assert len(interface) == 4 and all(len(props["SubnetIds"]) == 2 for props in interface)
