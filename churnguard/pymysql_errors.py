"""What a PyMySQL error means: the connection failed, or one of its waits timed out, or neither (the
server refused one statement). Shared by the client (churnguard.db), its prepared statements and
the engine's failure kinds."""

from __future__ import annotations

import pymysql

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
