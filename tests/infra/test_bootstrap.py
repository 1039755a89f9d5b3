"""The bootstrap custom resource: bundled SQL rendered from the model, its digest, env and permissions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match

from churnguard.bootstrap.apply import MAX_STATEMENT_CHARS
from churnguard.bootstrap.seed import MESSAGE_COLUMNS
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.sqlgen import render_deploy_sql
from churnguard.sqlgen.files import SqlFile
from infra.bootstrap import sql_digest
from infra.stack import SEED_DATA_RANDOM_SEED
from tests.infra.conftest import PROD_OPTIONS, Synthesized, as_list

BOOTSTRAP_HANDLER = "handler.on_event"
SEED_URI_VARIABLES = ("SEED_DATA_S3_URI", "SEED_MESSAGES_S3_URI")
ASSET_BUCKET = "cdk-hnb659fds-assets-"  # CDK's default bootstrap bucket, where the seed CSVs go


def bundled_sql(synth: Synthesized) -> list[SqlFile]:
    (_, function) = synth.function_with_handler(BOOTSTRAP_HANDLER)
    sql_dir = synth.asset_path(function["Properties"]["Code"]["S3Key"]) / "sql"
    return [SqlFile(path.name, path.read_text(encoding="utf-8")) for path in sorted(sql_dir.glob("*.sql"))]


def test_bundle_holds_the_rendered_sql_in_apply_order(
    default_synth: Synthesized, trained_model_dir: Path
) -> None:
    rendered = render_deploy_sql(
        trained_model_dir,
        inference_mode="endpoint",
        endpoint_name="churnguard-dev-churn",
        call_reasons="bedrock",
        call_reason_model="amazon.nova-micro-v1:0",
    )
    assert [file.text for file in bundled_sql(default_synth)] == [file.text for file in rendered]
    assert "ALIAS AWS_BEDROCK_INVOKE_MODEL" in "".join(file.text for file in bundled_sql(default_synth))
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


def test_custom_resource_reruns_when_a_users_secret_is_added_or_replaced(default_synth: Synthesized) -> None:
    # A stack that gains the API user's secret (or replaces either) re-runs the bootstrap on that
    # deploy, so the account exists with the secret's password before the Lambdas sign in with it.
    (_, resource) = default_synth.only("Custom::ChurnguardDatabaseBootstrap")
    assert resource["Properties"]["UserSecrets"] == [
        {"Ref": default_synth.user_secret_id("churnguard_app")},
        {"Ref": default_synth.user_secret_id("churnguard_api")},
    ]


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
    assert set(env) == {
        "CLUSTER_ARN",
        "ADMIN_SECRET_ARN",
        "APP_SECRET_ARN",
        "API_SECRET_ARN",
        "DATABASE_NAME",
        "SQL_DIR",
    }
    assert env["API_SECRET_ARN"] == {"Ref": default_synth.user_secret_id("churnguard_api")}
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
        json.dumps(env[name]) for name in ("ADMIN_SECRET_ARN", "APP_SECRET_ARN", "API_SECRET_ARN")
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
    key = asset_key(uri)
    for role_id in seed_roles(prod_synth).values():
        reads = [
            s
            for s in prod_synth.role_statements(role_id)
            if s["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
        ]
        assert any(json.dumps(s["Resource"]).endswith(f'/{key}"]]}}') for s in reads), role_id


def seed_roles(synth: Synthesized) -> dict[str, str]:
    """The two roles that read the seed CSVs: the bootstrap function's (HEAD) and Aurora's S3 role
    (LOAD DATA FROM S3 runs inside the cluster with it)."""
    (_, function) = synth.function_with_handler(BOOTSTRAP_HANDLER)
    s3_role = synth.only("AWS::RDS::DBClusterParameterGroup")[1]["Properties"]["Parameters"][
        "aws_default_s3_role"
    ]
    return {
        "bootstrap": function["Properties"]["Role"]["Fn::GetAtt"][0],
        "aurora s3": s3_role["Fn::GetAtt"][0],
    }


def asset_key(uri: dict[str, Any]) -> str:
    return uri["Fn::Sub"].rsplit("/", 1)[-1]


def object_key_of(resource: Any) -> str:
    """The key at the end of an object ARN such as {"Fn::Join": ["", ["arn:", ..., "/<key>"]]}."""
    text = json.dumps(resource)
    assert text.count("/") >= 1, text
    return text.rsplit("/", 1)[-1].split('"', 1)[0]


def test_seed_messages_are_uploaded_next_to_the_customers(prod_synth: Synthesized) -> None:
    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    customers_uri, messages_uri = (env[name] for name in SEED_URI_VARIABLES)
    assert messages_uri["Fn::Sub"].startswith("s3://cdk-")
    assert customers_uri["Fn::Sub"].rsplit("/", 1)[0] == messages_uri["Fn::Sub"].rsplit("/", 1)[0]
    assert asset_key(customers_uri) != asset_key(messages_uri)

    customers = list(csv.DictReader(io.StringIO(prod_synth.asset_path(customers_uri).read_text("utf-8"))))
    text = prod_synth.asset_path(messages_uri).read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(f'"{name}"' for name in MESSAGE_COLUMNS)
    messages = list(csv.DictReader(io.StringIO(text, newline="")))
    rows = int(PROD_OPTIONS["seed_rows"])
    assert len(messages) == rows
    assert [(m["area_code"], m["phone"]) for m in messages] == [
        (c["area_code"], c["phone"]) for c in customers
    ], "one message per seeded customer, same order"
    by_customer = {(m["area_code"], m["phone"]): m["message"] for m in messages}
    assert by_customer[("415", "358-1921")] != by_customer[("408", "375-9999")]
    assert all(m["received_at"] for m in messages)


def test_seed_messages_are_those_training_generates_for_the_seeded_customers(
    prod_synth: Synthesized,
) -> None:
    from training.synthetic import generate_customers, generate_messages

    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    path = prod_synth.asset_path(function["Properties"]["Environment"]["Variables"]["SEED_MESSAGES_S3_URI"])
    with path.open(encoding="utf-8", newline="") as csv_file:
        uploaded = [row["message"] for row in csv.DictReader(csv_file)]
    customers = generate_customers(int(PROD_OPTIONS["seed_rows"]), seed=SEED_DATA_RANDOM_SEED)
    assert uploaded == list(generate_messages(customers, seed=SEED_DATA_RANDOM_SEED)["message"])


def test_custom_resource_reruns_when_the_seed_messages_change(prod_synth: Synthesized) -> None:
    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    (_, resource) = prod_synth.only("Custom::ChurnguardDatabaseBootstrap")
    assert resource["Properties"]["SeedData"] == env["SEED_DATA_S3_URI"]
    assert resource["Properties"]["SeedMessages"] == env["SEED_MESSAGES_S3_URI"]


def test_seed_objects_are_the_only_s3_objects_the_seed_readers_may_get(prod_synth: Synthesized) -> None:
    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    seed_keys = {asset_key(env[name]) for name in SEED_URI_VARIABLES}
    for role, role_id in seed_roles(prod_synth).items():
        statements = prod_synth.role_statements(role_id)
        reads = [s for s in statements if s["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]]
        resources = [resource for s in reads for resource in as_list(s["Resource"])]
        assert {object_key_of(resource) for resource in resources} == seed_keys, role
        assert len(resources) == 2, role
        assert "*" not in json.dumps(resources), role


def test_the_bootstrap_function_lists_only_the_seed_keys(prod_synth: Synthesized) -> None:
    """Its HEAD needs ListBucket only to tell a missing object (404) from a forbidden one (403)."""
    (_, function) = prod_synth.function_with_handler(BOOTSTRAP_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    statements = prod_synth.role_statements(seed_roles(prod_synth)["bootstrap"])
    asset_bucket = [s for s in statements if ASSET_BUCKET in json.dumps(s["Resource"])]
    assert len(asset_bucket) == 4, "GetObject and a ListBucket limited to the key, for each CSV"
    listings = [s for s in asset_bucket if s["Action"] == "s3:ListBucket"]
    prefixes = [s["Condition"]["StringEquals"]["s3:prefix"] for s in listings]
    assert set(prefixes) == {asset_key(env[name]) for name in SEED_URI_VARIABLES} and len(prefixes) == 2


def test_aurora_lists_the_seed_bucket_as_aws_documents_it(prod_synth: Synthesized) -> None:
    """AWS's Aurora S3 policy grants ListBucket on the bucket with no condition: so does the stack."""
    statements = prod_synth.role_statements(seed_roles(prod_synth)["aurora s3"])
    asset_bucket = [s for s in statements if ASSET_BUCKET in json.dumps(s["Resource"])]
    (listing,) = [s for s in asset_bucket if s["Action"] == "s3:ListBucket"]
    assert "Condition" not in listing
    assert not json.dumps(listing["Resource"]).endswith('*"]}'), "the bucket itself, not its objects"
    assert len(asset_bucket) == 3, "GetObject on each CSV and one listing of their bucket"


