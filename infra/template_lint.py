"""cfn-lint on the synthesized templates of both network modes (`make lint`, tests/infra/test_cfn_lint.py).

cdk-nag checks the constructs against security rules; cfn-lint checks the CloudFormation the CDK
actually wrote against the resource specification (property names, types, allowed values, regional
availability), which catches a template CloudFormation would reject only at deploy time. Errors fail;
each warning must be one reviewed below, with the reason it is accepted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

from infra.config import NETWORKS

# The region whose resource specification the templates are checked against (the price table's).
LINT_REGIONS = ["us-east-1"]

# Warnings looked at and accepted, by rule id.
REVIEWED_WARNINGS = {
    "W3005": "CDK adds an explicit DependsOn from each Lambda function and the SageMaker model to its role "
    "next to the GetAtt of the role's ARN; the DependsOn is redundant, not wrong, and comes from CDK.",
}


@dataclass
class LintResult:
    """cfn-lint's findings on one template, sorted into what fails and what was reviewed."""

    template: Path
    errors: list[str] = field(default_factory=list)
    unreviewed_warnings: list[str] = field(default_factory=list)
    reviewed_warnings: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.errors and not self.unreviewed_warnings


def lint_template(template: Path) -> LintResult:
    result = LintResult(template)
    for match in lint_file(template, ManualArgs(regions=LINT_REGIONS)):
        rule = match.rule.id
        line = f"{rule} {match.message} ({template.name}:{match.linenumber})"
        if rule.startswith("E"):
            result.errors.append(line)
        elif rule in REVIEWED_WARNINGS:
            result.reviewed_warnings[rule] = result.reviewed_warnings.get(rule, 0) + 1
        elif rule.startswith("W"):
            result.unreviewed_warnings.append(line)
    return result


def describe(label: str, result: LintResult) -> list[str]:
    lines = [
        f"{label}: cfn-lint {len(result.errors)} error(s), {len(result.unreviewed_warnings)} unreviewed "
        f"warning(s), {sum(result.reviewed_warnings.values())} reviewed warning(s) ({result.template})"
    ]
    lines += [f"  ERROR {line}" for line in result.errors]
    lines += [f"  WARNING (not reviewed) {line}" for line in result.unreviewed_warnings]
    lines += [
        f"  {count} x {rule} accepted: {REVIEWED_WARNINGS[rule]}"
        for rule, count in sorted(result.reviewed_warnings.items())
    ]
    return lines


def synthesize(network: str, model_dir: Path, outdir: Path) -> Path:
    """The stack with cdk.json's options and the given network, as `make synth` would write it."""
    import aws_cdk as cdk

    from app import build_app, cdk_json_context

    context = {**cdk_json_context(), "network": network, "model_dir": str(model_dir.resolve())}
    app = cdk.App(context=context, outdir=str(outdir))
    stack = build_app(app)
    app.synth()
    return outdir / f"{stack.stack_name}.template.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("artifacts/model"))
    args = parser.parse_args(argv)
    clean = True
    with tempfile.TemporaryDirectory(prefix="churnguard-lint-") as scratch:
        for network in NETWORKS:
            template = synthesize(network, args.model_dir, Path(scratch) / network)
            result = lint_template(template)
            print("\n".join(describe(f"network={network}", result)))
            clean = clean and result.clean
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
