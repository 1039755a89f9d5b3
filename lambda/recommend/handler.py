"""The recommend API: a Lambda Function URL (AWS_IAM auth) that answers one call-centre request.

POST a JSON body {"area_code": 415, "phone": "358-1921", "message": "..."}; the answer is the same
JSON object `churnguard recommend --json` prints (offer, rule, reason, churn_probability, sentiment,
confidence, drivers, arm, ...), recorded in the offers log. Errors are JSON {"error": "..."} with
400 (bad request), 404 (unknown customer), 405 (not POST), 500 (the bundled model, rules or
environment are unusable), 502 (the database returned no usable score or sentiment) or 503 (database
unavailable); nothing is recorded when a call fails.

Environment: CLUSTER_ARN and APP_SECRET_ARN (the RDS Data API's cluster and the app user's secret),
DATABASE_NAME (default churnguard), MODEL_DIR (metadata.json + model.json; relative to this folder,
default "model"), RULES_FILE (optional; default: churnguard/rules/default.json in the bundle).
Logs carry the request id, rule, offer, arm and timings, never the phone number or the message.
Imports: standard library, boto3 and churnguard's pure-Python modules only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from churnguard.constants import DATABASE_NAME
from churnguard.engine.recommend import Engine, ScoringError, UnknownCustomerError
from churnguard.engine.request import validate_request
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

LOGGER = logging.getLogger("churnguard.recommend_api")
LOGGER.setLevel(logging.INFO)

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = "model"
REQUEST_FIELDS = ("area_code", "phone", "message")
JSON_HEADERS = {"content-type": "application/json", "cache-control": "no-store"}

ClientFactory = Callable[..., SqlClient]


def data_api_client(*, cluster_arn: str, secret_arn: str, database: str) -> SqlClient:
    """The production client: the RDS Data API, authorised by the function's role and the app secret."""
    from churnguard.dataapi import DataApiClient

    return DataApiClient(
        rds_data_client(), resource_arn=cluster_arn, secret_arn=secret_arn, database=database
    )


@functools.cache
def rds_data_client() -> Any:
    """One boto3 rds-data client for the life of the execution environment: building one reads the
    service model and sets up HTTPS, work a warm request need not repeat. boto3 clients are safe to
    share, and the DataApiClient around it, which holds a request's transaction, is still per request."""
    import boto3

    return boto3.client("rds-data")


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


def respond(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": JSON_HEADERS, "body": json.dumps(body)}


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
    request_id = getattr(context, "aws_request_id", "-")
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
    except UserError as error:  # the bundle's model, rules or environment are wrong: a deployment problem
        LOGGER.error("request %s: misconfigured: %s", request_id, error)
        return respond(500, {"error": "the recommendation service is misconfigured; see its logs"})
    client = None
    try:
        client = CLIENT_FACTORY(**settings)
        result = loaded.recommend(client, request)
    except UnknownCustomerError as error:
        LOGGER.info("request %s: unknown customer", request_id)
        return respond(404, {"error": str(error)})
    except ScoringError as error:
        LOGGER.error("request %s: unusable score (%s); nothing recorded", request_id, type(error).__name__)
        return respond(502, {"error": str(error)})
    except Exception as error:  # the database or the Data API failed; the transaction rolled back
        # Only the type: a driver's message may quote the values it was given.
        LOGGER.error(
            "request %s: database call failed (%s); nothing recorded", request_id, type(error).__name__
        )
        return respond(503, {"error": "the database is unavailable; nothing was recorded, try again"})
    finally:
        if client is not None:
            client.close()
    LOGGER.info(
        "request %s: offer %s (rule %s, arm %s)",
        request_id,
        result["offer_id"],
        result["rule"],
        result["arm"],
    )
    return respond(200, result)
