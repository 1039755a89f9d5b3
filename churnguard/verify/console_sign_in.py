"""A temporary agent for the deployed console's signed-in path: created, signed in, always deleted.

verify must prove that a signed-in agent reaches the console's API, unattended after a deploy, so it
cannot use a person's account or a browser. With the caller's IAM credentials it creates a user in
the console's Cognito pool (AdminCreateUser, no invitation sent), gives it a random permanent
password (AdminSetUserPassword; the password is never printed or logged), signs it in through the
app client's ADMIN_USER_PASSWORD_AUTH flow (AdminInitiateAuth, which only IAM credentials can call)
and, where the pool requires MFA, sets up an authenticator for it and answers with RFC 6238 codes
(churnguard.verify.totp). The user is deleted whatever happens, and its access token lives only in
memory for the one API call verify makes. docs/verify.md quotes the AWS documentation relied on.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from churnguard.verify.checks import VerifyFailure
from churnguard.verify.totp import Authenticator

# Every user verify creates is named so; an interrupted run's leftover is recognisable by it.
USER_PREFIX = "churnguard-verify-"
# Well above the pool's 12-character minimum, with every class its policy requires.
PASSWORD_CLASS_COUNT = 8
PASSWORD_SYMBOLS = "!#%&*+-.=^_"  # noqa: S105 (an alphabet, all in Cognito's special characters)
# A temporary agent older than this is a leftover of an interrupted run (SIGKILL, a lost machine)
# and is deleted before the next one is made; a run's own agent lives for a minute at most, so a
# concurrent verify's agent is never taken for one.
LEFTOVER_AGE_S = 3600.0
# ListUsers returns at most 60 users a page; more pages than this of leftovers is not a leftover.
LIST_PAGE_SIZE = 60
MAX_LIST_PAGES = 10
# Sign-in answers at most this many challenges (MFA_SETUP, then perhaps SOFTWARE_TOKEN_MFA).
MAX_CHALLENGES = 3
DEVICE_NAME = "churnguard verify"


@dataclass(frozen=True)
class ConsolePool:
    """The console's user pool and its app client (stack outputs ConsoleUserPoolId, ConsoleClientId)."""

    user_pool_id: str
    client_id: str


@dataclass(frozen=True)
class SignedIn:
    """What a sign-in gave: the access token (for the one API call) and whether MFA was set up."""

    username: str
    access_token: str
    mfa: bool
    # What the sweep before it did: the leftovers deleted, and what kept it from looking or deleting.
    swept: tuple[str, ...] = ()
    sweep_problems: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never a token in a log line or a traceback
        return f"SignedIn(username={self.username!r}, access_token='***', mfa={self.mfa})"


