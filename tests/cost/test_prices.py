"""The price table kept in the repository: every figure traceable, bad tables refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cost.prices import load_price_table
from churnguard.errors import UserError
from tests.cost.conftest import TEST_PRICES


def test_shipped_table_loads_with_region_date_and_source_for_every_figure() -> None:
    table = load_price_table()

    figures = [
        *table.unit_prices.values(),
        *table.aurora_instance_hour.values(),
        *table.sagemaker_instance_hour.values(),
    ]
    assert len(figures) >= 10
    for figure in figures:
        assert figure.region == "us-east-1", figure.name
        assert figure.date and figure.source.startswith("http"), figure.name
    assert table.reference_usd_per_hour == 1.15
    assert table.hours_per_month == 730


def test_shipped_table_marks_free_types_with_a_reason() -> None:
    table = load_price_table()

    assert table.free_reason("AWS::IAM::Role")
    assert table.free_reason("AWS::Lambda::Function")
    assert table.free_reason("AWS::EC2::SecurityGroup")
    assert table.free_reason("Custom::AnythingTheStackDefines")
    assert table.free_reason("AWS::EC2::NatGateway") is None


def test_figure_without_a_source_is_refused(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(TEST_PRICES))
    del broken["unit_prices"]["secret_month"]["source"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(broken), encoding="utf-8")

    with pytest.raises(UserError, match=r"figure unit_prices\.secret_month lacks source"):
        load_price_table(path)


def test_negative_price_is_refused(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(TEST_PRICES))
    broken["unit_prices"]["nat_gateway_hour"]["usd"] = -1
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(broken), encoding="utf-8")

    with pytest.raises(UserError, match="nat_gateway_hour has usd=-1"):
        load_price_table(path)
