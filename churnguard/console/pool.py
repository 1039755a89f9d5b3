"""The local console's database connections: a few kept open between calls, each checked before use.

Opening a MySQL connection (TCP, greeting, authentication) costs tens of milliseconds, most of a
look-up's time; the console's calls are short and come one after another from one agent's page. So
the console keeps up to IDLE_LIMIT idle connections (per worker process) and lends one to each call:

- Before a call uses a kept connection, one `SELECT 1` checks it is alive, bounded by the call's own
  deadline (at most half of what is left, and never more than PING_LIMIT_S). A connection the server
  dropped (a restart, `wait_timeout`, a killed thread) fails that check at once; then every idle
  connection is closed (they share the server's fate) and a new one is opened within the deadline,
  so the agent sees no error. A server that does not answer at all fails the check by its time
  limit and then the connect by the deadline: the same `database_timeout` as without the pool.
- A call that ends with its connection in doubt (the database timed out or dropped it, a commit was
  not confirmed, a bug) closes it; a call that ends normally, or with an answer about the data (an
  unknown customer, a statement the database refused), gives it back.
- Every wait stays bounded by the call's Deadline (churnguard.db), as before: the pool only saves
  the connect, it never waits for a free connection (more concurrent calls than kept connections
  open their own, closed afterwards).

The deployed console (lambda/console) uses the Data API, which holds no connection: it keeps
opening a client per call (churnguard.console.service.opened_per_call).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from churnguard.db import PyMySqlClient, connect
from churnguard.engine.deadline import Deadline
from churnguard.engine.failures import DatabaseFailure, failure_kind
from churnguard.engine.recommend import RecordUnconfirmed
from churnguard.errors import UserError

# One agent's page makes one call at a time; a few spare connections cover a double click or two
# pages open. Beyond this, a connection given back is closed.
IDLE_LIMIT = 4
# A live connection answers `SELECT 1` in well under a millisecond here and a few on a LAN; a check
# that takes this long means the server is in trouble, and the rest of the budget goes to a connect.
PING_LIMIT_S = 1.0

Connector = Callable[[str, Deadline], PyMySqlClient]


def _connect(url: str, deadline: Deadline) -> PyMySqlClient:
    return connect(url, deadline=deadline)


class ConnectionPool:
    """Idle connections to one database, lent to one call at a time (see the module docstring)."""

    def __init__(self, url: str, *, idle_limit: int = IDLE_LIMIT, connector: Connector = _connect) -> None:
        self._url = url
        self._idle_limit = idle_limit
        self._connector = connector
        self._idle: list[PyMySqlClient] = []  # most recently used last: reused first
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def lease(self, deadline: Deadline) -> Iterator[PyMySqlClient]:
        """A live connection for one call, bounded by `deadline`; kept or closed afterwards."""
        client = self._live_connection(deadline)
        reusable = False
        try:
            with client.deadline(deadline):
                yield client
            reusable = True
        except Exception as error:
            reusable = leaves_connection_usable(error)
            raise
        finally:
            if reusable:
                self._give_back(client)
            else:
                client.close()

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Close every idle connection; connections given back later are closed too."""
        with self._lock:
            self._closed = True
        self._drop_idle()

    def _live_connection(self, deadline: Deadline) -> PyMySqlClient:
        with self._lock:
            client = self._idle.pop() if self._idle else None
        if client is not None:
            if _answers(client, deadline):
                return client
            client.close()
            self._drop_idle()  # the server dropped this one: the others are no better
        return self._connector(self._url, deadline)

    def _give_back(self, client: PyMySqlClient) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._idle_limit:
                self._idle.append(client)
                return
        client.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for client in idle:
            client.close()


def _answers(client: PyMySqlClient, deadline: Deadline) -> bool:
    """Whether a kept connection answers `SELECT 1` in min(PING_LIMIT_S, half the time left)."""
    limit = min(PING_LIMIT_S, deadline.remaining() / 2)
    if limit <= 0:
        return False
    try:
        with client.deadline(Deadline.after(limit)):
            client.query("SELECT 1 AS alive")
    except (DatabaseFailure, OSError):
        return False
    return True


def leaves_connection_usable(error: BaseException) -> bool:
    """Whether a connection is fit for the next call after a call failed with `error`: yes after an
    answer about the data (an unknown customer, a bad request, a statement the database refused);
    no when the connection itself failed or timed out, a commit is unconfirmed, or it was a bug."""
    kind = failure_kind(error)
    if kind is not None:
        return kind == "statement"
    return isinstance(error, UserError) and not isinstance(error, RecordUnconfirmed)
