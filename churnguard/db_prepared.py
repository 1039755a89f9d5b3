"""Server-side prepared statements for a PyMySQL connection to MariaDB, through SQL's PREPARE/EXECUTE.

PyMySQL speaks only the text protocol, so every call sends and the server parses the whole statement
again: for a call-centre answer that is the customer-and-score SELECT (21 JSON pairs, the model's
argument list) and the offers-log INSERT, about a fifth of the server's time under load. MariaDB
prepares a statement once per connection (`PREPARE name FROM '...'`) and runs it with values given
as expressions (`EXECUTE name USING 415, '358-1921'`, MariaDB 10.2.3 and later), so a repeated
statement is parsed once; the values are still quoted by PyMySQL's escaping, never pasted raw.

A statement is prepared after its second use on a connection has been answered, and runs prepared
from its third (one-off statements, the bulk commands' and the bootstrap's, are sent as they are),
at most CAPACITY of them per connection, the least recently used deallocated first. Preparing after
the reply means a failure while preparing never touches the caller's statement: in particular an
offers-log INSERT is either sent, as text or as EXECUTE, or not sent at all.

MySQL accepts only user variables after USING, so only MariaDB servers get prepared statements.
Whatever the server refuses to prepare, or a prepared statement the server no longer knows, falls
back to the text protocol: the caller sees the same rows, the same errors and the same insert id
either way (tests/test_db_prepared.py).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import pymysql

from churnguard.pymysql_errors import is_connection_failure

# At most this many prepared statements per connection: an answer needs three.
CAPACITY = 8
# Uses before a statement is prepared: a statement sent once is not worth a second round trip.
PREPARE_ON_USE = 2
# Statement texts counted toward PREPARE_ON_USE, or remembered as refused; each record starts over
# past this many, so a long-lived connection's memory stays bounded.
_COUNTED_MAX = 256
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
# MariaDB's answers that mean "send this statement as text instead": the statement cannot be
# prepared (ER_UNSUPPORTED_PS), or does not parse with `?` where a value was (ER_PARSE_ERROR: a
# sequence bound as a list, `IN %(ids)s`, which only the text protocol expands), the server holds
# too many prepared statements (ER_MAX_PREPARED_STMT_COUNT_REACHED), or the arguments do not fit
# the placeholders (ER_WRONG_ARGUMENTS). ER_UNKNOWN_STMT_HANDLER: the prepared statement is gone (deallocated,
# or the connection was reset), so it is prepared again.
ER_UNSUPPORTED_PS = 1295
ER_PARSE_ERROR = 1064
ER_MAX_PREPARED_STMT_COUNT_REACHED = 1461
ER_WRONG_ARGUMENTS = 1210
ER_UNKNOWN_STMT_HANDLER = 1243
_NOT_PREPARABLE = (ER_UNSUPPORTED_PS, ER_PARSE_ERROR, ER_MAX_PREPARED_STMT_COUNT_REACHED, ER_WRONG_ARGUMENTS)

Run = Callable[[str], Any]
# What execute() returns when it sent nothing of the statement: the caller then sends its text.
NOT_RUN: Any = object()


def supports_prepared_sql(server_version: str) -> bool:
    """Whether `EXECUTE ... USING <expressions>` works: MariaDB 10.2.3 or later (MySQL wants variables)."""
    if "mariadb" not in server_version.lower():
        return False
    # MariaDB 10 greets as "5.5.5-10.11.6-MariaDB-...", its own version after the old MySQL one.
    numbers = re.match(r"(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)", server_version)
    return numbers is not None and tuple(int(part) for part in numbers.groups()) >= (10, 2, 3)


def placeholders(sql: str) -> tuple[str, list[str]] | None:
    """The statement with `?` for each `%(name)s`, and the names in order; None when it has a `?` of
    its own or a `%` PyMySQL would not accept, which the text protocol then handles as before."""
    if "?" in sql:
        return None
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        names.append(match.group(1))
        return "?"

    converted = _PLACEHOLDER.sub(replace, sql)
    if "%" in _PLACEHOLDER.sub("", sql):
        return None
    return converted, names


class PreparedStatements:
    """The statements prepared on one server connection (its thread id), by statement text."""

    def __init__(self, escape: Callable[[Any], str]) -> None:
        self._escape = escape
        self._uses: dict[str, int] = {}
        self._names: OrderedDict[str, tuple[str, list[str]]] = OrderedDict()
        self._refused: set[str] = set()
        self._thread_id: int | None = None
        self._serial = 0

    def execute(self, sql: str, params: Mapping[str, Any], thread_id: int, send: Run) -> Any:
        """Run `sql` with `params` as EXECUTE of its prepared statement, through `send` (which sends
        one statement's text and returns what the caller needs of its reply); NOT_RUN when it is not
        prepared on this connection, or the server ran nothing of it: the caller then sends the text."""
        self._on_connection(thread_id)
        prepared = self._names.get(sql)
        if prepared is None:
            return NOT_RUN
        self._names.move_to_end(sql)
        name, order = prepared
        using = ", ".join(self._escape(params[key]) for key in order)
        try:
            return send(f"EXECUTE {name} USING {using}" if order else f"EXECUTE {name}")
        except pymysql.err.Error as error:
            code = _server_error(error)
            if code not in (ER_UNKNOWN_STMT_HANDLER, ER_WRONG_ARGUMENTS):
                raise  # the statement's own error, or the connection's, as the text protocol says it
            del self._names[sql]
            if code == ER_WRONG_ARGUMENTS:
                self._refused.add(sql)
            return NOT_RUN

    def after_text(self, sql: str, thread_id: int, send: Run) -> None:
        """Count a use of `sql` just sent as text and, on its PREPARE_ON_USE-th, prepare it for the
        next. Preparing comes after the statement's own reply, so it can never change what the caller
        sees: whatever goes wrong (the server refuses, the connection fails) is only the reason the
        statement is not prepared; a failed connection fails the caller's next statement instead."""
        self._on_connection(thread_id)
        if sql in self._refused or sql in self._names:
            return
        for record in (self._uses, self._refused):
            if len(record) > _COUNTED_MAX:
                record.clear()
        self._uses[sql] = self._uses.get(sql, 0) + 1
        if self._uses[sql] < PREPARE_ON_USE:
            return
        converted = placeholders(sql)
        if converted is None:
            self._refused.add(sql)
            return
        self._serial += 1
        name = f"churnguard_{self._serial}"
        try:
            while len(self._names) >= CAPACITY:
                _, (old_name, _) = self._names.popitem(last=False)
                send(f"DEALLOCATE PREPARE {old_name}")
            send(f"PREPARE {name} FROM {self._escape(converted[0])}")
        except pymysql.err.Error as error:
            if _server_error(error) in _NOT_PREPARABLE:
                self._refused.add(sql)
            else:  # an unknown table or function, say, or the connection: try again on a later use
                self._uses[sql] = 0
            return
        self._names[sql] = (name, converted[1])

    def _on_connection(self, thread_id: int) -> None:
        """Forget every name when the server connection changed: a new one knows none of them."""
        if thread_id != self._thread_id:
            self._thread_id, self._names = thread_id, OrderedDict()


def _server_error(error: pymysql.err.Error) -> int | None:
    """The server's error number, or None when the connection itself failed."""
    code = error.args[0] if error.args else None
    return None if is_connection_failure(error) or not isinstance(code, int) else code
