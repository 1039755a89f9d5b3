"""lambda/recommend/handler.py as Lambda runs it: Function URL events in, HTTP responses out.

AWS is simulated with moto (the app user's secret lives in Secrets Manager); the Data API client is
replaced by one that logs in to the local MariaDB with that secret's credentials, as a user granted
only SELECT, INSERT and EXECUTE, so the handler is shown to need no more than that.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import secrets
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from churnguard.bootstrap.app_user import AppUser, api_user_statements
from churnguard.dataapi import DataApiClient
from churnguard.db import connect, parse_url
from churnguard.engine.agent_activity import OFFERS_PER_MINUTE
from churnguard.engine.deadline import Deadline
from tests.fixtures.agents import fresh_agent

pytestmark = pytest.mark.mariadb

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "lambda" / "recommend" / "handler.py"
CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-test"
HIGH_RISK = {"area_code": 415, "phone": "358-1921", "message": "You morons! You charged me extra again!"}
LOW_RISK = {"area_code": 408, "phone": "375-9999", "message": "How do I dial Morocco?"}


def load_handler():
    spec = importlib.util.spec_from_file_location(f"recommend_handler_{uuid.uuid4().hex}", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def app_user(engine_db_url: str, mariadb_url: str):
    """The API user, with the grants the bootstrap gives it on Aurora (api_user_statements): the
    function answers with exactly the rights it has when deployed."""
    parts = parse_url(engine_db_url)
    user = AppUser(f"api_{uuid.uuid4().hex[:8]}", f"Pw{secrets.token_hex(12)}")
    admin = connect(mariadb_url)
    for step in api_user_statements(user, str(parts.database)):
        admin.execute(step.sql)
    try:
        yield {"username": user.name, "password": user.password}
    finally:
        admin.execute(f"DROP USER '{user.name}'@'%'")
        admin.close()


@pytest.fixture()
def aws(monkeypatch, app_user, engine_db_url, trained_model_dir):
    """moto AWS with the API user's secret, and the environment the stack gives the function."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        secret = boto3.client("secretsmanager").create_secret(
            Name="churnguard/app", SecretString=json.dumps(app_user)
        )
        monkeypatch.setenv("CLUSTER_ARN", CLUSTER_ARN)
        monkeypatch.setenv("API_SECRET_ARN", secret["ARN"])
        monkeypatch.setenv("DATABASE_NAME", parse_url(engine_db_url).database)
        monkeypatch.setenv("MODEL_DIR", str(trained_model_dir))
        yield SimpleNamespace(secret_arn=secret["ARN"])


@pytest.fixture()
def api(aws, engine_db_url):
    """The handler module with the Data API client swapped for a MariaDB client built from the secret."""
    module = load_handler()
    parts = parse_url(engine_db_url)
    calls = []

    def secret_backed_client(*, cluster_arn: str, secret_arn: str, database: str, deadline: Deadline):
        calls.append({"cluster_arn": cluster_arn, "secret_arn": secret_arn, "database": database})
        credentials = json.loads(
            boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        )
        return connect(
            f"mysql://{credentials['username']}:{credentials['password']}@{parts.host}:{parts.port}/{database}",
            deadline=deadline,
        )

    module.CLIENT_FACTORY = secret_backed_client
    module.calls = calls
    return module


def principal_arn() -> str:
    """An IAM role session's ARN, as the Function URL event names the signer, unique per call."""
    return f"arn:aws:sts::123456789012:assumed-role/call-centre/{fresh_agent()}"


