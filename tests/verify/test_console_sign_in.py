"""verify's signed-in console check at the boto3 boundary: Cognito answered by botocore's Stubber as it
answers (challenge names, sessions, AuthenticationResult, its error codes), the console's API by a
stand-in that admits only the issued access token. The temporary agent is deleted on every path, its
password and token never reach the report, and each failure has its cause and fix."""

from __future__ import annotations

import dataclasses
import json
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from churnguard.verify import names
from churnguard.verify.aws_target import AwsTarget
from churnguard.verify.checks import VerifyContext, VerifyFailure, check_console
from churnguard.verify.console_sign_in import USER_PREFIX, ConsolePool, temporary_agent
from churnguard.verify.diagnose import diagnose
from churnguard.verify.runner import run_one
from churnguard.verify.totp import hotp, secret_key, time_step
from tests.verify.aws_stubs import (
    ACCESS_TOKEN,
    OUTPUTS,
    REGION,
    SESSIONS,
    TOTP_SECRET,
    CognitoPool,
    ConsoleRoutes,
    FunctionUrl,
)

CUSTOMER = (415, "358-1921")
POOL = ConsolePool(OUTPUTS.console_user_pool_id, OUTPUTS.console_client_id)
NOW = 1_795_000_002.0  # a fixed clock: 12 s into a 30-s step


class Console:
    """The console check against a stubbed pool and API, and what it left behind."""

    def __init__(self) -> None:
        self.pool = CognitoPool()
        self.http = ConsoleRoutes(FunctionUrl(200, {}))
        self.outputs = OUTPUTS
        self.progress: list[str] = []
        self.slept: list[float] = []

    def check(self) -> tuple[str, str, str, str]:
        """Run the agent_console check as the runner does: (status, detail, cause, fix)."""
        target = AwsTarget(
            outputs=self.outputs,
            region=REGION,
            rds_data=None,
            s3=None,
            credentials=Credentials("AKIDEXAMPLE", "secret-example-key"),
            progress=self.progress.append,
            sleep=self.slept.append,
            opener=self.http,
            cognito=self.pool.stub.client,
        )
        # The console check needs no model: only the test customer, asked for here.
        context = VerifyContext(
            target=target, explainer=None, model_dir=Path("unused"), requested_customer=CUSTOMER
        )
        with self.pool.stub:
            result = run_one(names.CONSOLE, check_console, context, {}, lambda: 0.0)
            self.pool.stub.stubber.assert_no_pending_responses()
        return result.status, result.detail, result.cause, result.fix

    def username(self) -> str:
        return self.pool.request("AdminCreateUser")["Username"]

    def deleted(self) -> list[str]:
        return [params["Username"] for name, params in self.pool.stub.requests if name == "AdminDeleteUser"]


@pytest.fixture()
def console() -> Iterator[Console]:
    yield Console()