def test_without_seed_data_nothing_is_uploaded_or_granted(default_synth: Synthesized) -> None:
    (_, function) = default_synth.function_with_handler(BOOTSTRAP_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    assert not set(SEED_URI_VARIABLES) & set(env)
    (_, resource) = default_synth.only("Custom::ChurnguardDatabaseBootstrap")
    assert resource["Properties"]["SeedData"] == resource["Properties"]["SeedMessages"] == ""
    for role, role_id in seed_roles(default_synth).items():
        statements = default_synth.role_statements(role_id)
        assert ASSET_BUCKET not in json.dumps(statements), role


def test_aurora_decrypts_the_seed_csvs_only_with_a_given_bootstrap_key(
    default_synth: Synthesized, prod_synth: Synthesized
) -> None:
    for synth, expected in ((default_synth, []), (prod_synth, [PROD_OPTIONS["asset_key_arn"]])):
        statements = synth.role_statements(seed_roles(synth)["aurora s3"])
        assert [s["Resource"] for s in statements if s["Action"] == "kms:Decrypt"] == expected


# CloudFormation's limit on a template's size (uploaded through S3) is 1 MB.
TEMPLATE_LIMIT_BYTES = 1_000_000


def test_a_300_tree_in_database_model_synthesizes_with_every_statement_within_the_data_api_limit(
    in_database_synth: Synthesized, large_model_dir: Path
) -> None:
    """The SQL reaches the bootstrap as files in its function's code asset, not in the template: the
    custom resource carries only their digest, so the model's size touches no CloudFormation limit,
    and the bootstrap sends each statement of those files alone."""
    bundled = bundled_sql(in_database_synth)
    rendered = render_deploy_sql(
        large_model_dir, inference_mode="in_database", endpoint_name=None, call_reasons="off"
    )
    assert [file.text for file in bundled] == [file.text for file in rendered]
    statements = [text for file in bundled for text in file.statements()]
    assert max(len(text) for text in statements) <= MAX_STATEMENT_CHARS
    assert sum(len(text) for text in statements) > 5 * MAX_STATEMENT_CHARS, "the model is in the bundle"
    in_database_synth.assertions.has_resource_properties(
        "Custom::ChurnguardDatabaseBootstrap",
        Match.object_equals(
            {
                "ServiceToken": Match.any_value(),
                "SqlDigest": sql_digest(bundled),
                "UserSecrets": [
                    {"Ref": in_database_synth.user_secret_id("churnguard_app")},
                    {"Ref": in_database_synth.user_secret_id("churnguard_api")},
                ],
                "SeedData": "",
                "SeedMessages": "",
            }
        ),
    )
    template = json.dumps(in_database_synth.template)
    assert len(template.encode("utf-8")) < TEMPLATE_LIMIT_BYTES / 4
    assert "will_churn" not in template
