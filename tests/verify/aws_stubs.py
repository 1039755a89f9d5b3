"""Answers shaped like the real services' for the AWS half of verify: RDS Data API records and errors,
CloudFormation outputs, S3 listings, and a Function URL answering over a stubbed HTTP layer.

Requests are recorded from botocore's `provide-client-params` event, i.e. exactly what the client
was asked to send (which secret, which SQL), while botocore's Stubber supplies the answers.
"""

from __future__ import annotations

import io
import json
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.stub import Stubber

from churnguard.aws_clients import aws_client
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.verify.stack_outputs import StackOutputs

REGION = "eu-west-1"
ACCOUNT = "123456789012"
OUTPUTS = StackOutputs(
    stack="churnguard-dev",
    cluster_arn=f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:churnguard-dev",
    app_secret_arn=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:churnguard-dev-app-AbCdEf",
    admin_secret_arn=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:churnguard-dev-admin-GhIjKl",
    database="churnguard",
    bucket="churnguard-dev-databucket-1a2b3c4d5e6f",
    api_url="https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/",
    endpoint_name="churnguard-dev-churn",
    console_url="https://d111111abcdef8.cloudfront.net",
    console_api_url="https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
    console_user_pool_id="eu-west-1_AbCdEfGhI",
    console_client_id="1example23456789abcdefghij",
)
# SHOW GRANTS FOR the API user as Aurora MySQL 3 prints it (MySQL 8.0's form: the reference manual's
# SHOW GRANTS page): backticks, USAGE on its own line, the granted roles as one `role`@`host` list.
# Which roles are default roles is in mysql.default_roles, not here.
AURORA_API_USER_GRANTS = (
    "GRANT USAGE ON *.* TO `churnguard_api`@`%`",
    "GRANT EXECUTE ON `churnguard`.* TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`customer_messages` TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`customers` TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`models` TO `churnguard_api`@`%`",
    "GRANT INSERT ON `churnguard`.`offer_outcome_changes` TO `churnguard_api`@`%`",
    "GRANT SELECT, INSERT, UPDATE ON `churnguard`.`offer_outcomes` TO `churnguard_api`@`%`",
    "GRANT SELECT, INSERT ON `churnguard`.`offers_log` TO `churnguard_api`@`%`",
    "GRANT `AWS_BEDROCK_ACCESS`@`%`,`AWS_COMPREHEND_ACCESS`@`%`,`AWS_SAGEMAKER_ACCESS`@`%` TO "
    "`churnguard_api`@`%`",
)
AURORA_API_USER_DEFAULT_ROLES = ("AWS_BEDROCK_ACCESS", "AWS_COMPREHEND_ACCESS", "AWS_SAGEMAKER_ACCESS")
# What an Aurora Data API MySQL result names SHOW GRANTS' one column.
SHOW_GRANTS_COLUMN = "Grants for churnguard_api@%"
# What Cognito's AssociateSoftwareToken and AdminInitiateAuth give verify's temporary agent (shapes of
# the real answers; the token is opaque to verify, which only sends it on as a bearer token).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSW"
ACCESS_TOKEN = "eyJraWQiOiJ0ZXN0IiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJ2ZXJpZnkifQ.c2lnbmF0dXJl"
AGENT_SUB = "0f1e2d3c-4b5a-4000-8000-00000000abcd"
# Cognito's sessions are opaque strings of 20 to 2048 characters (botocore checks the length).
SESSIONS = tuple(f"AYABeF{name}-session-0123456789abcdef" for name in ("Initiate", "Associate", "Verify"))


def field(value: Any) -> tuple[dict[str, Any], str]:
    """A Data API Field and the column typeName Aurora MySQL reports for a value of this kind."""
    if value is None:
        return {"isNull": True}, "VARCHAR"
    if isinstance(value, bool):
        return {"booleanValue": value}, "BIT"
    if isinstance(value, int):
        return {"longValue": value}, "INT"
    if isinstance(value, float):
        return {"doubleValue": value}, "DOUBLE"
    if isinstance(value, Decimal):
        return {"stringValue": format(value, "f")}, "DECIMAL"
    return {"stringValue": str(value)}, "VARCHAR"


