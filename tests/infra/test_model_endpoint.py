"""The SageMaker endpoint: region's XGBoost image, our artifact, serverless or real-time, none in-database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from churnguard.constants import PROJECT_TAG_KEY, PROJECT_TAG_VALUE, XGBOOST_CONTAINER_VERSION
from infra.xgboost_image import xgboost_image_uris
from tests.infra.conftest import PROD_OPTIONS, Synthesized

SAGEMAKER_TYPES = ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint")


def test_image_uri_for_known_regions() -> None:
    uris = xgboost_image_uris()
    assert uris["us-east-1"] == (
        f"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:{XGBOOST_CONTAINER_VERSION}",
        "683313688378",
    )
    assert (
        uris["eu-west-1"][0]
        == f"141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:{XGBOOST_CONTAINER_VERSION}"
    )
    assert uris["cn-north-1"][0].endswith(
        f".dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:{XGBOOST_CONTAINER_VERSION}"
    )
    for region, (uri, account) in uris.items():
        assert uri.startswith(f"{account}.dkr.ecr.{region}.") and uri.endswith(
            f":{XGBOOST_CONTAINER_VERSION}"
        )
    assert len(uris) >= 30, "every commercial region the SDK lists"


def test_model_image_is_looked_up_by_deploy_region(default_synth: Synthesized) -> None:
    (_, model) = default_synth.only("AWS::SageMaker::Model")
    image = model["Properties"]["PrimaryContainer"]["Image"]
    mapping_id = image["Fn::FindInMap"][0]
    assert image == {"Fn::FindInMap": [mapping_id, {"Ref": "AWS::Region"}, "ImageUri"]}
    mapping = default_synth.template["Mappings"][mapping_id]
    assert {region: entry["ImageUri"] for region, entry in mapping.items()} == {
        region: uri for region, (uri, _) in xgboost_image_uris().items()
    }


def test_model_serves_the_trained_artifact(default_synth: Synthesized, trained_model_dir: Path) -> None:
    (_, model) = default_synth.only("AWS::SageMaker::Model")
    url = model["Properties"]["PrimaryContainer"]["ModelDataUrl"]
    assert url["Fn::Sub"].startswith("s3://cdk-")
    assert default_synth.asset_path(url).read_bytes() == (trained_model_dir / "model.tar.gz").read_bytes()


def test_model_data_url_ends_in_tar_gz_as_create_model_requires(default_synth: Synthesized) -> None:
    """CreateModel: ModelDataUrl "must point to a single gzip compressed tar archive (.tar.gz suffix)"."""
    (_, model) = default_synth.only("AWS::SageMaker::Model")
    model_data_url = model["Properties"]["PrimaryContainer"]["ModelDataUrl"]
    Template.from_json(default_synth.template).has_resource_properties(
        "AWS::SageMaker::Model",
        {"PrimaryContainer": {"ModelDataUrl": {"Fn::Sub": Match.string_like_regexp(r"^s3://.+\.tar\.gz$")}}},
    )
    key = model_data_url["Fn::Sub"].rsplit("/", 1)[-1]
    # `cdk deploy` uploads the staged file to exactly that key.
    manifest = json.loads((default_synth.outdir / f"{default_synth.stack_name}.assets.json").read_text())
    uploads = [
        (asset["source"]["path"], destination["objectKey"])
        for asset in manifest["files"].values()
        for destination in asset["destinations"].values()
        if destination["objectKey"] == key
    ]
    assert uploads == [(default_synth.asset_path(model_data_url).name, key)]


def test_execution_role_reads_only_the_artifact(default_synth: Synthesized) -> None:
    (_, model) = default_synth.only("AWS::SageMaker::Model")
    role_id = model["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    statements = default_synth.role_statements(role_id)
    s3 = [s for s in statements if "s3:" in json.dumps(s["Action"])]
    assert len(s3) == 1 and s3[0]["Action"] == "s3:GetObject"
    artifact_key = model["Properties"]["PrimaryContainer"]["ModelDataUrl"]["Fn::Sub"].rsplit("/", 1)[-1]
    assert f'"/{artifact_key}"' in json.dumps(s3[0]["Resource"])
    assert "*" not in json.dumps(s3[0]["Resource"])
    ecr = next(
        s
        for s in statements
        if s["Action"]
        == ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    )
    assert ":repository/sagemaker-xgboost" in json.dumps(ecr["Resource"])
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert sorted(s["Action"] for s in wildcard) == ["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"]


def test_serverless_endpoint_by_default(default_synth: Synthesized) -> None:
    (_, config) = default_synth.only("AWS::SageMaker::EndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MaxConcurrency": 5, "MemorySizeInMB": 2048}
    assert "InstanceType" not in variant
    (_, endpoint) = default_synth.only("AWS::SageMaker::Endpoint")
    assert endpoint["Properties"]["EndpointName"] == "churnguard-dev-churn"
    assert default_synth.template["Outputs"]["EndpointName"]["Value"] == "churnguard-dev-churn"


def test_realtime_endpoint_by_option(prod_synth: Synthesized) -> None:
    (_, config) = prod_synth.only("AWS::SageMaker::EndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["InstanceType"] == "ml.m5.large" and variant["InitialInstanceCount"] == 1
    assert "ServerlessConfig" not in variant
    (_, model) = prod_synth.only("AWS::SageMaker::Model")
    assert model["Properties"]["EnableNetworkIsolation"] is True


def test_in_database_mode_deploys_no_endpoint(in_database_synth: Synthesized) -> None:
    for resource_type in SAGEMAKER_TYPES:
        assert not in_database_synth.resources(resource_type), resource_type
    assert "EndpointName" not in in_database_synth.template["Outputs"]
    assert "sagemaker" not in json.dumps(in_database_synth.resources("AWS::IAM::Policy")).lower()


def endpoint_log_group(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, group)
        for logical_id, group in synth.resources("AWS::Logs::LogGroup").items()
        if str(group["Properties"].get("LogGroupName", "")).startswith("/aws/sagemaker/Endpoints/")
    ]
    return found


@pytest.mark.parametrize(
    ("synth_name", "endpoint_name", "policy"),
    [("default_synth", "churnguard-dev-churn", "Delete"), ("prod_synth", "churnguard-prod-churn", "Retain")],
)
def test_stack_owns_the_endpoint_log_group_before_sagemaker_writes_to_it(
    request: pytest.FixtureRequest, synth_name: str, endpoint_name: str, policy: str
) -> None:
    synth: Synthesized = request.getfixturevalue(synth_name)
    (endpoint_id, endpoint) = synth.only("AWS::SageMaker::Endpoint")
    (group_id, group) = endpoint_log_group(synth)
    # SageMaker's own name for it: /aws/sagemaker/Endpoints/<endpoint name>.
    assert (
        group["Properties"]["LogGroupName"]
        == f"/aws/sagemaker/Endpoints/{endpoint['Properties']['EndpointName']}"
    )
    assert group["Properties"]["LogGroupName"] == f"/aws/sagemaker/Endpoints/{endpoint_name}"
    assert group["Properties"]["RetentionInDays"] == 90
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == policy
    assert {"Key": PROJECT_TAG_KEY, "Value": PROJECT_TAG_VALUE} in group["Properties"]["Tags"]
    assert {"Key": "stage", "Value": endpoint_name.split("-")[1]} in group["Properties"]["Tags"]
    assert group_id in endpoint["DependsOn"], f"{endpoint_id} must wait for its log group"


def test_endpoint_log_group_follows_the_stage_like_the_other_log_groups(
    default_synth: Synthesized, prod_synth: Synthesized
) -> None:
    for synth in (default_synth, prod_synth):
        (group_id, group) = endpoint_log_group(synth)
        others = [g for i, g in synth.resources("AWS::Logs::LogGroup").items() if i != group_id]
        assert {(g["DeletionPolicy"], g["Properties"]["RetentionInDays"]) for g in others} == {
            (group["DeletionPolicy"], group["Properties"]["RetentionInDays"])
        }


def test_the_execution_role_writes_to_that_log_group(default_synth: Synthesized) -> None:
    (_, model) = default_synth.only("AWS::SageMaker::Model")
    statements = default_synth.role_statements(model["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0])
    (logs_statement,) = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
    (_, group) = endpoint_log_group(default_synth)
    assert f":log-group:{group['Properties']['LogGroupName']}:*" in json.dumps(logs_statement["Resource"])


def test_no_endpoint_log_group_without_an_endpoint(in_database_synth: Synthesized) -> None:
    names = [
        str(g["Properties"].get("LogGroupName", ""))
        for g in in_database_synth.resources("AWS::Logs::LogGroup").values()
    ]
    assert not any("sagemaker" in name.lower() for name in names)


def test_execution_role_decrypts_assets_only_with_a_given_bootstrap_key(
    default_synth: Synthesized, prod_synth: Synthesized
) -> None:
    for synth, expected in ((default_synth, []), (prod_synth, [PROD_OPTIONS["asset_key_arn"]])):
        (_, model) = synth.only("AWS::SageMaker::Model")
        statements = synth.role_statements(model["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0])
        kms = [s for s in statements if "kms:" in json.dumps(s["Action"])]
        assert [s["Resource"] for s in kms] == expected
        for statement in kms:
            assert statement["Action"] == "kms:Decrypt"
            via_s3 = {"Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
            assert statement["Condition"] == {"StringEquals": {"kms:ViaService": via_s3}}
