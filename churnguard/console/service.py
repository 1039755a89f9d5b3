"""What the console's API does, apart from HTTP: look a customer up, answer a call, record an outcome.

Shared by the local console (churnguard.console.app, a PyMySQL client per call) and the deployed one
(lambda/console, a RDS Data API client per call): each opens the service a SqlClient bounded by the
call's Deadline. Answers come from the
same Engine as `churnguard recommend` and the recommend API. Every failure becomes a Problem: an HTTP
status, a short kind the page keys on, and one sentence an agent understands. Nothing here logs a
phone number or a message: only which call it was, its status and the error's type or code.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from churnguard.console.history import (
    RECENT_OFFERS_COLUMN,
    InvalidOutcomeError,
    recent_offers,
    record_agent_outcome,
)
from churnguard.console.wording import for_agent
from churnguard.engine.agent_activity import AgentRateLimited
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import DatabaseUnreachable, error_code, failure_kind
from churnguard.engine.offers_log import Actor, OffersLogError, OutcomeNotAllowed
from churnguard.engine.recommend import (
    LATEST_MESSAGE_COLUMN,
    Engine,
    RecordUnconfirmed,
    ScoringError,
    UnknownCustomerError,
)
from churnguard.engine.request import InvalidRequestError, validate_customer_key, validate_request
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.statements import customer_sql

LOG = logging.getLogger("churnguard.console")

ClientOpener = Callable[[Deadline], SqlClient]
# Lends a client for one call, bounded by the call's deadline, and takes it back (closed or kept).
ClientLease = Callable[[Deadline], AbstractContextManager[SqlClient]]
NOTHING_RECORDED = "nothing was recorded: try again in a moment"


class BadRequest(UserError):
    """The request body is not the JSON object the call takes."""


class NoMessageOnFile(UserError):
    """No message was typed and the customer has none on file: there is no sentiment to read."""


@dataclass(frozen=True)
class Problem:
    """A failed call as the page shows it: HTTP status, a kind to key on, and the sentence to show."""

    status: int
    kind: str
    message: str
    # Seconds before trying again (429: the agent's per-minute cap), sent as Retry-After.
    retry_after_s: int | None = None

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"error": self.message, "kind": self.kind}
        if self.retry_after_s is not None:
            shown["retry_after_s"] = self.retry_after_s
        return shown


@dataclass(frozen=True)
class ConsoleService:
    """The console's three calls, each within one answer budget (seconds) from its start, made by
    `actor`: the signed-in agent (deployed: the Cognito user) or the local console's agent."""

    engine: Engine
    clients: ClientLease
    budget_s: float
    actor: Actor

    def customer(self, body: Any) -> dict[str, Any]:
        """The customer's latest message on file and recent offers, in one statement;
        UnknownCustomerError if none."""
        fields = _fields(body, required=("area_code", "phone"))
        area_code, phone = validate_customer_key(fields["area_code"], fields["phone"])
        columns = [f"{LATEST_MESSAGE_COLUMN} AS latest_message", f"{RECENT_OFFERS_COLUMN} AS recent_offers"]
        with self._client() as client:
            rows = client.query(customer_sql(columns), {"area_code": area_code, "phone": phone})
        if not rows:
            raise UnknownCustomerError(f"no customer with area code {area_code} and that phone number")
        message = rows[0]["latest_message"]
        return {
            "area_code": area_code,
            "phone": phone,
            "latest_message": None if message is None else str(message),
            "recent_offers": recent_offers(rows[0]["recent_offers"]),
        }

    def recommend(self, body: Any) -> dict[str, Any]:
        """The engine's answer (recorded in the offers log) in the agent's words, with the offers the
        customer had before it. Without a typed message, the latest on file is read. The offers
        before it, and the message on file, come in the engine's first statement (Engine.look_up):
        the whole answer is the engine's three calls, as the recommend API's."""
        fields = _fields(body, required=("area_code", "phone"), optional=("message",))
        area_code, phone = validate_customer_key(fields["area_code"], fields["phone"])
        typed = fields.get("message")
        if typed is not None and not (isinstance(typed, str) and not typed.strip()):
            validate_request(area_code, phone, typed)  # refuse a bad message before opening anything
        else:
            typed = None
        extra = {"recent_offers": RECENT_OFFERS_COLUMN}
        if typed is None:
            extra["latest_message"] = LATEST_MESSAGE_COLUMN
        with self._client() as client:
            looked_up = self.engine.look_up(client, area_code, phone, extra, agent=self.actor.agent)
            previous = recent_offers(looked_up.extras["recent_offers"])
            message = typed if typed is not None else looked_up.extras["latest_message"]
            if message is None:
                raise NoMessageOnFile(
                    "no message typed and none on file for this customer: type what the customer said"
                )
            request = validate_request(area_code, phone, str(message))
            answer = self.engine.recommend(client, request, agent=self.actor.agent, looked_up=looked_up)
        if typed is None:
            answer["notes"].insert(0, "message: the customer's latest message on file")
        return {**for_agent(answer), "previous_offers": previous}

    def outcome(self, body: Any) -> dict[str, Any]:
        """Record accepted / declined / call_ended for one of the agent's own offers (a supervisor's:
        any offer) in the outcomes table, keeping what it replaced."""
        fields = _fields(body, required=("offer_id", "outcome"))
        with self._client() as client:
            return record_agent_outcome(client, fields["offer_id"], fields["outcome"], actor=self.actor)

    def _client(self) -> AbstractContextManager[SqlClient]:
        """A client for this call, its deadline starting now (budget_s for the whole call)."""
        return self.clients(Deadline.after(self.budget_s))


