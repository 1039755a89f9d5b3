"""An offers log created before model ids (it has `degraded`, not `model_id`) is upgraded in place by
applying the SQL files again: rows kept with no model guessed, the report asks for the upgrade first."""

from __future__ import annotations

import pytest

from churnguard.db import PyMySqlClient
from churnguard.engine.report import offers_report
from churnguard.errors import UserError
from churnguard.sqlgen import static_sql_files
from tests.engine.upgrades import assert_upgraded_once_for_all

pytestmark = pytest.mark.mariadb

# sql/20_offers.sql's offers_log as it was before model ids (commit c480573).
LOG_BEFORE_MODEL_IDS = """
CREATE TABLE offers_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    created_at DATETIME(6) NOT NULL,
    area_code INT NOT NULL,
    phone CHAR(8) NOT NULL,
    sentiment VARCHAR(16) NULL,
    confidence DOUBLE NULL,
    churn_probability DOUBLE NULL,
    degraded TINYINT(1) NOT NULL DEFAULT 0,
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
OUTCOMES = """
CREATE TABLE offer_outcomes (
    offer_id BIGINT UNSIGNED NOT NULL, retained TINYINT(1) NOT NULL, recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offer_id), CONSTRAINT offer_outcomes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""


def test_a_log_from_before_model_ids_is_upgraded_keeping_rows_unattributed(sql_client: PyMySqlClient) -> None:
    sql_client.execute(LOG_BEFORE_MODEL_IDS)
    sql_client.execute(OUTCOMES)
    sql_client.execute(
        "INSERT INTO offers_log (created_at, area_code, phone, sentiment, confidence, churn_probability,"
        " drivers, rules_version, rule_name, reason, offer, offer_cost_usd) VALUES (UTC_TIMESTAMP(6), 415,"
        " '358-1921', 'NEGATIVE', 0.9, 0.95, '[]', 'old', 'negative_high_risk', 'because', 'credit_25', 25)"
    )
    before = sql_client.query("SELECT * FROM offers_log")
    with pytest.raises(UserError, match=r"predates model ids.*apply sql/20_offers\.sql again"):
        offers_report(sql_client)

    assert_upgraded_once_for_all(sql_client, static_sql_files(), "offers_log")

    assert sql_client.query("SELECT * FROM offers_log") == [
        {**row, "model_id": None, "model_cutoff": None} for row in before
    ]
    (unknown,) = offers_report(sql_client)["by_model"]
    assert (unknown["model_id"], unknown["offers"], unknown["cutoff"]) == (None, 1, None)
