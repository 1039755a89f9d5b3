"""The app user the bootstrap creates, on a real server: it records and corrects outcomes, and no more."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from churnguard.bootstrap.app_user import AppUser, app_user_statements
from churnguard.db import PyMySqlClient, connect, parse_url
from churnguard.engine.failures import StatementRefused
from churnguard.engine.offers_log import Actor, OfferRecord, insert_offer, record_outcome
from churnguard.local.install import install_churnguard
from tests.fixtures.mariadb import scratch_database
from training.synthetic import generate_customers, generate_messages

pytestmark = pytest.mark.mariadb


@pytest.fixture()
def app_client(mariadb_url: str, trained_model_dir: Path) -> Iterator[PyMySqlClient]:
    with scratch_database(mariadb_url, "grants") as admin_url:
        admin = connect(admin_url)
        database = str(parse_url(admin_url).database)
        user = AppUser(f"grants_{secrets.token_hex(4)}", f"Pw{secrets.token_hex(12)}")
        try:
            customers = generate_customers(50, seed=3)
            install_churnguard(
                admin,
                model_dir=trained_model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=3),
            )
            for step in app_user_statements(user, database):
                admin.execute(step.sql)
            parts = parse_url(admin_url)
            client = connect(f"mysql://{user.name}:{user.password}@{parts.host}:{parts.port}/{database}")
            try:
                yield client
            finally:
                client.close()
        finally:
            admin.execute(f"DROP USER IF EXISTS '{user.name}'@'%'")
            admin.close()


AGENT = Actor("agent-ann")


def _offer() -> OfferRecord:
    return OfferRecord(
        agent=AGENT.agent,
        area_code=415,
        phone="358-1921",
        sentiment="NEGATIVE",
        confidence=0.9,
        churn_probability=0.9,
        drivers=[],
        rules_version="test",
        rule_name="negative_high_risk",
        reason="test",
        experiment=None,
        arm=None,
        offer="credit_25",
        offer_cost_usd=25.0,
    )


def test_app_user_records_an_outcome_and_corrects_it(app_client: PyMySqlClient) -> None:
    with app_client.transaction():
        offer_id = insert_offer(app_client, _offer())

    assert record_outcome(app_client, offer_id, actor=AGENT, outcome="declined") is False
    assert (
        record_outcome(app_client, offer_id, actor=AGENT, outcome="call_ended") is True
    )  # the console's 2nd click
    assert (
        record_outcome(app_client, offer_id, actor=AGENT, retained=True) is True
    )  # offers record-outcome --retained
    (row,) = app_client.query(
        "SELECT retained, outcome FROM offer_outcomes WHERE offer_id = %(id)s", {"id": offer_id}
    )
    assert (row["retained"], row["outcome"]) == (1, "call_ended")


def test_app_user_cannot_rewrite_or_delete_the_offers_log(app_client: PyMySqlClient) -> None:
    with app_client.transaction():
        offer_id = insert_offer(app_client, _offer())
    for statement in (
        "UPDATE offers_log SET offer = 'none' WHERE id = %(id)s",
        "DELETE FROM offers_log WHERE id = %(id)s",
    ):
        with pytest.raises(StatementRefused) as denied:
            app_client.execute(statement, {"id": offer_id})
        assert denied.value.code == "database error 1142"  # command denied to user
