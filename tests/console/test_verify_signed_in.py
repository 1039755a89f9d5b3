"""`churnguard verify`'s console check end to end, offline: Cognito answered by botocore's Stubber as it
answers a temporary agent (MFA set up), the HTTP API's JWT authorizer admitting only the token Cognito
issued, and behind it the console's real Lambda handler on the local MariaDB."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from churnguard.db import connect
from churnguard.verify import names
from churnguard.verify.aws_target import AwsTarget
from churnguard.verify.checks import VerifyContext, check_console
from churnguard.verify.report import CheckResult
from churnguard.verify.runner import run_one
from tests.console.conftest import HIGH_RISK
from tests.console.lambda_api import HttpApi, load_handler
from tests.verify.aws_stubs import ACCESS_TOKEN, AGENT_SUB, OUTPUTS, REGION, CognitoPool

pytestmark = pytest.mark.mariadb
CLAIMS = {"sub": AGENT_SUB, "client_id": OUTPUTS.console_client_id, "token_use": "access"}


class Deployed:
    """The console as deployed, seen from verify: the page behind CloudFront, the HTTP API."""

    def __init__(self, api: HttpApi) -> None:
        self.api = api

    def __call__(self, request: Any, timeout: float) -> Any:
        if request.full_url.startswith(OUTPUTS.console_url):
            page = io.BytesIO(b"<!doctype html><title>churnguard agent console</title>")
            page.status = 200  # type: ignore[attr-defined]
            return page
        return self.api(request, timeout)


def verify_console(handler: Any, customer: tuple[int, str]) -> tuple[CheckResult, HttpApi, CognitoPool]:
    pool = CognitoPool()
    pool.signs_in(mfa=True)
    api = HttpApi(OUTPUTS.console_api_url, handler, {ACCESS_TOKEN: CLAIMS})
    target = AwsTarget(
        outputs=OUTPUTS,
        region=REGION,
        rds_data=None,
        s3=None,
        credentials=Credentials("AKIDEXAMPLE", "secret-example-key"),
        progress=print,
        opener=Deployed(api),
        cognito=pool.stub.client,
    )
    context = VerifyContext(
        target=target, explainer=None, model_dir=Path("unused"), requested_customer=customer
    )
    with pool.stub:
        result = run_one(names.CONSOLE, check_console, context, {}, lambda: 0.0)
        pool.stub.stubber.assert_no_pending_responses()
    return result, api, pool


def test_a_signed_in_agent_looks_the_reference_customer_up_through_the_console_function(
    console_db_url, trained_model_dir, monkeypatch
):
    handler = load_handler(monkeypatch, console_db_url, trained_model_dir).handler
    client = connect(console_db_url)
    try:
        offers = client.query(
            "SELECT COUNT(*) AS n FROM offers_log WHERE area_code = %(area_code)s AND phone = %(phone)s"
            " AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 30 DAY",
            HIGH_RISK,
        )[0]["n"]
    finally:
        client.close()

    result, api, pool = verify_console(handler, (415, "358-1921"))

    assert result.status == "pass", result
    assert api.calls == [("recommend", 401), ("customer", 200)]  # refused without, answered with a token
    assert f"looked up customer 415/358-1921 ({min(offers, 10)} recent offers)" in result.detail
    assert pool.calls()[-1] == "AdminDeleteUser"


def test_a_customer_not_in_the_database_is_the_functions_404_and_passes(
    console_db_url, trained_model_dir, monkeypatch
):
    handler = load_handler(monkeypatch, console_db_url, trained_model_dir).handler
    result, api, _ = verify_console(handler, (415, "000-0000"))
    assert result.status == "pass"
    assert api.calls[-1] == ("customer", 404)
    assert (
        "customer 415/000-0000 is not in this database; the API answered its 404 unknown_customer"
        in result.detail
    )


def test_a_function_that_cannot_reach_the_database_fails_the_check_in_words(trained_model_dir, monkeypatch):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    handler = load_handler(
        monkeypatch, f"mysql://churnguard:pw@127.0.0.1:{port}/churnguard", trained_model_dir
    )
    result, api, pool = verify_console(handler.handler, (415, "358-1921"))
    assert result.status == "fail"
    assert api.calls[-1] == ("customer", 503)
    assert "signed-in look-up answered HTTP 503 database_unreachable" in result.detail
    assert "could not read the database" in result.cause
    assert pool.calls()[-1] == "AdminDeleteUser"
    assert ACCESS_TOKEN not in result.detail
