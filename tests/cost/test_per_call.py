"""Bedrock's call_reason in `make cost`: no idle cost, a price per answer from its tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cost.per_call import per_call_lines
from churnguard.cost.prices import PriceTable
from churnguard.cost.report import build_report, render_text, to_json
from churnguard.cost.templates import read_templates
from churnguard.sqlgen.call_reason import call_reason_prompt
from tests.cost.templates import idle_isolated_stack, write_assembly
from tests.fixtures.template_values import foundation_model_arn


def with_bedrock(stack: dict, model: str = "amazon.nova-micro-v1:0") -> dict:
    resources = stack["Resources"]
    resources["ClusterParameters"] = {
        "Type": "AWS::RDS::DBClusterParameterGroup",
        "Properties": {"Parameters": {"aws_default_bedrock_role": {"Fn::GetAtt": ["BedrockRole", "Arn"]}}},
    }
    resources["BedrockRolePolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "bedrock:InvokeModel",
                        "Effect": "Allow",
                        "Resource": foundation_model_arn(model),
                    }
                ]
            }
        },
    }
    return stack


def templates(tmp_path: Path, stack: dict):
    return read_templates(write_assembly(tmp_path, {"churnguard": stack}))


def test_the_price_of_one_call_is_its_tokens_at_the_tables_prices(tmp_path: Path, prices: PriceTable):
    (line,) = per_call_lines(templates(tmp_path, with_bedrock(idle_isolated_stack())), prices)
    # test table: 1 token per word, $0.0001 per 1K input tokens, $0.001 per 1K output tokens
    input_tokens = len(call_reason_prompt().split()) + 60
    assert line.model == "amazon.nova-micro-v1:0"
    assert line.usd_per_call == pytest.approx(input_tokens / 1000 * 0.0001 + 10 / 1000 * 0.001, rel=1e-12)
    assert f"about {input_tokens} input tokens" in line.how and "nothing while idle" in line.how


def test_it_is_shown_beside_the_idle_total_not_in_it(tmp_path: Path, prices: PriceTable):
    plain = build_report(templates(tmp_path / "a", idle_isolated_stack()), prices)
    report = build_report(templates(tmp_path / "b", with_bedrock(idle_isolated_stack())), prices)
    assert report.per_call and not plain.per_call
    assert report.idle_usd_per_hour == pytest.approx(plain.idle_usd_per_hour)
    text = render_text(report)
    assert "Per answer, not while idle (NOT included in the total):" in text
    assert "call_reason (Amazon Bedrock, one call per answer), amazon.nova-micro-v1:0: $0.0000" in text
    (entry,) = json.loads(json.dumps(to_json(report)))["per_call"]
    assert entry["usd_per_call"] == pytest.approx(report.per_call[0].usd_per_call, abs=1e-9)


def test_a_model_without_a_price_is_said_so(tmp_path: Path, prices: PriceTable):
    stack = with_bedrock(idle_isolated_stack(), model="anthropic.claude-3-haiku-20240307-v1:0")
    (line,) = per_call_lines(templates(tmp_path, stack), prices)
    assert line.usd_per_call is None and "no price in the price table" in line.how
