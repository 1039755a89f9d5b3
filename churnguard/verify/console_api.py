"""The deployed console's API as an agent calls it: the customer look-up with a Cognito access token.

The look-up is the console's read-only call (it records nothing), so verify can make it after any
deploy without leaving a row behind. Either answer proves the signed-in path end to end (API
Gateway's JWT authorizer, the function, the Data API, the database): the test customer's record, or
the console's own 404 `unknown_customer` when that customer is not in this database. Anything else
is a failure that quotes the status and the console's error kind, never the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from churnguard.verify.checks import VerifyFailure
from churnguard.verify.function_url import HttpAnswer, Opener, unsigned_request

LOOKUP_PATH = "/api/customer"


def look_up(
    api_url: str, access_token: str, customer: tuple[int, str], *, opener: Opener | None = None
) -> str:
    """POST /api/customer for `customer` with the token; a detail line, or VerifyFailure."""
    area_code, phone = customer
    answer = unsigned_request(
        "POST",
        api_url.rstrip("/") + LOOKUP_PATH,
        {"area_code": area_code, "phone": phone},
        bearer=access_token,
        opener=opener,
    )
    return judge(answer, customer)


def judge(answer: HttpAnswer, customer: tuple[int, str]) -> str:
    """What the look-up's answer says about the signed-in path (see the module docstring)."""
    area_code, phone = customer
    body: Mapping[str, Any] = answer.body if isinstance(answer.body, Mapping) else {}
    who = f"customer {area_code}/{phone}"
    if answer.status == 200:
        if body.get("area_code") != area_code or body.get("phone") != phone:
            raise VerifyFailure(f"the console API's signed-in look-up of {who} answered another customer")
        if not isinstance(body.get("recent_offers"), list):
            raise VerifyFailure(f"the console API's signed-in look-up of {who} has no recent_offers list")
        return f"looked up {who} ({len(body['recent_offers'])} recent offers)"
    if answer.status == 404 and body.get("kind") == "unknown_customer":
        return f"{who} is not in this database; the API answered its 404 unknown_customer"
    kind = body.get("kind") or body.get("message") or str(answer.body)[:120]
    if answer.status == 401:
        raise VerifyFailure(
            f"the console API refused verify's signed-in token (HTTP 401 {kind}): its JWT authorizer does "
            "not accept this pool's access tokens"
        )
    error = body.get("error")
    raise VerifyFailure(
        f"the console API's signed-in look-up answered HTTP {answer.status} {kind}"
        + (f": {error}" if error else "")
    )
