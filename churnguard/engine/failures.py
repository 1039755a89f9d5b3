"""What kind of failure a database call raised, whatever carried it (PyMySQL or the RDS Data API).

The engine needs to tell apart a statement the database refused (a Comprehend or SageMaker call
that raised inside `aws_comprehend_detect_sentiment` or `will_churn`: that part of the answer is
missing, the rest still stands) from a database that is gone (nothing more can be asked: the call
fails). The API needs to tell both from a bug in our own code, which must be logged with its stack
and answered 500, never passed off as "database unavailable". Drivers are recognised without
importing them (the Lambda has no PyMySQL): an error of a module never imported cannot be raised.
"""

from __future__ import annotations

import sys
from typing import Literal

from churnguard.engine.deadline import DatabaseTimeout
from churnguard.errors import UserError

FailureKind = Literal["timeout", "resuming", "connection", "statement"]

# RDS Data API error codes (botocore ClientError) by what they mean for an answer.
_DATA_API_STATEMENT_ERRORS = frozenset({"BadRequestException"})  # the SQL (or an Aurora ML call) failed
_DATA_API_TIMEOUTS = frozenset({"StatementTimeoutException"})
_DATA_API_RESUMING = frozenset({"DatabaseResumingException"})


class DatabaseUnreachable(UserError):
    """The database refused or dropped the connection before any statement (churnguard.db.connect)."""


def failure_kind(error: BaseException) -> FailureKind | None:
    """`statement` (the database refused this one statement), `timeout` (no answer in time),
    `resuming` (a paused Aurora cluster is waking up), `connection` (the database or the service in
    front of it is unreachable or failed), or None: not a database failure at all (a bug)."""
    if isinstance(error, DatabaseTimeout):
        return "timeout"
    if isinstance(error, DatabaseUnreachable):
        return "connection"
    dataapi = sys.modules.get("churnguard.dataapi")
    if dataapi is not None and isinstance(error, dataapi.DatabaseStillResuming):
        return "resuming"
    pymysql_kind = _pymysql_kind(error)
    if pymysql_kind is not None:
        return pymysql_kind
    botocore_kind = _botocore_kind(error)
    if botocore_kind is not None:
        return botocore_kind
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, OSError):  # ConnectionError and other socket failures
        return "connection"
    return None


def _pymysql_kind(error: BaseException) -> FailureKind | None:
    pymysql = sys.modules.get("pymysql")
    if pymysql is None or not isinstance(error, pymysql.err.Error):
        return None
    from churnguard.pymysql_errors import is_connection_failure, is_timeout

    if is_timeout(error):
        return "timeout"
    return "connection" if is_connection_failure(error) else "statement"


def _botocore_kind(error: BaseException) -> FailureKind | None:
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return None
    if isinstance(error, exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _DATA_API_STATEMENT_ERRORS:
            return "statement"
        if code in _DATA_API_TIMEOUTS:
            return "timeout"
        if code in _DATA_API_RESUMING:
            return "resuming"
        return "connection"
    if isinstance(error, exceptions.ReadTimeoutError | exceptions.ConnectTimeoutError):
        return "timeout"
    if isinstance(error, exceptions.BotoCoreError):
        return "connection"
    return None


def error_code(error: BaseException) -> str:
    """A short, data-free name for the error, for logs and for the agent: the driver's error number
    or the service's error code, else the exception's type."""
    pymysql = sys.modules.get("pymysql")
    if (
        pymysql is not None
        and isinstance(error, pymysql.err.Error)
        and error.args
        and isinstance(error.args[0], int)
    ):
        return f"database error {error.args[0]}"
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is not None and isinstance(error, exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