def records(*rows: dict[str, Any]) -> dict[str, Any]:
    """An ExecuteStatement answer with includeResultMetadata: columnMetadata plus records."""
    labels = list(rows[0]) if rows else []
    first = [field(rows[0][label]) for label in labels] if rows else []
    return {
        "columnMetadata": [
            {"name": label, "label": label, "typeName": kind}
            for label, (_, kind) in zip(labels, first, strict=True)
        ],
        "records": [[field(row[label])[0] for label in labels] for row in rows],
        "numberOfRecordsUpdated": 0,
    }


def updated(count: int = 0) -> dict[str, Any]:
    return {"numberOfRecordsUpdated": count, "generatedFields": []}


def data_api_error(code: str, message: str) -> dict[str, Any]:
    return {"service_error_code": code, "service_message": message, "http_status_code": 400}


def aurora_error(code: int, message: str) -> dict[str, Any]:
    """How the Data API carries a database error: BadRequestException with
    'Database error code: N. Message: ...'."""
    return data_api_error("BadRequestException", f"Database error code: {code}. Message: {message}")


class RecordedClient:
    """A bounded boto3 client whose answers come from a Stubber and whose requests are recorded."""

    def __init__(self, service: str) -> None:
        self.client = aws_client(service, region_name=REGION)
        self.stubber = Stubber(self.client)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register(
            f"provide-client-params.{self.client.meta.service_model.endpoint_prefix}", self._record
        )

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests.append((model.name, dict(params)))

    def answer(self, operation: str, response: dict[str, Any]) -> None:
        self.stubber.add_response(operation, response)

    def fail(self, operation: str, error: dict[str, Any]) -> None:
        self.stubber.add_client_error(operation, **error)

    def __enter__(self) -> RecordedClient:
        self.stubber.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stubber.deactivate()


def customer_row(customers: Any, area_code: int, phone: str) -> dict[str, Any]:
    """One synthetic customer as the Data API returns it: INT as int, DECIMAL as Decimal, churn as bool."""
    row = customers[(customers.area_code == area_code) & (customers.phone == phone)].iloc[0]
    values: dict[str, Any] = {}
    for name in COLUMN_NAMES:
        value = row[name]
        if name == "churn":
            values[name] = bool(value)
        elif isinstance(value, float):
            values[name] = Decimal(f"{value:.2f}")
        elif hasattr(value, "item"):
            values[name] = value.item()
        else:
            values[name] = value
    return values


class FakeResponse(io.BytesIO):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(json.dumps(body).encode("utf-8"))
        self.status = status