def random_password() -> str:
    """A fresh password meeting the pool's policy (upper, lower, digit, symbol), from `secrets`."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, PASSWORD_SYMBOLS)
    characters = [secrets.choice(alphabet) for alphabet in classes for _ in range(PASSWORD_CLASS_COUNT)]
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)


@contextmanager
def temporary_agent(
    cognito: Any,
    pool: ConsolePool,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[SignedIn]:
    """A signed-in temporary agent for the block; the user is deleted on the way out, whatever
    happened (a failed deletion is itself a failure naming the user to delete by hand). Leftovers of
    interrupted runs are deleted first (sweep_leftover_agents)."""
    swept, sweep_problems = sweep_leftover_agents(cognito, pool, now=clock())
    username = USER_PREFIX + secrets.token_hex(6)
    failure: BaseException | None = None
    created = False
    try:
        try:
            cognito.admin_create_user(
                UserPoolId=pool.user_pool_id, Username=username, MessageAction="SUPPRESS"
            )
        except Exception as error:
            # Cognito's own error means no user; any other (a reply lost on the way) may hide one.
            created = not _code(error)
            raise
        created = True
        password = random_password()
        cognito.admin_set_user_password(
            UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True
        )
        agent = sign_in(
            cognito, pool, username, password, lambda secret: Authenticator(secret, clock=clock, sleep=sleep)
        )
        yield dataclasses.replace(agent, swept=swept, sweep_problems=sweep_problems)
    except BaseException as error:
        failure = error
        raise
    finally:
        if created:
            _delete(cognito, pool, username, failure)


def sweep_leftover_agents(
    cognito: Any, pool: ConsolePool, *, now: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Delete the temporary agents earlier runs could not (named USER_PREFIX..., created more than
    LEFTOVER_AGE_S ago); returns (the users deleted, what went wrong). Housekeeping: a pool that
    cannot be listed or a leftover that cannot be deleted is reported, never a failed check."""
    leftovers: list[str] = []
    try:
        token = None
        for _ in range(MAX_LIST_PAGES):
            page = cognito.list_users(
                UserPoolId=pool.user_pool_id,
                Filter=f'username ^= "{USER_PREFIX}"',
                Limit=LIST_PAGE_SIZE,
                **({"PaginationToken": token} if token else {}),
            )
            leftovers += [
                user["Username"]
                for user in page.get("Users", [])
                if user["Username"].startswith(USER_PREFIX)
                and now - user["UserCreateDate"].timestamp() > LEFTOVER_AGE_S
            ]
            token = page.get("PaginationToken")
            if not token:
                break
    except Exception as error:
        return (), (f"could not look for temporary agents left by interrupted runs ({_said(error)})",)
    deleted, problems = [], []
    for username in leftovers:
        try:
            cognito.admin_delete_user(UserPoolId=pool.user_pool_id, Username=username)
        except Exception as error:
            if _code(error) != "UserNotFoundException":  # another run deleted it meanwhile
                problems.append(f"could not delete the leftover temporary agent {username} ({_said(error)})")
            continue
        deleted.append(username)
    return tuple(deleted), tuple(problems)


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _delete(cognito: Any, pool: ConsolePool, username: str, failure: BaseException | None) -> None:
    try:
        cognito.admin_delete_user(UserPoolId=pool.user_pool_id, Username=username)
    except Exception as error:
        if _code(error) == "UserNotFoundException":  # its creation failed: nothing to delete
            return
        leftover = (
            f"could not delete verify's temporary agent {username} ({_said(error)}); "
            f"delete it: aws cognito-idp admin-delete-user --user-pool-id {pool.user_pool_id} "
            f"--username {username}"
        )
        if failure is not None and not isinstance(failure, Exception):  # Ctrl-C: let it stop verify
            failure.add_note(leftover)
            return
        earlier = f"{_said(failure)}; and " if failure is not None else ""
        raise VerifyFailure(earlier + leftover) from error


def sign_in(
    cognito: Any,
    pool: ConsolePool,
    username: str,
    password: str,
    authenticator: Callable[[str], Authenticator],
) -> SignedIn:
    """ADMIN_USER_PASSWORD_AUTH, then each challenge in turn until Cognito gives tokens.

    MFA_SETUP (the pool requires MFA, the user has none): AssociateSoftwareToken on the challenge's
    session, VerifySoftwareToken with a code from the returned secret, then the challenge answered
    with VerifySoftwareToken's session. SOFTWARE_TOKEN_MFA: a code from a time step not used yet.
    Any other challenge is a failure that names it.
    """
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    app: Authenticator | None = None
    for _ in range(MAX_CHALLENGES + 1):
        tokens = answer.get("AuthenticationResult")
        if tokens and tokens.get("AccessToken"):
            return SignedIn(username=username, access_token=tokens["AccessToken"], mfa=app is not None)
        challenge = answer.get("ChallengeName")
        if challenge == "MFA_SETUP":
            app, session = _set_up_authenticator(cognito, answer["Session"], authenticator)
            responses = {"USERNAME": username}
        elif challenge == "SOFTWARE_TOKEN_MFA" and app is not None:
            session, responses = (
                answer["Session"],
                {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": app.code()},
            )
        else:
            raise VerifyFailure(
                f"Cognito asked verify's temporary agent for the {challenge or 'unnamed'} challenge, which "
                "it cannot answer (it answers MFA_SETUP and SOFTWARE_TOKEN_MFA with an authenticator app)"
            )
        answer = cognito.admin_respond_to_auth_challenge(
            UserPoolId=pool.user_pool_id,
            ClientId=pool.client_id,
            ChallengeName=challenge,
            ChallengeResponses=responses,
            Session=session,
        )
    raise VerifyFailure(f"Cognito gave no tokens after {MAX_CHALLENGES} challenges")


def _set_up_authenticator(
    cognito: Any, session: str, authenticator: Callable[[str], Authenticator]
) -> tuple[Authenticator, str]:
    """Register an authenticator for the user; (the authenticator, the session that answers MFA_SETUP)."""
    associated = cognito.associate_software_token(Session=session)
    app = authenticator(associated["SecretCode"])
    verified = cognito.verify_software_token(
        Session=associated["Session"], UserCode=app.code(), FriendlyDeviceName=DEVICE_NAME
    )
    if verified.get("Status") != "SUCCESS":
        raise VerifyFailure(
            f"Cognito did not accept verify's authenticator code (status {verified.get('Status')})"
        )
    return app, verified["Session"]


def _code(error: BaseException) -> str:
    response: Mapping[str, Any] = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))
