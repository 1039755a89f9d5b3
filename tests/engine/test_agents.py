"""Accountable agents on the real MariaDB: every offer and outcome names who acted, only they (or a
supervisor) may set an offer's outcome, changes keep what they replaced, a repeated recommend returns
the offer already made, and one agent's offers per minute are capped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from churnguard.db import PyMySqlClient
from churnguard.engine.agent_activity import AgentLimits, AgentRateLimited
from churnguard.engine.offers_log import OUTCOME_WINDOW_S, Actor, OutcomeNotAllowed, record_outcome
from churnguard.engine.recommend import Engine
from churnguard.engine.report import format_report, offers_report
from churnguard.engine.request import validate_request
from tests.engine.test_recommend import HIGH_RISK, LOW_RISK
from tests.fixtures.agents import fresh_agent

pytestmark = pytest.mark.mariadb

SUPERVISOR = Actor("supervisor-sue", supervisor=True)


def offers_of(client: PyMySqlClient, agent: str) -> list[dict]:
    return client.query(
        "SELECT id, agent FROM offers_log WHERE agent = %(agent)s ORDER BY id", {"agent": agent}
    )


def test_every_offer_names_its_agent(engine: Engine, engine_db: PyMySqlClient):
    agent = fresh_agent()
    answer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=agent)
    assert offers_of(engine_db, agent) == [{"id": answer["offer_id"], "agent": agent}]
    assert answer["repeated"] is False


def test_a_repeated_recommend_returns_the_offer_already_made_and_writes_nothing(
    engine: Engine, engine_db: PyMySqlClient
):
    agent = fresh_agent()
    first = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=agent)
    again = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=agent)

    assert again["offer_id"] == first["offer_id"] and again["repeated"] is True
    assert len(offers_of(engine_db, agent)) == 1
    for field in ("offer", "offer_cost_usd", "rule", "reason", "drivers", "arm", "churn_probability"):
        assert again[field] == first[field], field
    # The call reason recorded with the offer comes back with it: a repeat is not an answer without one.
    assert first["call_reason"] is not None and again["call_reason"] == first["call_reason"]
    assert again["missing"] == [] and again["degraded"] is False
    assert again["sentiment"] == first["sentiment"] and again["confidence"] == pytest.approx(
        first["confidence"]
    )
    assert any("this is that offer again, not a new one" in note for note in again["notes"])
    # Another customer, or another agent for the same customer, gets an offer of their own.
    other = engine.recommend(engine_db, validate_request(*LOW_RISK), agent=agent)
    colleague = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=fresh_agent())
    assert len({first["offer_id"], other["offer_id"], colleague["offer_id"]}) == 3


def test_an_offer_older_than_the_repeat_window_is_not_repeated(engine: Engine, engine_db: PyMySqlClient):
    agent = fresh_agent()
    first = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=agent)
    engine_db.execute(
        "UPDATE offers_log SET created_at = UTC_TIMESTAMP(6) - INTERVAL %(s)s SECOND WHERE id = %(id)s",
        {"s": engine.limits.repeat_window_s + 1, "id": first["offer_id"]},
    )
    later = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=agent)
    assert later["offer_id"] != first["offer_id"] and later["repeated"] is False


def test_an_agent_over_the_per_minute_cap_is_refused_with_when_to_retry(
    engine: Engine, engine_db: PyMySqlClient
):
    capped = replace(engine, limits=AgentLimits(offers_per_minute=2))
    agent = fresh_agent()
    customers = engine_db.query("SELECT area_code, phone FROM customers ORDER BY phone LIMIT 3")
    for customer in customers[:2]:
        capped.recommend(
            engine_db, validate_request(customer["area_code"], customer["phone"], "hi"), agent=agent
        )

    with pytest.raises(AgentRateLimited) as refused:
        capped.recommend(
            engine_db, validate_request(customers[2]["area_code"], customers[2]["phone"], "hi"), agent=agent
        )

    assert 1 <= refused.value.retry_after_s <= 61
    assert "try again in" in str(refused.value)
    assert len(offers_of(engine_db, agent)) == 2  # nothing written
    # The cap is the agent's own: a colleague is not held up by it.
    capped.recommend(
        engine_db,
        validate_request(customers[2]["area_code"], customers[2]["phone"], "hi"),
        agent=fresh_agent(),
    )
    # A repeat is still answered: it adds no row.
    again = capped.recommend(
        engine_db, validate_request(customers[0]["area_code"], customers[0]["phone"], "hi"), agent=agent
    )
    assert again["repeated"] is True


def test_only_the_offers_agent_or_a_supervisor_may_set_its_outcome(engine: Engine, engine_db: PyMySqlClient):
    owner = Actor(fresh_agent())
    offer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=owner.agent)["offer_id"]

    with pytest.raises(OutcomeNotAllowed, match="made by another agent"):
        record_outcome(engine_db, offer, actor=Actor(fresh_agent()), outcome="accepted")
    assert record_outcome(engine_db, offer, actor=owner, outcome="declined") is False
    assert record_outcome(engine_db, offer, actor=owner, outcome="accepted") is True
    assert record_outcome(engine_db, offer, actor=SUPERVISOR, retained=False) is True

    (stored,) = engine_db.query("SELECT * FROM offer_outcomes WHERE offer_id = %(id)s", {"id": offer})
    assert (stored["outcome"], stored["retained"], stored["agent"]) == ("accepted", 0, SUPERVISOR.agent)
    history = engine_db.query(
        "SELECT agent, supervisor, from_outcome, from_retained, from_agent, to_outcome, to_retained"
        " FROM offer_outcome_changes WHERE offer_id = %(id)s ORDER BY id",
        {"id": offer},
    )
    assert history == [
        {"agent": owner.agent, "supervisor": 0, "from_outcome": None, "from_retained": None,
         "from_agent": None, "to_outcome": "declined", "to_retained": 0},
        {"agent": owner.agent, "supervisor": 0, "from_outcome": "declined", "from_retained": 0,
         "from_agent": owner.agent, "to_outcome": "accepted", "to_retained": 1},
        {"agent": SUPERVISOR.agent, "supervisor": 1, "from_outcome": "accepted", "from_retained": 1,
         "from_agent": owner.agent, "to_outcome": "accepted", "to_retained": 0},
    ]  # fmt: skip


def test_after_the_window_only_a_supervisor_may_set_the_outcome(engine: Engine, engine_db: PyMySqlClient):
    owner = Actor(fresh_agent())
    offer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=owner.agent)["offer_id"]
    engine_db.execute(
        "UPDATE offers_log SET created_at = UTC_TIMESTAMP(6) - INTERVAL %(s)s SECOND WHERE id = %(id)s",
        {"s": OUTCOME_WINDOW_S + 60, "id": offer},
    )
    with pytest.raises(OutcomeNotAllowed, match="more than 24 hours ago"):
        record_outcome(engine_db, offer, actor=owner, outcome="accepted")
    assert record_outcome(engine_db, offer, actor=SUPERVISOR, outcome="accepted") is False


def test_an_offer_from_before_agents_were_recorded_is_a_supervisors(engine: Engine, engine_db: PyMySqlClient):
    owner = Actor(fresh_agent())
    offer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=owner.agent)["offer_id"]
    engine_db.execute("UPDATE offers_log SET agent = NULL WHERE id = %(id)s", {"id": offer})  # a 0.1.0 row
    with pytest.raises(OutcomeNotAllowed, match="before agents were recorded"):
        record_outcome(engine_db, offer, actor=owner, outcome="accepted")
    record_outcome(engine_db, offer, actor=SUPERVISOR, outcome="accepted")


def test_the_report_counts_the_latest_outcome_and_lists_the_changes(engine: Engine, engine_db: PyMySqlClient):
    owner = Actor(fresh_agent())
    offer = engine.recommend(engine_db, validate_request(*HIGH_RISK), agent=owner.agent)["offer_id"]
    before = offers_report(engine_db)["outcome_kinds"]
    record_outcome(engine_db, offer, actor=owner, outcome="declined")
    record_outcome(engine_db, offer, actor=owner, outcome="accepted")

    report = offers_report(engine_db, changes=True)

    kinds = report["outcome_kinds"]
    assert (kinds["accepted"], kinds["declined"]) == (before["accepted"] + 1, before["declined"])
    (change,) = [item for item in report["changes"] if item["offer_id"] == offer]
    assert change["agent"] == owner.agent and change["offered_by"] == owner.agent
    assert change["from"] == {"outcome": "declined", "retained": False, "agent": owner.agent}
    assert change["to"] == {"outcome": "accepted", "retained": True}
    text = format_report(report)
    assert f"offer {offer} at " in text and "declined (retained no) -> accepted (retained yes)" in text
    assert "changes" not in offers_report(engine_db)  # the JSON keeps its fields unless asked
