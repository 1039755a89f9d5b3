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
from tests.fixtures.mariadb import scratch_database
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


def test_a_late_greeting_then_a_stalled_login_is_a_timeout_within_one_limit_per_wait(
    slow_greeting_server: tuple[int, float],
):
    """PyMySQL bounds each wait of the handshake by the limit the deadline set when connecting: the
    greeting's wait (0.8 s) and then the login's (at most the 1.2-s budget), never a hang."""
    port, greeting_delay = slow_greeting_server
    budget = 1.2
    started = time.monotonic()
    with pytest.raises(DatabaseTimeout, match=r"did not answer within 1.2 s \(connecting\)"):
        connect(f"mysql://u:secret@127.0.0.1:{port}/db", deadline=Deadline.after(budget))
    elapsed = time.monotonic() - started
    assert budget <= elapsed < greeting_delay + budget + 1.0, elapsed


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
def test_a_statement_outliving_the_deadline_is_a_timeout(mariadb_url: str):
    started = time.monotonic()
    with (
        connect(mariadb_url, deadline=Deadline.after(0.5)) as client,
        pytest.raises(DatabaseTimeout, match="waiting for a query"),
    ):
        client.query("SELECT SLEEP(5) AS slept")
    assert time.monotonic() - started < 4  # the statement would have taken 5 s


@pytest.fixture()
def scratch_url(mariadb_url: str) -> Iterator[str]:
    """A fresh database holding an empty table t (n INT)."""
    with scratch_database(mariadb_url, "timeouts") as url, connect(url) as client:
        client.execute("CREATE TABLE t (n INT) ENGINE = InnoDB")
        yield url


def rows_in_t(url: str) -> int:
    with connect(url) as client:
        return int(client.query("SELECT COUNT(*) AS n FROM t")[0]["n"])


@pytest.mark.mariadb
def test_a_deadline_passed_since_connecting_sends_nothing(scratch_url: str):
    with connect(scratch_url, deadline=Deadline.after(0.3)) as client:
        time.sleep(0.35)
        with pytest.raises(DatabaseTimeout):
            client.execute("INSERT INTO t VALUES (1)")
    assert rows_in_t(scratch_url) == 0


@pytest.mark.mariadb
def test_a_timeout_inside_a_transaction_is_reported_not_masked_by_the_rollback(scratch_url: str):
    with (
        connect(scratch_url, deadline=Deadline.after(0.5)) as client,
        pytest.raises(DatabaseTimeout),
        client.transaction(),
    ):
        client.execute("INSERT INTO t VALUES (1)")
        client.query("SELECT SLEEP(5)")
    assert rows_in_t(scratch_url) == 0


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
