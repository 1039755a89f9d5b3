"""The console on a real MariaDB server that freezes (SIGSTOP) or dies (SIGKILL) between calls: the
answer's deadline and fault answers hold, and the next call works with no manual step."""

from __future__ import annotations

import time

import pytest

from churnguard.engine.recommend import Engine
from tests.console.conftest import HIGH_RISK, NEGATIVE_MESSAGE, app_on
from tests.engine.faults import SpareServer, spare_server  # noqa: F401  (fixture, used below)

pytestmark = pytest.mark.mariadb
# Far above the budgets used here: tells a bounded wait from a hang, nothing finer.
HANG_S = 20.0


def test_a_frozen_server_between_calls_is_a_timeout_within_the_budget_then_calls_work_again(
    console_engine: Engine,
    spare_server: SpareServer,  # noqa: F811
) -> None:
    with app_on(spare_server.url, console_engine, budget_s=1.0) as client:
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
        assert client.post("/api/customer", json=HIGH_RISK).status_code == 200


def test_a_killed_server_between_calls_is_unreachable_in_words_then_works_after_a_restart(
    console_engine: Engine,
    spare_server: SpareServer,  # noqa: F811
) -> None:
    with app_on(spare_server.url, console_engine) as client:
        assert client.post("/api/customer", json=HIGH_RISK).status_code == 200
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
