"""lambda/console/handler.py as API Gateway (HTTP API, payload 2.0, JWT authorizer) calls it, on the
local MariaDB in place of the Data API: the same answers as the local console, through the engine,
deadline and client settings the recommend API uses (churnguard.lambda_runtime)."""

from __future__ import annotations

import base64
import json
import logging
import uuid

import pytest

from churnguard.db import connect
from churnguard.engine.agent_activity import OFFERS_PER_MINUTE
from tests.console.conftest import HIGH_RISK, LOW_RISK, NEGATIVE_MESSAGE
from tests.console.lambda_api import CONTEXT, event, load_handler

pytestmark = pytest.mark.mariadb
AGENT_SUB = "5f1c2d3e-0000-4000-8000-000000000001"


@pytest.fixture()
def console_api(console_db_url, trained_model_dir, monkeypatch):
    return load_handler(monkeypatch, console_db_url, trained_model_dir)


SIGNED_IN = {"sub": AGENT_SUB, "client_id": "abc", "token_use": "access"}


def test_recommend_gives_the_engines_answer_in_the_agents_words(console_api, caplog):
    with caplog.at_level(logging.INFO):
        response = console_api.handler(
            event("recommend", {**HIGH_RISK, "message": NEGATIVE_MESSAGE}, claims=SIGNED_IN), CONTEXT
        )
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["offer"] == "credit_25" and body["risk_band"] == "high" and body["driver_sentences"]
    assert response["headers"]["cache-control"] == "no-store"
    assert f"recommend by agent {AGENT_SUB}: 200" in caplog.text
    assert "358-1921" not in caplog.text and "morons" not in caplog.text


def test_lookup_and_outcome_work_as_locally(console_api):
    lookup = console_api.handler(event("customer", HIGH_RISK, claims=SIGNED_IN), CONTEXT)
    assert lookup["statusCode"] == 200 and json.loads(lookup["body"])["latest_message"]
    offer = json.loads(
        console_api.handler(
            event("recommend", {**HIGH_RISK, "message": NEGATIVE_MESSAGE}, claims=SIGNED_IN), CONTEXT
        )["body"]
    )
    stored = console_api.handler(
        event("outcome", {"offer_id": offer["offer_id"], "outcome": "declined"}, claims=SIGNED_IN), CONTEXT
    )
    assert stored["statusCode"] == 200 and json.loads(stored["body"])["retained"] is False
    again = json.loads(console_api.handler(event("customer", HIGH_RISK, claims=SIGNED_IN), CONTEXT)["body"])
    (listed,) = [item for item in again["recent_offers"] if item["offer_id"] == offer["offer_id"]]
    assert (listed["outcome"], listed["retained"]) == ("declined", False)


def test_errors_keep_their_status_and_words(console_api):
    malformed = console_api.handler(
        event("customer", {"area_code": 415, "phone": "3581921"}, claims=SIGNED_IN), CONTEXT
    )
    assert malformed["statusCode"] == 400 and "NNN-NNNN" in json.loads(malformed["body"])["error"]
    unknown = console_api.handler(
        event("customer", {"area_code": 415, "phone": "000-0000"}, claims=SIGNED_IN), CONTEXT
    )
    assert unknown["statusCode"] == 404 and json.loads(unknown["body"])["kind"] == "unknown_customer"
    broken = {**event("customer", {}, claims=SIGNED_IN), "body": "{"}
    assert console_api.handler(broken, CONTEXT)["statusCode"] == 400
    assert console_api.handler(event("delete", {}, claims=SIGNED_IN), CONTEXT)["statusCode"] == 404


def test_a_request_without_verified_claims_is_refused(console_api):
    response = console_api.handler(event("recommend", {**HIGH_RISK, "message": "hi"}), CONTEXT)
    assert response["statusCode"] == 401


def test_a_body_near_64_kb_is_answered_base64_encoded_and_with_the_media_type_in_capitals(console_api):
    message = NEGATIVE_MESSAGE + " x" * 30_000  # 60 KB of JSON, 80 KB as base64
    request = event("recommend", {**HIGH_RISK, "message": message}, claims=SIGNED_IN)
    request.update(
        headers={"content-type": "Application/JSON; charset=UTF-8"},
        body=base64.b64encode(request["body"].encode()).decode(),
        isBase64Encoded=True,
    )
    response = console_api.handler(request, CONTEXT)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["sentiment"] == "NEGATIVE"
    assert response["headers"]["x-content-type-options"] == "nosniff"


