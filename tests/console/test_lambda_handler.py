"""lambda/console/handler.py as API Gateway (HTTP API, payload 2.0, JWT authorizer) calls it, on the
local MariaDB in place of the Data API: the same answers as the local console, through the engine,
deadline and client settings the recommend API uses (churnguard.lambda_runtime)."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from tests.console.conftest import HIGH_RISK, NEGATIVE_MESSAGE
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
