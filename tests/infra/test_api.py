"""The recommendation API: an AWS_IAM Function URL on the recommend Lambda, with the model bundled."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized

RECOMMEND_HANDLER = "handler.handler"
# What aws_secretsmanager.Secret.grant_read grants.
READ_SECRET_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def test_function_url_requires_iam_signatures(every_synth: Synthesized) -> None:
    (_, url) = every_synth.only("AWS::Lambda::Url")
    assert set(url["Properties"]) == {"AuthType", "TargetFunctionArn"}
    assert url["Properties"]["AuthType"] == "AWS_IAM"
    # The URL's function is the recommend handler (the console's function, with the same handler
    # name, sits behind its own JWT-authorized HTTP API instead).
    function_id, attribute = url["Properties"]["TargetFunctionArn"]["Fn::GetAtt"]
    target = every_synth.resources("AWS::Lambda::Function")[function_id]
    assert attribute == "Arn" and target["Properties"]["Handler"] == RECOMMEND_HANDLER
    for permission in every_synth.resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["Principal"] != "*", "no anonymous invoke permission"


def test_bundle_holds_handler_package_and_model(default_synth: Synthesized, trained_model_dir: Path) -> None:
    (_, function) = default_synth.function_with_handler(RECOMMEND_HANDLER)
    props = function["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Environment"]["Variables"]["MODEL_DIR"] == "model"
    bundle = default_synth.asset_path(props["Code"]["S3Key"])
    assert (bundle / "handler.py").is_file()
    assert (bundle / "churnguard" / "engine").is_dir()
    for name in ("metadata.json", "model.json"):
        assert (bundle / "model" / name).read_bytes() == (trained_model_dir / name).read_bytes()


def test_function_reads_only_the_api_users_secret(default_synth: Synthesized) -> None:
    (_, function) = default_synth.function_with_handler(RECOMMEND_HANDLER)
    env = function["Properties"]["Environment"]["Variables"]
    assert set(env) == {
        "CLUSTER_ARN",
        "API_SECRET_ARN",
        "DATABASE_NAME",
        "MODEL_DIR",
        "CHURNGUARD_CALL_REASONS",
    }
    api_secret = {"Ref": default_synth.user_secret_id("churnguard_api")}
    assert env["API_SECRET_ARN"] == api_secret
    assert env["CHURNGUARD_CALL_REASONS"] == "bedrock"
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    default_synth.assertions.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": role_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": READ_SECRET_ACTIONS, "Resource": api_secret})]
                )
            },
        },
    )
    statements = default_synth.role_statements(role_id)
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    assert [s["Resource"] for s in secret_reads] == [api_secret]  # not the app user's, not the admin's
    data_api = next(s for s in statements if "rds-data:ExecuteStatement" in s["Action"])
    assert data_api["Resource"] == env["CLUSTER_ARN"]
    assert default_synth.template["Outputs"]["RecommendApiUrl"]["Value"] == {
        "Fn::GetAtt": [default_synth.only("AWS::Lambda::Url")[0], "FunctionUrl"]
    }
