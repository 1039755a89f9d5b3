"""cdk-nag runs in every synthesis and fails it on any unacknowledged finding."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from infra.nag import acknowledge, add_nag_checks
from tests.infra.conftest import Synthesized


def test_every_configuration_synthesizes_without_findings(every_synth: Synthesized) -> None:
    # The fixture's synthesis would have raised on a finding; the report confirms nothing was left.
    assert every_synth.nag_violations() == []


def test_plugin_rejects_an_insecure_construct_and_honours_a_narrow_acknowledgement(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "NagCanary")
    bucket = s3.Bucket(stack, "Insecure")  # no TLS-only policy, no access logs
    acknowledge(bucket, "AwsSolutions-S1", "canary: access logs deliberately left out")
    add_nag_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert findings == {("AwsSolutions-S10", "NagCanary/Insecure/Resource")}
