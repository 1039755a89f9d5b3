"""The VPC: two AZs, private subnets for the database and the Lambdas, and their one way out.

`network=nat` (default): the private subnets' only route out is one NAT gateway in a public subnet.
That is the path AWS's Aurora user guide names for a private cluster's outbound calls ("Enabling
network communication from Amazon Aurora to other AWS services"); Comprehend, which Aurora ML calls for
sentiment, is not among the services it offers VPC endpoints as the alternative for (docs/infra.md
quotes the pages). `network=isolated`: no route out at all; interface endpoints for Comprehend, the
RDS Data API, Secrets Manager, (endpoint mode) the SageMaker runtime and (call reasons) the Bedrock
runtime, for accounts that forbid
internet egress, in zones checked to offer every one (infra/availability_zones.py).
Both keep the free S3 gateway endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.availability_zones import ZONE_COUNT, endpoint_services
from infra.log_retention import LOG_RETENTION

# For each service suffix infra/availability_zones.py checks: the endpoint's construct id (kept stable,
# it names the CloudFormation resource) and CDK's constant for the service.
INTERFACE_SERVICES = {
    "comprehend": ("Comprehend", ec2.InterfaceVpcEndpointAwsService.COMPREHEND),
    "rds-data": ("RdsData", ec2.InterfaceVpcEndpointAwsService.RDS_DATA),
    "secretsmanager": ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
    "sagemaker.runtime": ("SageMakerRuntime", ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME),
    "bedrock-runtime": ("BedrockRuntime", ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME),
}


class Network(Construct):
    """VPC, flow logs, S3 gateway endpoint and (isolated mode) the interface endpoints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        use_nat_gateway: bool,
        needs_sagemaker_runtime: bool,
        removal_policy: cdk.RemovalPolicy,
        availability_zones: Sequence[str] | None = None,
        needs_bedrock_runtime: bool = False,
    ) -> None:
        """`availability_zones`: the zones to use (checked ones); None leaves CloudFormation to pick two."""
        super().__init__(scope, construct_id)
        if use_nat_gateway:
            subnets = [
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ]
            self.private_subnet_type = ec2.SubnetType.PRIVATE_WITH_EGRESS
        else:
            subnets = [
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ]
            self.private_subnet_type = ec2.SubnetType.PRIVATE_ISOLATED

        self.flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=LOG_RETENTION, removal_policy=removal_policy
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            # CDK accepts one of the two: checked zones, or "any two" (Fn::GetAZs at deploy time).
            availability_zones=list(availability_zones) if availability_zones else None,
            max_azs=None if availability_zones else ZONE_COUNT,
            nat_gateways=1 if use_nat_gateway else 0,
            subnet_configuration=subnets,
            flow_logs={
                "all": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=self.private_subnet_type)
        # Free, and keeps S3 traffic (seed data, LOAD DATA FROM S3) off the NAT gateway too.
        self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.private_subnets]
        )

        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if not use_nat_gateway:
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="churnguard interface endpoints: HTTPS from the churnguard security groups only",
                allow_all_outbound=False,
            )
            for suffix in endpoint_services(
                needs_sagemaker_runtime=needs_sagemaker_runtime, needs_bedrock_runtime=needs_bedrock_runtime
            ):
                name, service = INTERFACE_SERVICES[suffix]
                self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=self.private_subnets,
                    security_groups=[self.endpoint_security_group],
                    open=False,
                    private_dns_enabled=True,
                )

    def https_client_security_group(self, construct_id: str, *, description: str) -> ec2.SecurityGroup:
        """A security group with no ingress whose only egress is HTTPS.

        Egress names no address because the S3 gateway endpoint's prefix list id is region-specific
        and this stack is synthesized without a region. In isolated mode the route tables only lead to
        the VPC endpoints and the S3 gateway, so HTTPS cannot leave AWS's network anyway; in nat mode
        HTTPS is the only traffic the NAT gateway forwards for these groups.
        """
        group = ec2.SecurityGroup(
            self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=False
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs (endpoints or NAT)")
        if self.endpoint_security_group is not None:
            self.endpoint_security_group.add_ingress_rule(
                group, ec2.Port.tcp(443), f"HTTPS from {construct_id}"
            )
        return group
