"""churnguard.db's bounded waits: a server that accepts the connection and never answers (what a frozen
or partitioned database looks like), a statement that outlives the deadline, and how the failures
are classified for the engine (one statement refused vs. the connection gone).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pymysql
import pytest

from churnguard.db import PyMySqlClient, connect
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import DatabaseUnreachable, StatementRefused, error_code, failure_kind
from churnguard.pymysql_errors import as_failure
from tests.fixtures.silent_server import tcp_server

# Far above the sub-second timeouts used here, far below a hang.
HANG = 20.0


def _greeting_packet() -> bytes:
    """A MySQL protocol-10 greeting (MariaDB-style version, mysql_native_password), packet number 0."""
    capabilities = 0x0200 | 0x8000 | 0x0008_0000  # PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH
    body = (
        b"\x0a" + b"5.5.5-10.11.6-MariaDB\0" + struct.pack("<I", 7) + b"abcdefgh" + b"\0"
        + struct.pack("<H", capabilities & 0xFFFF) + bytes([45]) + struct.pack("<H", 2)
        + struct.pack("<H", capabilities >> 16) + bytes([21]) + b"\0" * 10 + b"ijklmnopqrst\0"
        + b"mysql_native_password\0"
    )  # fmt: skip
    return struct.pack("<I", len(body))[:3] + b"\0" + body


@pytest.fixture()
def slow_greeting_server() -> Iterator[tuple[int, float]]:
    """A port whose server greets after 0.8 s, then never answers the login: (port, delay)."""
    delay = 0.8

    def greet_late(connection: socket.socket, stop: threading.Event) -> None:
        if not stop.wait(delay):
            connection.sendall(_greeting_packet())

    with tcp_server(greet_late) as port:
        yield port, delay


def test_the_whole_handshake_shares_the_deadline(slow_greeting_server: tuple[int, float]):
    """A greeting late by most of the budget leaves only the rest for the login's reply: the connect
    ends at the deadline, not one full budget per packet later."""
    port, greeting_delay = slow_greeting_server
    budget = 1.2
    started = time.monotonic()
    with pytest.raises(DatabaseTimeout, match=r"did not answer within 1.2 s \(connecting\)"):
        connect(f"mysql://u:secret@127.0.0.1:{port}/db", deadline=Deadline.after(budget))
    elapsed = time.monotonic() - started
    # Per-packet limits would wait the greeting (0.8 s) and then a whole fresh budget for the login.
    assert elapsed < greeting_delay + budget - 0.2, elapsed


def test_connecting_to_a_server_that_never_answers_ends_at_the_deadline(silent_server: int):
    started = time.monotonic()
    with pytest.raises(DatabaseTimeout, match=r"did not answer within 0.5 s \(connecting\)"):
        connect(f"mysql://u:secret@127.0.0.1:{silent_server}/db", deadline=Deadline.after(0.5))
    assert time.monotonic() - started < HANG


def test_without_a_deadline_the_read_timeout_still_bounds_the_greeting(silent_server: int):
    with pytest.raises(DatabaseUnreachable, match=r"the server did not answer within 0\.5 s") as raised:
        connect(f"mysql://u:secret@127.0.0.1:{silent_server}/db", read_timeout=0.5)
    assert "secret" not in str(raised.value)
    assert failure_kind(raised.value) == "connection"


def test_a_refused_connection_is_unreachable_at_once():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DatabaseUnreachable, match=r"cannot connect to mysql://u@127\.0\.0\.1"):
        connect(f"mysql://u:secret@127.0.0.1:{port}/db", deadline=Deadline.after(5))


@pytest.mark.mariadb
def test_a_statement_outliving_the_deadline_is_a_timeout_and_the_socket_limits_come_back(
    sql_client: PyMySqlClient,
):
    connection = sql_client._connection
    full = (connection._read_timeout, connection._write_timeout)
    started = time.monotonic()
    with (
        sql_client.deadline(Deadline.after(0.5)),
        pytest.raises(DatabaseTimeout, match="waiting for a query"),
    ):
        sql_client.query("SELECT SLEEP(5) AS slept")
    assert time.monotonic() - started < 4  # the statement would have taken 5 s
    assert (connection._read_timeout, connection._write_timeout) == full


@pytest.mark.mariadb
def test_a_deadline_already_passed_sends_nothing(sql_client: PyMySqlClient):
    expired = Deadline.after(0.0)
    with sql_client.deadline(expired), pytest.raises(DatabaseTimeout):
        sql_client.query("SELECT 1 AS one")
    assert sql_client.query("SELECT 1 AS one") == [{"one": 1}]  # outside the block: unbounded again


@pytest.mark.mariadb
def test_a_timeout_inside_a_transaction_is_reported_not_masked_by_the_rollback(sql_client: PyMySqlClient):
    sql_client.execute("CREATE TABLE t (n INT) ENGINE = InnoDB")
    with (
        pytest.raises(DatabaseTimeout),
        sql_client.deadline(Deadline.after(0.5)),
        sql_client.transaction(),
    ):
        sql_client.execute("INSERT INTO t VALUES (1)")
        sql_client.query("SELECT SLEEP(5)")


@pytest.mark.mariadb
def test_failures_are_told_apart_for_the_engine(sql_client: PyMySqlClient):
    with pytest.raises(StatementRefused) as refused:
        sql_client.query("SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'model endpoint failed'")
    assert failure_kind(refused.value) == "statement"
    assert error_code(refused.value) == "database error 1644"
    assert refused.value.reason == "model endpoint failed"
    with pytest.raises(StatementRefused) as missing:
        sql_client.query("SELECT * FROM no_such_table")
    assert failure_kind(missing.value) == "statement"
    lost = as_failure(pymysql.err.OperationalError(2013, "Lost connection to server during query"))
    assert failure_kind(lost) == "connection" and error_code(lost) == "database error 2013"
    assert failure_kind(as_failure(pymysql.err.InterfaceError(0, ""))) == "connection"
    assert failure_kind(pymysql.err.OperationalError(2013, "raw")) is None  # the client's job to turn
    assert failure_kind(KeyError("churn_probability")) is None  # a bug, not the database
