"""Turns a database failure into one line for a person, without the customer's data in it.

Used by the CLI commands around database calls (the Lambda has its own mapping to HTTP statuses).
A server error may quote a value it choked on, so the phone number and message of the request being
handled are blanked out of the text before it is shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from churnguard.engine.failures import ConnectionFailed, DatabaseUnreachable, StatementRefused, error_code
from churnguard.errors import UserError

REDACTED = "[redacted]"


class DatabaseError(UserError):
    """The database refused or dropped a statement; nothing the statement would have written was kept."""


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every occurrence of each non-empty secret replaced by [redacted]."""
    for secret in sorted((secret for secret in secrets if secret), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


@contextmanager
def database_errors(what: str, *, secrets: Sequence[str] = (), outcome: str = "") -> Iterator[None]:
    """Re-raise a statement the database refused, or a connection lost under it, as DatabaseError:
    '<what> failed: database error N: ...', followed by `outcome` (e.g. "nothing was recorded") when
    given. Timeouts and a server that cannot be reached keep their own sentences."""
    try:
        yield
    except (StatementRefused, ConnectionFailed) as error:
        if isinstance(error, DatabaseUnreachable):
            raise
        after = f"; {outcome}" if outcome else ""
        raise DatabaseError(
            f"{what} failed: {error_code(error)}: {redact(error.reason, secrets)}{after}"
        ) from None
