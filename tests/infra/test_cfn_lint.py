"""cfn-lint finds no errors (and no unreviewed warnings) in the templates of both network modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.template_lint import describe, lint_template
from tests.infra.conftest import Synthesized


def template_path(synth: Synthesized) -> Path:
    return synth.outdir / f"{synth.stack_name}.template.json"


@pytest.mark.parametrize("name", ["default_synth", "prod_synth", "in_database_synth"])
def test_synthesized_templates_pass_cfn_lint(name: str, request: pytest.FixtureRequest) -> None:
    """default: network=nat; prod and in_database: network=isolated (tests/infra/conftest.py)."""
    synth: Synthesized = request.getfixturevalue(name)
    result = lint_template(template_path(synth))
    report = "\n".join(describe(name, result))
    assert result.errors == [], report
    assert result.unreviewed_warnings == [], report


def test_lint_reports_an_error_cloudformation_would_reject(tmp_path: Path) -> None:
    """The check can fail: a bucket with a misspelt property is an error, naming the rule and line."""
    template = tmp_path / "broken.template.json"
    template.write_text(
        json.dumps(
            {
                "Resources": {
                    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketNmae": "churnguard-x"}},
                    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": 42}},
                }
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    result = lint_template(template)
    assert not result.clean
    assert any(line.startswith("E3002") and "BucketNmae" in line for line in result.errors), result.errors
    assert any("broken.template.json:" in line for line in result.errors)
