"""The VPC: two AZs, private subnets only by default, and the endpoints Aurora ML and the Lambdas call.

Nothing in churnguard needs the internet: Aurora reaches SageMaker and Comprehend, the Lambdas reach
the RDS Data API and Secrets Manager, all through VPC endpoints. `network=nat` trades the interface
endpoints' hourly cost for one NAT gateway for accounts that prefer that.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.log_retention import LOG_RETENTION


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
    ) -> None:
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
            max_azs=2,
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
            services = {
                "Comprehend": ec2.InterfaceVpcEndpointAwsService.COMPREHEND,
                "RdsData": ec2.InterfaceVpcEndpointAwsService.RDS_DATA,
                "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            }
            if needs_sagemaker_runtime:
                services["SageMakerRuntime"] = ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME
            for name, service in services.items():
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
        and this stack is synthesized without a region; in isolated mode the route tables only lead to
        the VPC endpoints and the S3 gateway, so HTTPS cannot leave AWS's network anyway.
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
