"""Numbered migrations (churnguard.bootstrap.migrations) on the real MariaDB: each applied once, in
order, on the schema before it with rows in it; recorded only after success; safe to run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from churnguard.bootstrap.apply import BootstrapError, StatementFailed, plan_files, run_planned
from churnguard.bootstrap.migrations import read_migrations, run_with_migrations
from churnguard.sqlgen import apply_sql_files, static_sql_files
from churnguard.sqlgen.files import SQL_DIR, SqlFile, release_schema_files

pytestmark = pytest.mark.mariadb

OFFER_0_1_0 = """
INSERT INTO offers_log (created_at, area_code, phone, sentiment, confidence, churn_probability, degraded,
    drivers, rules_version, rule_name, reason, experiment, arm, offer, offer_cost_usd)
VALUES ('2026-11-20 10:00:00', 415, '358-1921', 'NEGATIVE', 0.9, 0.8, 0, '[]', 'v1', 'negative_high_risk',
    'angry and at risk', NULL, NULL, 'credit_25', 25.00)
"""


def columns(client, table: str) -> list[tuple]:
    return [
        (row["name"], row["type"], row["nullable"])
        for row in client.query(
            "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable"
            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %(t)s"
            " ORDER BY ORDINAL_POSITION",
            {"t": table},
        )
    ]


def schema_snapshot(client) -> dict:
    """Every table's columns and indexes, the routines, and the migrations ledger (with times)."""
    tables = [
        row["name"]
        for row in client.query(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            " ORDER BY TABLE_NAME"
        )
    ]
    return {
        "columns": {table: columns(client, table) for table in tables},
        "indexes": client.query(
            "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS"
            " WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ),
        "routines": client.query(
            "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
            " ORDER BY ROUTINE_NAME"
        ),
        "ledger": client.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
    }


def release_database_with_rows(client) -> None:
    """Release 0.1.0's schema, holding an offer and its outcome as a 0.1.0 install would."""
    apply_sql_files(client, release_schema_files())
    client.execute(OFFER_0_1_0)
    client.execute(
        "INSERT INTO offer_outcomes (offer_id, retained, outcome, recorded_at)"
        " VALUES (1, 1, 'accepted', '2026-11-20 10:05:00')"
    )


def test_migration_0001_keeps_the_released_rows_and_adds_the_agent_columns(sql_client):
    release_database_with_rows(sql_client)
    before_offers = sql_client.query("SELECT * FROM offers_log")

    apply_sql_files(sql_client, static_sql_files())

    offers = sql_client.query("SELECT * FROM offers_log")
    added = {"agent", "call_reason"}  # by 0001 and 0002 (tests/bootstrap/test_migration_0002.py)
    assert [{k: v for k, v in row.items() if k not in added} for row in offers] == before_offers
    assert offers[0]["agent"] is None  # before agents were recorded
    outcome = sql_client.query("SELECT * FROM offer_outcomes")
    assert outcome == [
        {
            "offer_id": 1,
            "retained": 1,
            "outcome": "accepted",
            "recorded_at": outcome[0]["recorded_at"],
            "agent": None,
        }
    ]
    assert ("agent", "varchar(640)", "YES") in columns(sql_client, "offers_log")
    assert [name for name, _, _ in columns(sql_client, "offers_log")][:3] == ["id", "created_at", "agent"]
    assert ("agent", "varchar(640)", "YES") in columns(sql_client, "offer_outcomes")
    index = sql_client.query(
        "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
        " AND TABLE_NAME = 'offers_log' AND INDEX_NAME = 'offers_log_agent' ORDER BY SEQ_IN_INDEX"
    )
    assert [row["name"] for row in index] == ["agent", "created_at"]
    assert sql_client.query("SELECT COUNT(*) AS n FROM offer_outcome_changes") == [{"n": 0}]
    ledger = sql_client.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert ledger[:1] == [{"version": 1, "name": "0001_agents"}]
    # The helpers existed only while the migrations ran: the app user (EXECUTE on the schema) cannot
    # reach an ALTER TABLE through them.
    assert schema_snapshot(sql_client)["routines"] == []


def test_applying_the_schema_again_changes_nothing(sql_client):
    release_database_with_rows(sql_client)
    apply_sql_files(sql_client, static_sql_files())
    first = schema_snapshot(sql_client)
    rows = sql_client.query("SELECT * FROM offers_log")

    apply_sql_files(sql_client, static_sql_files())

    assert schema_snapshot(sql_client) == first  # applied_at included: not re-recorded
    assert sql_client.query("SELECT * FROM offers_log") == rows


def test_a_fresh_database_gets_the_same_schema_as_an_upgraded_one(sql_client, mariadb_url):
    from churnguard.db import connect
    from tests.fixtures.mariadb import scratch_database

    release_database_with_rows(sql_client)
    apply_sql_files(sql_client, static_sql_files())
    with scratch_database(mariadb_url, "fresh") as url, connect(url) as fresh:
        apply_sql_files(fresh, static_sql_files())
        assert schema_snapshot(fresh)["columns"] == schema_snapshot(sql_client)["columns"]
        assert schema_snapshot(fresh)["indexes"] == schema_snapshot(sql_client)["indexes"]


def test_a_migration_cut_short_runs_again_to_the_end_and_is_recorded_once(sql_client):
    """DDL commits statement by statement: after a failure half-way, the next run must finish it."""
    release_database_with_rows(sql_client)
    (migration,) = [file for file in static_sql_files() if "migration_0001" in file.name]
    broken = SqlFile(migration.name, migration.text + "\nINSERT INTO no_such_table VALUES (1);\n")

    with pytest.raises(StatementFailed, match="no_such_table"):
        apply_sql_files(sql_client, [*release_schema_files(), broken])

    assert ("agent", "varchar(640)", "YES") in columns(sql_client, "offers_log")  # half applied...
    assert sql_client.query("SELECT COUNT(*) AS n FROM schema_migrations") == [{"n": 0}]  # ...not recorded
    assert schema_snapshot(sql_client)["routines"] == []  # the helpers are dropped on failure too

    apply_sql_files(sql_client, static_sql_files())

    assert sql_client.query("SELECT version FROM schema_migrations ORDER BY version")[:1] == [{"version": 1}]
    assert len(sql_client.query("SELECT * FROM offers_log")) == 1


def test_a_recorded_migration_is_not_run_again(sql_client):
    apply_sql_files(sql_client, static_sql_files())
    (migration,) = [file for file in static_sql_files() if "migration_0001" in file.name]
    # Were it run again, this statement would fail: recorded migrations are skipped, not re-run.
    changed = SqlFile(migration.name, "INSERT INTO no_such_table VALUES (1);\n")

    apply_sql_files(sql_client, [*release_schema_files(), changed])

    assert sql_client.query("SELECT version FROM schema_migrations ORDER BY version")[:1] == [{"version": 1}]


def test_migrations_run_in_version_order_only(sql_client):
    steps = plan_files(
        [SqlFile("50_migration_0002_b.sql", "SELECT 1;"), SqlFile("50_migration_0001_a.sql", "SELECT 1;")]
    )
    with pytest.raises(BootstrapError, match="migrations run in version order"):
        run_with_migrations(sql_client, steps, run_planned)


def test_migration_files_are_named_by_version(tmp_path: Path):
    names = [script.name for script in read_migrations(SQL_DIR / "migrations")]
    assert names[:1] == ["50_migration_0001_agents.sql"]
    (tmp_path / "1_agents.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(BootstrapError, match=r"NNNN_name\.sql"):
        read_migrations(tmp_path)
    (tmp_path / "1_agents.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;", encoding="utf-8")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(BootstrapError, match="share a version"):
        read_migrations(tmp_path)


def test_the_deploy_bootstrap_applies_the_migrations_once_and_says_so(target, app_secret_arn):
    from tests.bootstrap.conftest import run

    first = run(target, app_secret_arn, "Create")
    again = run(target, app_secret_arn, "Update")

    assert first["Data"]["MigrationsApplied"].split(",")[:1] == ["0001_agents"]
    assert again["Data"]["MigrationsApplied"] == "none"
    with target.admin() as admin:
        assert admin.query("SELECT version FROM schema_migrations ORDER BY version")[:1] == [{"version": 1}]
        assert ("agent", "varchar(640)", "YES") in columns(admin, "offers_log")
