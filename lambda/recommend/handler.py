"""The recommend API: a Lambda Function URL (AWS_IAM auth) that answers one call-centre request.

POST a JSON body {"area_code": 415, "phone": "358-1921", "message": "..."}; the answer is the same
JSON object `churnguard recommend --json` prints (offer, rule, reason, churn_probability, sentiment,
confidence, drivers, arm, degraded, missing, ...), recorded in the offers log. An answer without
the sentiment or without the churn score (Comprehend or the model endpoint failed) is still a 200,
with "degraded": true and "missing" saying what and why. Errors are JSON {"error": "..."} with
400 (bad request), 404 (unknown customer), 405 (not POST), 500 (the bundled model, rules or
environment are unusable, or a bug: its type and stack are logged), 502 (neither the score nor the
sentiment is available) or 503 (the database did not answer in time, is unreachable, or is a paused
Aurora cluster resuming: then with Retry-After); nothing is recorded when a call fails.

Time: each answer has a budget ($CHURNGUARD_ANSWER_TIMEOUT_S, default 5 s, never more than the
invocation's remaining time allows): no Data API call is waited for past it, each call's connect and
read timeouts are bounded too, and a resuming cluster is not waited for. The function's timeout
(infra/api.py) exceeds the longest wait this allows (churnguard.engine.deadline.longest_api_wait_s).

Environment: CLUSTER_ARN and APP_SECRET_ARN (the RDS Data API's cluster and the app user's secret),
DATABASE_NAME (default churnguard), MODEL_DIR (metadata.json + model.json; relative to this folder,
default "model"), RULES_FILE (optional; default: churnguard/rules/default.json in the bundle).
Logs carry the request id, rule, offer, arm, what was missing and timings, never the phone number or
the message; a database failure is logged by type and error code, a bug by type and stack.
Imports: standard library, boto3 and churnguard's pure-Python modules only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from churnguard.constants import DATABASE_NAME
from churnguard.engine.deadline import API_CONNECT_TIMEOUT_S, Deadline, answer_timeout, longest_api_wait_s
from churnguard.engine.failures import error_code, failure_kind
from churnguard.engine.recommend import Engine, RecordUnconfirmed, ScoringError, UnknownCustomerError
from churnguard.engine.request import validate_request
from churnguard.errors import UserError
from churnguard.request_logging import keep_requests_out_of_logs
from churnguard.sql_client import SqlClient

LOGGER = logging.getLogger("churnguard.recommend_api")
LOGGER.setLevel(logging.INFO)
keep_requests_out_of_logs()

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = "model"
REQUEST_FIELDS = ("area_code", "phone", "message")
JSON_HEADERS = {"content-type": "application/json", "cache-control": "no-store"}
# Kept back from the invocation's remaining time: building the response and logging after the last
# database call, so Lambda's own timeout never cuts an answer off.
INVOCATION_MARGIN_S = 1.0
# What a caller is told to wait before retrying when the cluster is resuming and the error says nothing.
DEFAULT_RETRY_AFTER_S = 15

ClientFactory = Callable[..., SqlClient]


def data_api_client(*, cluster_arn: str, secret_arn: str, database: str, deadline: Deadline) -> SqlClient:
    """The production client: the RDS Data API, authorised by the function's role and the app secret.

    It does not wait for a paused cluster to resume (about 15 s, longer than an agent can wait):
    the caller gets 503 with Retry-After at once.
    """
    from churnguard.dataapi import DataApiClient

    return DataApiClient(
        rds_data_client(answer_timeout()),  # the configured budget: one client, however the deadline is cut
        resource_arn=cluster_arn,
        secret_arn=secret_arn,
        database=database,
        resume_delays_s=(),
        deadline=deadline,
    )


@functools.cache
def rds_data_client(read_timeout_s: float) -> Any:
    """One boto3 rds-data client for the life of the execution environment: building one reads the
    service model and sets up HTTPS, work a warm request need not repeat. boto3 clients are safe to
    share, and the DataApiClient around it, which holds a request's transaction, is still per request.
    One attempt per call: within a budget of seconds a retry only moves the failure later (the caller
    retries on 503)."""
    from churnguard.aws_clients import aws_client

    return aws_client(
        "rds-data", connect_timeout=API_CONNECT_TIMEOUT_S, read_timeout=read_timeout_s, max_attempts=1
    )


# Tests replace this with a client on a local MariaDB; everything else runs as deployed.
CLIENT_FACTORY: ClientFactory = data_api_client

_engine: Engine | None = None


def engine() -> Engine:
    """The engine, loaded on the first request and kept for the life of the execution environment."""
    global _engine
    if _engine is None:
        model_dir = Path(os.environ.get("MODEL_DIR") or DEFAULT_MODEL_DIR)
        if not model_dir.is_absolute():
            model_dir = HERE / model_dir
        _engine = Engine.load(model_dir, rules_path=os.environ.get("RULES_FILE") or None)
        LOGGER.info(
            "loaded rules version %s and %d trees",
            _engine.rules.version,
            len(_engine.explainer.ensemble.trees),
        )
    return _engine


def client_settings() -> dict[str, str]:
    """The Data API settings from the environment, refusing to start without them."""
    missing = [name for name in ("CLUSTER_ARN", "APP_SECRET_ARN") if not os.environ.get(name)]
    if missing:
        raise UserError(f"environment variable {missing[0]} is not set")
    return {
        "cluster_arn": os.environ["CLUSTER_ARN"],
        "secret_arn": os.environ["APP_SECRET_ARN"],
        "database": os.environ.get("DATABASE_NAME") or DATABASE_NAME,
    }


def respond(
    status: int, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {"statusCode": status, "headers": {**JSON_HEADERS, **(headers or {})}, "body": json.dumps(body)}


def answer_deadline(context: Any) -> Deadline:
    """The answer's deadline: the configured budget, cut so that the longest wait it allows
    (longest_api_wait_s) ends before the invocation's own timeout, with a margin to answer."""
    budget = answer_timeout()
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is not None:
        usable = remaining_ms() / 1000 - INVOCATION_MARGIN_S - (longest_api_wait_s(budget) - budget)
        budget = max(0.1, min(budget, usable))
    return Deadline.after(budget)


