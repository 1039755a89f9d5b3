"""Per-resource idle-cost estimators: what one CloudFormation resource costs per hour with no traffic.

Each estimator reads the resource's properties (following Ref / Fn::GetAtt to the resources it
depends on, such as an endpoint's configuration) and returns the hourly figure together with the
arithmetic behind it, so the report can show how every number was reached. A resource that cannot
be priced (unknown instance class, provisioned concurrency, a property it cannot resolve) is
reported as unpriced with the reason, never silently counted as free.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from churnguard.cost.prices import PriceFigure, PriceTable
from churnguard.cost.templates import StackTemplate

PRICED = "priced"
FREE = "free"
UNPRICED = "unpriced"


@dataclass(frozen=True)
class CostLine:
    """One resource's idle cost; `usd_per_hour` is None when it has no price (see `how`)."""

    stack: str
    logical_id: str
    resource_type: str
    status: str
    usd_per_hour: float | None
    how: str


@dataclass(frozen=True)
class Estimate:
    usd_per_hour: float | None
    how: str


Resources = dict[str, dict[str, Any]]
Estimator = Callable[[dict[str, Any], Resources, PriceTable], Estimate]


def _unpriced(reason: str) -> Estimate:
    return Estimate(None, reason)


def _referenced(value: Any, resources: Resources) -> dict[str, Any] | None:
    """The resource a {"Ref": id} or {"Fn::GetAtt": [id, attr]} points at, or None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return resources.get(value["Ref"])
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att:
            return resources.get(get_att[0])
        if isinstance(get_att, str):
            return resources.get(get_att.split(".", 1)[0])
    return None


def _hourly(figure: PriceFigure, hours_per_month: float) -> float:
    return figure.usd / hours_per_month


def _money(usd: float) -> str:
    """Cents when the figure is whole cents ($0.40), else every digit the table gives ($0.045)."""
    return f"${usd:.2f}" if round(usd, 2) == usd else f"${usd:g}"


def estimate_nat_gateway(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    figure = prices.unit("nat_gateway_hour")
    return Estimate(figure.usd, f"1 NAT gateway x {_money(figure.usd)}/hour (data processed is extra)")


def estimate_elastic_ip(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    figure = prices.unit("public_ipv4_hour")
    return Estimate(figure.usd, f"1 public IPv4 address x {_money(figure.usd)}/hour")


def _endpoint_service_name(service: Any) -> str:
    if isinstance(service, dict) and "Fn::Join" in service:
        separator, parts = service["Fn::Join"]
        service = separator.join(part for part in parts if isinstance(part, str))
    if not isinstance(service, str):
        return "a service"
    match = re.match(r"com\.amazonaws\.(?:[a-z0-9-]*\.)?(.+)$", service)
    return match.group(1) if match else service


def estimate_vpc_endpoint(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    service = _endpoint_service_name(props.get("ServiceName"))
    if props.get("VpcEndpointType", "Gateway") != "Interface":
        return Estimate(0.0, f"gateway endpoint for {service}: no hourly charge")
    subnets = props.get("SubnetIds")
    if not isinstance(subnets, list) or not subnets:
        return _unpriced(f"interface endpoint for {service}: cannot count its subnets (Availability Zones)")
    figure = prices.unit("interface_endpoint_az_hour")
    return Estimate(
        figure.usd * len(subnets),
        f"interface endpoint for {service} in {len(subnets)} AZ(s) x {_money(figure.usd)}/AZ-hour",
    )


def estimate_db_instance(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    instance_class = props.get("DBInstanceClass")
    if instance_class == "db.serverless":
        cluster = _referenced(props.get("DBClusterIdentifier"), resources)
        if cluster is None:
            return _unpriced("Serverless v2 instance whose cluster is not in this template")
        scaling = cluster.get("Properties", {}).get("ServerlessV2ScalingConfiguration", {})
        if "MinCapacity" not in scaling:
            return _unpriced("Serverless v2 instance whose cluster sets no MinCapacity")
        min_acu = float(scaling["MinCapacity"])
        figure = prices.unit("aurora_serverless_v2_acu_hour")
        if min_acu == 0:
            return Estimate(
                0.0, "Serverless v2, MinCapacity 0: auto-pauses when idle (first query after a pause waits)"
            )
        return Estimate(
            min_acu * figure.usd,
            f"Serverless v2 at MinCapacity {min_acu:g} ACU x {_money(figure.usd)}/ACU-hour",
        )
    if not isinstance(instance_class, str):
        return _unpriced("DB instance class is not a literal value")
    figure = prices.aurora_instance_hour.get(instance_class)
    if figure is None:
        return _unpriced(f"no price for DB instance class {instance_class} in the price table")
    return Estimate(figure.usd, f"1 x {instance_class} x {_money(figure.usd)}/hour")


def estimate_db_cluster(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    if props.get("EngineMode") == "serverless":
        return _unpriced("Aurora Serverless v1 cluster: not in the price table")
    gigabytes = prices.assumptions["aurora_storage_gb"]
    figure = prices.unit("aurora_storage_gb_month")
    return Estimate(
        gigabytes * _hourly(figure, prices.hours_per_month),
        f"storage: assumed {gigabytes:g} GB x {_money(figure.usd)}/GB-month "
        f"/ {prices.hours_per_month:g} h (compute is on the instance lines)",
    )


def estimate_sagemaker_endpoint(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
    config = _referenced(props.get("EndpointConfigName"), resources)
    if config is None:
        return _unpriced("endpoint whose configuration is not in this template")
    variants = config.get("Properties", {}).get("ProductionVariants", [])
    if not variants:
        return _unpriced("endpoint configuration without production variants")
    total = 0.0
    parts = []
    for variant in variants:
        serverless = variant.get("ServerlessConfig")
        if serverless is not None:
            if serverless.get("ProvisionedConcurrency"):
                return _unpriced(
                    "serverless endpoint with provisioned concurrency: billed while idle, no price"
                )
            parts.append(
                f"serverless ({serverless.get('MemorySizeInMB', '?')} MB): billed per request, "
                "nothing while idle (cold start after idle)"
            )
            continue
        instance_type = variant.get("InstanceType")
        figure = prices.sagemaker_instance_hour.get(instance_type) if isinstance(instance_type, str) else None
        if figure is None:
            return _unpriced(f"no price for SageMaker instance type {instance_type} in the price table")
        count = int(variant.get("InitialInstanceCount", 1))
        total += count * figure.usd
        parts.append(f"{count} x {instance_type} x {_money(figure.usd)}/hour")
    return Estimate(total, "; ".join(parts))


def _per_month(figure_name: str, what: str) -> Estimator:
    def estimate(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
        figure = prices.unit(figure_name)
        return Estimate(
            _hourly(figure, prices.hours_per_month),
            f"1 {what} x {_money(figure.usd)}/month / {prices.hours_per_month:g} h",
        )

    return estimate


def _stored_gigabytes(figure_name: str, assumption: str, what: str) -> Estimator:
    def estimate(props: dict[str, Any], resources: Resources, prices: PriceTable) -> Estimate:
        figure = prices.unit(figure_name)
        gigabytes = prices.assumptions[assumption]
        return Estimate(
            gigabytes * _hourly(figure, prices.hours_per_month),
            f"{what}: assumed {gigabytes:g} GB x {_money(figure.usd)}/GB-month"
            f" / {prices.hours_per_month:g} h",
        )

    return estimate


ESTIMATORS: dict[str, Estimator] = {
    "AWS::EC2::NatGateway": estimate_nat_gateway,
    "AWS::EC2::EIP": estimate_elastic_ip,
    "AWS::EC2::VPCEndpoint": estimate_vpc_endpoint,
    "AWS::RDS::DBInstance": estimate_db_instance,
    "AWS::RDS::DBCluster": estimate_db_cluster,
    "AWS::SageMaker::Endpoint": estimate_sagemaker_endpoint,
    "AWS::KMS::Key": _per_month("kms_key_month", "customer managed key"),
    "AWS::SecretsManager::Secret": _per_month("secret_month", "secret"),
    "AWS::Logs::LogGroup": _stored_gigabytes(
        "cloudwatch_logs_storage_gb_month", "log_stored_gb_per_group", "logs"
    ),
    "AWS::S3::Bucket": _stored_gigabytes("s3_standard_gb_month", "s3_stored_gb_per_bucket", "objects"),
}


def estimate_template(template: StackTemplate, prices: PriceTable) -> list[CostLine]:
    lines = []
    for logical_id, resource in template.resources.items():
        resource_type = resource.get("Type", "?")
        estimator = ESTIMATORS.get(resource_type)
        if estimator is not None:
            estimate = estimator(resource.get("Properties", {}), template.resources, prices)
            status = PRICED if estimate.usd_per_hour is not None else UNPRICED
            lines.append(
                CostLine(
                    template.stack_name,
                    logical_id,
                    resource_type,
                    status,
                    estimate.usd_per_hour,
                    estimate.how,
                )
            )
            continue
        reason = prices.free_reason(resource_type)
        if reason is not None:
            lines.append(CostLine(template.stack_name, logical_id, resource_type, FREE, 0.0, reason))
        else:
            lines.append(
                CostLine(
                    template.stack_name,
                    logical_id,
                    resource_type,
                    UNPRICED,
                    None,
                    "no price for this resource type in churnguard/data/prices.json",
                )
            )
    return lines
