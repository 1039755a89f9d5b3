"""PyMySQL implementation of churnguard.sql_client.SqlClient, opened from a `mysql://` URL.

Used against the local MariaDB stand-in and any MySQL-compatible server a DBA points us at (which
URL a command uses is churnguard.local.url's choice; this module knows nothing of the stand-in).
Every wait is bounded, with PyMySQL's own options: connecting (`connect_timeout`, which covers the
TCP connect only), and every read and write on the socket, the server's greeting included
(`read_timeout`, `write_timeout`), so a stopped server raises instead of hanging. A call-centre
answer opens its client with the answer's Deadline, as the Data API client is opened
(churnguard.dataapi): all three limits are then at most what is left of it when the client opens, a
statement is not sent once it has passed, and a wait it ends is a DatabaseTimeout. PyMySQL applies
the limits to each wait on the socket, so a wait begun just before the deadline may outlast it by up
to that limit: an answer against a frozen server ends within twice its budget at worst. PyMySQL's
errors leave the client as churnguard's own failure types (churnguard.engine.failures).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.connections
import pymysql.cursors

from churnguard.engine.deadline import Deadline
from churnguard.engine.failures import DatabaseFailure, DatabaseUnreachable
from churnguard.errors import UserError
from churnguard.pymysql_errors import as_failure, is_timeout
from churnguard.sql_client import Params, Row

DEFAULT_PORT = 3306
# Seconds. Connecting either works at once or not at all; a single statement of a bulk command
# (loading customers, rescoring every one of them) may legitimately run for minutes, never for
# a quarter of an hour. A call-centre answer is bounded far tighter by its Deadline.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 900.0
DEFAULT_WRITE_TIMEOUT_S = 900.0


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

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        with self._bounded("a query"), self._connection.cursor() as cursor:
            cursor.execute(sql, _bindable(params))
            return list(cursor.fetchall())

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._bounded("a statement"), self._connection.cursor() as cursor:
            cursor.execute(sql, _bindable(params))
            return int(cursor.rowcount)

    def insert_returning_id(self, sql: str, params: Params | None = None) -> int:
        """Run one INSERT and return the AUTO_INCREMENT id it generated, from the server's OK packet
        for the INSERT itself (PyMySQL's lastrowid). Outside a transaction it commits as it runs."""
        with self._bounded("a statement"), self._connection.cursor() as cursor:
            cursor.execute(sql, _bindable(params))
            return int(cursor.lastrowid)

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
        """Around every call into PyMySQL: nothing is sent once the deadline has passed, a socket wait
        that times out under it is its DatabaseTimeout, and PyMySQL's errors are raised as churnguard's
        own (churnguard.pymysql_errors.as_failure)."""
        if self._deadline is not None:
            self._deadline.wait_limit(None)
        try:
            yield
        except pymysql.err.Error as error:
            if self._deadline is not None and is_timeout(error):
                raise self._deadline.expired(f"waiting for {what}") from None
            raise as_failure(error) from error

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

    With a `deadline`, each of the three limits is at most what is left of it now (PyMySQL's
    options, applied to every wait on the socket), and the client sends nothing once it has passed.
    """
    parts = parse_url(url)
    if deadline is not None:
        connect_timeout = deadline.wait_limit(connect_timeout)
        read_timeout = deadline.wait_limit(read_timeout)
        write_timeout = deadline.wait_limit(write_timeout)
    connection = pymysql.connections.Connection(
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
    return PyMySqlClient(connection, parts, deadline=deadline)
