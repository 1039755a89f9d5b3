"""verify's AWS half at the boto3 boundary: the Data API (records, DatabaseResumingException,
BadRequestException carrying Aurora's error text), S3 and the Function URL, answered as the real
services answer, with the trained model of the test session."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from churnguard.drivers import DriverExplainer
from churnguard.lifecycle.identity import read_identity
from churnguard.verify.aws_target import RESUME_DELAYS_S, AwsTarget
from churnguard.verify.checks import CHECKS, SENTENCE, SkipCheck, VerifyContext, check_console
from churnguard.verify.report import Report, verdict
from churnguard.verify.runner import run_checks
from tests.verify.aws_stubs import (
    AURORA_API_USER_DEFAULT_ROLES,
    AURORA_API_USER_GRANTS,
    OUTPUTS,
    REGION,
    SHOW_GRANTS_COLUMN,
    CognitoPool,
    ConsoleRoutes,
    FunctionUrl,
    RecordedClient,
    aurora_error,
    customer_row,
    data_api_error,
    records,
    updated,
)
from training.synthetic import generate_customers

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret-example-key", "session-token-example")
CUSTOMER = (415, "358-1921")


@pytest.fixture(scope="module")
def explainer(trained_model_dir: Path) -> DriverExplainer:
    return DriverExplainer.from_model_dir(trained_model_dir)


@pytest.fixture(scope="module")
def customer() -> dict:
    return customer_row(generate_customers(200, seed=3), *CUSTOMER)


class Deployment:
    """A stubbed deployment: queue the Data API's answers check by check, then run verify."""

    def __init__(self, explainer: DriverExplainer, customer: dict, model_dir: Path, api: FunctionUrl) -> None:
        self.explainer = explainer
        self.customer = customer
        self.model_dir = model_dir
        self.rds = RecordedClient("rds-data")
        self.s3 = RecordedClient("s3")
        self.api = api
        self.http = ConsoleRoutes(api)
        self.cognito = CognitoPool()
        self.progress: list[str] = []
        self.slept: list[float] = []
        self.probability = explainer.ensemble.probability(explainer.spec.values_for(customer))

    def sql(self, response: dict) -> None:
        self.rds.answer("execute_statement", response)

    def wake(self) -> None:
        self.sql(records({"answer": 1}))

    def bootstrap(
        self,
        live_model_id: str | None = None,
        comment: str | None = None,
        grants: Sequence[str] = AURORA_API_USER_GRANTS,
        default_roles: Sequence[str] = AURORA_API_USER_DEFAULT_ROLES,
    ) -> None:
        """The tables, will_churn's parameters, then the registry: `live_model_id` (default the
        model's own) and will_churn's COMMENT (default none, as when Aurora refused it on the alias);
        then, for the check that follows, the API user's `grants` and `default_roles` (by default as the
        bootstrap leaves them) after the database's name and its Bedrock alias."""
        identity = read_identity(self.model_dir)
        self.sql(records(*({"name": table} for table in ("customers", "customer_messages", "offers_log"))))
        self.sql(records(*({"name": name} for name in self.explainer.spec.names)))
        self.sql(records({"n": 1}))  # the models table exists
        self.sql(records({"id": live_model_id or identity.model_id, "cutoff": identity.cutoff}))
        self.sql(records({"comment": comment}))  # live_model's consistency check
        if live_model_id in (None, identity.model_id):  # the detail reads it again when the ids agree
            self.sql(records({"comment": comment}))
        self.sql(records({"name": OUTPUTS.database, "bedrock": 1}))
        self.sql(records(*({SHOW_GRANTS_COLUMN: line} for line in grants)))
        self.sql(records(*({"role": role, "host": "%"} for role in default_roles)))

    def sentiment(self) -> None:
        self.sql(records({"sentiment": "POSITIVE", "confidence": 0.999771}))

    def call_reason(self, label: str | None = "cancellation") -> None:
        self.sql(records({"label": label, "bedrock": 1}))

    def will_churn(self, probability: float | None = None) -> None:
        self.sql(records(self.customer))
        self.sql(records({"churn_probability": self.probability if probability is None else probability}))

    def export_load(self, rows: int = 200) -> None:
        self.sql(updated())  # CREATE TABLE scratch LIKE customers (admin)
        self.sql(updated(rows))  # SELECT ... INTO OUTFILE S3 (app)
        self.sql(updated(rows))  # LOAD DATA FROM S3 PREFIX into the scratch table (app)
        self.sql(records({"exported": rows, "loaded": rows, "identical": rows}))
        self.sql(updated())  # DROP TABLE scratch (admin)
        self.s3.answer(
            "list_objects_v2", {"Contents": [{"Key": "x", "Size": 1}], "KeyCount": 1, "IsTruncated": False}
        )
        self.s3.answer("delete_objects", {})

    def call_centre(self) -> None:
        row = {
            **self.customer,
            "churn_probability": self.probability,
            "sentiment": "POSITIVE",
            "confidence": 0.99,
        }
        self.sql(records(row))

    def offer_cleanup(self) -> None:
        self.sql(updated(1))

    def run(self) -> Report:
        target = AwsTarget(
            outputs=OUTPUTS,
            region=REGION,
            rds_data=self.rds.client,
            s3=self.s3.client,
            credentials=CREDENTIALS,
            progress=self.progress.append,
            sleep=self.slept.append,
            opener=self.http,
            cognito=self.cognito.stub.client,
        )
        context = VerifyContext(target=target, explainer=self.explainer, model_dir=self.model_dir)
        if not self.cognito.queued:  # unless a test set the pool up: MFA, as in prod
            self.cognito.signs_in(mfa=True)
        with self.rds, self.s3, self.cognito.stub:
            results = run_checks(context, CHECKS, hints=target.hints)
            self.rds.stubber.assert_no_pending_responses()
        return Report(target=target.description, checks=results)

    def statements(self) -> list[tuple[str, str]]:
        """(which secret, SQL) of every ExecuteStatement, in order."""
        secret = {OUTPUTS.app_secret_arn: "app", OUTPUTS.admin_secret_arn: "admin"}
        return [
            (secret[params["secretArn"]], params["sql"])
            for operation, params in self.rds.requests
            if operation == "ExecuteStatement"
        ]


