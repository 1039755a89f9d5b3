"""`churnguard cost` on the templates the stack really synthesizes: the nat default idles cheaper."""

from __future__ import annotations

import pytest

from churnguard.cost.prices import load_price_table
from churnguard.cost.report import build_report
from churnguard.cost.templates import read_templates
from tests.infra.conftest import Synthesized


def priced_lines(synth: Synthesized) -> dict[str, float]:
    report = build_report(read_templates(synth.outdir), load_price_table())
    return {line.how: line.usd_per_hour or 0.0 for line in report.priced}


def test_default_network_idles_on_one_nat_gateway_and_its_address(default_synth: Synthesized) -> None:
    report = build_report(read_templates(default_synth.outdir), load_price_table())
    lines = priced_lines(default_synth)
    assert lines["1 NAT gateway x $0.045/hour (data processed is extra)"] == 0.045
    assert lines["1 public IPv4 address x $0.005/hour"] == 0.005
    assert not [how for how in lines if how.startswith("interface endpoint")]
    assert report.unpriced == [], "every resource type of the default stack has a price"
    # NAT + IPv4, then only per-month items (KMS key, 3 secrets, stored GB) spread over 730 hours.
    assert 0.05 < report.idle_usd_per_hour < 0.0535


def test_isolated_network_idles_on_five_interface_endpoints_in_two_zones(prod_synth: Synthesized) -> None:
    endpoints = {how: usd for how, usd in priced_lines(prod_synth).items() if how.startswith("interface")}
    assert sorted(endpoints) == [
        f"interface endpoint for {service} in 2 AZ(s) x $0.01/AZ-hour"
        for service in ("bedrock-runtime", "comprehend", "rds-data", "sagemaker.runtime", "secretsmanager")
    ]
    assert sum(endpoints.values()) == pytest.approx(0.10)


def test_console_option_prices_every_resource_and_adds_no_idle_cost_beyond_storage(
    console_synth: Synthesized, default_synth: Synthesized
) -> None:
    with_console = build_report(read_templates(console_synth.outdir), load_price_table())
    without = build_report(read_templates(default_synth.outdir), load_price_table())
    assert with_console.unpriced == [], "every resource type of the console option has a price or a reason"
    # CloudFront, Cognito and the HTTP API bill per use; the page bucket and log groups bill per GB.
    assert with_console.idle_usd_per_hour - without.idle_usd_per_hour < 0.001
