"""churnguard.http_api as both Lambdas use it: each parsing rule of churnguard.json_request applied to
the payload-2.0 events a Function URL (recommend) and an HTTP API (console) send, the body measured as
the bytes the caller sent (decoded from base64 when isBase64Encoded), and the same headers on every
answer, refusals and bugs included. Every refusal here comes before the engine or the database is
touched: the handlers' database client fails the test if it is ever opened."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from churnguard.json_request import MAX_BODY_BYTES
from tests.console.lambda_api import load_handler as load_console_handler
from tests.lambda_recommend.test_handler import load_handler as load_recommend_handler
from tests.test_json_request import REFUSED_BODIES

CONTEXT = SimpleNamespace(aws_request_id="limits", get_remaining_time_in_millis=lambda: 10_000)
CALL = {"area_code": 415, "phone": "358-1921", "message": "hello"}
JSON = "application/json"


def _never_opened(**_settings):
    raise AssertionError("a refused request reached the database")


@pytest.fixture(params=["recommend", "console"])
def lambda_api(request, monkeypatch, trained_model_dir):
    """(handler, event maker) for each Lambda: the event as its service sends it."""
    monkeypatch.setenv("DATABASE_NAME", "churnguard")
    if request.param == "recommend":
        monkeypatch.setenv("CLUSTER_ARN", "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-test")
        monkeypatch.setenv("API_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app")
        monkeypatch.setenv("MODEL_DIR", str(trained_model_dir))
        module = load_recommend_handler()
        # Signed, as every call through the IAM-auth Function URL is (an unsigned one is 401 first).
        context = {
            "http": {"method": "POST", "path": "/"},
            "authorizer": {"iam": {"userArn": "arn:aws:iam::123456789012:user/agent-1"}},
        }
    else:
        module = load_console_handler(monkeypatch, "mysql://unused@127.0.0.1:1/unused", trained_model_dir)
        context = {
            "http": {"method": "POST", "path": "/api/recommend"},
            "authorizer": {"jwt": {"claims": {"sub": "agent-1"}}},
        }
    module.CLIENT_FACTORY = _never_opened

    def send(
        body: bytes, *, content_type: str | None = JSON, encode: bool = False, text: str | None = None
    ) -> dict:
        """`body` as the service hands it over: base64 text when `encode` (or `text` as it is)."""
        headers = {} if content_type is None else {"content-type": content_type}
        if text is None:
            text = base64.b64encode(body).decode() if encode else body.decode("utf-8", "surrogateescape")
        event = {"version": "2.0", "headers": headers, "requestContext": context, "body": text}
        return module.handler({**event, "isBase64Encoded": encode}, CONTEXT)

    return SimpleNamespace(module=module, send=send)


def answer(response: dict) -> tuple[int, str]:
    headers = response["headers"]
    assert headers["content-type"] == JSON
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    return response["statusCode"], json.loads(response["body"])["error"]


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    body = json.dumps({**CALL, "message": ""}).encode()
    return json.dumps({**CALL, "message": "x" * (size - len(body))}).encode()


@pytest.mark.parametrize("encode", [False, True], ids=["text", "base64"])
def test_a_body_over_64_kb_is_413_measured_on_the_bytes_sent(lambda_api, encode):
    status, error = answer(lambda_api.send(padded(MAX_BODY_BYTES + 1), encode=encode))
    assert status == 413 and "larger than 64 KB" in error


def test_a_base64_body_is_measured_decoded_not_as_its_longer_base64_text(lambda_api):
    body = json.dumps([0] * 20_000).encode()  # 60,000 bytes, 80,000 characters of base64
    assert len(body) < MAX_BODY_BYTES < len(base64.b64encode(body))
    status, error = answer(lambda_api.send(body, encode=True))
    assert status == 400 and "must be a JSON object" in error  # parsed, then refused by the call


@pytest.mark.parametrize(("body", "words"), REFUSED_BODIES)
def test_bodies_the_parser_refuses_are_400_naming_the_problem(lambda_api, caplog, body, words):
    status, error = answer(lambda_api.send(body))
    assert status == 400 and words in error
    assert "Traceback" not in caplog.text and "internal error" not in caplog.text


def test_a_body_that_is_not_base64_is_400(lambda_api):
    status, error = answer(lambda_api.send(b"", encode=True, text="%%%not base64"))
    assert status == 400 and "not valid base64" in error


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415(lambda_api, content_type):
    status, error = answer(lambda_api.send(json.dumps(CALL).encode(), content_type=content_type))
    assert status == 415 and "content-type application/json" in error


def test_the_media_type_is_compared_without_case_and_with_parameters(lambda_api):
    body = json.dumps({"area_code": 415}).encode()
    status, error = answer(lambda_api.send(body, content_type="Application/JSON; charset=utf-8"))
    assert status == 400 and "missing field" in error


def test_a_bug_is_a_500_with_the_same_headers(lambda_api, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(lambda_api.module, "json_body", broken)
    status, error = answer(lambda_api.send(json.dumps(CALL).encode()))
    assert status == 500 and "internal error" in error