def _offer_agent(db_url: str, offer_id: int) -> str | None:
    with connect(db_url) as client:
        return client.query("SELECT agent FROM offers_log WHERE id = %(id)s", {"id": offer_id})[0]["agent"]


def _claims(sub: str, groups: str | None = None) -> dict:
    """Claims as the HTTP API hands them on: an array claim arrives as one "[a b]" string."""
    claims = {"sub": sub, "client_id": "abc", "token_use": "access"}
    return {**claims, "cognito:groups": groups} if groups is not None else claims


def _recommend(console_api, claims: dict, customer: dict = HIGH_RISK) -> dict:
    return console_api.handler(
        event("recommend", {**customer, "message": NEGATIVE_MESSAGE}, claims=claims), CONTEXT
    )


def test_the_offer_and_its_outcome_name_the_signed_in_cognito_user(console_api, console_db_url):
    sub = str(uuid.uuid4())
    offer = json.loads(_recommend(console_api, _claims(sub))["body"])["offer_id"]
    stored = console_api.handler(
        event("outcome", {"offer_id": offer, "outcome": "accepted"}, claims=_claims(sub)), CONTEXT
    )
    assert stored["statusCode"] == 200
    assert _offer_agent(console_db_url, offer) == sub
    with connect(console_db_url) as client:
        (row,) = client.query("SELECT agent FROM offer_outcomes WHERE offer_id = %(id)s", {"id": offer})
    assert row["agent"] == sub


def test_a_name_in_the_body_is_refused_not_recorded(console_api):
    body = {**HIGH_RISK, "message": NEGATIVE_MESSAGE, "agent": "someone-else"}
    response = console_api.handler(event("recommend", body, claims=_claims(str(uuid.uuid4()))), CONTEXT)
    assert response["statusCode"] == 400 and "unknown field 'agent'" in json.loads(response["body"])["error"]


def test_another_agents_offer_is_403_and_a_supervisor_may_correct_it(console_api, console_db_url):
    owner = str(uuid.uuid4())
    offer = json.loads(_recommend(console_api, _claims(owner))["body"])["offer_id"]
    outcome = {"offer_id": offer, "outcome": "declined"}

    other = console_api.handler(
        event("outcome", outcome, claims=_claims(str(uuid.uuid4()), "[agents]")), CONTEXT
    )
    assert other["statusCode"] == 403
    refused = json.loads(other["body"])
    assert refused["kind"] == "forbidden" and "made by another agent" in refused["error"]

    supervisor = str(uuid.uuid4())
    corrected = console_api.handler(
        event("outcome", outcome, claims=_claims(supervisor, "[agents supervisors]")), CONTEXT
    )
    assert corrected["statusCode"] == 200
    with connect(console_db_url) as client:
        (change,) = client.query(
            "SELECT agent, supervisor FROM offer_outcome_changes WHERE offer_id = %(id)s", {"id": offer}
        )
    assert change == {"agent": supervisor, "supervisor": 1}


def test_an_agent_over_the_per_minute_cap_gets_429_with_retry_after(console_api, console_db_url):
    sub = str(uuid.uuid4())
    with connect(console_db_url) as client:  # the cap's worth of this agent's offers, made just now
        for _ in range(OFFERS_PER_MINUTE):
            client.execute(SAME_MINUTE_OFFER, {"agent": sub})
    response = _recommend(console_api, _claims(sub), LOW_RISK)
    assert response["statusCode"] == 429
    assert 1 <= int(response["headers"]["retry-after"]) <= 61
    assert json.loads(response["body"])["kind"] == "rate_limited"
    assert _recommend(console_api, _claims(str(uuid.uuid4())), LOW_RISK)["statusCode"] == 200  # others go on


SAME_MINUTE_OFFER = """
INSERT INTO offers_log (created_at, agent, area_code, phone, drivers, rules_version, rule_name, reason, offer,
    offer_cost_usd)
VALUES (UTC_TIMESTAMP(6), %(agent)s, 415, '358-1921', '[]', 'v', 'r', 'cap test', 'none', 0)
"""
