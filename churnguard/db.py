"""PyMySQL implementation of churnguard.sql_client.SqlClient, opened from a `mysql://` URL.

Used against the local MariaDB stand-in and any MySQL-compatible server a DBA points us at. The URL
comes from `--db-url`, then `$CHURNGUARD_DB_URL`, then the state file `churnguard local up` writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

from churnguard.errors import UserError
from churnguard.sql_client import Params, Row

DB_URL_ENV = "CHURNGUARD_DB_URL"
DEFAULT_PORT = 3306


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

    def __init__(self, connection: pymysql.connections.Connection, url: DatabaseUrl) -> None:
        self._connection = connection
        self.url = url
        self._in_transaction = False

    def query(self, sql: str, params: Params | None = None) -> list[Row]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, _bindable(params))
            return list(cursor.fetchall())

    def execute(self, sql: str, params: Params | None = None) -> int:
        with self._connection.cursor() as cursor:
            return int(cursor.execute(sql, _bindable(params)))

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run one statement for many parameter sets; PyMySQL batches multi-row INSERT ... VALUES."""
        if not rows:
            return 0
        with self._connection.cursor() as cursor:
            return int(cursor.executemany(sql, [dict(row) for row in rows]))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        self._connection.begin()
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._connection.rollback()
            raise
        else:
            self._connection.commit()
        finally:
            self._in_transaction = False

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


def connect(url: str, *, connect_timeout: float = 10.0) -> PyMySqlClient:
    """Open a client on `url`; a refused connection or unknown database becomes a UserError."""
    parts = parse_url(url)
    try:
        connection = pymysql.connect(
            host=parts.host,
            port=parts.port,
            user=parts.user,
            password=parts.password,
            database=parts.database,
            charset="utf8mb4",
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            connect_timeout=connect_timeout,
        )
    except pymysql.err.OperationalError as error:
        code = error.args[0] if error.args else None
        reason = error.args[1] if len(error.args) > 1 else str(error)
        hint = " (is the server up? try `churnguard local status`)" if code == 2003 else ""
        raise UserError(f"cannot connect to {parts}: {reason}{hint}") from None
    return PyMySqlClient(connection, parts)


def resolve_url(explicit: str | None) -> str:
    """The database URL to use: `explicit` (--db-url), then $CHURNGUARD_DB_URL, then the local server's."""
    if explicit:
        return explicit
    from_env = os.environ.get(DB_URL_ENV)
    if from_env:
        return from_env
    from churnguard.localdb import read_state  # late import: localdb imports this module

    state = read_state()
    if state is not None:
        return state.url
    raise UserError(
        f"no database: pass --db-url, set ${DB_URL_ENV}, or start a local one with `churnguard local up`"
    )
