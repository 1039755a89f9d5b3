"""The deployed agent console (`-c console=true`): the page behind CloudFront, agents signed in by
Cognito, and the console's API behind a JWT authorizer calling the same engine as the recommend API.

- The page (churnguard/console/static, the local console's own files) lives in a private,
  encrypted, TLS-only bucket that only this CloudFront distribution can read (origin access control);
  CloudFront serves it over HTTPS only with security headers (CSP, HSTS, no framing, no sniffing).
- Agents sign in through a Cognito user pool that administrators fill: no self sign-up, MFA by
  authenticator app available (required in prod), the code flow with PKCE and no client secret.
- The API (API Gateway HTTP API) has only the console's three POST routes, each behind a JWT
  authorizer for that user pool and app client; a call without a valid token never reaches the
  function. CORS admits the console's own origin only. The function is lambda/console, bundled with
  the recommend API's handler and the model, and reads Aurora through the Data API as the API user.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from churnguard.agent_identity import SUPERVISORS_GROUP
from infra.api import EngineWiring, engine_function
from infra.config import REPO_ROOT
from infra.lambda_assets import stage_bundle
from infra.log_retention import LOG_RETENTION
from infra.nag import acknowledge, logical_id

PAGE_DIR = REPO_ROOT / "churnguard" / "console" / "static"
INDEX_HTML = "index.html"
CALLS = ("customer", "recommend", "outcome")
# An agent's session: sign in again after a shift, not every hour of it.
ACCESS_TOKEN_HOURS = 1
REFRESH_TOKEN_HOURS = 8
# The API answers people at a call centre: a few calls a second per agent, bursts well above.
API_RATE_LIMIT_PER_S = 50
API_BURST_LIMIT = 100


def page_with_exact_hosts(api_endpoint: str, sign_in_host: str) -> str:
    """The console's index.html with a CSP <meta> element naming the only hosts the page may call: its
    own API and its own Cognito domain (the response header cannot name the API, see _distribution)."""
    page = (PAGE_DIR / INDEX_HTML).read_text(encoding="utf-8")
    policy = f"connect-src 'self' {api_endpoint} {sign_in_host}"
    anchor = '<meta charset="utf-8">'
    assert page.count(anchor) == 1, "index.html must declare its charset once, first in <head>"
    return page.replace(anchor, f'{anchor}\n<meta http-equiv="Content-Security-Policy" content="{policy}">')


class AgentConsole(Construct):
    """The console's page (bucket + CloudFront), sign-in (Cognito) and API (HTTP API + Lambda)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        wiring: EngineWiring,
        access_log_bucket: s3.IBucket,
        sign_in_domain_prefix: str,
        user_pool_name: str,
        require_mfa: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        removal_policy = wiring.removal_policy
        destroy = removal_policy == cdk.RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self,
            "Page",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="console-page/",
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        self.sign_in_host = f"https://{sign_in_domain_prefix}.auth.{cdk.Aws.REGION}.amazoncognito.com"
        self.distribution = self._distribution()
        self.url = f"https://{self.distribution.distribution_domain_name}/"
        self.user_pool, self.client, self.sign_in = self._sign_in(
            sign_in_domain_prefix, user_pool_name, require_mfa=require_mfa, removal_policy=removal_policy
        )
        self.handler = engine_function(
            self,
            description="agent console API",
            bundle=stage_bundle("console", handler_module="handler", extra_files=wiring.model_files()),
            wiring=wiring,
        )
        self.api = self._api(removal_policy)
        self._publish_page()

    def _distribution(self) -> cloudfront.Distribution:
        # The sign-in host is known before anything is created (its prefix is ours). The API's host is
        # not: it is chosen when the API is created, and the API's CORS names this distribution, so the
        # header cannot name the API without a circular reference. The header therefore allows the
        # region's API Gateway hosts, and the published index.html narrows that to the API's exact host
        # with a CSP <meta> element (a browser enforces both policies: only what each allows passes).
        connect_src = f"'self' https://*.execute-api.{cdk.Aws.REGION}.amazonaws.com {self.sign_in_host}"
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="churnguard agent console: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=(
                        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                        f"connect-src {connect_src}; base-uri 'none'; form-action 'none'; "
                        "frame-ancestors 'none'"
                    ),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(365), include_subdomains=True, override=True
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="churnguard agent console",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                response_headers_policy=headers,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "Agents may sign in from any country the call centre works in; access is controlled by "
            "Cognito sign-in on the API, and the page itself holds no data.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "The distribution serves three static files with no data; every call that reads or writes "
            "data goes to the API, which needs a Cognito token. A WAF web ACL (about $5 a month plus "
            "rules) can be attached when a deployment's threat model asks for it.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR3",
            "The page's requests carry no customer data; every data call is logged by the API's access "
            "log and the function's log group. CloudFront standard logs would need an ACL-enabled bucket.",
        )
        acknowledge(
            distribution,
            "AwsSolutions-CFR4",
            "The distribution uses CloudFront's default certificate (*.cloudfront.net), whose TLS policy "
            "cannot be set; a custom domain with its own certificate and TLSv1.2_2021 is a per-deployment "
            "choice. Viewers are refused plain HTTP (HTTPS only).",
        )
        return distribution

    def _sign_in(
        self, domain_prefix: str, pool_name: str, *, require_mfa: bool, removal_policy: cdk.RemovalPolicy
    ) -> tuple[cognito.UserPool, cognito.UserPoolClient, cognito.UserPoolDomain]:
        # Named with the project prefix so `churnguard teardown` can find a pool a prod stack retained.
        user_pool = cognito.UserPool(
            self,
            "Agents",
            user_pool_name=pool_name,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            mfa=cognito.Mfa.REQUIRED if require_mfa else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=removal_policy != cdk.RemovalPolicy.DESTROY,
            removal_policy=removal_policy,
        )
        # Members may record or correct any agent's outcome (churnguard.agent_identity); their access
        # tokens carry the group in `cognito:groups`. An administrator adds them; a group costs nothing.
        cognito.CfnUserPoolGroup(
            self,
            "Supervisors",
            user_pool_id=user_pool.user_pool_id,
            group_name=SUPERVISORS_GROUP,
            description="may record or correct the outcome of any agent's offer, at any time",
        )
        if not require_mfa:
            acknowledge(
                user_pool,
                "AwsSolutions-COG2",
                "MFA (authenticator app) is available to every agent and required in prod; a dev stack "
                "leaves it optional so a test user can be created and used without a second device.",
            )
        acknowledge(
            user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan (threat protection) is billed per monthly active user; the pool takes "
            "no sign-ups, its users are created by an administrator, and MFA is available.",
        )
        acknowledge(
            user_pool,
            "AwsSolutions-COG3",
            "Threat protection needs the Plus feature plan (billed per monthly active user); the pool "
            "takes no sign-ups, its users are created by an administrator, and MFA is available.",
        )
        domain = user_pool.add_domain(
            "SignIn", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )
        client = user_pool.add_client(
            "Console",
            generate_secret=False,  # a page cannot keep a secret: the code flow with PKCE instead
            # user_srp for the page's sign-in; admin_user_password for `churnguard verify`, whose
            # temporary agent signs in with AdminInitiateAuth: callable only with IAM credentials
            # allowed cognito-idp:AdminInitiateAuth on this pool, never by a browser with the client
            # id alone (the public USER_PASSWORD_AUTH flow stays off). docs/verify.md quotes AWS.
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID],
                callback_urls=[self.url],
                logout_urls=[self.url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(ACCESS_TOKEN_HOURS),
            id_token_validity=cdk.Duration.hours(ACCESS_TOKEN_HOURS),
            refresh_token_validity=cdk.Duration.hours(REFRESH_TOKEN_HOURS),
        )
        return user_pool, client, domain

    def _api(self, removal_policy: cdk.RemovalPolicy) -> apigwv2.HttpApi:
        api = apigwv2.HttpApi(
            self,
            "Api",
            description="churnguard agent console API (Cognito JWT required)",
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[self.url.rstrip("/")],
                allow_methods=[apigwv2.CorsHttpMethod.POST],
                allow_headers=["authorization", "content-type"],
                max_age=cdk.Duration.hours(1),
            ),
        )
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "Agents", self.user_pool, user_pool_clients=[self.client]
        )
        integration = integrations.HttpLambdaIntegration("Console", self.handler.function)
        for call in CALLS:
            api.add_routes(
                path=f"/api/{call}",
                methods=[apigwv2.HttpMethod.POST],
                integration=integration,
                authorizer=authorizer,
            )
        access_log = logs.LogGroup(
            self, "ApiAccessLog", retention=LOG_RETENTION, removal_policy=removal_policy
        )
        stage = api.default_stage
        assert stage is not None
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        # No request line, path or body: the calls carry phone numbers in their bodies only, and the
        # log keeps who called what and how it went.
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_log.log_group_arn,
            format=json.dumps(
                {
                    "requestId": "$context.requestId",
                    "time": "$context.requestTime",
                    "route": "$context.routeKey",
                    "status": "$context.status",
                    "agent": "$context.authorizer.claims.sub",
                    "authorizerError": "$context.authorizer.error",
                    "latencyMs": "$context.responseLatency",
                }
            ),
        )
        cfn_stage.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            throttling_rate_limit=API_RATE_LIMIT_PER_S, throttling_burst_limit=API_BURST_LIMIT
        )
        return api

    def _publish_page(self) -> None:
        config = {
            "api_base": self.api.api_endpoint,
            "auth": {
                "domain": self.sign_in.base_url(),
                "client_id": self.client.user_pool_client_id,
                "redirect_uri": self.url,
            },
        }
        deployment = s3deploy.BucketDeployment(
            self,
            "PublishPage",
            sources=[
                s3deploy.Source.asset(str(PAGE_DIR), exclude=[INDEX_HTML]),
                s3deploy.Source.data(
                    INDEX_HTML, page_with_exact_hosts(self.api.api_endpoint, self.sign_in_host)
                ),
                s3deploy.Source.json_data("config.json", config),
            ],
            destination_bucket=self.bucket,
            # No CloudFront invalidation: the distribution does not cache (CACHING_DISABLED), so a new
            # page shows at once, and the publisher needs no cloudfront:CreateInvalidation on "*".
            # Browsers revalidate every file (ETag) instead of trusting a copy from a previous deploy.
            cache_control=[s3deploy.CacheControl.no_cache()],
            prune=True,
            memory_limit=256,
        )
        acknowledge(
            deployment.handler_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment function (copies the page into the bucket at deploy time) uses AWS's "
            "basic execution policy to write its own logs.",
        )
        self._acknowledge_publisher(deployment)

    def _acknowledge_publisher(self, deployment: s3deploy.BucketDeployment) -> None:
        """CDK's BucketDeployment function copies the page in at deploy time, with the permissions
        CDK gives it; each wildcard is acknowledged by name so a new one still fails synthesis."""
        role = deployment.handler_role
        why = {
            "Action::s3:GetObject*": "read the page's files from the CDK asset bucket",
            "Action::s3:GetBucket*": "read the two buckets' locations and settings",
            "Action::s3:List*": "list the page bucket to prune files the new page no longer has",
            "Action::s3:DeleteObject*": "delete those pruned files from the page bucket",
            "Action::s3:Abort*": "abort an interrupted upload to the page bucket",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*": (
                "read the page's files, staged by CDK under hashed names in the CDK asset bucket"
            ),
            f"Resource::<{logical_id(self.bucket)}.Arn>/*": "write any of the page's files into its bucket",
        }
        for finding, purpose in why.items():
            acknowledge(
                role,
                f"AwsSolutions-IAM5[{finding}]",
                f"CDK's BucketDeployment function needs to {purpose}; it runs only during a deployment.",
            )
        function = role.node.scope
        assert function is not None
        acknowledge(
            function,
            "AwsSolutions-L1",
            "CDK's BucketDeployment function: its runtime is chosen and upgraded by aws-cdk-lib, not here.",
        )
