"""What a PyMySQL error means, as churnguard's own failure types (churnguard.engine.failures): the
connection failed, one of its waits timed out, or neither (the server refused one statement). Used
by the PyMySQL client (churnguard.db) where it calls the driver, so no caller sees PyMySQL's types."""

from __future__ import annotations

import pymysql

from churnguard.engine.deadline import DatabaseTimeout
from churnguard.engine.failures import ConnectionFailed, DatabaseFailure, StatementRefused

# PyMySQL's client-side error numbers (CR_*, 2000-2999) mean the connection itself failed.
CLIENT_ERRORS = range(2000, 3000)


def is_timeout(error: BaseException) -> bool:
    """Whether a PyMySQL error is a socket wait that timed out (PyMySQL raises it as 'lost connection')."""
    return isinstance(error, pymysql.err.OperationalError) and isinstance(error.__context__, TimeoutError)


def is_connection_failure(error: BaseException) -> bool:
    """Whether a PyMySQL error means the connection failed (lost, refused, timed out), rather than the
    server refusing one statement (a SIGNAL, an unknown table, a function that raised)."""
    if isinstance(error, pymysql.err.InterfaceError):
        return True
    code = error.args[0] if isinstance(error, pymysql.err.Error) and error.args else None
    return isinstance(code, int) and code in CLIENT_ERRORS


def as_failure(error: pymysql.err.Error) -> DatabaseFailure:
    """churnguard's failure for a PyMySQL error: code `database error N` (the server's or the
    client's error number), reason the server's own text."""
    number = error.args[0] if error.args and isinstance(error.args[0], int) else None
    reason = str(error.args[1]) if len(error.args) > 1 else (str(error) or type(error).__name__)
    code = f"database error {number}" if number is not None else "database error"
    message = f"{code}: {reason}"
    if is_timeout(error):
        return DatabaseTimeout(message, code=code, reason=reason)
    if is_connection_failure(error):
        return ConnectionFailed(message, code=code, reason=reason)
    return StatementRefused(message, code=code, reason=reason)
