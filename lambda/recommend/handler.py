"""The recommend API: a Lambda Function URL (AWS_IAM auth) that answers one call-centre request.

POST a JSON body {"area_code": 415, "phone": "358-1921", "message": "..."}, signed with SigV4: the
signing IAM principal (its ARN, from the event Lambda receives) is the agent the offer is recorded
for, and its repeat window and per-minute cap apply (churnguard.engine.agent_activity: a repeated
call returns the same offer with "repeated": true; over the cap, 429 with Retry-After). The answer
is the same JSON object `churnguard recommend --json` prints (offer, rule, reason, churn_probability,
sentiment, confidence, drivers, arm, degraded, missing, ...), recorded in the offers log. An answer without
the sentiment or without the churn score (Comprehend or the model endpoint failed) is still a 200,
with "degraded": true and "missing" saying what and why. The body is read within
churnguard.json_request's limits (content-type application/json, at most 64 KB, JSON nested at most 32
deep, no number over 40 characters, no NaN or Infinity). Errors are JSON {"error": "..."} with 400 (bad
request), 404 (unknown customer), 405 (not POST), 413 (body over 64 KB), 415 (not sent as JSON), 500
(the bundled model, rules or environment are unusable, or a bug: its type and stack are logged), 502
(neither the score nor the sentiment is available) or 503 (the database did not answer in time, is
unreachable, or is a paused Aurora cluster resuming: then with Retry-After); nothing is recorded when a
call fails.

Time: each answer has a budget ($CHURNGUARD_ANSWER_TIMEOUT_S, default 5 s, never more than the
invocation's remaining time allows): no Data API call is waited for past it, each call's connect and
read timeouts are bounded too, and a resuming cluster is not waited for. The function's timeout
(infra/api.py) exceeds the longest wait this allows (churnguard.engine.deadline.longest_api_wait_s).

Environment: as churnguard.lambda_runtime reads it (the Data API's cluster and API user's secret, the
bundled model and rules). Logs carry the request id, rule, offer, arm, what was missing and timings,
never the phone number or the message; a database failure is logged by type and error code, a bug by
type and stack. The HTTP side (responses, the body, failures) is churnguard.http_api, shared with the
console's API. Imports: standard library, boto3 and churnguard's pure-Python modules only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from churnguard.agent_identity import function_url_actor
from churnguard.engine.agent_activity import AgentRateLimited
from churnguard.engine.recommend import Engine, RecordUnconfirmed, ScoringError, UnknownCustomerError
from churnguard.engine.request import validate_request
from churnguard.errors import UserError
from churnguard.http_api import BadRequest, failed, json_body, refused, respond
from churnguard.json_request import RequestRefused
from churnguard.lambda_runtime import (
    ClientFactory,
    answer_deadline,
    bundled_engine,
    client_settings,
    data_api_client,
)
from churnguard.request_logging import keep_requests_out_of_logs

LOGGER = logging.getLogger("churnguard.recommend_api")
LOGGER.setLevel(logging.INFO)
keep_requests_out_of_logs()

HERE = Path(__file__).resolve().parent
REQUEST_FIELDS = ("area_code", "phone", "message")
# Tests replace this with a client on a local MariaDB; everything else runs as deployed.
CLIENT_FACTORY: ClientFactory = data_api_client


def engine() -> Engine:
    """The engine of the model bundled beside this file, loaded once per execution environment."""
    return bundled_engine(HERE)


def parse_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The request: a JSON object with exactly area_code, phone and message."""
    body = json_body(event, expected='{"area_code": 415, "phone": "NNN-NNNN", "message": "..."}')
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with area_code, phone and message")
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}: the body takes only area_code, phone and message")
    missing = [field for field in REQUEST_FIELDS if field not in body]
    if missing:
        raise BadRequest(f"missing field {missing[0]!r}: the body takes area_code, phone and message")
    return body


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The Function URL's entry point: every outcome is an HTTP answer of ours, a bug included (500,
    its stack logged), never an unhandled exception that Lambda turns into a bare 502."""
    request_id = getattr(context, "aws_request_id", "-")
    try:
        return answer(event, context, request_id)
    except Exception as error:
        return failed(request_id, error, LOGGER)


def answer(event: Mapping[str, Any], context: Any, request_id: str) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method != "POST":
        return respond(405, {"error": f"use POST, not {method}"})
    actor = function_url_actor(event)
    if actor is None:  # the Function URL's AWS_IAM auth lets no unsigned request through; refuse anyway
        return respond(
            401, {"error": "sign the request with SigV4 (the URL takes IAM-authorised calls only)"}
        )
    try:
        body = parse_body(event)
        request = validate_request(body["area_code"], body["phone"], body["message"])
    except RequestRefused as error:  # over 64 KB (413), not JSON (415), too deep or a number too long (400)
        LOGGER.info("request %s refused: %d", request_id, error.status)
        return refused(error)
    except UserError as error:
        LOGGER.info("request %s refused: %s", request_id, type(error).__name__)
        return respond(400, {"error": str(error)})
    try:
        loaded = engine()
        settings = client_settings()
        deadline = answer_deadline(context)
    except UserError as error:  # the bundle's model, rules or environment are wrong: a deployment problem
        LOGGER.error("request %s: misconfigured: %s", request_id, error)
        return respond(500, {"error": "the recommendation service is misconfigured; see its logs"})
    client = None
    try:
        client = CLIENT_FACTORY(**settings, deadline=deadline)
        result = loaded.recommend(client, request, agent=actor.agent)
    except UnknownCustomerError as error:
        LOGGER.info("request %s: unknown customer", request_id)
        return respond(404, {"error": str(error)})
    except AgentRateLimited as error:
        LOGGER.info("request %s: the caller's per-minute cap is reached", request_id)
        return respond(429, {"error": str(error)}, headers={"retry-after": str(error.retry_after_s)})
    except ScoringError as error:
        LOGGER.error("request %s: no usable answer from the database; nothing recorded", request_id)
        return respond(502, {"error": str(error)})
    except RecordUnconfirmed as error:
        LOGGER.error("request %s: the offer's INSERT is unconfirmed", request_id)
        return respond(503, {"error": str(error)})
    except Exception as error:  # the offer is one INSERT, sent whole or not at all: nothing half-recorded
        return failed(request_id, error, LOGGER)
    finally:
        if client is not None:
            client.close()
    LOGGER.info(
        "request %s: offer %s (rule %s, arm %s, missing %s)",
        request_id,
        result["offer_id"],
        result["rule"],
        result["arm"],
        ",".join(part["part"] for part in result["missing"]) or "none",
    )
    return respond(200, result)
