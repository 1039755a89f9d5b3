"""A SigV4-signed JSON POST to a Lambda Function URL with AWS_IAM auth, over urllib with a timeout.

botocore signs (service "lambda", the URL's region); urllib sends, so no HTTP library is added.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

SERVICE = "lambda"
DEFAULT_TIMEOUT_S = 60.0

Opener = Callable[..., Any]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any  # the decoded JSON, or the raw text when the body is not JSON


def signed_request(
    url: str, payload: Mapping[str, Any], *, credentials: Any, region: str
) -> urllib.request.Request:
    """The POST with SigV4 headers for `payload` as JSON, ready for urllib (https URLs only)."""
    if not url.startswith("https://"):
        raise ValueError(f"the API URL must be https://, got {url[:40]!r}")
    body = json.dumps(payload).encode("utf-8")
    request = AWSRequest(method="POST", url=url, data=body, headers={"content-type": "application/json"})
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    headers = dict(request.headers.items())
    return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - https checked


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    credentials: Any,
    region: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    opener: Opener = urllib.request.urlopen,
) -> HttpAnswer:
    """Send the signed POST and read the answer, error statuses included (they carry JSON too)."""
    return _send(signed_request(url, payload, credentials=credentials, region=region), timeout, opener)


def unsigned_request(
    method: str,
    url: str,
    payload: Mapping[str, Any] | None = None,
    *,
    bearer: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    opener: Opener | None = None,
) -> HttpAnswer:
    """An https request without SigV4 (the console's public page, its API with or without a Cognito
    access token as `bearer`), read like post_json."""
    if not url.startswith("https://"):
        raise ValueError(f"the URL must be https://, got {url[:40]!r}")
    body = None if payload is None else json.dumps(payload).encode("utf-8")
    headers = {} if body is None else {"content-type": "application/json"}
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - https checked
    return _send(request, timeout, opener or urllib.request.urlopen)


def _send(request: urllib.request.Request, timeout: float, opener: Opener) -> HttpAnswer:
    try:
        with opener(request, timeout=timeout) as response:
            return HttpAnswer(response.status, _decode(response.read()))
    except urllib.error.HTTPError as error:
        with error:
            return HttpAnswer(error.code, _decode(error.read()))


def _decode(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
