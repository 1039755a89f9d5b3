"""Faults for the engine's tests: stored functions that raise like Aurora's ML functions do, a database
of its own to break, and a throwaway MariaDB server to freeze (SIGSTOP) and kill (SIGKILL).

On Aurora, `aws_comprehend_detect_sentiment` and `will_churn` (ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT)
raise an SQL error when the service fails (throttled, unreachable, model error). Locally the same
is a stored function with the same name and signature whose body SIGNALs an error. For Bedrock,
`bedrock_call_reason` installs call_reason as it is on Aurora over a stand-in for the alias that
refuses or times out like it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from churnguard.call_reason import install_call_reason_function
from churnguard.db import PyMySqlClient, connect
from churnguard.local.install import install_churnguard
from churnguard.local.server import start_server, stop_server
from churnguard.local.state import LocalServer
from churnguard.sqlgen.call_reason import (
    CALL_REASON_TIMEOUT_MS,
    MODEL_FUNCTION,
    REQUEST_FUNCTION,
    render_label_function,
    render_request_function,
)
from tests.fixtures.mariadb import scratch_database

FAULT_CUSTOMERS = 200
FAULT_SEED = 1729
SCORE_FUNCTION = "will_churn"
SENTIMENT_FUNCTIONS = ("aws_comprehend_detect_sentiment", "aws_comprehend_detect_sentiment_confidence")
# Text a failing service puts in its error; it must never reach the answer, the logs or the agent.
SIGNAL_TEXT = "simulated outage for 358-1921: You morons"


def install_customers(client: PyMySqlClient, model_dir: Path) -> None:
    from training.synthetic import generate_customers, generate_messages

    customers = generate_customers(FAULT_CUSTOMERS, seed=FAULT_SEED)
    install_churnguard(
        client,
        model_dir=model_dir,
        customers=customers,
        messages=generate_messages(customers, seed=FAULT_SEED),
    )


@pytest.fixture(scope="module")
def faulty_db_url(mariadb_url: str, trained_model_dir: Path) -> Iterator[str]:
    """A database of the module's own (on the shared server), whose functions the tests replace."""
    with scratch_database(mariadb_url, "faults") as url:
        client = connect(url)
        try:
            install_customers(client, trained_model_dir)
        finally:
            client.close()
        yield url


@pytest.fixture()
def client(faulty_db_url: str) -> Iterator[PyMySqlClient]:
    """A client on the module's faults database (faulty_db_url), closed afterwards."""
    client = connect(faulty_db_url)
    try:
        yield client
    finally:
        client.close()


@contextmanager
def failing_functions(url: str, *names: str, returns_null: bool = False) -> Iterator[None]:
    """Replace each stored function `name` with one of the same signature that SIGNALs an error
    (or, with `returns_null`, answers NULL); the originals are put back on exit."""
    client = connect(url)
    originals = []
    try:
        for name in names:
            originals.append(client.query(f"SHOW CREATE FUNCTION {name}")[0]["Create Function"])
            signature = client.query(
                "SELECT PARAMETER_NAME AS name, DTD_IDENTIFIER AS type FROM information_schema.PARAMETERS"
                " WHERE SPECIFIC_SCHEMA = DATABASE() AND SPECIFIC_NAME = %(name)s ORDER BY ORDINAL_POSITION",
                {"name": name},
            )
            returns, parameters = signature[0]["type"], signature[1:]
            arguments = ", ".join(f"`{row['name']}` {row['type']}" for row in parameters)
            body = (
                "RETURN NULL"
                if returns_null
                else f"BEGIN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{SIGNAL_TEXT}'; RETURN NULL; END"
            )
            client.execute(f"DROP FUNCTION {name}")
            client.execute(f"CREATE FUNCTION {name}({arguments}) RETURNS {returns} DETERMINISTIC {body}")
        yield
    finally:
        for name, original in zip(names, originals, strict=False):
            client.execute(f"DROP FUNCTION IF EXISTS {name}")
            client.execute(original)
        client.close()


# What Aurora's Bedrock alias (call_reason_model) does when Bedrock refuses (model access not enabled,
# throttled) and when it passes its TIMEOUT_MS: raise an SQL error, at once or after the timeout.
BEDROCK_REFUSING = (
    "BEGIN SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'AccessDeniedException: You don''t have access to "
    f"the model with the specified model ID. {SIGNAL_TEXT}'; RETURN NULL; END"
)
BEDROCK_TIMING_OUT = (
    f"BEGIN DO SLEEP({CALL_REASON_TIMEOUT_MS / 1000}); "
    "SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'Timed out calling Bedrock'; RETURN NULL; END"
)


@contextmanager
def bedrock_call_reason(url: str, model_body: str) -> Iterator[None]:
    """call_reason as the deploy creates it on Aurora (churnguard.sqlgen.call_reason), over a stand-in
    for Aurora's Bedrock alias whose body is `model_body`; the local stand-in is put back on exit."""
    client = connect(url)
    try:
        for statement in [
            *render_request_function(),
            f"DROP FUNCTION IF EXISTS {MODEL_FUNCTION}",
            f"CREATE FUNCTION {MODEL_FUNCTION}(request_body TEXT) RETURNS TEXT {model_body}",
            *render_label_function(),
        ]:
            client.execute(statement)
        yield
    finally:
        for name in (MODEL_FUNCTION, REQUEST_FUNCTION):
            client.execute(f"DROP FUNCTION IF EXISTS {name}")
        install_call_reason_function(client)
        client.close()


def offers_rows(url: str) -> list[dict]:
    client = connect(url)
    try:
        return client.query("SELECT * FROM offers_log ORDER BY id")
    finally:
        client.close()


class SpareServer:
    """A MariaDB server of the test module's own, to freeze, kill and restart."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    def freeze(self) -> None:
        """SIGSTOP, and wait until every thread has stopped (the signal is delivered asynchronously)."""
        os.kill(self.server.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self._stopped():
            time.sleep(0.01)

    def _stopped(self) -> bool:
        states = []
        for task in Path(f"/proc/{self.server.pid}/task").iterdir():
            with suppress(FileNotFoundError):  # a thread that ended meanwhile
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        return all(state in ("T", "t") for state in states)

    def thaw(self) -> None:
        os.kill(self.server.pid, signal.SIGCONT)

    def kill(self) -> None:
        os.kill(self.server.pid, signal.SIGKILL)
        os.waitpid(self.server.pid, 0)

    def restart(self) -> None:
        """Start mariadbd again on the same data directory and port, as an operator would after a
        crash: InnoDB recovers on its own, nothing else is done."""
        from churnguard.local.server import _launch, _wait_until_ready  # the launch `local up` uses

        base = Path(self.server.base_dir)
        process = _launch(base, self.server.port)
        _wait_until_ready(process, self.server.port, base)
        self.server = dataclasses.replace(self.server, pid=process.pid)


@pytest.fixture(scope="module")
def spare_server(trained_model_dir: Path) -> Iterator[SpareServer]:
    """A throwaway server with churnguard installed; never the shared one, which other tests use."""
    spare = SpareServer(start_server())
    try:
        client = connect(spare.url)
        try:
            install_customers(client, trained_model_dir)
        finally:
            client.close()
        yield spare
    finally:
        with suppress(ProcessLookupError):
            spare.thaw()
        stop_server(spare.server)
