"""lambda/console/handler.py as API Gateway (HTTP API, payload 2.0, JWT authorizer) runs it, on the
local MariaDB in place of the Data API: the handler module loaded as the bundle lays it out, the
events API Gateway sends, and the HTTP API itself as a caller over HTTPS meets it."""

from __future__ import annotations

import importlib.util
import io
import json
import urllib.error
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from churnguard.db import connect

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "lambda" / "console" / "handler.py"
CONTEXT = SimpleNamespace(aws_request_id="req-1", get_remaining_time_in_millis=lambda: 10_000)


def load_handler(monkeypatch: pytest.MonkeyPatch, db_url: str, model_dir: Path) -> ModuleType:
    """The handler module, with its Data API client replaced by a local one."""
    monkeypatch.setenv("MODEL_DIR", str(model_dir))
    monkeypatch.setenv("CLUSTER_ARN", "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-test")
    monkeypatch.setenv("API_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app")
    spec = importlib.util.spec_from_file_location(f"console_handler_{uuid.uuid4().hex}", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(
        module,
        "CLIENT_FACTORY",
        lambda *, cluster_arn, secret_arn, database, deadline: connect(db_url, deadline=deadline),
    )
    return module


def event(call: str, body: Any, *, claims: dict | None = None, method: str = "POST") -> dict:
    """The payload-2.0 event API Gateway passes the function (claims: what the authorizer verified)."""
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


class HttpApi:
    """The console's HTTP API seen through urllib: its JWT authorizer admits a request only with
    `Bearer <token>` for a token in `tokens` (token -> the claims API Gateway would pass on) and
    answers 401 {"message": "Unauthorized"} itself otherwise; admitted requests run the handler."""

    def __init__(self, base_url: str, handler: Callable[[dict, Any], dict], tokens: dict[str, dict]) -> None:
        self.base_url, self.handler, self.tokens = base_url.rstrip("/"), handler, tokens
        self.calls: list[tuple[str, int]] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        call = request.full_url[len(self.base_url) :].rsplit("/", 1)[-1]
        header = request.get_header("Authorization") or ""
        claims = self.tokens.get(header.removeprefix("Bearer "))
        if claims is None:
            status, body = 401, json.dumps({"message": "Unauthorized"})
        else:
            response = self.handler(event(call, json.loads(request.data), claims=claims), CONTEXT)
            status, body = response["statusCode"], response["body"]
        self.calls.append((call, status))
        if status >= 400:
            raise urllib.error.HTTPError(request.full_url, status, "error", {}, io.BytesIO(body.encode()))
        answer = io.BytesIO(body.encode())
        answer.status = status  # type: ignore[attr-defined]
        return answer
