"""What every in-place upgrade test of the offers log checks: the tables' files, and that applying them
a second time changes nothing and leaves no upgrade procedure behind."""

from __future__ import annotations

from collections.abc import Sequence

from churnguard.db import PyMySqlClient
from churnguard.sqlgen import SqlFile, apply_sql_files, static_sql_files


def offers_sql() -> list[SqlFile]:
    """The registry and the offers log's files: what the offers-log upgrades apply."""
    return [file for file in static_sql_files() if file.name in ("15_models.sql", "20_offers.sql")]


def assert_upgraded_once_for_all(client: PyMySqlClient, files: Sequence[SqlFile], table: str) -> None:
    """Apply `files` (the upgrade), then again: `table` keeps the shape the first gave it, and the
    upgrade's stored procedures are gone."""
    apply_sql_files(client, files)
    shape = client.query(f"SHOW CREATE TABLE {table}")[0]
    apply_sql_files(client, files)  # again: nothing changes
    assert client.query(f"SHOW CREATE TABLE {table}")[0] == shape
    assert not client.query(
        "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
    )  # the upgrade procedures do not stay behind
