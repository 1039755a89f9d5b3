#!/usr/bin/env python3
"""CDK entry point: read the options from context, build the churnguard stack, check it with cdk-nag.

Environment-agnostic on purpose (no account/region lookups), so `cdk synth` needs no AWS credentials.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk

from churnguard.constants import PROJECT_TAGS
from churnguard.errors import UserError
from infra.config import options_from_context
from infra.deploy_regions import check_synth_region
from infra.nag import add_nag_checks
from infra.stack import ChurnguardStack


def build_app(app: cdk.App) -> ChurnguardStack:
    """Instantiate the stack from the app's context, tag everything and register cdk-nag."""
    options = options_from_context(app.node.get_all_context())
    check_synth_region(needs_xgboost_image=options.has_endpoint)
    stack = ChurnguardStack(app, options.stack_name, options=options)
    for key, value in PROJECT_TAGS.items():
        cdk.Tags.of(app).add(key, value)
    cdk.Tags.of(app).add("stage", options.stage)
    add_nag_checks(app)
    return stack


def cdk_json_context() -> dict[str, object]:
    """cdk.json's context, for `python app.py` run without the CDK CLI (which passes it itself)."""
    if "CDK_CONTEXT_JSON" in os.environ or "CDK_CONTEXT_FILE" in os.environ:
        return {}
    path = Path(__file__).resolve().parent / "cdk.json"
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def main() -> int:
    app = cdk.App(context=cdk_json_context())
    try:
        build_app(app)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return UserError.exit_code
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
