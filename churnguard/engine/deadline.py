"""How long a call-centre answer may take: one deadline shared by every database call of the answer.

An agent with a customer on the line cannot wait for a frozen or unreachable database, so
`churnguard recommend` and the recommend API give the whole answer a time budget (default 5 s,
`--timeout` or $CHURNGUARD_ANSWER_TIMEOUT_S). The database clients (churnguard.db,
churnguard.dataapi) take a Deadline and bound each of their waits by what is left of it, so a
database that stops answering becomes a DatabaseTimeout: one line for the agent, nothing recorded.
Standard library only: the recommend Lambda imports it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from churnguard.engine.failures import DatabaseFailure
from churnguard.errors import UserError

ANSWER_TIMEOUT_ENV = "CHURNGUARD_ANSWER_TIMEOUT_S"
DEFAULT_ANSWER_TIMEOUT_S = 5.0
# Below this a database call cannot even finish a round trip: refuse rather than time out at once.
MIN_ANSWER_TIMEOUT_S = 0.1
# Above this the answer is no longer one an agent can wait for on the phone.
MAX_ANSWER_TIMEOUT_S = 60.0


class DatabaseTimeout(DatabaseFailure):
    """The database did not answer within the time it was given: the answer's Deadline, or the
    driver's own timeout (a socket read, the Data API's statement timeout)."""

    kind = "timeout"


@dataclass(frozen=True)
class Deadline:
    """A point in time (time.monotonic) by which the answer must be complete."""

    seconds: float
    ends_at: float = field(default=0.0)

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline `seconds` from now."""
        return cls(seconds=seconds, ends_at=time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left; zero or less once it has passed."""
        return self.ends_at - time.monotonic()

    def wait_limit(self, longest: float | None) -> float:
        """How long the next wait may last: what is left, but never more than `longest` (None: no
        cap of its own); raises DatabaseTimeout when nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise self.expired()
        return left if longest is None else min(left, longest)

    def expired(self, during: str = "") -> DatabaseTimeout:
        """The error to raise when the database used up the budget (`during`: what was waited for)."""
        what = f" ({during})" if during else ""
        return DatabaseTimeout(
            f"the database did not answer within {self.seconds:g} s{what}; nothing was recorded and "
            "there is no offer to make: try again in a moment"
        )


def answer_timeout(explicit: float | None = None, environ: Mapping[str, str] | None = None) -> float:
    """The answer's time budget in seconds: `explicit` (--timeout), then $CHURNGUARD_ANSWER_TIMEOUT_S,
    then 5 s; anything that is not a number between 0.1 and 60 is refused naming where it came from."""
    environ = os.environ if environ is None else environ
    if explicit is not None:
        value, source = explicit, "--timeout"
    elif environ.get(ANSWER_TIMEOUT_ENV):
        source = f"${ANSWER_TIMEOUT_ENV}"
        try:
            value = float(environ[ANSWER_TIMEOUT_ENV])
        except ValueError:
            raise UserError(
                f"{source} must be a number of seconds, got {environ[ANSWER_TIMEOUT_ENV]!r}"
            ) from None
    else:
        return DEFAULT_ANSWER_TIMEOUT_S
    if not MIN_ANSWER_TIMEOUT_S <= value <= MAX_ANSWER_TIMEOUT_S:
        raise UserError(
            f"{source} must be between {MIN_ANSWER_TIMEOUT_S:g} and {MAX_ANSWER_TIMEOUT_S:g} "
            f"seconds, got {value:g}"
        )
    return float(value)


# The recommend API's Data API client: an endpoint that does not accept the connection in 2 s is not
# going to; a call may read for as long as the whole budget.
API_CONNECT_TIMEOUT_S = 2.0
# Between the deadline passing and the handler answering: dropping the call waited for, logging,
# building the response.
API_WRAP_UP_S = 0.5


def longest_api_wait_s(budget_s: float) -> float:
    """The longest the recommend API can wait on the database for one answer with budget `budget_s`:
    the Data API client stops waiting for any call when the deadline passes (churnguard.dataapi), so
    the budget plus the moment it takes to give up. The API Lambda's timeout must exceed this (plus a
    cold start), or a slow database is a bare 502 from Lambda instead of the handler's 503."""
    return budget_s + API_WRAP_UP_S
