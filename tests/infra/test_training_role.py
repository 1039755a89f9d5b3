"""The opt-in SageMaker training role: scoped to the model prefix and its own key, read through outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized, as_list

SAGEMAKER_ROLE_DESCRIPTION = "churnguard: SageMaker training, tuning and batch transform jobs"


def training_role(synth: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, role)
        for logical_id, role in synth.resources("AWS::IAM::Role").items()
        if role["Properties"].get("Description") == SAGEMAKER_ROLE_DESCRIPTION
    ]
    return found


def test_off_by_default_no_role_key_or_outputs(default_synth: Synthesized) -> None:
    roles = default_synth.resources("AWS::IAM::Role").values()
    assert all(role["Properties"].get("Description") != SAGEMAKER_ROLE_DESCRIPTION for role in roles)
    assert not {"TrainingRoleArn", "TrainingKeyArn"} & set(default_synth.template["Outputs"])
    assert len(default_synth.resources("AWS::KMS::Key")) == 1  # the database's only


def test_role_is_assumed_by_sagemaker_and_exported(prod_synth: Synthesized) -> None:
    logical_id, _ = training_role(prod_synth)
    prod_synth.assertions.has_resource_properties(
        "AWS::IAM::Role",
        {
            "Description": SAGEMAKER_ROLE_DESCRIPTION,
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "sagemaker.amazonaws.com"}})]}
            ),
        },
    )
    outputs = prod_synth.template["Outputs"]
    assert outputs["TrainingRoleArn"]["Value"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    key_id = outputs["TrainingKeyArn"]["Value"]["Fn::GetAtt"][0]
    key = prod_synth.template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    assert "DataBucketName" in outputs


def test_s3_access_is_limited_to_the_model_prefix_and_reading_aurora_training_exports(
    prod_synth: Synthesized,
) -> None:
    logical_id, _ = training_role(prod_synth)
    statements = prod_synth.role_statements(logical_id)
    s3_statements = [s for s in statements if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    assert s3_statements
    for statement in s3_statements:
        actions = as_list(statement["Action"])
        for resource in as_list(statement["Resource"]):
            assert "DataBucketData" in str(resource)
            if actions == ["s3:ListBucket"]:
                assert statement["Condition"] == {"StringLike": {"s3:prefix": ["model/*", "tmp/training/*"]}}
            elif resource["Fn::Join"][1][-1] == "/tmp/training/*":
                assert actions == ["s3:GetObject"]  # what Aurora wrote for --from-table: read only
            else:
                assert resource["Fn::Join"][1][-1] == "/model/*"
    actions = {action for s in statements for action in as_list(s["Action"])}
    assert "s3:DeleteObject" not in actions and not any(
        a.endswith("*") and a.startswith("s3") for a in actions
    )


def test_kms_use_is_limited_to_the_training_key(prod_synth: Synthesized) -> None:
    logical_id, _ = training_role(prod_synth)
    key_id = prod_synth.template["Outputs"]["TrainingKeyArn"]["Value"]["Fn::GetAtt"][0]
    kms = [s for s in prod_synth.role_statements(logical_id) if as_list(s["Action"])[0].startswith("kms:")]
    assert kms
    for statement in kms:
        assert as_list(statement["Resource"]) == [{"Fn::GetAtt": [key_id, "Arn"]}]
    actions = {action for s in kms for action in as_list(s["Action"])}
    assert {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"} <= actions


def test_metrics_and_logs_are_scoped_to_sagemaker_jobs(prod_synth: Synthesized) -> None:
    logical_id, _ = training_role(prod_synth)
    statements = prod_synth.role_statements(logical_id)
    (metrics,) = [s for s in statements if as_list(s["Action"]) == ["cloudwatch:PutMetricData"]]
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/TrainingJobs*"]}}
    (logs,) = [s for s in statements if "logs:PutLogEvents" in as_list(s["Action"])]
    resources = [str(resource) for resource in as_list(logs["Resource"])]
    assert len(resources) == 2
    assert all(
        "/aws/sagemaker/TrainingJobs:*" in r or "/aws/sagemaker/TransformJobs:*" in r for r in resources
    )


def test_synthesis_with_the_role_has_no_nag_findings(prod_synth: Synthesized) -> None:
    training_role(prod_synth)
    assert prod_synth.nag_violations() == []


def test_only_actions_without_resource_scope_get_a_wildcard(prod_synth: Synthesized) -> None:
    logical_id, _ = training_role(prod_synth)
    statements = prod_synth.role_statements(logical_id)
    wildcard = {a for s in statements if "*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    assert wildcard == {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
    (pull,) = [s for s in statements if "ecr:BatchGetImage" in as_list(s["Action"])]
    assert str(pull["Resource"]).endswith(":*:repository/sagemaker-xgboost']]}")


def test_the_launcher_and_the_role_agree_on_the_prefixes() -> None:
    """The jobs read and write where the role allows: the same two prefixes on both sides."""
    from infra import data_bucket
    from training.sagemaker import jobs as sagemaker_jobs

    assert sagemaker_jobs.MODEL_PREFIX == data_bucket.MODEL_PREFIX
    assert sagemaker_jobs.TABLE_EXPORT_PREFIX == data_bucket.TRAINING_EXPORT_PREFIX
    assert data_bucket.TRAINING_EXPORT_PREFIX.startswith(
        data_bucket.TMP_PREFIX
    )  # Aurora writes it, it expires
