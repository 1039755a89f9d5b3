"""The console's kept connections on real MariaDB servers: reused between calls, checked before use,
replaced without an error when the server dropped them, and the answer's deadline and fault answers
unchanged when the server freezes (SIGSTOP) or dies (SIGKILL) between calls."""

from __future__ import annotations

import threading
import time

import pymysql
import pytest
from starlette.testclient import TestClient

from churnguard.console.app import build_app
from churnguard.console.pool import ConnectionPool, leaves_connection_usable
from churnguard.console.service import ConsoleService
from churnguard.db import connect
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import DatabaseUnreachable
from churnguard.engine.recommend import Engine, RecordUnconfirmed, UnknownCustomerError
from churnguard.pymysql_errors import as_failure
from tests.console.conftest import HIGH_RISK, NEGATIVE_MESSAGE
from tests.engine.faults import SpareServer, spare_server  # noqa: F401  (fixture, used below)

pytestmark = pytest.mark.mariadb
UNKNOWN = {"area_code": 415, "phone": "000-0000"}
# Far above the budgets used here: tells a bounded wait from a hang, nothing finer.
HANG_S = 20.0


class CountingPool(ConnectionPool):
    """The console's pool, counting the connections it opens."""

    def __init__(self, url: str, **options: object) -> None:
        self.opened = 0

        def connector(url: str, deadline: Deadline):
            self.opened += 1
            return connect(url, deadline=deadline)

        super().__init__(url, connector=connector, **options)


@pytest.fixture()
def console_on(console_engine: Engine):
    """`console_on(url, budget_s)`: the console's app on a counting pool, closed after the test."""
    pools: list[CountingPool] = []

    def build(url: str, budget_s: float = 5.0) -> tuple[TestClient, CountingPool]:
        pool = CountingPool(url)
        pools.append(pool)
        service = ConsoleService(engine=console_engine, clients=pool.lease, budget_s=budget_s)
        return TestClient(build_app(service), base_url="http://127.0.0.1"), pool

    yield build
    for pool in pools:
        pool.close()


def server_threads(url: str) -> set[int]:
    """The ids of every client connection the server has open (its processlist)."""
    admin = connect(url)
    try:
        rows = admin.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()")
        return {int(row["id"]) for row in rows}
    finally:
        admin.close()


def test_calls_one_after_another_share_one_connection(console_on, console_db_url) -> None:
    client, pool = console_on(console_db_url)
    for _ in range(5):
        assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
        assert (
            client.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE}).status_code == 200
        )
    assert pool.opened == 1 and pool.idle_count() == 1


def test_an_answer_about_the_data_keeps_the_connection(console_on, console_db_url) -> None:
    client, pool = console_on(console_db_url)
    assert client.post("/api/customer", json=UNKNOWN).status_code == 404
    assert client.post("/api/outcome", json={"offer_id": 10**12, "outcome": "accepted"}).status_code == 404
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
    assert pool.opened == 1


def test_a_connection_the_server_dropped_is_replaced_without_an_error(console_on, console_db_url) -> None:
    client, pool = console_on(console_db_url)
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
    with pool.lease(Deadline.after(5.0)) as kept_client:  # the kept connection: which server thread
        kept = int(kept_client.query("SELECT CONNECTION_ID() AS id")[0]["id"])
    assert pool.opened == 1
    admin = connect(console_db_url)
    try:
        admin.execute(f"KILL CONNECTION {kept}")  # as wait_timeout or a restart would
    finally:
        admin.close()
    answer = client.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
    assert answer.status_code == 200, answer.text
    assert pool.opened == 2 and kept not in server_threads(console_db_url)


def test_concurrent_calls_open_their_own_and_at_most_four_are_kept(console_db_url) -> None:
    pool = ConnectionPool(console_db_url)
    started = threading.Barrier(6)

    def call() -> None:
        with pool.lease(Deadline.after(5.0)) as client:
            started.wait(timeout=10)  # all six hold a connection at once
            client.query("SELECT 1 AS one")

    workers = [threading.Thread(target=call) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=HANG_S)
    try:
        assert pool.idle_count() == 4
    finally:
        pool.close()
    assert pool.idle_count() == 0


def test_a_frozen_server_between_calls_is_a_timeout_within_the_budget_then_calls_work_again(
    console_on,
    spare_server: SpareServer,  # noqa: F811
) -> None:
    client, pool = console_on(spare_server.url, budget_s=1.0)
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
    spare_server.freeze()
    try:
        started = time.monotonic()
        answer = client.post("/api/recommend", json={**HIGH_RISK, "message": NEGATIVE_MESSAGE})
        took = time.monotonic() - started
    finally:
        spare_server.thaw()
    assert answer.status_code == 503 and answer.json()["kind"] == "database_timeout"
    assert "the database did not answer within 1 s" in answer.json()["error"]
    assert took < HANG_S
    assert pool.idle_count() == 0  # the connection in doubt was not kept
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200


def test_a_killed_server_between_calls_is_unreachable_in_words_then_works_after_a_restart(
    console_on,
    spare_server: SpareServer,  # noqa: F811
) -> None:
    client, pool = console_on(spare_server.url)
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
    assert pool.idle_count() == 1
    spare_server.kill()
    try:
        started = time.monotonic()
        answer = client.post("/api/customer", json=HIGH_RISK)
        took = time.monotonic() - started
    finally:
        spare_server.restart()
    assert answer.status_code == 503 and answer.json()["kind"] == "database_unreachable"
    assert "the database is not answering" in answer.json()["error"] and took < HANG_S
    assert client.post("/api/customer", json=HIGH_RISK).status_code == 200  # no manual step
    assert pool.opened == 3  # the first, the attempt while it was down, the one after the restart


@pytest.mark.parametrize(
    ("error", "usable"),
    [
        (UnknownCustomerError("no customer"), True),
        (as_failure(pymysql.err.ProgrammingError(1146, "Table 'churnguard.customers' doesn't exist")), True),
        (as_failure(pymysql.err.OperationalError(2013, "Lost connection to server during query")), False),
        (DatabaseTimeout("the database did not answer"), False),
        (DatabaseUnreachable("cannot connect"), False),
        (RecordUnconfirmed("database error 2013"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_only_answers_about_the_data_leave_a_connection_to_reuse(error: Exception, usable: bool) -> None:
    assert leaves_connection_usable(error) is usable