def post(
    api,
    body,
    *,
    raw: str | None = None,
    base64_encoded: bool = False,
    content_type: str = "application/json",
    caller: str | None = None,
):
    """POST `body` as the Function URL passes it, signed by `caller` (default: a principal of its own)."""
    text = raw if raw is not None else json.dumps(body)
    if base64_encoded:
        text = base64.b64encode(text.encode("utf-8")).decode("ascii")
    event = {
        "version": "2.0",
        "requestContext": {
            "http": {"method": "POST", "path": "/"},
            "requestId": "r-1",
            "authorizer": {"iam": {"userArn": caller or principal_arn()}},
        },
        "headers": {"content-type": content_type},
        "body": text,
        "isBase64Encoded": base64_encoded,
    }
    response = api.handler(event, SimpleNamespace(aws_request_id="test-request"))
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def offers(engine_db_url: str) -> int:
    client = connect(engine_db_url)
    try:
        return int(client.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"])
    finally:
        client.close()


def test_the_reference_calls_through_the_api(api, aws, engine_db_url):
    before = offers(engine_db_url)
    status, answer = post(api, HIGH_RISK)
    assert status == 200, answer
    assert (answer["offer"], answer["rule"], answer["sentiment"]) == (
        "credit_25",
        "negative_high_risk",
        "NEGATIVE",
    )
    assert answer["churn_probability"] > 0.8 and answer["drivers"] and answer["arm"] is None
    status, answer = post(api, LOW_RISK)
    # The reference's low-risk call asks how to dial Morocco: the call-reason rules give the
    # international pack whatever the risk.
    assert status == 200 and answer["call_reason"] == "international_roaming"
    assert (answer["offer"], answer["rule"]) == ("international_pack", "international_caller")
    assert offers(engine_db_url) == before + 2
    assert api.calls[0] == {
        "cluster_arn": CLUSTER_ARN,
        "secret_arn": aws.secret_arn,
        "database": parse_url(engine_db_url).database,
    }


def test_a_base64_encoded_body_is_read(api):
    status, answer = post(api, HIGH_RISK, base64_encoded=True)
    assert status == 200 and answer["offer"] == "credit_25"


def test_a_body_near_64_kb_is_answered_in_either_encoding_and_any_case_of_media_type(api):
    near_limit = {**HIGH_RISK, "message": HIGH_RISK["message"] + " x" * 30_000}  # 60 KB, 80 KB as base64
    for encoded in (False, True):
        status, answer = post(
            api, near_limit, base64_encoded=encoded, content_type="Application/JSON; charset=utf-8"
        )
        assert status == 200 and answer["sentiment"] == "NEGATIVE", answer


BAD_REQUESTS = [
    ("not json", None, "{area_code: 415", "the request body is not valid JSON"),
    ("not an object", None, '[415, "358-1921"]', "must be a JSON object"),
    ("unknown field", {**HIGH_RISK, "admin": True}, None, "unknown field 'admin'"),
    ("missing field", {"area_code": 415, "phone": "358-1921"}, None, "missing field 'message'"),
    ("bad area code", {**HIGH_RISK, "area_code": "4150"}, None, "area code must be a 3-digit number"),
    ("boolean area code", {**HIGH_RISK, "area_code": True}, None, "area code must be a 3-digit number"),
    ("bad phone", {**HIGH_RISK, "phone": "358-1921' OR 1=1 --"}, None, "phone must look like NNN-NNNN"),
    ("empty message", {**HIGH_RISK, "message": ""}, None, "message is empty"),
    ("message not text", {**HIGH_RISK, "message": {"text": "hi"}}, None, "message must be text"),
]


@pytest.mark.parametrize(
    ("body", "raw", "expected"), [case[1:] for case in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_requests_get_400_with_the_reason_and_record_nothing(api, engine_db_url, body, raw, expected):
    before = offers(engine_db_url)
    status, answer = post(api, body, raw=raw)
    assert status == 400
    assert expected in answer["error"]
    assert offers(engine_db_url) == before
    assert api.calls == []  # refused before any database work


def test_an_unknown_customer_gets_404(api, engine_db_url):
    before = offers(engine_db_url)
    status, answer = post(api, {**HIGH_RISK, "phone": "000-0000"})
    assert status == 404 and "no customer with area code 415" in answer["error"]
    assert offers(engine_db_url) == before


def test_only_post_is_accepted(api):
    response = api.handler({"requestContext": {"http": {"method": "GET"}}}, None)
    assert response["statusCode"] == 405


def test_a_failing_data_api_gets_503_and_records_nothing(api, engine_db_url, caplog):
    class FailingService:
        def execute_statement(self, **_request):
            raise ClientError(
                {"Error": {"Code": "BadRequestException", "Message": "Communications link failure"}},
                "ExecuteStatement",
            )

    def failing_client(*, cluster_arn, secret_arn, database, deadline):
        return DataApiClient(
            FailingService(),
            resource_arn=cluster_arn,
            secret_arn=secret_arn,
            database=database,
            deadline=deadline,
        )

    api.CLIENT_FACTORY = failing_client
    before = offers(engine_db_url)
    with caplog.at_level(logging.INFO):
        status, answer = post(api, HIGH_RISK)
    assert status == 503 and "nothing was recorded" in answer["error"]
    assert offers(engine_db_url) == before
    assert "database statement (StatementRefused, BadRequestException)" in caplog.text


def test_a_connection_lost_mid_call_gets_503_and_records_nothing(api, engine_db_url, mariadb_url):
    original = api.CLIENT_FACTORY

    def killed_client(**settings):
        client = original(**settings)
        admin = connect(mariadb_url)
        admin.execute(f"KILL {int(client.query('SELECT CONNECTION_ID() AS id')[0]['id'])}")
        admin.close()
        return client

    api.CLIENT_FACTORY = killed_client
    before = offers(engine_db_url)
    status, _ = post(api, HIGH_RISK)
    assert status == 503
    assert offers(engine_db_url) == before


def test_missing_configuration_is_a_500_not_a_database_error(api, monkeypatch):
    monkeypatch.delenv("CLUSTER_ARN")
    status, answer = post(api, HIGH_RISK)
    assert status == 500 and "misconfigured" in answer["error"]


INJECTIONS = [
    "'; DROP TABLE customers; --",
    "\\'); DELETE FROM offers_log; -- %s %(phone)s {0}",
    "nul\x00byte 😡",
]


def test_logs_never_hold_the_phone_or_the_message(api, engine_db_url, caplog):
    client = connect(engine_db_url)
    checksum = client.query("CHECKSUM TABLE customers")[0]
    with caplog.at_level(logging.DEBUG):
        for message in [HIGH_RISK["message"], *INJECTIONS]:
            status, _ = post(api, {**HIGH_RISK, "message": message})
            assert status == 200
        post(api, {**HIGH_RISK, "phone": "000-0000"})
        post(api, {**HIGH_RISK, "phone": "358-19210"})
    assert "offer" in caplog.text  # the handler does log each answer
    for secret in ["358-1921", "000-0000", "You morons", "DROP TABLE", "nul\x00byte"]:
        assert secret not in caplog.text
    assert client.query("CHECKSUM TABLE customers")[0] == checksum
    client.close()


def test_warm_requests_reuse_one_rds_data_client(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    module = load_handler()
    settings = {"cluster_arn": "arn:aws:rds:eu-west-1:123456789012:cluster:cg", "secret_arn": "arn:s"}
    first = module.data_api_client(**settings, database="churnguard", deadline=Deadline.after(5))
    # A deadline cut short by the invocation's remaining time still shares the one client.
    second = module.data_api_client(**settings, database="churnguard", deadline=Deadline.after(2.3))
    assert first is not second  # each request gets its own transaction state...
    assert first._rds_data is second._rds_data  # ...over the one boto3 client built on the first request


def _agent_of(engine_db_url: str, offer_id: int) -> str | None:
    with connect(engine_db_url) as client:
        return client.query("SELECT agent FROM offers_log WHERE id = %(id)s", {"id": offer_id})[0]["agent"]


def test_the_offer_names_the_iam_principal_that_signed_and_a_repeat_returns_it(api, engine_db_url):
    caller = principal_arn()
    status, first = post(api, HIGH_RISK, caller=caller)
    assert status == 200 and first["repeated"] is False
    assert _agent_of(engine_db_url, first["offer_id"]) == caller
    before = offers(engine_db_url)

    status, again = post(api, HIGH_RISK, caller=caller)

    assert status == 200 and again["repeated"] is True and again["offer_id"] == first["offer_id"]
    assert offers(engine_db_url) == before


def test_an_unsigned_event_is_refused(api, engine_db_url):
    before = offers(engine_db_url)
    event = {
        "requestContext": {"http": {"method": "POST"}},
        "headers": {"content-type": "application/json"},
        "body": json.dumps(HIGH_RISK),
    }
    response = api.handler(event, SimpleNamespace(aws_request_id="unsigned"))
    assert response["statusCode"] == 401 and offers(engine_db_url) == before


def test_a_caller_over_the_per_minute_cap_gets_429_with_retry_after(api, engine_db_url):
    caller = principal_arn()
    with connect(engine_db_url) as client:  # the cap's worth of this caller's offers, made just now
        for _ in range(OFFERS_PER_MINUTE):
            client.execute(
                "INSERT INTO offers_log (created_at, agent, area_code, phone, drivers, rules_version,"
                " rule_name, reason, offer, offer_cost_usd) VALUES (UTC_TIMESTAMP(6), %(agent)s, 408,"
                " '375-9999', '[]', 'v', 'r', 'cap test', 'none', 0)",
                {"agent": caller},
            )
    event = {
        "requestContext": {"http": {"method": "POST"}, "authorizer": {"iam": {"userArn": caller}}},
        "headers": {"content-type": "application/json"},
        "body": json.dumps(HIGH_RISK),
    }
    response = api.handler(event, SimpleNamespace(aws_request_id="capped"))
    assert response["statusCode"] == 429
    assert 1 <= int(response["headers"]["retry-after"]) <= 61
    assert "try again in" in json.loads(response["body"])["error"]
    assert post(api, HIGH_RISK)[0] == 200  # another caller is not held up
