"""Who is acting, from what AWS verified before the Lambda ran, or from the local user's account.

Deployed console (API Gateway HTTP API, JWT authorizer, payload 2.0): the Cognito user's `sub` from
`requestContext.authorizer.jwt.claims`, and supervisor rights from membership of the `supervisors`
group (`cognito:groups`). Recommend API (Lambda Function URL, AWS_IAM auth): the signing principal's
ARN from `requestContext.authorizer.iam.userArn`. Locally: a name the operator gives (`--agent`),
by default the OS user. Nothing here reads the request body: a name in a body is whatever the caller
typed. Standard library and churnguard's pure-Python modules only (both Lambdas import it).
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from typing import Any

from churnguard.engine.offers_log import Actor
from churnguard.errors import UserError

# The Cognito group whose members may record or correct any agent's outcome (infra/console.py).
SUPERVISORS_GROUP = "supervisors"
GROUPS_CLAIM = "cognito:groups"


def _authorizer(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    return authorizer if isinstance(authorizer, Mapping) else {}


def console_actor(event: Mapping[str, Any]) -> Actor | None:
    """The signed-in agent of a console API event, or None when the event carries no verified `sub`."""
    jwt = _authorizer(event).get("jwt")
    claims = jwt.get("claims") if isinstance(jwt, Mapping) else None
    if not isinstance(claims, Mapping):
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return None
    return Actor(agent=subject, supervisor=SUPERVISORS_GROUP in claim_list(claims.get(GROUPS_CLAIM)))


def claim_list(value: Any) -> list[str]:
    """A list-valued claim as API Gateway passes it: HTTP APIs hand array claims to the Lambda as one
    string, `[a b]` (bracketed, space-separated); a real list is taken as it is. Cognito group names
    hold no whitespace, so splitting on it is exact."""
    if isinstance(value, list):
        return [str(item) for item in value]
    if not isinstance(value, str):
        return []
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.split()


def function_url_actor(event: Mapping[str, Any]) -> Actor | None:
    """The IAM principal that signed a Function URL request (its ARN), or None without one."""
    iam = _authorizer(event).get("iam")
    arn = iam.get("userArn") if isinstance(iam, Mapping) else None
    if not isinstance(arn, str) or not arn:
        return None
    return Actor(agent=arn)


def local_actor(agent: str | None, *, supervisor: bool = False) -> Actor:
    """The local agent: `agent` (--agent) or the OS user running the command."""
    if agent is None:
        try:
            agent = getpass.getuser()
        except (KeyError, OSError):  # no user name in the environment or the password database
            raise UserError("cannot tell who you are from the OS: give --agent NAME") from None
    return Actor(agent=agent, supervisor=supervisor)
