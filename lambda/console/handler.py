"""The deployed agent console's API: API Gateway (HTTP API, JWT authorizer) in front of the engine.

Routes POST /api/customer, /api/recommend and /api/outcome, the same calls and answers as the local
console (churnguard.console.service). API Gateway lets a request through only with a valid access
token from the console's Cognito user pool; this handler sees the token's claims and never a request
without them. The engine, its Data API client, the answer's deadline and the response shape are the
recommend API's own (lambda/recommend/handler.py, bundled beside this file as recommend/handler.py):
nothing of the engine is rewritten here.

Logs carry the call, its status and the agent's Cognito user id (`sub`, an opaque id), never the phone
number or the message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from typing import Any

from recommend import handler as recommend_api

from churnguard.console.service import ConsoleService, handle, opened_per_call
from churnguard.errors import UserError
from churnguard.request_logging import keep_requests_out_of_logs

LOGGER = logging.getLogger("churnguard.console_api")
LOGGER.setLevel(logging.INFO)
keep_requests_out_of_logs()
CALLS = ("customer", "recommend", "outcome")


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The HTTP API's entry point: every outcome is an answer of ours, a bug included (500)."""
    request_id = getattr(context, "aws_request_id", "-")
    try:
        return answer(event, context, request_id)
    except Exception as error:
        return recommend_api.failed(request_id, error)


def answer(event: Mapping[str, Any], context: Any, request_id: str) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    call = str(http.get("path", "")).rsplit("/", 1)[-1]
    if http.get("method") != "POST" or call not in CALLS:
        return recommend_api.respond(404, {"error": "no such call", "kind": "bad_request"})
    agent = _agent(event)
    if agent is None:  # API Gateway's authorizer lets no such request through; refuse it anyway
        return recommend_api.respond(401, {"error": "sign in first", "kind": "unauthorized"})
    try:
        body = _body(event)
    except UserError as error:
        return recommend_api.respond(400, {"error": str(error), "kind": "bad_request"})
    try:
        service = ConsoleService(
            engine=recommend_api.engine(),
            clients=opened_per_call(_opener(recommend_api.client_settings())),
            budget_s=recommend_api.answer_deadline(context).seconds,
        )
    except UserError as error:  # the bundle's model, rules or environment are wrong
        LOGGER.error("request %s: misconfigured: %s", request_id, error)
        return recommend_api.respond(
            500, {"error": "the console's service is misconfigured; see its logs", "kind": "internal"}
        )
    status, payload = handle(call, getattr(service, call), body)
    LOGGER.info("request %s: %s by agent %s: %d", request_id, call, agent, status)
    return recommend_api.respond(status, payload)


def _opener(settings: Mapping[str, str]) -> Any:
    def open_client(deadline: Any) -> Any:
        return recommend_api.CLIENT_FACTORY(**settings, deadline=deadline)

    return open_client


def _agent(event: Mapping[str, Any]) -> str | None:
    """The signed-in agent's Cognito user id, from the claims API Gateway's JWT authorizer verified."""
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims", {})
    subject = claims.get("sub") if isinstance(claims, Mapping) else None
    return str(subject) if subject else None


def _body(event: Mapping[str, Any]) -> Any:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UserError("the body is not base64-encoded UTF-8 text") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise UserError("the request body is not valid JSON") from None
