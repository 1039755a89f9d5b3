"""The idle cost of known templates equals the figure worked out by hand from the test price table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cost.prices import PriceTable
from churnguard.cost.report import build_report, render_text, to_json
from churnguard.cost.templates import read_templates
from tests.cost.templates import always_on_stack, idle_isolated_stack, write_assembly


def test_isolated_stack_idle_cost_matches_hand_computed_figure(tmp_path: Path, prices: PriceTable) -> None:
    report = build_report(
        read_templates(write_assembly(tmp_path, {"churnguard": idle_isolated_stack()})), prices
    )

    # 4 interface endpoints x 2 AZs x $0.01       = 0.08 per hour
    # per-month items, divided by 730 hours:
    #   2 KMS keys x $1.00                        = 2.00
    #   1 secret x $0.40                          = 0.40
    #   Aurora storage 1 GB x $0.10               = 0.10
    #   S3 0.1 GB x $0.023                        = 0.0023
    #   logs 0.1 GB x $0.03                       = 0.003
    #                                               2.5053 per month -> 2.5053 / 730 per hour
    # Serverless v2 at MinCapacity 0, serverless endpoint, gateway endpoint, IAM, Lambda: 0
    expected_per_hour = 0.08 + 2.5053 / 730
    assert report.idle_usd_per_hour == pytest.approx(expected_per_hour, rel=1e-9)
    assert report.monthly_usd == pytest.approx(0.08 * 730 + 2.5053, rel=1e-9)  # 60.9053
    assert report.idle_usd_per_hour <= 0.10
    assert report.unpriced == []


def test_always_on_stack_idle_cost_matches_hand_computed_figure(tmp_path: Path, prices: PriceTable) -> None:
    report = build_report(read_templates(write_assembly(tmp_path, {"churnguard": always_on_stack()})), prices)

    # NAT 0.045 + its public IPv4 0.005 + db.r6g.large 0.29 + 2 x ml.m5.large 0.115 = 0.57 per hour
    # + Aurora storage 1 GB x $0.10 / 730
    assert report.idle_usd_per_hour == pytest.approx(0.57 + 0.10 / 730, rel=1e-9)
    by_id = {line.logical_id: line for line in report.priced}
    assert by_id["Endpoint"].usd_per_hour == pytest.approx(0.23)
    assert "2 x ml.m5.large" in by_id["Endpoint"].how
    assert by_id["ClusterWriter"].usd_per_hour == pytest.approx(0.29)


def test_serverless_v2_minimum_capacity_is_billed_while_idle(tmp_path: Path, prices: PriceTable) -> None:
    stack = idle_isolated_stack()
    stack["Resources"]["Cluster"]["Properties"]["ServerlessV2ScalingConfiguration"]["MinCapacity"] = 0.5
    report = build_report(read_templates(write_assembly(tmp_path, {"churnguard": stack})), prices)

    writer = next(line for line in report.priced if line.logical_id == "ClusterWriter")
    assert writer.usd_per_hour == pytest.approx(0.5 * 0.12)  # 0.06 per hour


def test_resources_of_every_stack_in_the_assembly_are_added(tmp_path: Path, prices: PriceTable) -> None:
    assembly = write_assembly(
        tmp_path, {"churnguard": idle_isolated_stack(), "churnguard-nat": always_on_stack()}
    )
    report = build_report(read_templates(assembly), prices)

    assert report.idle_usd_per_hour == pytest.approx(0.08 + 2.5053 / 730 + 0.57 + 0.10 / 730, rel=1e-9)
    assert {line.stack for line in report.lines} == {"churnguard", "churnguard-nat"}


def test_unknown_types_and_unknown_sizes_are_listed_not_counted(tmp_path: Path, prices: PriceTable) -> None:
    stack = always_on_stack()
    stack["Resources"]["Table"] = {"Type": "AWS::DynamoDB::Table", "Properties": {}}
    stack["Resources"]["ClusterWriter"]["Properties"]["DBInstanceClass"] = "db.x2g.16xlarge"
    stack["Resources"]["EndpointConfig"]["Properties"]["ProductionVariants"] = [
        {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 2}}
    ]
    report = build_report(read_templates(write_assembly(tmp_path, {"churnguard": stack})), prices)

    unpriced = {line.logical_id: line.how for line in report.unpriced}
    assert set(unpriced) == {"Table", "ClusterWriter", "Endpoint"}
    assert "db.x2g.16xlarge" in unpriced["ClusterWriter"]
    assert "provisioned concurrency" in unpriced["Endpoint"]
    # Only NAT, its address and the cluster storage remain in the total.
    assert report.idle_usd_per_hour == pytest.approx(0.05 + 0.10 / 730, rel=1e-9)
    text = render_text(report)
    assert "NOT included in the total" in text
    assert "churnguard/Table (AWS::DynamoDB::Table)" in text


def test_text_report_shows_each_line_totals_and_reference(tmp_path: Path, prices: PriceTable) -> None:
    report = build_report(
        read_templates(write_assembly(tmp_path, {"churnguard": idle_isolated_stack()})), prices
    )
    text = render_text(report)

    assert "interface endpoint for sagemaker.runtime in 2 AZ(s) x $0.01/AZ-hour" in text
    assert "Serverless v2, MinCapacity 0: auto-pauses when idle" in text
    assert "2 x AWS::IAM::Role: IAM is free." in text
    assert "1 x Custom::DbBootstrap: runs at deploy time only" in text
    assert "Total idle: $0.0834/hour = $60.91/month (730 h)" in text
    assert "Reference deployment: $1.15/hour = $839.50/month; this stack idles at 7.3% of it." in text


def test_json_report_has_the_fixed_field_names(tmp_path: Path, prices: PriceTable) -> None:
    report = build_report(read_templates(write_assembly(tmp_path, {"churnguard": always_on_stack()})), prices)
    document = json.loads(json.dumps(to_json(report)))

    assert document["idle_usd_per_hour"] == pytest.approx(0.57 + 0.10 / 730, abs=1e-6)
    assert document["monthly_usd"] == pytest.approx(0.57 * 730 + 0.10, abs=1e-3)
    assert document["reference_usd_per_hour"] == 1.15
    assert {line["logical_id"] for line in document["lines"]} == {
        "Nat",
        "NatIp",
        "Cluster",
        "ClusterWriter",
        "Endpoint",
    }
