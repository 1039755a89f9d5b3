"""What the deploy pays per answer rather than per hour: Bedrock's call_reason has no idle cost, and is
billed per call by input and output tokens (docs/cost-and-teardown.md). Found in the synthesized
templates: the cluster parameter group naming aws_default_bedrock_role, and the model its role may
invoke."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from churnguard.cost.prices import PriceTable
from churnguard.cost.templates import StackTemplate
from churnguard.sqlgen.call_reason import MAX_ANSWER_TOKENS, call_reason_prompt

BEDROCK_ROLE_PARAMETER = "aws_default_bedrock_role"
# The price-table figures of each model churnguard has a price for: input and output per 1,000 tokens.
MODEL_FIGURES = {
    "amazon.nova-micro-v1:0": ("bedrock_nova_micro_input_1k_tokens", "bedrock_nova_micro_output_1k_tokens"),
}
_FOUNDATION_MODEL = re.compile(r"foundation-model/([a-z0-9.:-]+)")


@dataclass(frozen=True)
class PerCallLine:
    """One service billed per answer: what, the model, the price of one call (None: no price), how."""

    stack: str
    what: str
    model: str
    usd_per_call: float | None
    how: str


def per_call_lines(templates: list[StackTemplate], prices: PriceTable) -> list[PerCallLine]:
    """A line per stack whose database calls Bedrock for call_reason."""
    return [_bedrock_line(template, prices) for template in templates if _calls_bedrock(template)]


def _calls_bedrock(template: StackTemplate) -> bool:
    return any(
        resource.get("Type") == "AWS::RDS::DBClusterParameterGroup"
        and BEDROCK_ROLE_PARAMETER in resource.get("Properties", {}).get("Parameters", {})
        for resource in template.resources.values()
    )


def _bedrock_line(template: StackTemplate, prices: PriceTable) -> PerCallLine:
    policies = json.dumps(
        [r for r in template.resources.values() if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::Role")]
    )
    models = sorted(set(_FOUNDATION_MODEL.findall(policies)))
    model = models[0] if len(models) == 1 else ", ".join(models) or "unknown"
    what = "call_reason (Amazon Bedrock, one call per answer)"
    if model not in MODEL_FIGURES:
        return PerCallLine(template.stack_name, what, model, None, f"no price in the price table for {model}")
    input_figure, output_figure = (prices.unit(name) for name in MODEL_FIGURES[model])
    words = prices.assumptions["call_reason_message_words"]
    tokens_per_word = prices.assumptions["tokens_per_word"]
    prompt_tokens = round(len(call_reason_prompt().split()) * tokens_per_word)
    input_tokens = prompt_tokens + round(words * tokens_per_word)
    usd = input_tokens / 1000 * input_figure.usd + MAX_ANSWER_TOKENS / 1000 * output_figure.usd
    how = (
        f"about {input_tokens} input tokens (the prompt's {prompt_tokens} and a {words:g}-word message) x "
        f"${input_figure.usd:g}/1K + at most {MAX_ANSWER_TOKENS} output tokens x ${output_figure.usd:g}/1K; "
        "nothing while idle"
    )
    return PerCallLine(template.stack_name, what, model, usd, how)
