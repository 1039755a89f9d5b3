"""Answers shaped like the real services' for the AWS half of verify: RDS Data API records and errors,
CloudFormation outputs, S3 listings, and a Function URL answering over a stubbed HTTP layer.

Requests are recorded from botocore's `provide-client-params` event, i.e. exactly what the client
was asked to send (which secret, which SQL), while botocore's Stubber supplies the answers.
"""

from __future__ import annotations

import io
import json
import urllib.error
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
)


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


class ConsoleRoutes:
    """The HTTP layer seen from verify: the console's page and API answer with fixed statuses (the
    page 200, the API 401 without a token, as CloudFront and the JWT authorizer do); every other
    request goes to the Function URL stub."""

    def __init__(self, function_url: FunctionUrl, *, page_status: int = 200, api_status: int = 401) -> None:
        self.function_url = function_url
        self.page_status = page_status
        self.api_status = api_status
        self.console_requests: list[Any] = []

    def __call__(self, request: Any, timeout: float) -> FakeResponse:
        url = request.full_url
        for prefix, status in (
            (OUTPUTS.console_url, self.page_status),
            (OUTPUTS.console_api_url, self.api_status),
        ):
            if prefix and url.startswith(prefix):
                self.console_requests.append(request)
                if status >= 400:
                    raise urllib.error.HTTPError(
                        url, status, "error", {}, io.BytesIO(b'{"message":"Unauthorized"}')
                    )
                return FakeResponse(status, {"page": "console"})
        return self.function_url(request, timeout)
