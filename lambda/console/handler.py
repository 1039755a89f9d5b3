"""The deployed agent console's API: API Gateway (HTTP API, JWT authorizer) in front of the engine.

Routes POST /api/customer, /api/recommend and /api/outcome, the same calls and answers as the local
console (churnguard.console.service). API Gateway lets a request through only with a valid access
token from the console's Cognito user pool; this handler sees the token's claims and never a request
without them. The engine, its Data API client and the answer's deadline (churnguard.lambda_runtime)
and the response shape (churnguard.http_api) are the ones the recommend API answers with: nothing of
the engine is rewritten here.

The acting agent is the Cognito user whose token API Gateway verified (`sub`; a member of the
`supervisors` group may correct any agent's outcome: churnguard.agent_identity), never a name in the
body. Logs carry the call, its status and that `sub` (an opaque id), never the phone number or the
message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from churnguard.agent_identity import console_actor
from churnguard.console.service import ConsoleService, handle, opened_per_call
from churnguard.engine.recommend import Engine
from churnguard.errors import UserError
from churnguard.http_api import failed, json_body, refused, respond
from churnguard.json_request import RequestRefused
from churnguard.lambda_runtime import (
    ClientFactory,
    answer_deadline,
    bundled_engine,
    client_settings,
    data_api_client,
)
from churnguard.request_logging import keep_requests_out_of_logs

LOGGER = logging.getLogger("churnguard.console_api")
LOGGER.setLevel(logging.INFO)
keep_requests_out_of_logs()
CALLS = ("customer", "recommend", "outcome")
HERE = Path(__file__).resolve().parent
# Tests replace this with a client on a local MariaDB; everything else runs as deployed.
CLIENT_FACTORY: ClientFactory = data_api_client


def engine() -> Engine:
    """The engine of the model bundled beside this file, loaded once per execution environment."""
    return bundled_engine(HERE)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The HTTP API's entry point: every outcome is an answer of ours, a bug included (500)."""
    request_id = getattr(context, "aws_request_id", "-")
    try:
        return answer(event, context, request_id)
    except Exception as error:
        return failed(request_id, error, LOGGER)


def answer(event: Mapping[str, Any], context: Any, request_id: str) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    call = str(http.get("path", "")).rsplit("/", 1)[-1]
    if http.get("method") != "POST" or call not in CALLS:
        return respond(404, {"error": "no such call", "kind": "bad_request"})
    actor = console_actor(event)
    if actor is None:  # API Gateway's authorizer lets no such request through; refuse it anyway
        return respond(401, {"error": "sign in first", "kind": "unauthorized"})
    try:
        body = json_body(event, expected="an object with the call's fields")
    except RequestRefused as error:  # 413, 415 or 400: churnguard.json_request's limits
        return refused(error, kind="bad_request")
    try:
        service = ConsoleService(
            engine=engine(),
            clients=opened_per_call(_opener(client_settings())),
            budget_s=answer_deadline(context).seconds,
            actor=actor,
        )
    except UserError as error:  # the bundle's model, rules or environment are wrong
        LOGGER.error("request %s: misconfigured: %s", request_id, error)
        return respond(
            500, {"error": "the console's service is misconfigured; see its logs", "kind": "internal"}
        )
    status, payload = handle(call, getattr(service, call), body)
    LOGGER.info("request %s: %s by agent %s: %d", request_id, call, actor.agent, status)
    retry_after = payload.get("retry_after_s")
    return respond(status, payload, headers={"retry-after": str(retry_after)} if retry_after else None)


def _opener(settings: Mapping[str, str]) -> Any:
    def open_client(deadline: Any) -> Any:
        return CLIENT_FACTORY(**settings, deadline=deadline)

    return open_client