def opened_per_call(open_client: ClientOpener) -> ClientLease:
    """A lease that opens a client for each call (within its deadline) and always closes it."""

    @contextmanager
    def lease(deadline: Deadline) -> Iterator[SqlClient]:
        client = open_client(deadline)
        try:
            yield client
        finally:
            client.close()

    return lease


def _fields(body: Any, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body's fields, refusing anything but a JSON object with exactly these fields."""
    names = ", ".join((*required, *optional))
    if not isinstance(body, Mapping):
        raise BadRequest(f"the request must be a JSON object with {names}")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}: this call takes {names}")
    missing = [name for name in required if name not in body]
    if missing:
        raise BadRequest(f"missing field {missing[0]!r}: this call takes {names}")
    return dict(body)


# Errors whose own sentence is for the agent, by the status and kind they are shown with.
_OWN_WORDS: tuple[tuple[type[Exception], int, str], ...] = (
    (BadRequest, 400, "bad_request"),
    (InvalidRequestError, 400, "invalid_input"),
    (InvalidOutcomeError, 400, "invalid_input"),
    (UnknownCustomerError, 404, "unknown_customer"),
    (OffersLogError, 404, "unknown_offer"),
    (OutcomeNotAllowed, 403, "forbidden"),
    (AgentRateLimited, 429, "rate_limited"),
    (NoMessageOnFile, 422, "no_message"),
    (ScoringError, 502, "no_answer"),
    (DatabaseTimeout, 503, "database_timeout"),
    (RecordUnconfirmed, 503, "record_unconfirmed"),
)


def problem_for(error: Exception, call: str) -> Problem:
    """The Problem to show for an exception a call raised, logged by type or code only (an
    exception's text may quote the phone number or the message it was given)."""
    for error_type, status, kind in _OWN_WORDS:
        if isinstance(error, error_type):
            LOG.info("console %s: %s (%s)", call, kind, type(error).__name__)
            return Problem(status, kind, str(error), getattr(error, "retry_after_s", None))
    kind = failure_kind(error)
    if kind is None and isinstance(error, UserError):  # e.g. a database URL that cannot be used
        LOG.warning("console %s: refused (%s)", call, type(error).__name__)
        return Problem(503, "database_unreachable", f"the database cannot be used: {error}")
    if kind is None:
        stack = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        LOG.error("console %s: internal error %s\n%s", call, type(error).__name__, stack)
        return Problem(500, "internal", "the console failed unexpectedly; " + NOTHING_RECORDED)
    code = error_code(error)
    LOG.warning("console %s: database %s (%s)", call, kind, code)
    if isinstance(error, DatabaseUnreachable):
        sentence = f"the database is not answering ({error}); {NOTHING_RECORDED}"
        return Problem(503, "database_unreachable", sentence)
    status_kind, sentence = _DATABASE_FAILURES[kind]
    return Problem(503, status_kind, f"{sentence.format(code=code)}; {NOTHING_RECORDED}")


# A database failure (churnguard.engine.failures.failure_kind) -> the kind shown and the sentence.
_DATABASE_FAILURES: dict[str, tuple[str, str]] = {
    "statement": ("database_error", "the database refused the request ({code})"),
    "timeout": ("database_timeout", "the database did not answer in time"),
    "resuming": ("database_resuming", "the database is waking up from a pause"),
    "connection": ("database_unreachable", "the connection to the database failed ({code})"),
}


def handle(call: str, action: Callable[[Any], dict[str, Any]], body: Any) -> tuple[int, dict[str, Any]]:
    """Run one call: (200, its answer) or (a Problem's status, its JSON); never raises."""
    started = time.perf_counter()
    try:
        result = action(body)
    except Exception as error:
        problem = problem_for(error, call)
        return problem.status, problem.to_json()
    LOG.info("console %s: ok in %.0f ms", call, (time.perf_counter() - started) * 1000)
    return 200, result
