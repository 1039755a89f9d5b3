"""PyMySQL implementation of churnguard.sql_client.SqlClient, opened from a `mysql://` URL.

Used against the local MariaDB stand-in and any MySQL-compatible server a DBA points us at (which
URL a command uses is churnguard.local.url's choice; this module knows nothing of the stand-in).
Every wait is bounded: connecting (`connect_timeout`, which with PyMySQL covers the TCP connect
only), and every read and write on the socket, the server's greeting included (`read_timeout`,
`write_timeout`), so a stopped server raises instead of hanging. A call-centre answer also gives the
client a Deadline: each wait is then cut to what is left of it and its expiry is a DatabaseTimeout.
PyMySQL's errors leave the client as churnguard's own failure types (churnguard.engine.failures).
On MariaDB, a statement used again on a connection runs as a server-side prepared statement
(churnguard.db_prepared), so it is parsed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.connections
import pymysql.cursors
from pymysql.constants import SERVER_STATUS

from churnguard.db_prepared import NOT_RUN, PreparedStatements, supports_prepared_sql
from churnguard.engine.deadline import Deadline
from churnguard.engine.failures import DatabaseFailure, DatabaseUnreachable
from churnguard.errors import UserError
from churnguard.pymysql_errors import as_failure, is_timeout
from churnguard.sql_client import Params, Row

_Reply = TypeVar("_Reply")

DEFAULT_PORT = 3306
# Seconds. Connecting either works at once or not at all; a single statement of a bulk command
# (loading customers, rescoring every one of them) may legitimately run for minutes, never for
# a quarter of an hour. A call-centre answer is bounded far tighter by its Deadline.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 900.0
DEFAULT_WRITE_TIMEOUT_S = 900.0


# What MySQL's backslash escaping turns each special character into (PyMySQL's table, MySQL's
# mysql_real_escape_string). The backslash comes first, so no later replacement's backslash is doubled.
_BACKSLASH_ESCAPES = (
    ("\\", "\\\\"),
    ("\0", "\\0"),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\032", "\\Z"),
    ('"', '\\"'),
    ("'", "\\'"),
)


def escape_text(text: str) -> str:
    """`text` escaped for a quoted MySQL string literal, character for character as PyMySQL's own
    escape_string does (tested), in a few C-level passes. PyMySQL's str.translate leaves its fast
    path at the first character it escapes, so a JSON value (the answer's drivers, 2 KB of quotes)
    cost about 0.1 ms to escape, a tenth of a call-centre answer's client time."""
    for special, escaped in _BACKSLASH_ESCAPES:
        if special in text:
            text = text.replace(special, escaped)
    return text


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection, binding text parameters with escape_text. A server in
    NO_BACKSLASH_ESCAPES mode, and every other type, get PyMySQL's own escaping.

    While `connect_deadline` is set (only during `connect`), every packet of the handshake (the
    greeting, the authentication reply, SET NAMES, autocommit) is read and written within what is
    left of it: PyMySQL applies its socket timeouts per packet, so a limit worked out once before the
    TCP connect would let a slow connect and then a stalled greeting each take the whole budget.
    """

    connect_deadline: Deadline | None = None

    def escape(self, obj: Any, mapping: Any = None) -> str:
        if type(obj) is str and not self.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES:
            return "'" + escape_text(obj) + "'"
        return super().escape(obj, mapping)

    def _cut_to_deadline(self) -> None:
        deadline = self.connect_deadline
        if deadline is not None:
            left = deadline.remaining()
            if left <= 0:
                raise deadline.expired("connecting")  # PyMySQL closes the socket and re-raises it
            self._read_timeout = self._write_timeout = left

    def _read_packet(self, packet_type: Any = pymysql.connections.MysqlPacket) -> Any:
        self._cut_to_deadline()
        return super()._read_packet(packet_type)

    def _write_bytes(self, data: bytes) -> None:
        self._cut_to_deadline()
        super()._write_bytes(data)


@dataclass(frozen=True)
class DatabaseUrl:
    """The parts of `mysql://user:password@host:port/database`; `str()` never shows the password."""

    user: str
    password: str
    host: str
    port: int
    database: str | None

    def __str__(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database or ''}"


def parse_url(url: str) -> DatabaseUrl:
    """Split a database URL, saying which part is wrong instead of failing later with a driver error."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise UserError(f"database URL must start with mysql://, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise UserError("database URL has no host: expected mysql://user:password@host:port/database")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise UserError("database URL has a port that is not a number") from None
    database = unquote(parts.path.lstrip("/")) or None
    return DatabaseUrl(
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        host=parts.hostname,
        port=port,
        database=database,
    )


class PyMySqlClient:
    """A SqlClient over one PyMySQL connection; autocommit outside `transaction()` blocks.

    Statements with no parameters are sent as they are (so a literal `%` needs no escaping); with
    parameters, PyMySQL binds `%(name)s` placeholders by quoting the values itself.
    """

    def __init__(
        self,
        connection: pymysql.connections.Connection,
        url: DatabaseUrl,
        *,
        deadline: Deadline | None = None,
    ) -> None:
        self._connection = connection
        self.url = url
        self._in_transaction = False
        self._deadline = deadline
        # The socket timeouts the connection was opened with; a deadline only ever shortens them.
        self._read_timeout = connection._read_timeout
        self._write_timeout = connection._write_timeout
        # Repeated statements are parsed once on MariaDB (churnguard.db_prepared); None elsewhere.
        self._prepared = (
            PreparedStatements(connection.escape)
            if supports_prepared_sql(connection.get_server_info())
            else None
        )

    @contextmanager
    def deadline(self, deadline: Deadline) -> Iterator[None]:
        """Bound every statement inside the block by `deadline` (for a client reused across answers)."""
        previous, self._deadline = self._deadline, deadline
        try:
            yield
        finally:
            self._deadline = previous

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        with self._bounded("a query"):
            return self._send(sql, params, lambda cursor: list(cursor.fetchall()))

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._bounded("a statement"):
            return self._send(sql, params, lambda cursor: int(cursor.rowcount))

    def insert_returning_id(self, sql: str, params: Params | None = None) -> int:
        """Run one INSERT and return the AUTO_INCREMENT id it generated, from the server's OK packet
        for the INSERT itself (PyMySQL's lastrowid). Outside a transaction it commits as it runs."""
        with self._bounded("a statement"):
            return self._send(sql, params, lambda cursor: int(cursor.lastrowid))

    def _send(self, sql: str, params: Params | None, reply: Callable[[Any], _Reply]) -> _Reply:
        """Run one statement and return `reply(cursor)`: as a prepared statement when it is one on
        this connection (a statement with parameters, used twice before), else as text."""
        with self._connection.cursor() as cursor:
            prepared = self._prepared if params is not None else None
            if prepared is not None:

                def send_text(text: str) -> _Reply:
                    cursor.execute(text)
                    return reply(cursor)

                thread_id = self._connection.server_thread_id[0]
                answer = prepared.execute(sql, params, thread_id, send_text)
                if answer is not NOT_RUN:
                    return answer
            cursor.execute(sql, _bindable(params))
            answer = reply(cursor)
            if prepared is not None:
                prepared.after_text(sql, thread_id, cursor.execute)
            return answer

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run one statement for many parameter sets; PyMySQL batches multi-row INSERT ... VALUES."""
        if not rows:
            return 0
        with self._bounded("a batch"), self._connection.cursor() as cursor:
            return int(cursor.executemany(sql, [dict(row) for row in rows]))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        with self._bounded("starting a transaction"):
            self._connection.begin()
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            with self._bounded("the commit"):
                self._connection.commit()
        finally:
            self._in_transaction = False

    def _rollback(self) -> None:
        """Roll back after a failure, without hiding that failure: a connection that is gone, or
        that fails to roll back, is closed, and the server discards the transaction of a closed
        connection; a second error would only mask the first."""
        if not self._connection.open:
            return
        try:
            with self._bounded("the rollback"):
                self._connection.rollback()
        except DatabaseFailure:
            self.close()

    @contextmanager
    def _bounded(self, what: str) -> Iterator[None]:
        """Around every call into PyMySQL: the socket timeouts cut to what is left of the deadline (a
        wait it ends is its DatabaseTimeout), and PyMySQL's errors raised as churnguard's own
        (churnguard.pymysql_errors.as_failure)."""
        connection = self._connection
        if self._deadline is not None:
            limit = self._deadline.wait_limit(None)
            connection._read_timeout = min(limit, self._read_timeout or limit)
            connection._write_timeout = min(limit, self._write_timeout or limit)
        try:
            yield
        except pymysql.err.Error as error:
            if self._deadline is not None and is_timeout(error):
                raise self._deadline.expired(f"waiting for {what}") from None
            raise as_failure(error) from error
        finally:
            connection._read_timeout = self._read_timeout
            connection._write_timeout = self._write_timeout

    def close(self) -> None:
        if self._connection.open:
            self._connection.close()

    def __enter__(self) -> PyMySqlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _bindable(params: Params | None) -> dict[str, Any] | None:
    # None (not {}) keeps PyMySQL from %-formatting the text, so statements without parameters
    # may contain a literal % (LIKE patterns, DATE_FORMAT) as written.
    return None if params is None else dict(params)


def connect(
    url: str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
    write_timeout: float = DEFAULT_WRITE_TIMEOUT_S,
    deadline: Deadline | None = None,
) -> PyMySqlClient:
    """Open a client on `url`; a refused connection or unknown database becomes a UserError.

    With a `deadline`, connecting (the TCP connect, then every packet of the handshake) waits at most
    what is left of it in all, and the client bounds every later statement by it too.
    """
    parts = parse_url(url)
    if deadline is not None:
        connect_timeout = deadline.wait_limit(connect_timeout)
    connection = _Connection(
        host=parts.host,
        port=parts.port,
        user=parts.user,
        password=parts.password,
        database=parts.database,
        charset="utf8mb4",
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        defer_connect=True,
    )
    connection.connect_deadline = deadline
    try:
        connection.connect()
    except pymysql.err.OperationalError as error:
        if is_timeout(error):
            if deadline is not None:
                raise deadline.expired("connecting") from None
            raise DatabaseUnreachable(
                f"cannot connect to {parts}: the server did not answer within {read_timeout:g} s"
            ) from None
        code = error.args[0] if error.args else None
        reason = error.args[1] if len(error.args) > 1 else str(error)
        hint = " (is the server up? try `churnguard local status`)" if code == 2003 else ""
        raise DatabaseUnreachable(f"cannot connect to {parts}: {reason}{hint}") from None
    # The handshake used the deadline's shortened timeouts; later statements start from the full ones
    # (a Deadline given to the client cuts them again per statement, see PyMySqlClient._bounded).
    connection.connect_deadline = None
    connection._read_timeout, connection._write_timeout = read_timeout, write_timeout
    return PyMySqlClient(connection, parts, deadline=deadline)
