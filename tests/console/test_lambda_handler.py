"""lambda/console/handler.py as API Gateway (HTTP API, payload 2.0, JWT authorizer) calls it, on the
local MariaDB in place of the Data API: the same answers as the local console, through the recommend
API's own engine, deadline and client settings."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from churnguard.db import connect
from tests.console.conftest import HIGH_RISK, NEGATIVE_MESSAGE

pytestmark = pytest.mark.mariadb
REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "lambda" / "console" / "handler.py"
AGENT_SUB = "5f1c2d3e-0000-4000-8000-000000000001"


@pytest.fixture()
def console_api(console_db_url, trained_model_dir, monkeypatch):
    """The handler module, with the recommend API's Data API client replaced by a local one."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "lambda"))  # the bundle's layout: recommend/handler.py
    monkeypatch.setenv("MODEL_DIR", str(trained_model_dir))
    monkeypatch.setenv("CLUSTER_ARN", "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-test")
    monkeypatch.setenv("APP_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app")
    spec = importlib.util.spec_from_file_location(f"console_handler_{uuid.uuid4().hex}", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recommend_api = sys.modules["recommend.handler"]
    monkeypatch.setattr(recommend_api, "_engine", None)
    monkeypatch.setattr(
        recommend_api,
        "CLIENT_FACTORY",
        lambda *, cluster_arn, secret_arn, database, deadline: connect(console_db_url, deadline=deadline),
    )
    return module


def event(call: str, body, *, claims: dict | None = None, method: str = "POST") -> dict:
    authorizer = {"jwt": {"claims": claims, "scopes": None}} if claims is not None else {}
    return {
        "version": "2.0",
        "routeKey": f"{method} /api/{call}",
        "rawPath": f"/api/{call}",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": f"/api/{call}"}, "authorizer": authorizer},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


CONTEXT = SimpleNamespace(aws_request_id="req-1", get_remaining_time_in_millis=lambda: 10_000)
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
