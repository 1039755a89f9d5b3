"""churnguard's own database failure types, which every SqlClient raises whatever carries it.

The engine needs to tell apart a statement the database refused (a Comprehend or SageMaker call
that raised inside `aws_comprehend_detect_sentiment` or `will_churn`: that part of the answer is
missing, the rest still stands) from a database that is gone (nothing more can be asked: the call
fails). The API needs to tell both from a bug in our own code, which must be logged with its stack
and answered 500, never passed off as "database unavailable". Each client turns its driver's errors
into these types where it calls the driver (churnguard.pymysql_errors for PyMySQL, churnguard.dataapi
for the RDS Data API), so nothing above the client asks which driver raised. Standard library only:
the Lambdas import it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from churnguard.errors import UserError

FailureKind = Literal["timeout", "resuming", "connection", "statement"]
# What a caller that cannot wait is told to wait before trying again (an Aurora resume's usual length).
RESUME_RETRY_AFTER_S = 15


class DatabaseFailure(UserError):
    """A database call failed; `kind` says how and `code` names the error without any data in it.

    `reason` is the driver's or the service's own text, which may quote a value the statement was
    given (a phone number, a message): log `code`, show `reason` only to the person who sent it.
    """

    kind: ClassVar[FailureKind]

    def __init__(self, message: str, *, code: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = message if reason is None else reason


class StatementRefused(DatabaseFailure):
    """The database refused this one statement (an SQL error, or an Aurora ML function that raised);
    the connection is still good and nothing the statement would have written was kept."""

    kind = "statement"


class ConnectionFailed(DatabaseFailure):
    """The connection to the database, or the service in front of it, failed during a call: the
    database may or may not have run what was being sent."""

    kind = "connection"


class DatabaseUnreachable(ConnectionFailed):
    """The database refused or dropped the connection before any statement (churnguard.db.connect)."""


class DatabaseStillResuming(DatabaseFailure):
    """A paused Aurora cluster did not finish resuming in time; `retry_after_s` says when to try again."""

    kind = "resuming"

    def __init__(self, message: str, *, retry_after_s: int = RESUME_RETRY_AFTER_S) -> None:
        super().__init__(message, code="DatabaseResumingException")
        self.retry_after_s = retry_after_s


def failure_kind(error: BaseException) -> FailureKind | None:
    """`statement` (the database refused this one statement), `timeout` (no answer in time),
    `resuming` (a paused Aurora cluster is waking up), `connection` (the database or the service in
    front of it is unreachable or failed), or None: not a database failure at all (a bug)."""
    return error.kind if isinstance(error, DatabaseFailure) else None


def error_code(error: BaseException) -> str:
    """A short, data-free name for the error, for logs and for the agent: the driver's error number
    or the service's error code, else the exception's type."""
    code = error.code if isinstance(error, DatabaseFailure) else None
    return code or type(error).__name__
