"""Turns a database driver's failure into one line for a person, without the customer's data in it.

Used by the CLI commands around PyMySQL calls (the Lambda has its own mapping to HTTP statuses).
A server error may quote a value it choked on, so the phone number and message of the request being
handled are blanked out of the text before it is shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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
    """Re-raise PyMySQL errors inside the block as DatabaseError: '<what> failed: database error N: ...',
    followed by `outcome` (e.g. "nothing was recorded") when given."""
    import pymysql  # late: only the CLI, which has the driver, uses this

    try:
        yield
    except pymysql.err.Error as error:
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        reason = str(error.args[1]) if len(error.args) > 1 else type(error).__name__
        label = f"database error {code}" if code is not None else "database error"
        after = f"; {outcome}" if outcome else ""
        raise DatabaseError(f"{what} failed: {label}: {redact(reason, secrets)}{after}") from None
