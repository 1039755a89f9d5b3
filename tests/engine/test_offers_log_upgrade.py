"""An offers log created before degraded answers existed is upgraded in place by applying
sql/20_offers.sql again (what `churnguard local up` and every deploy's bootstrap do): no row lost,
the bootstrap's refusal of destructive statements respected, and a second application a no-op.
"""

from __future__ import annotations

import pytest

from churnguard.db import PyMySqlClient
from churnguard.engine.offers_log import OfferRecord
from churnguard.engine.recommend import record_answer
from churnguard.engine.report import offers_report
from churnguard.errors import UserError
from churnguard.sqlgen import apply_sql_files
from tests.engine.upgrades import assert_upgraded_once_for_all, offers_sql

pytestmark = pytest.mark.mariadb

# sql/20_offers.sql's offers_log as deployed before this change (commit 3583bc2).
OLD_OFFERS_LOG = """
CREATE TABLE offers_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    created_at DATETIME(6) NOT NULL,
    area_code INT NOT NULL,
    phone CHAR(8) NOT NULL,
    sentiment VARCHAR(16) NOT NULL,
    confidence DOUBLE NOT NULL,
    churn_probability DOUBLE NOT NULL,
    drivers TEXT NOT NULL,
    rules_version VARCHAR(64) NOT NULL,
    rule_name VARCHAR(64) NOT NULL,
    reason VARCHAR(1000) NOT NULL,
    experiment VARCHAR(64) NULL,
    arm VARCHAR(64) NULL,
    offer VARCHAR(64) NOT NULL,
    offer_cost_usd DECIMAL(12, 2) NOT NULL,
    PRIMARY KEY (id),
    KEY offers_log_customer (area_code, phone),
    KEY offers_log_rule_arm (rule_name, arm)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""


OFFER_OUTCOMES = """
CREATE TABLE offer_outcomes (
    offer_id BIGINT UNSIGNED NOT NULL,
    retained TINYINT(1) NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offer_id),
    CONSTRAINT offer_outcomes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""


def columns(client: PyMySqlClient) -> dict[str, tuple[str, str]]:
    rows = client.query(
        "SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offers_log'"
    )
    return {row["name"]: (row["nullable"], str(row["dflt"])) for row in rows}


def test_an_old_log_is_upgraded_in_place_keeping_every_row(sql_client: PyMySqlClient):
    sql_client.execute(OLD_OFFERS_LOG)
    sql_client.execute(OFFER_OUTCOMES)
    sql_client.execute(
        "INSERT INTO offers_log (created_at, area_code, phone, sentiment, confidence, churn_probability,"
        " drivers, rules_version, rule_name, reason, offer, offer_cost_usd) VALUES (UTC_TIMESTAMP(6), 415,"
        " '358-1921', 'NEGATIVE', 0.9, 0.95, '[]', 'old', 'negative_high_risk', 'because', 'credit_25', 25)"
    )
    old_row = sql_client.query("SELECT * FROM offers_log")[0]
    with pytest.raises(UserError, match=r"predates degraded answers.*apply sql/20_offers\.sql again"):
        offers_report(sql_client)

    assert_upgraded_once_for_all(sql_client, offers_sql(), "offers_log")

    upgraded = columns(sql_client)
    assert upgraded["degraded"][0] == "NO" and upgraded["degraded"][1] == "0"
    assert all(upgraded[name][0] == "YES" for name in ("sentiment", "confidence", "churn_probability"))
    (row,) = sql_client.query("SELECT * FROM offers_log")
    assert row == {**old_row, "degraded": 0, "model_id": None, "model_cutoff": None}

    degraded = OfferRecord(
        area_code=415,
        phone="358-1921",
        sentiment=None,
        confidence=None,
        churn_probability=0.93,
        drivers=[],
        rules_version="new",
        rule_name="high_risk_sentiment_unknown",
        reason="sentiment unknown",
        experiment=None,
        arm=None,
        offer="credit_5",
        offer_cost_usd=5,
    )
    offer_id = record_answer(sql_client, degraded)
    assert sql_client.query(
        "SELECT degraded, sentiment FROM offers_log WHERE id = %(id)s", {"id": offer_id}
    ) == [{"degraded": 1, "sentiment": None}]
    assert offers_report(sql_client)["degraded"] == {"offers": 1, "without_sentiment": 1, "without_score": 0}


def test_a_new_log_has_the_column_from_the_start(sql_client: PyMySqlClient):
    apply_sql_files(sql_client, offers_sql())
    assert columns(sql_client)["degraded"] == ("NO", "0")