class FunctionUrl:
    """The HTTP layer of a Function URL: records the signed request, answers with `status` and `body`."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> FakeResponse:
        self.requests.append((request, timeout))
        if self.status >= 400:
            raise urllib.error.HTTPError(
                request.full_url, self.status, "error", {}, io.BytesIO(json.dumps(self.body).encode("utf-8"))
            )
        return FakeResponse(self.status, self.body)


def answer(request: Any, status: int, body: Any) -> FakeResponse:
    """`body` with `status` as urllib gives it: a response, or an HTTPError carrying the body."""
    if status >= 400:
        raise urllib.error.HTTPError(
            request.full_url, status, "error", {}, io.BytesIO(json.dumps(body).encode("utf-8"))
        )
    return FakeResponse(status, body)


# What API Gateway answers itself when its JWT authorizer refuses a request.
UNAUTHORIZED = {"message": "Unauthorized"}
SignedInCall = Callable[[str, Any], tuple[int, Any]]


def lookup_found(path: str, body: Any) -> tuple[int, Any]:
    """The console's answer to a look-up of a customer it has (lambda/console's shape)."""
    return 200, {**body, "latest_message": "…", "recent_offers": []}


class ConsoleRoutes:
    """The HTTP layer seen from verify: the console's page (200, as CloudFront serves it), its API
    as API Gateway's JWT authorizer guards it (401 without a bearer token, or `api_status` to
    simulate an open API; with ACCESS_TOKEN, `signed_in` answers for the console's function), and
    every other request to the Function URL stub."""

    def __init__(
        self,
        function_url: FunctionUrl,
        *,
        page_status: int = 200,
        api_status: int = 401,
        signed_in: SignedInCall = lookup_found,
    ) -> None:
        self.function_url = function_url
        self.page_status = page_status
        self.api_status = api_status
        self.signed_in = signed_in
        self.console_requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> FakeResponse:
        url = request.full_url
        if OUTPUTS.console_url and url.startswith(OUTPUTS.console_url):
            self.console_requests.append(request)
            return answer(request, self.page_status, {"page": "console"})
        if OUTPUTS.console_api_url and url.startswith(OUTPUTS.console_api_url):
            self.console_requests.append(request)
            if request.get_header("Authorization") == f"Bearer {ACCESS_TOKEN}":
                path = url[len(OUTPUTS.console_api_url) :]
                return answer(request, *self.signed_in(path, json.loads(request.data)))
            return answer(request, self.api_status, UNAUTHORIZED if self.api_status >= 400 else {})
        return self.function_url(request, timeout)


class CognitoPool:
    """The console's user pool at the boto3 boundary: botocore's Stubber answers as Cognito does for
    a temporary agent (with or without the MFA_SETUP challenge), and every request is recorded."""

    def __init__(self) -> None:
        self.stub = RecordedClient("cognito-idp")
        self.queued = 0
        self.listed = False  # whether the sweep's ListUsers answers are queued

    def answer(self, operation: str, response: dict[str, Any]) -> None:
        self.stub.answer(operation, response)
        self.queued += 1

    def fail(self, operation: str, code: str, message: str) -> None:
        self.stub.fail(
            operation, {"service_error_code": code, "service_message": message, "http_status_code": 400}
        )
        self.queued += 1
        self.listed = self.listed or operation == "list_users"

    def lists_users(self, users: tuple[tuple[str, datetime], ...] = (), *, more: bool = False) -> None:
        """ListUsers' page for verify's prefix: (username, created) pairs; `more`: another page follows."""
        page: dict[str, Any] = {
            "Users": [
                {
                    "Username": name,
                    "UserCreateDate": created,
                    "UserLastModifiedDate": created,
                    "Enabled": True,
                    "UserStatus": "CONFIRMED",
                }
                for name, created in users
            ]
        }
        if more:
            page["PaginationToken"] = "next-page-token"
        self.answer("list_users", page)
        self.listed = True

    def creates_user(self) -> None:
        """The sweep's listing (no leftovers, unless a test queued its own), then create the user and
        set its password."""
        if not self.listed:
            self.lists_users()
        now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        self.answer(
            "admin_create_user",
            {
                "User": {
                    "Username": "churnguard-verify-000000000000",
                    "Attributes": [{"Name": "sub", "Value": AGENT_SUB}],
                    "UserCreateDate": now,
                    "UserLastModifiedDate": now,
                    "Enabled": True,
                    "UserStatus": "FORCE_CHANGE_PASSWORD",
                }
            },
        )
        self.answer("admin_set_user_password", {})

    def signs_in(self, *, mfa: bool) -> None:
        """Create, set the password, sign in (through MFA_SETUP when `mfa`), and delete."""
        self.creates_user()
        if mfa:
            self.answer(
                "admin_initiate_auth", self.challenge("MFA_SETUP", MFAS_CAN_SETUP='["SOFTWARE_TOKEN_MFA"]')
            )
            self.answer("associate_software_token", {"SecretCode": TOTP_SECRET, "Session": SESSIONS[1]})
            self.answer("verify_software_token", {"Status": "SUCCESS", "Session": SESSIONS[2]})
            self.answer("admin_respond_to_auth_challenge", self.tokens())
        else:
            self.answer("admin_initiate_auth", self.tokens())
        self.deletes_user()

    def deletes_user(self) -> None:
        self.answer("admin_delete_user", {})

    @staticmethod
    def challenge(name: str, **parameters: str) -> dict[str, Any]:
        return {"ChallengeName": name, "Session": SESSIONS[0], "ChallengeParameters": parameters}

    @staticmethod
    def tokens() -> dict[str, Any]:
        return {
            "ChallengeParameters": {},
            "AuthenticationResult": {
                "AccessToken": ACCESS_TOKEN,
                "ExpiresIn": 3600,
                "TokenType": "Bearer",
                "RefreshToken": "refresh-token-example",
                "IdToken": "id-token-example",
            },
        }

    def calls(self) -> list[str]:
        return [operation for operation, _ in self.stub.requests]

    def request(self, operation: str, index: int = 0) -> dict[str, Any]:
        return [params for name, params in self.stub.requests if name == operation][index]
