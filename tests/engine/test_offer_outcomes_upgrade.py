"""An outcomes table created before outcome kinds (only `retained`) is upgraded in place by applying
sql/20_offers.sql again: every row kept with its `retained` and no kind guessed, the report asks for
the upgrade first, a second application changes nothing, and afterwards each kind is stored, checked
by the database and counted."""

from __future__ import annotations

import pymysql
import pytest

from churnguard.db import PyMySqlClient
from churnguard.engine.offers_log import insert_offer, record_outcome
from churnguard.engine.report import offers_report
from churnguard.errors import UserError
from churnguard.sqlgen import apply_sql_files
from tests.engine.test_commands import record
from tests.engine.upgrades import assert_upgraded_once_for_all, offers_sql
from tests.lifecycle.test_offers_log_upgrade import OUTCOMES as OUTCOMES_BEFORE_KINDS

pytestmark = pytest.mark.mariadb


def test_an_outcomes_table_without_kinds_is_upgraded_keeping_every_row(sql_client: PyMySqlClient) -> None:
    # The offers log as it is now; the outcomes table as it was before kinds (commit 7e65461).
    apply_sql_files(sql_client, offers_sql())
    sql_client.execute("DROP TABLE offer_outcomes")
    sql_client.execute(OUTCOMES_BEFORE_KINDS)
    with sql_client.transaction():
        stayed, left, fresh = [
            insert_offer(sql_client, record("negative_high_risk", "credit_25", 25)) for _ in range(3)
        ]
    sql_client.execute(
        "INSERT INTO offer_outcomes (offer_id, retained, recorded_at) VALUES"
        " (%(stayed)s, 1, UTC_TIMESTAMP(6)), (%(left)s, 0, UTC_TIMESTAMP(6))",
        {"stayed": stayed, "left": left},
    )
    before = sql_client.query("SELECT offer_id, retained, recorded_at FROM offer_outcomes ORDER BY offer_id")
    with pytest.raises(UserError, match=r"predates outcome kinds \(no column 'outcome' in offer_outcomes\)"):
        offers_report(sql_client)

    assert_upgraded_once_for_all(sql_client, offers_sql(), "offer_outcomes")

    after = sql_client.query(
        "SELECT offer_id, retained, recorded_at, outcome FROM offer_outcomes ORDER BY offer_id"
    )
    assert after == [{**row, "outcome": None} for row in before]
    kinds = offers_report(sql_client)["outcome_kinds"]
    assert kinds == {"accepted": 0, "declined": 0, "call_ended": 0, "without_kind": 2}

    # Retention alone keeps a row kind-less; a kind recorded later fills it in; a new row takes one.
    assert record_outcome(sql_client, left, outcome="call_ended") is True
    assert record_outcome(sql_client, fresh, outcome="declined") is False
    assert record_outcome(sql_client, fresh, retained=True) is True  # declined, but stayed after all
    rows = sql_client.query("SELECT offer_id, retained, outcome FROM offer_outcomes ORDER BY offer_id")
    assert [(row["retained"], row["outcome"]) for row in rows] == [
        (1, None),
        (0, "call_ended"),
        (1, "declined"),
    ]
    report = offers_report(sql_client)
    assert report["outcome_kinds"] == {"accepted": 0, "declined": 1, "call_ended": 1, "without_kind": 1}
    (rule,) = report["retention_by_rule"]
    assert (rule["outcomes"], rule["retained"], rule["declined"], rule["without_kind"]) == (3, 2, 1, 1)


def test_the_database_refuses_an_outcome_that_is_not_a_kind(sql_client: PyMySqlClient) -> None:
    apply_sql_files(sql_client, offers_sql())
    with sql_client.transaction():
        offer_id = insert_offer(sql_client, record("negative_high_risk", "credit_25", 25))
    with pytest.raises(pymysql.err.OperationalError, match="offer_outcomes_kind"):
        sql_client.execute(
            "INSERT INTO offer_outcomes (offer_id, retained, outcome, recorded_at)"
            " VALUES (%(id)s, 0, 'maybe', UTC_TIMESTAMP(6))",
            {"id": offer_id},
        )
    with pytest.raises(ValueError, match="accepted, declined, call_ended"):
        record_outcome(sql_client, offer_id, outcome="maybe")
