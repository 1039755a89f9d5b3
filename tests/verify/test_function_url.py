"""The SigV4-signed POST to the Function URL: headers botocore computes, answers read from urllib."""

from __future__ import annotations

import json

import pytest
from botocore.credentials import Credentials

from churnguard.verify.function_url import post_json, signed_request
from tests.verify.aws_stubs import OUTPUTS, FunctionUrl

CREDENTIALS = Credentials("AKIDEXAMPLE", "secret-example-key")


def test_the_request_is_signed_for_the_lambda_service_over_its_exact_body():
    request = signed_request(OUTPUTS.api_url, {"area_code": 415}, credentials=CREDENTIALS, region="eu-west-1")

    headers = {key.lower(): value for key, value in request.header_items()}
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/lambda/aws4_request, SignedHeaders=" in headers["authorization"]
    assert "x-amz-date" in headers and "x-amz-security-token" not in headers
    assert json.loads(request.data) == {"area_code": 415}
    assert headers["content-type"] == "application/json"


def test_only_https_urls_are_called():
    with pytest.raises(ValueError, match="must be https://"):
        signed_request("file:///etc/passwd", {}, credentials=CREDENTIALS, region="eu-west-1")


def test_json_answers_and_error_statuses_are_both_read():
    ok = post_json(
        OUTPUTS.api_url,
        {},
        credentials=CREDENTIALS,
        region="eu-west-1",
        opener=FunctionUrl(200, {"offer": "x"}),
    )
    refused = post_json(
        OUTPUTS.api_url,
        {},
        credentials=CREDENTIALS,
        region="eu-west-1",
        opener=FunctionUrl(404, {"error": "no customer"}),
    )

    assert (ok.status, ok.body) == (200, {"offer": "x"})
    assert (refused.status, refused.body) == (404, {"error": "no customer"})


def test_the_timeout_reaches_urllib():
    opener = FunctionUrl(200, {})
    post_json(OUTPUTS.api_url, {}, credentials=CREDENTIALS, region="eu-west-1", timeout=7.5, opener=opener)

    assert opener.requests[0][1] == 7.5
