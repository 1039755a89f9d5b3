"""The recommend API's status for each fault: a degraded answer is a 200 that says so; neither part 502;
a frozen, killed or resuming database 503 (Retry-After when resuming) within a bounded time; a bug
500 with its type and stack in the log, never the customer's data. The database side runs on the
real local server (functions that raise, a throwaway server frozen or killed); the AWS side on
botocore's Stubber with responses shaped like the RDS Data API's.
"""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import ANY, Stubber

from churnguard import lambda_runtime
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.db import connect
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S, Deadline, longest_api_wait_s
from infra.api import API_TIMEOUT_S, COLD_START_ALLOWANCE_S
from tests.engine.faults import (
    SCORE_FUNCTION,
    SENTIMENT_FUNCTIONS,
    SIGNAL_TEXT,
    SpareServer,
    failing_functions,
)
from tests.fixtures.agents import fresh_agent
from tests.lambda_recommend.test_handler import CLUSTER_ARN, HIGH_RISK, load_handler

pytestmark = pytest.mark.mariadb

HANG = 20.0
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:churnguard/app-AbCdEf"


@pytest.fixture()
def environment(monkeypatch, trained_model_dir):
    monkeypatch.setenv("CLUSTER_ARN", CLUSTER_ARN)
    monkeypatch.setenv("API_SECRET_ARN", SECRET_ARN)
    monkeypatch.setenv("DATABASE_NAME", "churnguard")
    monkeypatch.setenv("MODEL_DIR", str(trained_model_dir))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def api_on(url: str):
    """The handler with its Data API client replaced by PyMySQL on `url`, under the same deadline."""
    module = load_handler()
    module.CLIENT_FACTORY = lambda **settings: connect(url, deadline=settings["deadline"])
    return module