class BadRequest(UserError):
    """The HTTP request is not a JSON object with exactly area_code, phone and message."""


def parse_body(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest("the body is not base64-encoded UTF-8 text") from None
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise BadRequest(
            'the body must be JSON: {"area_code": 415, "phone": "NNN-NNNN", "message": "..."}'
        ) from None
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
        return failed(request_id, error)


def answer(event: Mapping[str, Any], context: Any, request_id: str) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method != "POST":
        return respond(405, {"error": f"use POST, not {method}"})
    try:
        body = parse_body(event)
        request = validate_request(body["area_code"], body["phone"], body["message"])
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
        result = loaded.recommend(client, request)
    except UnknownCustomerError as error:
        LOGGER.info("request %s: unknown customer", request_id)
        return respond(404, {"error": str(error)})
    except ScoringError as error:
        LOGGER.error("request %s: no usable answer from the database; nothing recorded", request_id)
        return respond(502, {"error": str(error)})
    except RecordUnconfirmed as error:
        LOGGER.error("request %s: commit of offer %s unconfirmed", request_id, error.offer_id)
        return respond(503, {"error": str(error)})
    except Exception as error:  # the transaction, if any, rolled back: nothing was recorded
        return failed(request_id, error)
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


def failed(request_id: str, error: Exception) -> dict[str, Any]:
    """The response for an exception the engine let through: the database's failures are 503 (with
    Retry-After for a resuming cluster); anything else is a bug, logged with its stack and 500.
    Only the type, the error code and the stack are logged: an exception's text may quote the values
    it was given (the phone number, the message)."""
    kind = failure_kind(error)
    if kind is None:
        stack = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        LOGGER.error(
            "request %s: internal error %s; nothing recorded\n%s", request_id, type(error).__name__, stack
        )
        return respond(500, {"error": "internal error in the recommendation service; nothing was recorded"})
    LOGGER.error(
        "request %s: database %s (%s, %s); nothing recorded",
        request_id,
        kind,
        type(error).__name__,
        error_code(error),
    )
    if kind == "resuming":
        retry_after = int(getattr(error, "retry_after_s", DEFAULT_RETRY_AFTER_S))
        return respond(
            503,
            {"error": f"the database is resuming from a pause; {_NOTHING_RECORDED} in {retry_after} s"},
            headers={"retry-after": str(retry_after)},
        )
    if kind == "timeout":
        late = f"the database did not answer in time; {_NOTHING_RECORDED}"
        return respond(503, {"error": str(error) if isinstance(error, UserError) else late})
    return respond(503, {"error": f"the database is unavailable; {_NOTHING_RECORDED}"})


_NOTHING_RECORDED = "nothing was recorded, try again"
