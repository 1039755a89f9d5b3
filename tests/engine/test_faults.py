"""Degrade, don't fail: the sentiment or the score function raising (as Aurora's ML functions do when
Comprehend or the endpoint fails), against the real local server; the answer, the offers log, the
report and the CLI for each, and the one case that stays an error (neither part).
"""

from __future__ import annotations

import json

import pytest

from churnguard.cli import main
from churnguard.db import PyMySqlClient, connect
from churnguard.engine.failures import ConnectionFailed, StatementRefused
from churnguard.engine.offers_log import OfferRecord
from churnguard.engine.recommend import (
    Engine,
    RecordUnconfirmed,
    ScoringError,
    UnknownCustomerError,
    record_answer,
)
from churnguard.engine.report import offers_report
from churnguard.engine.request import validate_request
from tests.engine.faults import (
    SCORE_FUNCTION,
    SENTIMENT_FUNCTIONS,
    SIGNAL_TEXT,
    failing_functions,
    offers_rows,
)
from tests.fixtures.agents import fresh_agent, recommend_argv

pytestmark = pytest.mark.mariadb

ANGRY = (415, "358-1921", "You morons! You charged me extra again!")


def test_without_sentiment_the_answer_uses_the_score_and_is_logged_as_degraded(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    before = len(offers_rows(faulty_db_url))
    with failing_functions(faulty_db_url, *SENTIMENT_FUNCTIONS):
        answer = engine.recommend(client, validate_request(*ANGRY), agent=fresh_agent())
    assert answer["degraded"] is True
    assert (answer["sentiment"], answer["confidence"]) == (None, None)
    assert answer["churn_probability"] > 0.8
    # The high-risk customer gets the score-only rule's offer, and the agent is told why.
    assert (answer["rule"], answer["offer"]) == ("high_risk_sentiment_unknown", "credit_5")
    assert answer["reason"].startswith("sentiment unknown; churn probability")
    # The call reason rides in the sentiment's statement, so it is missing too, and says why.
    missing, no_reason = answer["missing"]
    assert (missing["part"], no_reason["part"]) == ("sentiment", "call_reason")
    assert "the statement it shares with the sentiment failed (database error 1644)" in no_reason["reason"]
    assert missing["reason"].startswith("no sentiment: the sentiment service (Amazon Comprehend")
    assert (
        "database error 1644" in missing["reason"]
        and "judge the customer's mood yourself" in missing["reason"]
    )
    assert answer["drivers"] and answer["arm"] is None
    assert SIGNAL_TEXT not in json.dumps(answer)

    rows = offers_rows(faulty_db_url)
    assert len(rows) == before + 1
    row = rows[-1]
    assert row["id"] == answer["offer_id"]
    assert (row["degraded"], row["sentiment"], row["confidence"]) == (1, None, None)
    assert row["churn_probability"] == pytest.approx(answer["churn_probability"])
    assert row["rule_name"] == "high_risk_sentiment_unknown"


def test_without_a_score_the_answer_uses_the_sentiment_and_is_logged_as_degraded(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    before = len(offers_rows(faulty_db_url))
    with failing_functions(faulty_db_url, SCORE_FUNCTION):
        answer = engine.recommend(client, validate_request(*ANGRY), agent=fresh_agent())
    assert answer["degraded"] is True
    assert answer["churn_probability"] is None
    assert answer["sentiment"] == "NEGATIVE" and answer["confidence"] > 0.7
    assert (answer["rule"], answer["offer"]) == ("negative_risk_unknown", "credit_5")
    (missing,) = answer["missing"]
    assert missing["part"] == "churn_probability"
    assert missing["reason"].startswith("no churn score: the churn model (called by the database) failed")
    # The drivers come from the bundled trees, not the database: the agent still sees why the
    # customer may leave; without a database score there is nothing to compare them with.
    assert answer["drivers"] and answer["notes"] == []
    assert SIGNAL_TEXT not in json.dumps(answer)

    row = offers_rows(faulty_db_url)[-1]
    assert len(offers_rows(faulty_db_url)) == before + 1
    assert (row["id"], row["degraded"], row["churn_probability"]) == (answer["offer_id"], 1, None)
    assert row["sentiment"] == "NEGATIVE"


def test_a_function_answering_null_is_missing_too(engine: Engine, client: PyMySqlClient, faulty_db_url: str):
    """Aurora may answer NULL rather than raise (e.g. an endpoint answering nothing usable)."""
    with failing_functions(faulty_db_url, *SENTIMENT_FUNCTIONS, returns_null=True):
        answer = engine.recommend(client, validate_request(*ANGRY), agent=fresh_agent())
    assert answer["degraded"] is True and answer["sentiment"] is None
    assert answer["missing"][0]["reason"].startswith(
        "no sentiment: the sentiment service (Amazon Comprehend, called by the database) returned nothing;"
    )


def test_neither_part_is_an_error_and_records_nothing(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    before = len(offers_rows(faulty_db_url))
    with (
        failing_functions(faulty_db_url, SCORE_FUNCTION, *SENTIMENT_FUNCTIONS),
        pytest.raises(ScoringError, match="neither the churn score nor the sentiment is available") as raised,
    ):
        engine.recommend(client, validate_request(*ANGRY), agent=fresh_agent())
    assert "database error 1644" in str(raised.value) and SIGNAL_TEXT not in str(raised.value)
    assert len(offers_rows(faulty_db_url)) == before


def test_an_unknown_customer_is_still_unknown_when_the_score_fails(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    with (
        failing_functions(faulty_db_url, SCORE_FUNCTION),
        pytest.raises(UnknownCustomerError, match="no customer with area code 415"),
    ):
        engine.recommend(client, validate_request(415, "000-0000", "hello"), agent=fresh_agent())


def test_the_cli_shows_a_degraded_answer_first_and_the_report_counts_it(
    capsys, faulty_db_url: str, trained_model_dir
):
    argv = recommend_argv("--message", ANGRY[2], "--db-url", faulty_db_url, "--model", str(trained_model_dir))
    with failing_functions(faulty_db_url, *SENTIMENT_FUNCTIONS):
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert main([*argv, "--json"]) == 0
        answer = json.loads(capsys.readouterr().out)
    lines = text.splitlines()
    assert lines[0] == "Offer: $5 credit on the next bill [credit_5]"
    assert lines[2].startswith("DEGRADED: no sentiment: the sentiment service")
    assert lines[3].startswith("DEGRADED: no call reason: the reason classifier")
    assert "sentiment unknown; call reason unknown" in lines[4]
    assert answer["degraded"] is True and answer["missing"][0]["part"] == "sentiment"

    client = connect(faulty_db_url)
    try:
        report = offers_report(client)
        stored = client.query("SELECT COUNT(*) AS n FROM offers_log WHERE degraded = 1 AND sentiment IS NULL")
    finally:
        client.close()
    assert report["degraded"]["without_sentiment"] == int(stored[0]["n"]) >= 2


class LostAcknowledgement:
    """Inserts (and so commits) for real, then loses the server's reply: the answer may be in the log."""

    def __init__(self, inner: PyMySqlClient) -> None:
        self.inner = inner
        self.query, self.execute, self.transaction, self.close = (
            inner.query,
            inner.execute,
            inner.transaction,
            inner.close,
        )

    def insert_returning_id(self, sql, params=None):
        self.inner.insert_returning_id(sql, params)
        raise ConnectionFailed("database error 2013: Lost connection", code="database error 2013")


def test_an_insert_whose_reply_is_lost_is_unconfirmed_and_shows_nothing(
    engine: Engine, client: PyMySqlClient, faulty_db_url: str
):
    """Decided behaviour: an answer is shown only once its row is known to be committed. When the
    connection fails while the INSERT is on its way the row may be there: the error says so."""
    before = len(offers_rows(faulty_db_url))
    with pytest.raises(
        RecordUnconfirmed,
        match=r"did not confirm that the answer was recorded \(database error 2013 while writing it\)",
    ):
        engine.recommend(LostAcknowledgement(client), validate_request(*ANGRY), agent=fresh_agent())
    assert len(offers_rows(faulty_db_url)) == before + 1


def test_a_failing_insert_records_nothing_and_is_not_unconfirmed(client: PyMySqlClient):
    """An insert the database refuses (here: a value too long for its column) records nothing and is an
    ordinary database error, not an unconfirmed record."""
    record = OfferRecord(
        agent=fresh_agent(),
        area_code=415,
        phone="358-1921",
        sentiment="NEGATIVE",
        confidence=0.9,
        churn_probability=0.9,
        drivers=[],
        rules_version="x" * 65,  # VARCHAR(64)
        rule_name="r",
        reason="because",
        experiment=None,
        arm=None,
        offer="none",
        offer_cost_usd=0,
    )
    before = int(client.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"])
    with pytest.raises(StatementRefused, match="database error 1406"):
        record_answer(client, record)
    assert int(client.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"]) == before
