"""Aurora MySQL 3 with Aurora ML: roles in the parameter group, encryption, capacity, protection per stage."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.template_values import foundation_model_arn
from tests.infra.conftest import Synthesized

ML_PARAMETERS = (
    "aws_default_sagemaker_role",
    "aws_default_comprehend_role",
    "aws_default_s3_role",
    "aws_default_bedrock_role",
)


def cluster(synth: Synthesized) -> dict[str, Any]:
    return synth.only("AWS::RDS::DBCluster")[1]


def parameters(synth: Synthesized) -> dict[str, Any]:
    return synth.only("AWS::RDS::DBClusterParameterGroup")[1]["Properties"]["Parameters"]


def role_for(synth: Synthesized, parameter: str) -> str:
    return parameters(synth)[parameter]["Fn::GetAtt"][0]


def test_engine_is_the_aurora_mysql_3_10_lts_release_by_default(default_synth: Synthesized) -> None:
    props = cluster(default_synth)["Properties"]
    assert props["Engine"] == "aurora-mysql"
    assert props["EngineVersion"] == "8.0.mysql_aurora.3.10.4"
    family = default_synth.only("AWS::RDS::DBClusterParameterGroup")[1]["Properties"]["Family"]
    assert family == "aurora-mysql8.0"


def test_the_engine_version_option_changes_the_cluster_and_its_parameter_family(
    prod_synth: Synthesized,
) -> None:
    # tests/infra/conftest.py's prod configuration passes -c engine_version=8.0.mysql_aurora.3.08.2.
    assert cluster(prod_synth)["Properties"]["EngineVersion"] == "8.0.mysql_aurora.3.08.2"
    family = prod_synth.only("AWS::RDS::DBClusterParameterGroup")[1]["Properties"]["Family"]
    assert family == "aurora-mysql8.0"


def test_the_writer_stays_on_its_lts_release(every_synth: Synthesized) -> None:
    # AWS's LTS page: with automatic minor upgrades a cluster "could be upgraded to a non-LTS version".
    (_, writer) = every_synth.only("AWS::RDS::DBInstance")
    assert writer["Properties"]["AutoMinorVersionUpgrade"] is False


def test_parameter_group_names_each_associated_ml_role(default_synth: Synthesized) -> None:
    params = parameters(default_synth)
    assert params["require_secure_transport"] == "ON"
    assert params["log_bin_trust_function_creators"] == "1"  # functions created without SUPER
    associated = [role["RoleArn"] for role in cluster(default_synth)["Properties"]["AssociatedRoles"]]
    for name in ML_PARAMETERS:
        reference = params[name]
        assert reference == {"Fn::GetAtt": [reference["Fn::GetAtt"][0], "Arn"]}
        assert reference in associated, f"{name} names a role that is not associated with the cluster"
    assert len(associated) == 4 and len({json.dumps(a) for a in associated}) == 4
    (group_id, _) = default_synth.only("AWS::RDS::DBClusterParameterGroup")
    assert cluster(default_synth)["Properties"]["DBClusterParameterGroupName"] == {"Ref": group_id}


def test_in_database_mode_associates_no_sagemaker_role(in_database_synth: Synthesized) -> None:
    params = parameters(in_database_synth)
    assert "aws_default_sagemaker_role" not in params
    # ... and with call_reasons=off no Bedrock role either: Comprehend and S3 only.
    assert "aws_default_bedrock_role" not in params
    assert len(cluster(in_database_synth)["Properties"]["AssociatedRoles"]) == 2
    assert not [
        role
        for role in in_database_synth.resources("AWS::IAM::Role").values()
        if "Bedrock" in role["Properties"].get("Description", "")
    ]


def test_bedrock_role_may_only_invoke_the_call_reason_model_in_this_region(
    default_synth: Synthesized,
) -> None:
    (statement,) = default_synth.role_statements(role_for(default_synth, "aws_default_bedrock_role"))
    assert statement["Action"] == "bedrock:InvokeModel"
    assert statement["Resource"] == foundation_model_arn("amazon.nova-micro-v1:0")


def test_ml_roles_trust_only_this_accounts_rds(default_synth: Synthesized) -> None:
    roles = default_synth.resources("AWS::IAM::Role")
    for name in ML_PARAMETERS:
        (statement,) = roles[role_for(default_synth, name)]["Properties"]["AssumeRolePolicyDocument"][
            "Statement"
        ]
        assert statement["Principal"] == {"Service": "rds.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_comprehend_role_may_only_detect_sentiment(default_synth: Synthesized) -> None:
    (statement,) = default_synth.role_statements(role_for(default_synth, "aws_default_comprehend_role"))
    assert statement["Action"] == ["comprehend:DetectSentiment", "comprehend:BatchDetectSentiment"]


def test_sagemaker_role_may_only_invoke_the_churn_endpoint(default_synth: Synthesized) -> None:
    (statement,) = default_synth.role_statements(role_for(default_synth, "aws_default_sagemaker_role"))
    assert statement["Action"] == "sagemaker:InvokeEndpoint"
    assert json.dumps(statement["Resource"]).endswith(':endpoint/churnguard-dev-churn"]]}')


def test_s3_role_reaches_only_the_aurora_prefixes_of_the_data_bucket(default_synth: Synthesized) -> None:
    statements = default_synth.role_statements(role_for(default_synth, "aws_default_s3_role"))
    (bucket_id,) = [
        logical_id
        for logical_id in default_synth.resources("AWS::S3::Bucket")
        if "DataBucketData" in logical_id
    ]
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    objects = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert objects["Resource"] == [
        {"Fn::Join": ["", [bucket_arn, f"/{prefix}/*"]]} for prefix in ("exports", "imports", "tmp")
    ]
    assert {"s3:DeleteObject", "s3:GetObject", "s3:PutObject"} <= set(objects["Action"])
    listing = next(s for s in statements if s["Action"] == "s3:ListBucket")
    assert listing["Resource"] == bucket_arn
    assert "Condition" not in listing, "ListBucket as AWS's Aurora S3 policy states it (docs/infra.md)"
    assert len(statements) == 2


def test_storage_secrets_and_auth(default_synth: Synthesized) -> None:
    props = cluster(default_synth)["Properties"]
    (key_id, key) = default_synth.only("AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert props["StorageEncrypted"] is True
    assert props["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert props["EnableIAMDatabaseAuthentication"] is True
    assert props["EnableHttpEndpoint"] is True, "the Lambdas use the RDS Data API"
    assert props["BackupRetentionPeriod"] == 7
    assert props["EnableCloudwatchLogsExports"] == ["error"]
    secrets = default_synth.resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 3  # the admin's, the app user's, the API user's
    for secret in secrets.values():
        assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    for username in ("churnguard_app", "churnguard_api"):
        generator = secrets[default_synth.user_secret_id(username)]["Properties"]["GenerateSecretString"]
        assert json.loads(generator["SecretStringTemplate"]) == {"username": username}
        assert generator["ExcludePunctuation"] is True and generator["GenerateStringKey"] == "password"
    for instance in default_synth.resources("AWS::RDS::DBInstance").values():
        assert instance["Properties"]["PubliclyAccessible"] is False


def test_default_capacity_is_serverless_v2_pausing_at_zero(default_synth: Synthesized) -> None:
    scaling = cluster(default_synth)["Properties"]["ServerlessV2ScalingConfiguration"]
    assert scaling == {"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 600}
    (_, writer) = default_synth.only("AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.serverless"


def test_provisioned_capacity_uses_the_instance_class(prod_synth: Synthesized) -> None:
    assert "ServerlessV2ScalingConfiguration" not in cluster(prod_synth)["Properties"]
    (_, writer) = prod_synth.only("AWS::RDS::DBInstance")
    assert writer["Properties"]["DBInstanceClass"] == "db.r6g.large"


def test_dev_is_destroyable(default_synth: Synthesized) -> None:
    db = cluster(default_synth)
    assert db["Properties"]["DeletionProtection"] is False
    assert db["DeletionPolicy"] == "Delete"
    assert default_synth.only("AWS::KMS::Key")[1]["DeletionPolicy"] == "Delete"
    for secret in default_synth.resources("AWS::SecretsManager::Secret").values():
        assert secret["DeletionPolicy"] == "Delete"


def test_prod_is_protected_and_snapshotted(prod_synth: Synthesized) -> None:
    db = cluster(prod_synth)
    assert db["Properties"]["DeletionProtection"] is True
    assert db["DeletionPolicy"] == "Snapshot" and db["UpdateReplacePolicy"] == "Snapshot"
    (database_key,) = [
        key
        for key in prod_synth.resources("AWS::KMS::Key").values()
        if key["Properties"]["Description"] == "churnguard: Aurora storage and database secrets"
    ]
    assert database_key["DeletionPolicy"] == "Retain"
    secrets = prod_synth.resources("AWS::SecretsManager::Secret")
    for username in ("churnguard_app", "churnguard_api"):
        assert secrets[prod_synth.user_secret_id(username)]["DeletionPolicy"] == "Retain"


def test_lambda_roles_decrypt_secrets_only_through_secrets_manager(default_synth: Synthesized) -> None:
    (_, key) = default_synth.only("AWS::KMS::Key")
    role_grants = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if "Fn::GetAtt" in statement["Principal"]["AWS"]
    ]
    lambda_roles = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]
        for function in default_synth.resources("AWS::Lambda::Function").values()
        if function["Properties"].get("Runtime") == "python3.12"
    }
    assert {statement["Principal"]["AWS"]["Fn::GetAtt"][0] for statement in role_grants} == lambda_roles
    for statement in role_grants:
        assert statement["Action"] == "kms:Decrypt"
        assert "secretsmanager." in json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])
