"""Degrade, don't fail, for the call reason: call_reason as the deploy creates it on Aurora, over a
Bedrock alias that refuses or times out (tests.engine.faults), against the real local server. The
answer comes without a reason, in time, marked degraded, logged, and recorded; the rest stands."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import pytest

from churnguard.db import PyMySqlClient
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S
from churnguard.engine.offers_log import Actor, record_outcome
from churnguard.engine.recommend import Engine
from churnguard.engine.report import offers_report
from churnguard.engine.request import validate_request
from churnguard.sqlgen.call_reason import CALL_REASON_TIMEOUT_MS
from tests.engine.faults import (
    BEDROCK_REFUSING,
    BEDROCK_TIMING_OUT,
    SIGNAL_TEXT,
    bedrock_call_reason,
    offers_rows,
)
from tests.fixtures.agents import fresh_agent

pytestmark = pytest.mark.mariadb

CANCELLING = (415, "358-1921", "You morons! Cancel my line, I'm leaving for another carrier.")


def test_with_the_stand_in_the_reason_decides_is_recorded_and_reported(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    agent = fresh_agent()
    answer = engine.recommend(client, validate_request(*CANCELLING), agent=agent)
    assert answer["call_reason"] == "cancellation"
    assert (answer["rule"], answer["offer"]) == ("cancellation_at_risk", "retention_offer")
    assert answer["degraded"] is False and answer["missing"] == []
    row = offers_rows(faulty_db_url)[-1]
    assert (row["id"], row["call_reason"], row["degraded"]) == (answer["offer_id"], "cancellation", 0)
    record_outcome(client, answer["offer_id"], actor=Actor(agent), outcome="accepted")
    by_reason = {item["call_reason"]: item for item in offers_report(client)["retention_by_reason"]}
    assert by_reason["cancellation"]["offers"] >= 1 and by_reason["cancellation"]["retained"] >= 1


@pytest.mark.parametrize(("model_body", "at_least_s"), [(BEDROCK_REFUSING, 0.0), (BEDROCK_TIMING_OUT, 1.0)])
def test_bedrock_failing_gives_the_answer_without_a_reason_in_time(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str, caplog, model_body, at_least_s
):
    before = len(offers_rows(faulty_db_url))
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING), bedrock_call_reason(faulty_db_url, model_body):
        answer = engine.recommend(client, validate_request(*CANCELLING), agent=fresh_agent())
    elapsed = time.perf_counter() - started

    assert at_least_s * CALL_REASON_TIMEOUT_MS / 1000 <= elapsed < DEFAULT_ANSWER_TIMEOUT_S
    assert answer["call_reason"] is None and answer["degraded"] is True
    (missing,) = answer["missing"]
    assert missing["part"] == "call_reason"
    assert missing["reason"].startswith("no call reason: the reason classifier (Amazon Bedrock")
    # Everything else stands: the sentiment from the same statement, the score, the rules without
    # the reason rules (this angry high-risk customer gets the sentiment rule's $25).
    assert answer["sentiment"] == "NEGATIVE" and answer["churn_probability"] > 0.8
    assert (answer["rule"], answer["offer"]) == ("negative_high_risk", "credit_25")
    assert SIGNAL_TEXT not in json.dumps(answer) and SIGNAL_TEXT not in caplog.text
    assert "answer degraded: no call_reason" in caplog.text

    rows = offers_rows(faulty_db_url)
    assert len(rows) == before + 1
    assert (rows[-1]["id"], rows[-1]["degraded"], rows[-1]["sentiment"]) == (
        answer["offer_id"],
        1,
        "NEGATIVE",
    )
    assert rows[-1]["call_reason"] is None
    report = offers_report(client)
    assert report["degraded"]["without_call_reason"] >= 1
    assert "(none)" in {item["call_reason"] for item in report["retention_by_reason"]}


def test_with_call_reasons_off_nothing_is_asked_or_missing(engine: Engine, client: PyMySqlClient):
    off = dataclasses.replace(engine, call_reasons=False)
    answer = off.recommend(client, validate_request(*CANCELLING), agent=fresh_agent())
    assert answer["call_reason"] is None
    assert answer["degraded"] is False and answer["missing"] == []
    assert answer["rule"] == "negative_high_risk"


def test_the_call_reason_setting_comes_from_the_environment(monkeypatch, trained_model_dir):
    monkeypatch.setenv("CHURNGUARD_CALL_REASONS", "off")
    assert Engine.load(trained_model_dir).call_reasons is False
    monkeypatch.setenv("CHURNGUARD_CALL_REASONS", "bedrock")
    assert Engine.load(trained_model_dir).call_reasons is True
    monkeypatch.delenv("CHURNGUARD_CALL_REASONS")
    assert Engine.load(trained_model_dir).call_reasons is True
