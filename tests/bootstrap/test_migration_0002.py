"""Migration 0002 (call reasons): offers_log.call_reason added to a database that holds released rows,
after every migration before it; the engine then records the reason with each answer."""

from __future__ import annotations

import pytest

from churnguard.sqlgen import apply_sql_files, static_sql_files
from tests.bootstrap.test_migrations import columns, release_database_with_rows

pytestmark = pytest.mark.mariadb


def test_migration_0002_adds_the_call_reason_column_and_keeps_the_rows(sql_client):
    release_database_with_rows(sql_client)
    before = sql_client.query("SELECT id, sentiment, confidence, offer FROM offers_log")

    apply_sql_files(sql_client, static_sql_files())

    names = [name for name, _, _ in columns(sql_client, "offers_log")]
    assert ("call_reason", "varchar(32)", "YES") in columns(sql_client, "offers_log")
    assert names[names.index("confidence") + 1] == "call_reason"
    assert sql_client.query("SELECT id, sentiment, confidence, offer FROM offers_log") == before
    assert sql_client.query("SELECT call_reason FROM offers_log") == [{"call_reason": None}]
    ledger = sql_client.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert ledger == [{"version": 1, "name": "0001_agents"}, {"version": 2, "name": "0002_call_reason"}]

    apply_sql_files(sql_client, static_sql_files())  # applied once: a second run changes nothing
    assert len(sql_client.query("SELECT * FROM schema_migrations")) == 2
