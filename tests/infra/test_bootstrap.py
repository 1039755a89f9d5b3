"""The bootstrap custom resource: bundled SQL rendered from the model, its digest, env and permissions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from churnguard.customer_schema import COLUMN_NAMES
from churnguard.sqlgen import render_deploy_sql
from infra.bootstrap import DeploySql, sql_digest
from tests.infra.conftest import Synthesized

BOOTSTRAP_HANDLER = "handler.on_event"


def bundled_sql(synth: Synthesized) -> list[DeploySql]:
    (_, function) = synth.function_with_handler(BOOTSTRAP_HANDLER)
    sql_dir = synth.asset_path(function["Properties"]["Code"]["S3Key"]) / "sql"
    return [DeploySql(path.name, path.read_text(encoding="utf-8")) for path in sorted(sql_dir.glob("*.sql"))]


def test_bundle_holds_the_rendered_sql_in_apply_order(
    default_synth: Synthesized, trained_model_dir: Path
) -> None:
    rendered = render_deploy_sql(
        trained_model_dir / "metadata.json", inference_mode="endpoint", endpoint_name="churnguard-dev-churn"
    )
    assert [file.text for file in bundled_sql(default_synth)] == [file.text for file in rendered]
    assert "churnguard-dev-churn" in "".join(file.text for file in bundled_sql(default_synth))


def test_custom_resource_carries_the_sql_digest(
    default_synth: Synthesized, in_database_synth: Synthesized
) -> None:
    digests = []
    for synth in (default_synth, in_database_synth):
        (_, resource) = synth.only("Custom::ChurnguardDatabaseBootstrap")
        assert resource["Properties"]["SqlDigest"] == sql_digest(bundled_sql(synth))
        digests.append(resource["Properties"]["SqlDigest"])
    assert digests[0] != digests[1], "a different will_churn must re-run the bootstrap"


def test_bootstrap_runs_after_the_cluster_and_endpoint(default_synth: Synthesized) -> None:
    (_, resource) = default_synth.only("Custom::ChurnguardDatabaseBootstrap")
    depends = set(resource["DependsOn"])
    assert default_synth.only("AWS::RDS::DBCluster")[0] in depends
    assert default_synth.only("AWS::RDS::DBInstance")[0] in depends
    assert default_synth.only("AWS::SageMaker::Endpoint")[0] in depends


def test_function_environment_runtime_and_network(default_synth: Synthesized) -> None:
    (_, function) = default_synth.function_with_handler(BOOTSTRAP_HANDLER)
    props = function["Properties"]
    assert props["Runtime"] == "python3.12"
    env = props["Environment"]["Variables"]
    assert set(env) == {"CLUSTER_ARN", "ADMIN_SECRET_ARN", "APP_SECRET_ARN", "DATABASE_NAME", "SQL_DIR"}
    assert env["DATABASE_NAME"] == "churnguard" and env["SQL_DIR"] == "sql"
    assert ":cluster:" in json.dumps(env["CLUSTER_ARN"])
    assert props["VpcConfig"]["SubnetIds"] and props["VpcConfig"]["SecurityGroupIds"]
    bundle = default_synth.asset_path(props["Code"]["S3Key"])
    assert (bundle / "handler.py").is_file() and (
        bundle / "churnguard" / "bootstrap" / "__init__.py"
    ).is_file()


def test_function_permissions_are_scoped(default_synth: Synthesized) -> None:
    (_, function) = default_synth.function_with_handler(BOOTSTRAP_HANDLER)
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = default_synth.role_statements(role_id)
    data_api = next(s for s in statements if "rds-data:ExecuteStatement" in s["Action"])
    assert ":cluster:" in json.dumps(data_api["Resource"])
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    env = function["Properties"]["Environment"]["Variables"]
    assert sorted(json.dumps(s["Resource"]) for s in secret_reads) == sorted(
        json.dumps(env[name]) for name in ("ADMIN_SECRET_ARN", "APP_SECRET_ARN")
    )
    assert not any("s3:" in json.dumps(s["Action"]) for s in statements), "no seed data, no S3 access"


def test_seed_data_is_uploaded_and_readable_by_bootstrap_and_aurora(prod_synth: Synthesized) -> None:
    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    uri = function["Properties"]["Environment"]["Variables"]["SEED_DATA_S3_URI"]
    rows = list(csv.reader(prod_synth.asset_path(uri).read_text(encoding="utf-8").splitlines()))
    assert rows[0] == list(COLUMN_NAMES)
    assert len(rows) == 1 + 50
    assert ["415", "358-1921"] in [row[2:4] for row in rows[1:]], "the reference high-risk customer"
    assert {row[-1] for row in rows[1:]} <= {"0", "1"}
    key = uri["Fn::Sub"].rsplit("/", 1)[-1]
    s3_role = prod_synth.only("AWS::RDS::DBClusterParameterGroup")[1]["Properties"]["Parameters"][
        "aws_default_s3_role"
    ]
    for role_id in (function["Properties"]["Role"]["Fn::GetAtt"][0], s3_role["Fn::GetAtt"][0]):
        reads = [
            s
            for s in prod_synth.role_statements(role_id)
            if s["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
        ]
        assert any(json.dumps(s["Resource"]).endswith(f'/{key}"]]}}') for s in reads), role_id