def api_answer(deployment: Deployment, **overrides: object) -> dict:
    return {
        "offer": "credit_5",
        "rule": "positive_at_risk",
        "churn_probability": deployment.probability,
        "sentiment": "POSITIVE",
        "confidence": 0.99,
        "offer_id": 42,
        **overrides,
    }


@pytest.fixture()
def deployment(explainer, customer, trained_model_dir) -> Deployment:
    return Deployment(explainer, customer, trained_model_dir, FunctionUrl(200, {}))


def queue_all(deployment: Deployment, live_model_id: str | None = None, **api_user: Sequence[str]) -> None:
    """Every check's answers; `api_user` may set the `grants` and `default_roles` bootstrap() answers."""
    deployment.bootstrap(live_model_id, **api_user)
    deployment.sentiment()
    deployment.call_reason()
    deployment.will_churn()
    deployment.export_load()
    deployment.call_centre()
    deployment.api.body = api_answer(deployment)
    deployment.offer_cleanup()


def statuses(report: Report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def test_a_paused_cluster_is_waited_for_visibly_then_every_check_passes(deployment):
    deployment.rds.fail(
        "execute_statement",
        data_api_error(
            "DatabaseResumingException",
            "The Aurora DB instance is resuming after being auto-paused. "
            "Please wait a few seconds and try again.",
        ),
    )
    deployment.wake()
    queue_all(deployment)

    report = deployment.run()

    assert set(statuses(report).values()) == {"pass"}, [c for c in report.checks if c.status != "pass"]
    assert verdict(report) == "all checks passed"
    assert deployment.slept == [RESUME_DELAYS_S[0]]
    assert deployment.progress[0].startswith("the Aurora cluster is paused (auto-pause) and resuming")
    assert "after resuming from auto-pause" in report.checks[0].detail


def test_the_live_model_is_checked_and_a_missing_comment_on_the_alias_is_explained(deployment):
    deployment.wake()
    queue_all(deployment)

    report = deployment.run()

    detail = {check.name: check for check in report.checks}["bootstrap_sql"].detail
    model_id = read_identity(deployment.model_dir).model_id
    assert f"live model {model_id} (will_churn carries no churnguard COMMENT" in detail
    assert "RefusedOptional" in detail


def test_a_registry_naming_another_live_model_fails_the_bootstrap_check(deployment):
    deployment.wake()
    queue_all(deployment, live_model_id="0123456789abcdef")

    report = deployment.run()

    check = {check.name: check for check in report.checks}["bootstrap_sql"]
    assert check.status == "fail"
    assert "the registry's live model is 0123456789abcdef, not " in check.detail
    assert (
        check.cause == "the database's models registry names another live model than the one verify was given"
    )
    assert "make deploy OUT=" in check.fix


def test_who_runs_what_and_where_the_export_goes(deployment):
    deployment.wake()
    queue_all(deployment)

    deployment.run()

    statements = deployment.statements()
    admin = [sql.split()[0] for who, sql in statements if who == "admin"]
    # the API user's grants read, then verify's scratch table and its own offers-log row only
    assert admin == ["SELECT", "SHOW", "SELECT", "CREATE", "DROP", "DELETE"]
    export = next(sql for who, sql in statements if "INTO OUTFILE S3" in sql)
    load = next(sql for who, sql in statements if sql.startswith("LOAD DATA FROM S3"))
    assert (export, load) == tuple(sql for who, sql in statements if who == "app" and ("S3" in sql))
    uri = export.split("INTO OUTFILE S3 '")[1].split("'")[0]
    assert uri.startswith(f"s3://{OUTPUTS.bucket}/tmp/churnguard-verify-") and uri.endswith("/customers")
    assert f"PREFIX '{uri}'" in load and "IGNORE INTO TABLE `verify_scratch_" in load
    listed = next(params for op, params in deployment.s3.requests if op == "ListObjectsV2")
    assert listed["Prefix"] == urllib.parse.urlsplit(uri).path.lstrip("/").removesuffix("customers")
    deleted = next(params for op, params in deployment.s3.requests if op == "DeleteObjects")
    assert deleted["Delete"]["Objects"] == [{"Key": "x"}]
    every_request = [params for _, params in deployment.rds.requests]
    assert all(params["resourceArn"] == OUTPUTS.cluster_arn for params in every_request)
    assert all(params.get("database") == "churnguard" for params in every_request)
    bound = [params for params in every_request if params.get("parameters")]
    assert any(
        {"name": "text", "value": {"stringValue": SENTENCE}} in params["parameters"] for params in bound
    )
    assert "358-1921" not in " ".join(sql for _, sql in statements)  # the phone is bound, never in the SQL


def test_the_api_users_grants_on_aurora_pass_read_by_the_admin(deployment):
    deployment.wake()
    queue_all(deployment)

    report = deployment.run()

    check = {check.name: check for check in report.checks}["api_user_grants"]
    assert check.status == "pass"
    assert check.detail.endswith(
        "default roles AWS_BEDROCK_ACCESS, AWS_COMPREHEND_ACCESS, AWS_SAGEMAKER_ACCESS; no S3 role, "
        "no DELETE, no schema change"
    )
    requests = [params for _, params in deployment.rds.requests]
    show = next(params for params in requests if params["sql"].startswith("SHOW GRANTS"))
    default_roles = next(params for params in requests if "mysql.default_roles" in params["sql"])
    assert show["sql"] == "SHOW GRANTS FOR 'churnguard_api'@'%'"
    assert {show["secretArn"], default_roles["secretArn"]} == {OUTPUTS.admin_secret_arn}
    assert {"name": "user", "value": {"stringValue": "churnguard_api"}} in default_roles["parameters"]


def test_an_s3_role_and_a_role_not_made_default_on_aurora_are_named(deployment):
    roles = "`AWS_BEDROCK_ACCESS`@`%`,`AWS_COMPREHEND_ACCESS`@`%`,`AWS_SAGEMAKER_ACCESS`@`%`"
    with_s3 = AURORA_API_USER_GRANTS[-1].replace(roles, roles + ",`AWS_SELECT_S3_ACCESS`@`%`")
    deployment.wake()
    queue_all(
        deployment,
        grants=[*AURORA_API_USER_GRANTS[:-1], with_s3],
        default_roles=["AWS_COMPREHEND_ACCESS", "AWS_SAGEMAKER_ACCESS", "AWS_SELECT_S3_ACCESS"],
    )

    report = deployment.run()

    check = {check.name: check for check in report.checks}["api_user_grants"]
    assert [c.name for c in report.checks if c.status == "fail"] == ["api_user_grants"]
    assert check.detail == (
        "VerifyFailure: the API user holds AWS_SELECT_S3_ACCESS, which lets it write query results to files "
        "in S3; the bootstrap does not grant it; the API user holds AWS_BEDROCK_ACCESS but not as a default "
        "role, so the API's connections do not have it active"
    )
    assert "not the ones the bootstrap gives it" in check.cause  # not read as the app user lacking a role
    assert "REVOKE <role> FROM 'churnguard_api'@'%'" in check.fix


def test_the_api_call_is_signed_for_lambda_in_the_stacks_region(deployment):
    deployment.wake()
    queue_all(deployment)

    deployment.run()

    ((request, timeout),) = deployment.api.requests
    assert request.full_url == OUTPUTS.api_url and request.get_method() == "POST"
    headers = {key.lower(): value for key, value in request.header_items()}
    assert f"/{REGION}/lambda/aws4_request" in headers["authorization"]
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert headers["x-amz-security-token"] == "session-token-example"
    assert 0 < timeout <= 60
    assert b'"phone": "358-1921"' in request.data


def test_comprehend_unreachable_from_isolated_subnets_says_redeploy_with_nat(deployment):
    deployment.wake()
    deployment.bootstrap()
    deployment.rds.fail(
        "execute_statement", aurora_error(1871, "Comprehend API returned error: Network Connection")
    )
    deployment.call_reason()
    deployment.will_churn()
    deployment.export_load()
    deployment.rds.fail(
        "execute_statement", aurora_error(1871, "Comprehend API returned error: Network Connection")
    )
    deployment.api.status, deployment.api.body = (
        503,
        {"error": "the database is unavailable; nothing was recorded, try again"},
    )

    report = deployment.run()

    checks = {check.name: check for check in report.checks}
    assert statuses(report) == {
        "database_awake": "pass",
        "bootstrap_sql": "pass",
        "api_user_grants": "pass",
        "comprehend_sentiment": "fail",
        "bedrock_call_reason": "pass",
        "will_churn": "pass",
        "s3_export_load": "pass",
        "call_centre_statement": "fail",
        "recommend_api": "fail",
        "agent_console": "pass",
    }
    assert "cannot reach Amazon Comprehend" in checks["comprehend_sentiment"].cause
    assert "-c network=nat" in checks["comprehend_sentiment"].fix
    assert "Database error code: 1871" in checks["comprehend_sentiment"].detail
    assert "HTTP 503" in checks["recommend_api"].detail
    assert "server error" in checks["recommend_api"].cause


def test_a_missing_s3_role_is_named_and_verify_still_cleans_up(deployment):
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.call_reason()
    deployment.will_churn()
    deployment.sql(updated())  # CREATE scratch
    deployment.rds.fail(
        "execute_statement",
        aurora_error(
            63985,
            "S3 API returned error: Both aurora_load_from_s3_role and aws_default_s3_role are not specified, "
            "please see documentation for more details",
        ),
    )
    deployment.sql(updated())  # DROP scratch, even after the failure
    deployment.s3.answer("list_objects_v2", {"KeyCount": 0, "IsTruncated": False})
    deployment.call_centre()
    deployment.api.body = api_answer(deployment)
    deployment.offer_cleanup()

    report = deployment.run()

    check = next(check for check in report.checks if check.name == "s3_export_load")
    assert check.status == "fail"
    assert "no usable S3 role" in check.cause
    assert "aws_default_s3_role" in check.fix and "churnguard-dev" in check.fix
    scratch = [sql for who, sql in deployment.statements() if who == "admin" and "verify_scratch_" in sql]
    assert scratch[1].startswith("DROP TABLE IF EXISTS `verify_scratch_")  # dropped despite the failure


@pytest.mark.parametrize(
    ("message", "cause", "fix"),
    [
        (
            "SageMaker API returned error: Endpoint churnguard-dev-churn of account 123456789012 not found.",
            "still being created",
            "describe-endpoint --endpoint-name churnguard-dev-churn",
        ),
        (
            "Access denied; you need (at least one of) the AWS_SAGEMAKER_ACCESS privilege(s) "
            "for this operation",
            "lacks the AWS_SAGEMAKER_ACCESS role",
            "GRANT AWS_SAGEMAKER_ACCESS TO 'churnguard_app'@'%'",
        ),
        (
            "SageMaker API returned error: aws_default_sagemaker_role is not set",
            "no usable SageMaker role",
            "aws_default_sagemaker_role",
        ),
    ],
)
def test_will_churn_failures_from_aurora_ml_get_their_cause(deployment, message, cause, fix):
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.call_reason()
    deployment.sql(records(deployment.customer))
    deployment.rds.fail("execute_statement", aurora_error(1871, message))
    deployment.export_load()
    deployment.rds.fail("execute_statement", aurora_error(1871, message))
    deployment.api.status, deployment.api.body = (
        502,
        {"error": "the call-centre statement returned no churn_probability"},
    )

    report = deployment.run()

    check = next(check for check in report.checks if check.name == "will_churn")
    assert check.status == "fail"
    assert cause in check.cause
    assert fix in check.fix


def test_an_endpoint_serving_another_model_fails_the_agreement(deployment):
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.call_reason()
    deployment.will_churn(probability=deployment.probability + 2e-6)
    deployment.export_load()
    deployment.call_centre()
    deployment.api.body = api_answer(deployment)
    deployment.offer_cleanup()

    report = deployment.run()

    check = next(check for check in report.checks if check.name == "will_churn")
    assert check.status == "fail"
    assert "disagrees with the model" in check.detail and "2.0e-06" in check.detail
    assert "different artifact" in check.cause


def test_a_cluster_still_resuming_after_the_wait_is_not_reported_broken(deployment):
    resuming = data_api_error(
        "DatabaseResumingException", "The Aurora DB instance is resuming after being auto-paused."
    )
    for _ in range(len(RESUME_DELAYS_S) + 1):
        deployment.rds.fail("execute_statement", resuming)

    report = deployment.run()

    awake = report.checks[0]
    assert awake.status == "fail"
    assert "still resuming" in awake.cause and "not a fault" in awake.cause
    assert "again in a minute" in awake.fix
    assert {check.status for check in report.checks[1:]} == {"skip"}
    assert deployment.slept == list(RESUME_DELAYS_S)
    assert len(deployment.progress) == len(RESUME_DELAYS_S)
    assert deployment.progress[-1].startswith("  still resuming after")


def test_a_refused_signature_at_the_function_url_is_explained(deployment):
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.call_reason()
    deployment.will_churn()
    deployment.export_load()
    deployment.call_centre()
    deployment.api.status, deployment.api.body = (
        403,
        {
            "Message": "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
        },
    )

    report = deployment.run()

    check = {check.name: check for check in report.checks}["recommend_api"]
    assert check.status == "fail"
    assert "HTTP 403" in check.detail
    assert "lambda:InvokeFunctionUrl" in check.cause


def test_the_console_page_answers_and_its_api_refuses_a_call_without_a_token(deployment):
    deployment.wake()
    queue_all(deployment)

    report = deployment.run()

    assert set(statuses(report).values()) == {"pass"}, report.checks
    check = {check.name: check for check in report.checks}["agent_console"]
    assert check.status == "pass", check
    page, api, signed_in = deployment.http.console_requests
    assert (page.get_method(), page.full_url) == ("GET", OUTPUTS.console_url)
    assert api.get_method() == "POST" and api.full_url.endswith("/api/recommend")
    assert "Authorization" not in api.headers and "authorization" not in api.headers
    assert signed_in.full_url.endswith("/api/customer") and json.loads(signed_in.data) == {
        "area_code": 415,
        "phone": "358-1921",
    }
    assert check.detail.endswith(
        "signed in as a temporary agent with an authenticator (MFA), looked up customer 415/358-1921 "
        "(0 recent offers); the temporary agent is deleted"
    )
    assert deployment.cognito.calls()[-1] == "AdminDeleteUser"


def test_a_console_api_open_without_a_token_fails_and_says_take_it_down(deployment):
    deployment.wake()
    queue_all(deployment)
    deployment.http.api_status = 200

    report = deployment.run()

    check = {check.name: check for check in report.checks}["agent_console"]
    assert check.status == "fail"
    assert "HTTP 200 to a call without a sign-in token" in check.detail
    assert "not behind the JWT authorizer" in check.cause
    assert "console=false" in check.fix


def test_a_stack_without_the_console_skips_its_check(explainer, trained_model_dir):
    target = AwsTarget(
        outputs=dataclasses.replace(OUTPUTS, console_url=None, console_api_url=None),
        region=REGION,
        rds_data=None,
        s3=None,
        credentials=CREDENTIALS,
        progress=print,
    )
    context = VerifyContext(target=target, explainer=explainer, model_dir=trained_model_dir)

    with pytest.raises(SkipCheck, match="console=true adds it"):
        check_console(context)


def rest_of_a_good_deploy(deployment: Deployment) -> None:
    deployment.will_churn()
    deployment.export_load()
    deployment.call_centre()
    deployment.api.body = api_answer(deployment)
    deployment.offer_cleanup()


def test_bedrock_without_model_access_is_named_with_the_console_step(deployment):
    """call_reason answers NULL (it swallows Bedrock's error so answers go on); verify then asks the
    alias itself, whose error (Bedrock's AccessDeniedException) names the cause."""
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.call_reason(None)
    deployment.rds.fail(
        "execute_statement",
        aurora_error(
            1871,
            "Bedrock API returned error: AccessDeniedException: You don't have access to the model with "
            "the specified model ID.",
        ),
    )
    rest_of_a_good_deploy(deployment)

    report = deployment.run()

    check = {check.name: check for check in report.checks}["bedrock_call_reason"]
    assert check.status == "fail"
    assert "has not enabled the call-reason model" in check.cause
    assert "Model access" in check.fix and "-c call_reasons=off" in check.fix
    assert statuses(report)["recommend_api"] == "pass"  # the answers go on without a reason
    sent = [
        params["sql"]
        for _, params in deployment.rds.requests
        if "call_reason_model(" in params.get("sql", "")
    ]
    assert len(sent) == 1 and "call_reason_request(" in sent[0]


def test_call_reasons_off_is_a_skip(deployment):
    deployment.wake()
    deployment.bootstrap()
    deployment.sentiment()
    deployment.sql(records({"label": None, "bedrock": 0}))
    rest_of_a_good_deploy(deployment)

    check = {check.name: check for check in deployment.run().checks}["bedrock_call_reason"]
    assert check.status == "skip" and "-c call_reasons=off" in check.detail
