"""Stack-wide properties: outputs, tags, IAM scoping, environment-agnostic templates."""

from __future__ import annotations

import json
from typing import Any

from churnguard.constants import PROJECT_TAG_KEY, PROJECT_TAG_VALUE
from tests.infra.conftest import Synthesized, as_list

# The only actions allowed on Resource "*": each has no resource-level permissions in IAM.
WILDCARD_RESOURCE_ACTIONS = {
    "comprehend:DetectSentiment",
    "comprehend:BatchDetectSentiment",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
}
CDK_INTERNAL_PROVIDER = "CustomS3AutoDeleteObjectsCustomResourceProvider"


def all_statements(synth: Synthesized) -> list[dict[str, Any]]:
    statements = []
    for resource in synth.template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
    return statements


def test_outputs(default_synth: Synthesized) -> None:
    assert set(default_synth.template["Outputs"]) == {
        "ClusterArn",
        "ClusterEndpoint",
        "ReaderEndpoint",
        "DatabaseName",
        "AdminSecretArn",
        "AppSecretArn",
        "ApiSecretArn",
        "DataBucketName",
        "RecommendApiUrl",
        "EndpointName",
    }
    cluster_id = default_synth.only("AWS::RDS::DBCluster")[0]
    assert default_synth.template["Outputs"]["ClusterEndpoint"]["Value"] == {
        "Fn::GetAtt": [cluster_id, "Endpoint.Address"]
    }


def test_every_taggable_resource_carries_the_project_tag(every_synth: Synthesized) -> None:
    untagged = []
    for logical_id, resource in every_synth.template["Resources"].items():
        tags = resource.get("Properties", {}).get("Tags")
        if tags is None:
            continue
        pairs = {tag["Key"]: tag["Value"] for tag in tags} if isinstance(tags, list) else tags
        if pairs.get(PROJECT_TAG_KEY) != PROJECT_TAG_VALUE:
            untagged.append(logical_id)
    assert not untagged
    for resource_type in (
        "AWS::EC2::VPC",
        "AWS::RDS::DBCluster",
        "AWS::S3::Bucket",
        "AWS::Lambda::Function",
        "AWS::KMS::Key",
    ):
        for logical_id, resource in every_synth.resources(resource_type).items():
            if logical_id.startswith(CDK_INTERNAL_PROVIDER):
                continue  # CDK's auto-delete handler is a raw CfnResource that takes no tags
            assert {"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE} in resource["Properties"]["Tags"]


def test_iam_statements_are_scoped_to_resources(every_synth: Synthesized) -> None:
    for statement in all_statements(every_synth):
        actions = as_list(statement["Action"])
        assert not any(action == "*" or action.endswith(":*") for action in actions), statement
        if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
            assert set(actions) <= WILDCARD_RESOURCE_ACTIONS, statement


def test_template_is_environment_agnostic(default_synth: Synthesized) -> None:
    text = json.dumps(default_synth.template["Resources"])
    assert "AWS::AccountId" in text and "AWS::Region" in text
    assert "dkr.ecr" not in text, "the image comes from the region mapping, not a synth-time region"
