"""The HTTP side the engine's two Lambdas share (the recommend API, the console's API): JSON responses,
the request body, and the answer to a failure the engine let through.

Both are reached through a Lambda event of payload format 2.0 (a Function URL and an HTTP API), so
the body arrives the same way and every answer has the same shape. Imports: standard library and
churnguard only, as everything a Lambda bundle holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import traceback
from collections.abc import Mapping
from typing import Any

from churnguard.engine.failures import error_code, failure_kind
from churnguard.errors import UserError
from churnguard.json_request import MAX_BODY_BYTES, RequestRefused, check_media_type, parse_json, too_large

# On every answer, errors included: an answer is about one customer and one call, so nothing may keep
# it; nosniff makes a browser take it as the JSON it says it is.
JSON_HEADERS = {
    "content-type": "application/json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}
# What a caller is told to wait before retrying when the cluster is resuming and the error says nothing.
DEFAULT_RETRY_AFTER_S = 15
NOTHING_RECORDED = "nothing was recorded, try again"


# The base64 text of a body of MAX_BODY_BYTES: 4 characters for every 3 bytes, the last group padded.
_MAX_BASE64_CHARS = 4 * -(-MAX_BODY_BYTES // 3)


class BadRequest(UserError):
    """The HTTP request's body is not what the call takes."""


def respond(
    status: int, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A Lambda proxy response with a JSON body that neither the browser nor a proxy caches."""
    return {"statusCode": status, "headers": {**JSON_HEADERS, **(headers or {})}, "body": json.dumps(body)}


def json_body(event: Mapping[str, Any], *, expected: str) -> Any:
    """The event's JSON body within churnguard.json_request's limits, measured on the bytes the caller
    sent (a Function URL and an HTTP API hand a binary or non-text body over base64-encoded, with
    isBase64Encoded set); `expected` tells the caller what to send when it is not JSON. Raises
    RequestRefused with the HTTP status (413, 415 or 400)."""
    headers = event.get("headers") or {}
    check_media_type(headers.get("content-type"))
    return parse_json(_body_bytes(event), expected=expected)


def refused(error: RequestRefused, **fields: str) -> dict[str, Any]:
    """The answer to a request json_body refused: its status and reason."""
    return respond(error.status, {"error": str(error), **fields})


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        if len(raw) > MAX_BODY_BYTES:  # every character is at least one byte
            raise too_large()
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestRefused(400, "the request body is not UTF-8 text") from None
    if len(raw) > _MAX_BASE64_CHARS:  # refused before decoding
        raise too_large()
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise RequestRefused(400, "the request body is not valid base64") from None


def failed(request_id: str, error: Exception, logger: logging.Logger) -> dict[str, Any]:
    """The response for an exception the engine let through: the database's failures are 503 (with
    Retry-After for a resuming cluster); anything else is a bug, logged with its stack and 500.
    Only the type, the error code and the stack are logged: an exception's text may quote the values
    it was given (the phone number, the message)."""
    kind = failure_kind(error)
    if kind is None:
        stack = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        logger.error(
            "request %s: internal error %s; nothing recorded\n%s", request_id, type(error).__name__, stack
        )
        return respond(500, {"error": "internal error in the recommendation service; nothing was recorded"})
    logger.error(
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
            {"error": f"the database is resuming from a pause; {NOTHING_RECORDED} in {retry_after} s"},
            headers={"retry-after": str(retry_after)},
        )
    if kind == "timeout":
        late = f"the database did not answer in time; {NOTHING_RECORDED}"
        return respond(503, {"error": str(error) if isinstance(error, UserError) else late})
    return respond(503, {"error": f"the database is unavailable; {NOTHING_RECORDED}"})