def test_a_pool_that_requires_mfa_gets_an_authenticator_then_the_lookup_then_the_user_is_deleted() -> None:
    pool = CognitoPool()
    pool.signs_in(mfa=True)
    slept: list[float] = []
    with pool.stub, temporary_agent(pool.stub.client, POOL, clock=lambda: NOW, sleep=slept.append) as agent:
        assert (agent.access_token, agent.mfa) == (ACCESS_TOKEN, True)
        assert "AdminDeleteUser" not in pool.calls()  # not before the block is done
    assert pool.calls() == [
        "ListUsers",  # leftovers of interrupted runs first: none here
        "AdminCreateUser",
        "AdminSetUserPassword",
        "AdminInitiateAuth",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "AdminRespondToAuthChallenge",
        "AdminDeleteUser",
    ]
    created = pool.request("AdminCreateUser")
    username = created["Username"]
    assert username.startswith(USER_PREFIX) and created["MessageAction"] == "SUPPRESS"
    assert created["UserPoolId"] == POOL.user_pool_id
    password = pool.request("AdminSetUserPassword")
    assert password["Permanent"] is True and password["Username"] == username
    secret = password["Password"]
    assert len(secret) >= 12 and all(
        any(character in alphabet for character in secret)
        for alphabet in (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%&*+-.=^_")
    )
    assert pool.request("AdminInitiateAuth") == {
        "UserPoolId": POOL.user_pool_id,
        "ClientId": POOL.client_id,
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": username, "PASSWORD": secret},
    }
    assert pool.request("AssociateSoftwareToken") == {"Session": SESSIONS[0]}
    verified = pool.request("VerifySoftwareToken")
    # The code an authenticator app shows at NOW for the secret Cognito returned (RFC 6238).
    assert verified["UserCode"] == hotp(secret_key(TOTP_SECRET), time_step(NOW))
    assert verified["Session"] == SESSIONS[1]
    assert pool.request("AdminRespondToAuthChallenge") == {
        "UserPoolId": POOL.user_pool_id,
        "ClientId": POOL.client_id,
        "ChallengeName": "MFA_SETUP",
        "ChallengeResponses": {"USERNAME": username},
        "Session": SESSIONS[2],
    }
    assert pool.request("AdminDeleteUser") == {"UserPoolId": POOL.user_pool_id, "Username": username}
    assert slept == []
    assert "***" in repr(agent) and ACCESS_TOKEN not in repr(agent)


def test_a_software_token_challenge_after_setup_is_answered_with_the_next_steps_code() -> None:
    pool = CognitoPool()
    pool.creates_user()
    pool.answer("admin_initiate_auth", pool.challenge("MFA_SETUP"))
    pool.answer("associate_software_token", {"SecretCode": TOTP_SECRET, "Session": SESSIONS[1]})
    pool.answer("verify_software_token", {"Status": "SUCCESS", "Session": SESSIONS[2]})
    pool.answer("admin_respond_to_auth_challenge", pool.challenge("SOFTWARE_TOKEN_MFA"))
    pool.answer("admin_respond_to_auth_challenge", pool.tokens())
    pool.deletes_user()
    now = [NOW]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pool.stub, temporary_agent(pool.stub.client, POOL, clock=lambda: now[0], sleep=sleep) as agent:
        assert agent.access_token == ACCESS_TOKEN
    second = pool.request("AdminRespondToAuthChallenge", 1)
    assert second["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and second["Session"] == SESSIONS[0]
    code = second["ChallengeResponses"]["SOFTWARE_TOKEN_MFA_CODE"]
    assert (
        code
        == hotp(secret_key(TOTP_SECRET), time_step(NOW) + 1)
        != pool.request("VerifySoftwareToken")["UserCode"]
    )
    assert slept == [pytest.approx(18.0)]  # waited for the next 30-s step, not reused the code


def test_a_pool_without_required_mfa_signs_in_at_once(console: Console) -> None:
    console.pool.signs_in(mfa=False)
    status, detail, _, _ = console.check()
    assert status == "pass", detail
    assert "AssociateSoftwareToken" not in console.pool.calls()
    assert "signed in as a temporary agent, looked up customer 415/358-1921 (0 recent offers)" in detail
    assert console.deleted() == [console.username()]


def test_the_lookup_carries_the_token_and_the_report_neither_token_nor_password(console: Console) -> None:
    console.pool.signs_in(mfa=True)
    status, detail, _, _ = console.check()
    assert status == "pass"
    lookup = console.http.console_requests[-1]
    assert lookup.get_header("Authorization") == f"Bearer {ACCESS_TOKEN}"
    assert json.loads(lookup.data) == {"area_code": 415, "phone": "358-1921"}
    password = console.pool.request("AdminSetUserPassword")["Password"]
    for secret in (ACCESS_TOKEN, password, TOTP_SECRET):
        assert secret not in detail


def test_an_unknown_reference_customer_is_the_consoles_own_404_and_passes(console: Console) -> None:
    console.pool.signs_in(mfa=True)
    console.http.signed_in = lambda path, body: (
        404,
        {"error": "no customer with area code 415 and that phone number", "kind": "unknown_customer"},
    )
    status, detail, _, _ = console.check()
    assert status == "pass"
    assert (
        "customer 415/358-1921 is not in this database; the API answered its 404 unknown_customer" in detail
    )


def test_a_token_the_authorizer_refuses_fails_and_the_user_is_still_deleted(console: Console) -> None:
    console.pool.signs_in(mfa=True)
    console.http.signed_in = lambda path, body: (401, {"message": "Unauthorized"})
    status, detail, cause, fix = console.check()
    assert status == "fail" and "refused verify's signed-in token (HTTP 401 Unauthorized)" in detail
    assert "audience is not the console's app client" in cause and "redeploy" in fix
    assert console.deleted() == [console.username()]


def test_a_database_the_function_cannot_reach_is_named(console: Console) -> None:
    console.pool.signs_in(mfa=False)
    console.http.signed_in = lambda path, body: (
        503,
        {"error": "the database is not answering; nothing was recorded", "kind": "database_unreachable"},
    )
    status, detail, cause, fix = console.check()
    assert status == "fail" and "HTTP 503 database_unreachable" in detail
    assert "could not read the database" in cause and "database_awake" in fix


def test_a_wrong_authenticator_code_points_at_the_clock(console: Console) -> None:
    console.pool.creates_user()
    console.pool.answer("admin_initiate_auth", console.pool.challenge("MFA_SETUP"))
    console.pool.answer("associate_software_token", {"SecretCode": TOTP_SECRET, "Session": SESSIONS[1]})
    console.pool.fail(
        "verify_software_token",
        "EnableSoftwareTokenMFAException",
        "Code mismatch and fail enable Software Token MFA",
    )
    console.pool.deletes_user()
    status, detail, cause, fix = console.check()
    assert status == "fail" and "EnableSoftwareTokenMFAException" in detail
    assert "clock" in cause and "NTP" in fix
    assert console.deleted() == [console.username()]


def test_a_client_without_the_admin_flow_says_redeploy(console: Console) -> None:
    console.pool.creates_user()
    console.pool.fail(
        "admin_initiate_auth", "InvalidParameterException", "Auth flow not enabled for this client"
    )
    console.pool.deletes_user()
    status, detail, cause, fix = console.check()
    assert status == "fail" and "Auth flow not enabled for this client" in detail
    assert "ADMIN_USER_PASSWORD_AUTH" in cause and "redeploy with this version" in fix
    assert console.deleted() == [console.username()]


def test_an_identity_without_cognito_rights_is_told_which_actions_and_nothing_is_left_to_delete(
    console: Console,
) -> None:
    console.pool.fail(
        "list_users",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cognito-idp:ListUsers "
        f"on resource: arn:aws:cognito-idp:{REGION}:123456789012:userpool/{POOL.user_pool_id}",
    )
    console.pool.fail(
        "admin_create_user",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cognito-idp:AdminCreateUser "
        f"on resource: arn:aws:cognito-idp:{REGION}:123456789012:userpool/{POOL.user_pool_id}",
    )
    status, detail, cause, fix = console.check()
    assert status == "fail" and "not authorized to perform: cognito-idp:AdminCreateUser" in detail
    assert "may not manage the console's user pool" in cause
    assert "AdminCreateUser, AdminSetUserPassword, AdminInitiateAuth" in fix and "AdminDeleteUser" in fix
    assert "ListUsers, AdminCreateUser" in fix
    assert console.pool.calls() == ["ListUsers", "AdminCreateUser"]  # refused: no user to delete


def test_an_unexpected_challenge_is_named(console: Console) -> None:
    console.pool.creates_user()
    console.pool.answer("admin_initiate_auth", console.pool.challenge("NEW_PASSWORD_REQUIRED"))
    console.pool.deletes_user()
    status, detail, _, _ = console.check()
    assert (
        status == "fail"
        and "asked verify's temporary agent for the NEW_PASSWORD_REQUIRED challenge" in detail
    )
    assert console.deleted() == [console.username()]


def test_a_user_that_cannot_be_deleted_is_named_with_the_command_to_delete_it(console: Console) -> None:
    console.pool.creates_user()
    console.pool.answer("admin_initiate_auth", console.pool.tokens())
    console.pool.fail("admin_delete_user", "TooManyRequestsException", "Too many requests")
    status, detail, cause, fix = console.check()
    username = console.username()
    assert status == "fail"
    assert f"could not delete verify's temporary agent {username}" in detail
    assert (
        f"aws cognito-idp admin-delete-user --user-pool-id {POOL.user_pool_id} --username {username}"
        in detail
    )
    assert "should not stay" in cause and "admin-delete-user" in fix


def test_a_failure_and_a_failed_deletion_are_both_reported() -> None:
    pool = CognitoPool()
    pool.creates_user()
    pool.answer("admin_initiate_auth", pool.tokens())
    pool.fail("admin_delete_user", "InternalErrorException", "Internal error")
    with pool.stub, pytest.raises(VerifyFailure) as raised, temporary_agent(pool.stub.client, POOL):
        raise VerifyFailure("the look-up failed")
    assert str(raised.value).startswith("VerifyFailure: the look-up failed; and could not delete")


def test_a_stack_from_before_the_client_output_says_redeploy(console: Console) -> None:
    console.outputs = dataclasses.replace(OUTPUTS, console_client_id=None)
    status, detail, cause, fix = console.check()
    assert status == "fail" and "no ConsoleUserPoolId/ConsoleClientId output" in detail
    assert "older churnguard" in cause and "redeploy" in fix and console.pool.calls() == []


def test_every_console_failure_text_has_its_own_diagnosis() -> None:
    for text, words in (
        ("could not delete verify's temporary agent churnguard-verify-1", "should not stay"),
        ("TooManyRequestsException: Rate exceeded", "throttled"),
        ("InvalidPasswordException: Password does not conform to policy", "password policy"),
        ("the console API's signed-in look-up answered HTTP 502 internal", "function failed"),
    ):
        assert words in diagnose(names.CONSOLE, text).cause, text


def test_waiting_for_the_next_code_is_announced(console: Console) -> None:
    console.pool.creates_user()
    console.pool.answer("admin_initiate_auth", console.pool.challenge("MFA_SETUP"))
    console.pool.answer("associate_software_token", {"SecretCode": TOTP_SECRET, "Session": SESSIONS[1]})
    console.pool.answer("verify_software_token", {"Status": "SUCCESS", "Session": SESSIONS[2]})
    console.pool.answer("admin_respond_to_auth_challenge", console.pool.challenge("SOFTWARE_TOKEN_MFA"))
    console.pool.answer("admin_respond_to_auth_challenge", console.pool.tokens())
    console.pool.deletes_user()
    status, _, _, _ = console.check()
    assert status == "pass"
    (waited,) = console.slept
    assert 0 < waited <= 30
    assert console.progress == [f"waiting {waited:.0f} s for the temporary agent's next authenticator code"]


def test_an_interrupted_check_still_deletes_the_user_and_stops() -> None:
    pool = CognitoPool()
    pool.creates_user()
    pool.answer("admin_initiate_auth", pool.tokens())
    pool.fail("admin_delete_user", "InternalErrorException", "Internal error")
    with pool.stub, pytest.raises(KeyboardInterrupt) as raised, temporary_agent(pool.stub.client, POOL):
        raise KeyboardInterrupt
    assert pool.calls()[-1] == "AdminDeleteUser"
    (note,) = raised.value.__notes__
    assert note.startswith("could not delete verify's temporary agent churnguard-verify-")


def ago(**elapsed: float) -> datetime:
    return datetime.now(UTC) - timedelta(**elapsed)


def test_agents_left_by_interrupted_runs_are_deleted_first_and_a_running_ones_is_not(
    console: Console,
) -> None:
    killed, older, concurrent = (
        USER_PREFIX + suffix for suffix in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc")
    )
    console.pool.lists_users(((killed, ago(hours=2)), (concurrent, ago(minutes=3))), more=True)
    console.pool.lists_users(((older, ago(days=40)),))
    console.pool.answer("admin_delete_user", {})
    console.pool.answer("admin_delete_user", {})
    console.pool.signs_in(mfa=False)
    status, detail, _, _ = console.check()
    assert status == "pass", detail
    assert f"deleted {killed}, {older}, left by interrupted runs" in detail
    listed = [params for name, params in console.pool.stub.requests if name == "ListUsers"]
    assert listed[0]["Filter"] == f'username ^= "{USER_PREFIX}"'
    assert listed[1]["PaginationToken"] == "next-page-token"
    assert console.deleted() == [killed, older, console.username()]  # the concurrent run's agent stays


def test_a_pool_that_cannot_be_listed_or_a_leftover_that_cannot_be_deleted_is_said_not_failed(
    console: Console,
) -> None:
    stuck = USER_PREFIX + "dddddddddddd"
    console.pool.lists_users(((stuck, ago(hours=3)),))
    console.pool.fail("admin_delete_user", "InternalErrorException", "Internal error")
    console.pool.signs_in(mfa=False)
    status, detail, _, _ = console.check()
    assert status == "pass", detail
    assert f"could not delete the leftover temporary agent {stuck} (InternalErrorException" in detail

    denied = Console()
    denied.pool.fail(
        "list_users", "NotAuthorizedException", "not authorized to perform: cognito-idp:ListUsers"
    )
    denied.pool.signs_in(mfa=False)
    status, detail, _, _ = denied.check()
    assert status == "pass", detail
    assert "could not look for temporary agents left by interrupted runs (NotAuthorizedException" in detail
