"""A small price table with round figures, so the hand-computed expectations in the tests are readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cost.prices import PriceTable, load_price_table


def _figure(usd: float, per: str) -> dict:
    return {"usd": usd, "per": per, "region": "us-east-1", "date": "2026-11-23", "source": "test figure"}


TEST_PRICES = {
    "region": "us-east-1",
    "currency": "USD",
    "hours_per_month": 730,
    "reference": {"usd_per_hour": 1.15, "date": "2026-11-23", "source": "issue 8"},
    "unit_prices": {
        "nat_gateway_hour": _figure(0.045, "hour"),
        "public_ipv4_hour": _figure(0.005, "hour"),
        "interface_endpoint_az_hour": _figure(0.01, "AZ-hour"),
        "aurora_serverless_v2_acu_hour": _figure(0.12, "ACU-hour"),
        "aurora_storage_gb_month": _figure(0.10, "GB-month"),
        "kms_key_month": _figure(1.0, "key-month"),
        "secret_month": _figure(0.40, "secret-month"),
        "cloudwatch_logs_storage_gb_month": _figure(0.03, "GB-month"),
        "s3_standard_gb_month": _figure(0.023, "GB-month"),
        "bedrock_nova_micro_input_1k_tokens": _figure(0.0001, "1,000 input tokens"),
        "bedrock_nova_micro_output_1k_tokens": _figure(0.001, "1,000 output tokens"),
    },
    "aurora_instance_hour": {"db.r6g.large": _figure(0.29, "hour")},
    "sagemaker_instance_hour": {"ml.m5.large": _figure(0.115, "hour")},
    "assumptions": {
        "aurora_storage_gb": {"value": 1, "reason": "test"},
        "s3_stored_gb_per_bucket": {"value": 0.1, "reason": "test"},
        "log_stored_gb_per_group": {"value": 0.1, "reason": "test"},
        "call_reason_message_words": {"value": 60, "reason": "test"},
        "tokens_per_word": {"value": 1.0, "reason": "test"},
    },
    "free_when_idle": {
        "AWS::EC2::VPC": "free",
        "AWS::EC2::Subnet": "free",
        "AWS::IAM::Role": "IAM is free.",
        "AWS::Lambda::Function": "billed per request",
        "AWS::SageMaker::Model": "free",
        "AWS::SageMaker::EndpointConfig": "counted on the endpoint",
    },
    "free_when_idle_prefixes": {"Custom::": "runs at deploy time only"},
}


@pytest.fixture
def price_file(tmp_path: Path) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(TEST_PRICES), encoding="utf-8")
    return path


@pytest.fixture
def prices(price_file: Path) -> PriceTable:
    return load_price_table(price_file)
