"""Synthesized stacks shared by the infra tests: each configuration is synthesized once per session.

Synthesis goes through jsii and takes seconds, so three configurations cover every option branch:
the defaults (network=nat, through `python app.py`, exactly as the CDK CLI runs it, with no AWS
credentials), a production configuration with every non-default choice (network=isolated among
them), and in-database inference of a 300-tree model on the isolated network (three interface
endpoints, no SageMaker).
Each synthesis runs the cdk-nag plugin; an unacknowledged finding makes the fixture, and so every
test that uses it, fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_DEFAULT = "churnguard-dev"
STACK_PROD = "churnguard-prod"

PROD_OPTIONS = {
    "stage": "prod",
    # Another version than the default (3.08 rather than the 3.10 LTS): Aurora calls Bedrock from 3.06 on,
    # so the prod configuration keeps call reasons and the isolated network's bedrock-runtime endpoint.
    "engine_version": "8.0.mysql_aurora.3.08.2",
    "network": "isolated",
    "capacity": "provisioned",
    "instance_class": "r6g.large",
    "endpoint_mode": "realtime",
    "endpoint_instance_type": "ml.m5.large",
    "seed_sample_data": "true",
    "seed_rows": "50",
    "sagemaker_training": "true",
    "console": "true",
    "asset_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


@dataclass(frozen=True)
class Synthesized:
    """One synthesized stack: its template (raw and as an assertions.Template) and cloud assembly."""

    template: dict[str, Any]
    outdir: Path
    stack_name: str

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        """Every statement of the IAM policies attached to one role."""
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def user_secret_id(self, username: str) -> str:
        """The logical id of the Secrets Manager secret generated for database user `username`."""
        (found,) = [
            logical_id
            for logical_id, secret in self.resources("AWS::SecretsManager::Secret").items()
            if json.loads(
                secret["Properties"].get("GenerateSecretString", {}).get("SecretStringTemplate", "{}")
            ).get("username")
            == username
        ]
        return found

    def function_with_handler(self, handler: str) -> tuple[str, dict[str, Any]]:
        (found,) = [
            (logical_id, function)
            for logical_id, function in self.resources("AWS::Lambda::Function").items()
            if function["Properties"].get("Handler") == handler
        ]
        return found

    def nag_violations(self) -> list[dict[str, Any]]:
        report = json.loads((self.outdir / "validation-report.json").read_text(encoding="utf-8"))
        return [violation for plugin in report["pluginReports"] for violation in plugin["violations"]]

    def asset_path(self, s3_reference: Any) -> Path:
        """The staged folder or file of an asset, from the S3 key or URL a resource references."""
        reference = s3_reference["Fn::Sub"] if isinstance(s3_reference, dict) else str(s3_reference)
        asset_hash = reference.rsplit("/", 1)[-1].split(".")[0]
        (path,) = self.outdir.glob(f"asset.{asset_hash}*")
        return path


def as_list(value: Any) -> list[Any]:
    """An IAM policy field (Action, Resource) as a list: IAM allows a single value or a list."""
    return value if isinstance(value, list) else [value]


def cdk_json_context() -> dict[str, Any]:
    return dict(json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"])


def credential_free_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that could give the synthesis AWS credentials or a region."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
    }
    env.update(JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1", SAGEMAKER_SUPPRESS_V2_WARNING="1")
    env.update(
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true"
    )
    env.update(extra)
    return env


def run_app(
    context: dict[str, Any], outdir: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python app.py` as the CDK CLI runs it: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR."""
    env = credential_free_env(
        CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(outdir), **(extra_env or {})
    )
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def synthesize_in_process(context: dict[str, Any], outdir: Path) -> Synthesized:
    import aws_cdk as cdk

    from app import build_app

    app = cdk.App(context=context, outdir=str(outdir))
    stack = build_app(app)
    assembly = app.synth()
    return Synthesized(
        template=assembly.get_stack_by_name(stack.stack_name).template,
        outdir=outdir,
        stack_name=stack.stack_name,
    )


@pytest.fixture(scope="session")
def default_synth(trained_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk-default")
    result = run_app({**cdk_json_context(), "model_dir": str(trained_model_dir)}, outdir)
    assert result.returncode == 0, f"python app.py failed:\n{result.stderr[-4000:]}"
    template = json.loads((outdir / f"{STACK_DEFAULT}.template.json").read_text(encoding="utf-8"))
    return Synthesized(template=template, outdir=outdir, stack_name=STACK_DEFAULT)


@pytest.fixture(scope="session")
def prod_synth(trained_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {**cdk_json_context(), **PROD_OPTIONS, "model_dir": str(trained_model_dir)}
    return synthesize_in_process(context, tmp_path_factory.mktemp("cdk-prod"))


@pytest.fixture(scope="session")
def console_synth(trained_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {**cdk_json_context(), "console": "true", "model_dir": str(trained_model_dir)}
    return synthesize_in_process(context, tmp_path_factory.mktemp("cdk-console"))


@pytest.fixture(scope="session")
def in_database_synth(large_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The model compiled into SQL: the 300-tree model, too long for one Data API statement; and
    without call reasons (-c call_reasons=off), so no Bedrock role, parameter or endpoint."""
    context = {
        **cdk_json_context(),
        "inference_mode": "in_database",
        "network": "isolated",
        "call_reasons": "off",
        "model_dir": str(large_model_dir),
    }
    return synthesize_in_process(context, tmp_path_factory.mktemp("cdk-in-database"))


@pytest.fixture(scope="session", params=["default", "prod", "in_database"])
def every_synth(request: pytest.FixtureRequest) -> Synthesized:
    """Each configuration in turn, for properties every deployment must have."""
    return request.getfixturevalue(f"{request.param}_synth")