def post(api, body=HIGH_RISK, *, remaining_ms: int = 18_000):
    context = SimpleNamespace(
        aws_request_id="fault-request", get_remaining_time_in_millis=lambda: remaining_ms
    )
    signer = {"iam": {"userArn": f"arn:aws:iam::123456789012:user/{fresh_agent()}"}}
    event = {
        "requestContext": {"http": {"method": "POST"}, "authorizer": signer},
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
    started = time.monotonic()
    response = api.handler(event, context)
    return response, json.loads(response["body"]), time.monotonic() - started


def assert_no_customer_data(text: str) -> None:
    for secret in (HIGH_RISK["phone"], "You morons", SIGNAL_TEXT):
        assert secret not in text


@pytest.mark.parametrize(
    ("functions", "missing_parts"),
    [
        # the call reason rides in the sentiment's statement: it goes with it
        (SENTIMENT_FUNCTIONS, ["sentiment", "call_reason"]),
        ((SCORE_FUNCTION,), ["churn_probability"]),
    ],
    ids=["sentiment raises", "score raises"],
)
def test_one_part_missing_is_a_degraded_200(environment, faulty_db_url, caplog, functions, missing_parts):
    api = api_on(faulty_db_url)
    with failing_functions(faulty_db_url, *functions), caplog.at_level(logging.INFO):
        response, answer, _ = post(api)
    assert response["statusCode"] == 200, answer
    assert answer["degraded"] is True and [part["part"] for part in answer["missing"]] == missing_parts
    assert all(answer[part] is None for part in missing_parts) and answer["offer_id"] > 0
    assert f"missing {','.join(missing_parts)})" in caplog.text
    assert_no_customer_data(caplog.text)


def test_neither_part_is_a_502(environment, faulty_db_url, caplog):
    api = api_on(faulty_db_url)
    with (
        failing_functions(faulty_db_url, SCORE_FUNCTION, *SENTIMENT_FUNCTIONS),
        caplog.at_level(logging.INFO),
    ):
        response, answer, _ = post(api)
    assert response["statusCode"] == 502
    assert "neither the churn score nor the sentiment" in answer["error"]
    assert_no_customer_data(caplog.text + answer["error"])


def test_a_frozen_database_is_a_503_within_the_budget(environment, spare_server: SpareServer, monkeypatch):
    monkeypatch.setenv("CHURNGUARD_ANSWER_TIMEOUT_S", "1")
    api = api_on(spare_server.url)
    spare_server.freeze()
    try:
        response, answer, seconds = post(api)
    finally:
        spare_server.thaw()
    assert response["statusCode"] == 503
    assert answer["error"].startswith("the database did not answer within 1 s")
    assert "retry-after" not in response["headers"] and seconds < HANG


def test_a_killed_database_is_a_503_and_the_next_call_after_a_restart_is_a_200(
    environment, spare_server: SpareServer
):
    api = api_on(spare_server.url)
    spare_server.kill()
    response, answer, seconds = post(api)
    assert response["statusCode"] == 503 and answer["error"].startswith("the database is unavailable")
    assert seconds < HANG
    spare_server.restart()
    response, answer, _ = post(api)
    assert response["statusCode"] == 200 and answer["offer"] == "credit_25"


def test_a_bug_is_a_500_with_its_type_and_stack_logged_but_no_customer_data(environment, caplog):
    class Broken:
        def query(self, sql, params=None):
            raise TypeError(f"cannot use {params!r}")  # a message quoting the request's values

        execute = query

        def close(self):
            pass

    api = load_handler()
    api.CLIENT_FACTORY = lambda **_settings: Broken()
    with caplog.at_level(logging.INFO):
        response, answer, _ = post(api)
    assert response["statusCode"] == 500
    assert answer == {"error": "internal error in the recommendation service; nothing was recorded"}
    assert "internal error TypeError; nothing recorded" in caplog.text
    assert "recommend.py" in caplog.text and "in look_up" in caplog.text  # the stack
    assert_no_customer_data(caplog.text)
    assert "database" not in caplog.text.split("internal error")[1].split("\n")[0]


def test_a_bug_while_loading_the_engine_is_a_500_too(environment, caplog, monkeypatch):
    api = load_handler()

    def broken_engine():
        raise AttributeError("'NoneType' object has no attribute 'trees'")

    monkeypatch.setattr(api, "engine", broken_engine)
    with caplog.at_level(logging.INFO):
        response, body, _ = post(api)
    assert response["statusCode"] == 500 and "nothing was recorded" in body["error"]
    assert "internal error AttributeError" in caplog.text and "in broken_engine" in caplog.text


# The Data API's side, with the real DataApiClient the handler builds, on botocore's Stubber.


def data_api_field(value):
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool | int):
        return {"longValue": int(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def data_api_records(rows: list[dict]) -> dict:
    """An ExecuteStatement answer (includeResultMetadata) for rows as PyMySQL returns them."""
    labels = list(rows[0])
    types = {label: "DECIMAL" if isinstance(rows[0][label], Decimal) else "VARCHAR" for label in labels}
    return {
        "columnMetadata": [{"label": label, "name": label, "typeName": types[label]} for label in labels],
        "records": [[data_api_field(row[label]) for label in labels] for row in rows],
        "numberOfRecordsUpdated": 0,
    }


@pytest.fixture()
def stubbed_api(environment, monkeypatch):
    """The handler with its real Data API client on a stubbed boto3 rds-data client."""
    api = load_handler()
    rds_data = boto3.client("rds-data", region_name="us-east-1")
    monkeypatch.setattr(lambda_runtime, "rds_data_client", lambda _read_timeout: rds_data)
    with Stubber(rds_data) as stubber:
        yield api, stubber
        stubber.assert_no_pending_responses()


def test_a_resuming_cluster_is_a_503_with_retry_after_at_once(stubbed_api):
    api, stubber = stubbed_api
    stubber.add_client_error(
        "execute_statement",
        service_error_code="DatabaseResumingException",
        service_message="The Aurora DB instance is resuming after being auto-paused.",
        http_status_code=400,
    )
    response, answer, seconds = post(api)
    assert response["statusCode"] == 503 and response["headers"]["retry-after"] == "15"
    assert answer["error"] == "the database is resuming from a pause; nothing was recorded, try again in 15 s"
    assert seconds < 5  # not waited for: the resume takes longer than an agent can


def test_comprehend_failing_on_aurora_is_a_degraded_200_through_the_data_api(
    stubbed_api, engine_db_url, trained_model_dir
):
    """Aurora reports an ML function's failure as BadRequestException: the Data API path degrades too."""
    from churnguard.sqlgen.statements import customer_from_row, customer_score_sql

    api, stubber = stubbed_api
    loaded = api.engine()
    client = connect(engine_db_url)
    try:
        # With the agent's activity columns the engine adds (an agent with no offers yet).
        activity = [f"{sql} AS {label}" for label, sql in loaded.limits.columns().items()]
        (row,) = client.query(
            customer_score_sql(loaded.explainer.spec, activity),
            {"area_code": 415, "phone": "358-1921", "agent": fresh_agent()},
        )
    finally:
        client.close()
    # The statement's own answer (the customer as one JSON column, and the score), as Aurora gives it.
    assert set(customer_from_row(row)) == {*COLUMN_NAMES, "churn_probability", *loaded.limits.columns()}
    stubber.add_response(
        "execute_statement", data_api_records([row]), {**_statement(), "includeResultMetadata": True}
    )
    stubber.add_client_error(
        "execute_statement",
        service_error_code="BadRequestException",
        service_message="Error code: 1871; SQLState: HY000; Message: Aurora ML Comprehend: Rate exceeded",
        http_status_code=400,
    )
    # The answer's row: one INSERT outside any transaction (the service commits it), its id in
    # generatedFields, as the rds-data service model describes ExecuteStatement's response.
    stubber.add_response(
        "execute_statement",
        {"numberOfRecordsUpdated": 1, "generatedFields": [{"longValue": 77}]},
        _statement(),
    )
    response, answer, _ = post(api)
    assert response["statusCode"] == 200, answer
    assert answer["offer_id"] == 77 and answer["degraded"] is True
    assert (
        answer["missing"][0]["part"] == "sentiment"
        and "(BadRequestException)" in answer["missing"][0]["reason"]
    )
    assert (answer["rule"], answer["offer"]) == ("high_risk_sentiment_unknown", "credit_5")


def _target() -> dict:
    return {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN}


def _statement(*, parameters: bool = True) -> dict:
    statement = {**_target(), "database": "churnguard", "sql": ANY}
    return {**statement, "parameters": ANY} if parameters else statement


def test_the_api_client_is_bounded_and_the_lambda_outlasts_its_longest_wait(environment):
    config = lambda_runtime.rds_data_client(DEFAULT_ANSWER_TIMEOUT_S).meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.0, DEFAULT_ANSWER_TIMEOUT_S)
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert longest_api_wait_s(DEFAULT_ANSWER_TIMEOUT_S) + COLD_START_ALLOWANCE_S < API_TIMEOUT_S


@pytest.mark.parametrize(("remaining_ms", "budget"), [(11_000, 5.0), (4_000, 2.5), (1_000, 0.1)])
def test_the_budget_never_outlasts_the_invocation(environment, remaining_ms, budget):
    api = load_handler()
    deadline = api.answer_deadline(SimpleNamespace(get_remaining_time_in_millis=lambda: remaining_ms))
    assert deadline.seconds == pytest.approx(budget)
    assert isinstance(deadline, Deadline)
