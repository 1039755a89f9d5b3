"""The deployed agent console (`-c console=true`): a private page bucket read only by CloudFront
through origin access control, HTTPS only with security headers, a Cognito pool without self sign-up,
and an API whose every route needs the pool's JWT. Off by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized, as_list

pytestmark = pytest.mark.cdk
CONSOLE_HANDLER = "handler.handler"


def _console_bucket(synth: Synthesized) -> tuple[str, dict]:
    (found,) = [
        (logical_id, bucket)
        for logical_id, bucket in synth.resources("AWS::S3::Bucket").items()
        if logical_id.startswith("ConsolePage")
    ]
    return found


def test_console_is_off_by_default(default_synth: Synthesized) -> None:
    for resource_type in (
        "AWS::CloudFront::Distribution",
        "AWS::Cognito::UserPool",
        "AWS::ApiGatewayV2::Api",
    ):
        assert default_synth.resources(resource_type) == {}
    assert "ConsoleUrl" not in default_synth.template["Outputs"]


def test_synthesizes_with_no_unacknowledged_nag_finding(console_synth: Synthesized) -> None:
    assert console_synth.nag_violations() == []


def test_page_bucket_is_private_encrypted_and_tls_only(console_synth: Synthesized) -> None:
    logical_id, bucket = _console_bucket(console_synth)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    (policy,) = [
        p
        for p in console_synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    for statement in statements:
        assert statement["Principal"] != "*" or statement["Effect"] == "Deny", statement
    (read,) = [
        s
        for s in statements
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert as_list(read["Action"]) == ["s3:GetObject"]
    assert "AWS:SourceArn" in read["Condition"]["StringEquals"]  # this distribution only
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_cloudfront_reads_through_oac_https_only_with_security_headers(console_synth: Synthesized) -> None:
    (oac_id, oac) = console_synth.only("AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    (_, distribution) = console_synth.only("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    (_, headers) = console_synth.only("AWS::CloudFront::ResponseHeadersPolicy")
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    csp = str(security["ContentSecurityPolicy"])  # joined with the region token: check its parts
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "default-src 'none'" in csp


def test_cognito_takes_no_self_sign_up_and_offers_mfa(console_synth: Synthesized) -> None:
    (_, pool) = console_synth.only("AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] in ("OPTIONAL", "ON")
    assert "SOFTWARE_TOKEN_MFA" in props["EnabledMfas"]
    (_, client) = console_synth.only("AWS::Cognito::UserPoolClient")
    assert client["Properties"]["GenerateSecret"] is False
    assert client["Properties"]["AllowedOAuthFlows"] == ["code"]


def test_the_pool_has_the_supervisors_group_the_console_api_reads(console_synth: Synthesized) -> None:
    from churnguard.agent_identity import SUPERVISORS_GROUP

    (_, group) = console_synth.only("AWS::Cognito::UserPoolGroup")
    (pool_id, _) = console_synth.only("AWS::Cognito::UserPool")
    assert group["Properties"]["GroupName"] == SUPERVISORS_GROUP
    assert group["Properties"]["UserPoolId"] == {"Ref": pool_id}


def test_the_client_signs_in_the_page_by_srp_and_verify_only_through_the_admin_api(
    console_synth: Synthesized,
) -> None:
    """ADMIN_USER_PASSWORD_AUTH (AdminInitiateAuth, which needs IAM credentials) lets `churnguard
    verify` sign a temporary agent in; the password flow a browser could call with the client id
    alone (USER_PASSWORD_AUTH) and custom Lambda flows stay off."""
    (_, client) = console_synth.only("AWS::Cognito::UserPoolClient")
    assert sorted(client["Properties"]["ExplicitAuthFlows"]) == [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    (client_id, _) = console_synth.only("AWS::Cognito::UserPoolClient")
    assert console_synth.template["Outputs"]["ConsoleClientId"]["Value"] == {"Ref": client_id}


def test_every_api_route_requires_the_jwt_authorizer(console_synth: Synthesized) -> None:
    (authorizer_id, authorizer) = console_synth.only("AWS::ApiGatewayV2::Authorizer")
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    assert authorizer["Properties"]["IdentitySource"] == ["$request.header.Authorization"]
    (pool_id, _) = console_synth.only("AWS::Cognito::UserPool")
    (client_id, _) = console_synth.only("AWS::Cognito::UserPoolClient")
    jwt = authorizer["Properties"]["JwtConfiguration"]
    assert jwt["Audience"] == [{"Ref": client_id}] and pool_id in str(jwt["Issuer"])
    routes = console_synth.resources("AWS::ApiGatewayV2::Route")
    assert sorted(route["Properties"]["RouteKey"] for route in routes.values()) == [
        "POST /api/customer",
        "POST /api/outcome",
        "POST /api/recommend",
    ]
    for route in routes.values():
        assert route["Properties"]["AuthorizationType"] == "JWT"
        assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}
    (_, api) = console_synth.only("AWS::ApiGatewayV2::Api")
    assert api["Properties"]["CorsConfiguration"]["AllowMethods"] == ["POST"]
    assert "*" not in str(api["Properties"]["CorsConfiguration"]["AllowOrigins"])


def test_console_function_shares_the_engine_code_and_reads_only_the_api_users_secret(
    console_synth: Synthesized, trained_model_dir: Path
) -> None:
    functions = [
        (logical_id, function)
        for logical_id, function in console_synth.resources("AWS::Lambda::Function").items()
        if logical_id.startswith("ConsoleHandler")
    ]
    ((_, function),) = functions
    bundle = console_synth.asset_path(function["Properties"]["Code"]["S3Key"])
    repo = Path(__file__).resolve().parents[2]
    for shared in ("churnguard/http_api.py", "churnguard/lambda_runtime.py"):
        assert (bundle / shared).read_bytes() == (repo / shared).read_bytes()
    assert not (bundle / "recommend").exists()
    assert (bundle / "handler.py").read_bytes() == (repo / "lambda/console/handler.py").read_bytes()
    assert (bundle / "model" / "model.json").read_bytes() == (trained_model_dir / "model.json").read_bytes()
    env = function["Properties"]["Environment"]["Variables"]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = console_synth.role_statements(role_id)
    secret_reads = [s for s in statements if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    api_secret = {"Ref": console_synth.user_secret_id("churnguard_api")}
    assert env["API_SECRET_ARN"] == api_secret and "APP_SECRET_ARN" not in env
    assert [s["Resource"] for s in secret_reads] == [api_secret]
    data_api = next(s for s in statements if "rds-data:ExecuteStatement" in as_list(s["Action"]))
    assert data_api["Resource"] == env["CLUSTER_ARN"]
    assert {"ConsoleUrl", "ConsoleApiUrl", "ConsoleUserPoolId"} <= set(console_synth.template["Outputs"])


def test_console_option_takes_true_or_false_only() -> None:
    from infra.config import DEFAULTS, OptionError, validate_options

    assert validate_options({**DEFAULTS, "console": "true"}, repo_root=Path("/repo")).console is True
    assert validate_options(DEFAULTS, repo_root=Path("/repo")).console is False
    with pytest.raises(OptionError, match="option console='yes' is not allowed; use one of: true, false"):
        validate_options({**DEFAULTS, "console": "yes"}, repo_root=Path("/repo"))


def test_the_published_page_may_call_only_its_own_api_and_sign_in_hosts(console_synth: Synthesized) -> None:
    """The response header cannot name the API (a circular reference through CORS); the published
    index.html narrows connect-src to the API's exact endpoint and the pool's own sign-in domain."""
    (_, headers) = console_synth.only("AWS::CloudFront::ResponseHeadersPolicy")
    csp = str(headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"])
    assert "*.auth." not in csp and ".auth." in csp  # the sign-in host is exact already in the header
    (api_id, _) = console_synth.only("AWS::ApiGatewayV2::Api")
    (_, publish) = console_synth.only("Custom::CDKBucketDeployment")
    markers = publish["Properties"]["SourceMarkers"]
    assert {"Fn::GetAtt": [api_id, "ApiEndpoint"]} in [
        value for marker in markers for value in marker.values()
    ]
    assert publish["Properties"]["SystemMetadata"]["cache-control"] == "no-cache"


def test_the_page_with_exact_hosts_is_the_local_page_plus_one_csp_element() -> None:
    from infra.console import PAGE_DIR, page_with_exact_hosts

    local = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    page = page_with_exact_hosts("https://abc123.execute-api.eu-west-1.amazonaws.com", "https://x.auth.y")
    added = set(page.splitlines()) - set(local.splitlines())
    assert added == {
        '<meta http-equiv="Content-Security-Policy" content="connect-src \'self\' '
        'https://abc123.execute-api.eu-west-1.amazonaws.com https://x.auth.y">'
    }
