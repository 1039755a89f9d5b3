"""Numbered schema migrations: the schema changes made after a release, each applied once, in order.

Release 0.1.0's schema is sql/10_schema.sql, 15_models.sql and 20_offers.sql; every later change is
a file sql/migrations/NNNN_name.sql. Both the deploy bootstrap and `churnguard local up` apply them
through `run_with_migrations`, right after the release's schema files and before the generated
objects: a migration whose version is in the `schema_migrations` table is skipped; one that is not
runs statement by statement and is recorded there only after its last statement succeeded.

MySQL (and so Aurora MySQL 3) commits every DDL statement on its own and has no ADD COLUMN IF NOT
EXISTS, so a migration cut short by a failure stays half applied and unrecorded. Each migration is
therefore written to be safe to run again: CREATE TABLE IF NOT EXISTS, and for columns and indexes
the helper procedures below, which look in information_schema first. The helpers exist only while
migrations run (SQL SECURITY INVOKER, dropped afterwards), so the app user can never call them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from churnguard.bootstrap.apply import BootstrapError, PlannedStatement, SqlScript, plan_files, run_planned
from churnguard.sql_client import SqlClient

LOGGER = logging.getLogger(__name__)

# sql/migrations/0001_agents.sql
SOURCE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# The name a migration travels under among the SQL files (the bootstrap bundle's flat sql/ folder,
# the list churnguard.sqlgen renders): sorted after the release's schema files (10_ to 20_) and
# before the generated objects (90_ on), so name order stays apply order.
DEPLOY_PREFIX = "50_migration_"
_DEPLOY_NAME = re.compile(r"(?:^|_)migration_(\d{4})_([a-z0-9_]+)\.sql$")

LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT NOT NULL,
    name VARCHAR(200) NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    PRIMARY KEY (version)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""
APPLIED_SQL = "SELECT version FROM schema_migrations ORDER BY version"
# Sent as text like every bootstrap statement: the version is an int and the name matched
# [a-z0-9_]+ in its file name, so neither can end the literal.
RECORD_SQL = (
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({version}, '{name}', UTC_TIMESTAMP(6))"
)

# Parameters are named p_*: a routine's own names win over column names, so `TABLE_NAME = table_name`
# would compare the parameter with itself. Identifiers come from the migration files only.
HELPERS_SQL = """
DROP PROCEDURE IF EXISTS churnguard_migrate_add_column;
CREATE PROCEDURE churnguard_migrate_add_column(
    IN p_table VARCHAR(64), IN p_column VARCHAR(64), IN p_definition VARCHAR(1000))
  MODIFIES SQL DATA SQL SECURITY INVOKER
  COMMENT 'churnguard migrations: ALTER TABLE ADD COLUMN unless the column exists'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = p_table AND COLUMN_NAME = p_column) THEN
    SET @churnguard_migration_ddl = CONCAT('ALTER TABLE `', p_table, '` ADD COLUMN `', p_column, '` ',
                                           p_definition);
    PREPARE churnguard_migration_statement FROM @churnguard_migration_ddl;
    EXECUTE churnguard_migration_statement;
    DEALLOCATE PREPARE churnguard_migration_statement;
  END IF;
END;
DROP PROCEDURE IF EXISTS churnguard_migrate_add_index;
CREATE PROCEDURE churnguard_migrate_add_index(
    IN p_table VARCHAR(64), IN p_index VARCHAR(64), IN p_columns VARCHAR(1000))
  MODIFIES SQL DATA SQL SECURITY INVOKER
  COMMENT 'churnguard migrations: ALTER TABLE ADD INDEX unless the index exists'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = p_table AND INDEX_NAME = p_index) THEN
    SET @churnguard_migration_ddl = CONCAT('ALTER TABLE `', p_table, '` ADD INDEX `', p_index, '` ',
                                           p_columns);
    PREPARE churnguard_migration_statement FROM @churnguard_migration_ddl;
    EXECUTE churnguard_migration_statement;
    DEALLOCATE PREPARE churnguard_migration_statement;
  END IF;
END
"""
HELPER_CLEANUP_SQL = """
DROP PROCEDURE IF EXISTS churnguard_migrate_add_column;
DROP PROCEDURE IF EXISTS churnguard_migrate_add_index
"""

RunGroup = Callable[[SqlClient, Sequence[PlannedStatement]], int]


@dataclass(frozen=True)
class MigrationId:
    """A migration's version and name, read from its file name (source or deploy form)."""

    version: int
    name: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def migration_id(file_name: str) -> MigrationId | None:
    """The migration a deploy-form file name (`50_migration_0001_agents.sql`) carries, else None."""
    match = _DEPLOY_NAME.search(file_name)
    return MigrationId(int(match.group(1)), match.group(2)) if match else None


def read_migrations(folder: Path) -> list[SqlScript]:
    """sql/migrations/NNNN_name.sql in version order, under their deploy names; a file whose name
    does not follow the pattern, or a version used twice, is refused (it would never be applied)."""
    scripts: list[tuple[int, SqlScript]] = []
    for path in sorted(folder.glob("*.sql")):
        match = SOURCE_NAME.match(path.name)
        if match is None:
            raise BootstrapError(
                f"{path}: a migration's file name must be NNNN_name.sql (4 digits, lower-case name)"
            )
        scripts.append(
            (int(match.group(1)), SqlScript(DEPLOY_PREFIX + path.name, path.read_text(encoding="utf-8")))
        )
    versions = [version for version, _ in scripts]
    if len(set(versions)) != len(versions):
        raise BootstrapError(f"{folder}: two migrations share a version number ({versions})")
    return [script for _, script in scripts]


@dataclass(frozen=True)
class MigrationRun:
    """What run_with_migrations did: statements run, and the migrations applied now and before."""

    statements: int
    applied: tuple[str, ...]
    already_applied: tuple[str, ...]


def run_with_migrations(
    client: SqlClient, steps: Sequence[PlannedStatement], run_group: RunGroup
) -> MigrationRun:
    """Run planned file statements in order, each migration's only if it is not recorded yet.

    `run_group` runs the statements of the other files (the bootstrap's best-effort aware runner, or
    the strict one); a migration's statements always run strictly and it is recorded after the last.
    """
    groups = _groups(steps)
    if not any(migration is not None for migration, _ in groups):
        return MigrationRun(sum(run_group(client, group) for _, group in groups), (), ())
    client.execute(LEDGER_SQL)
    recorded = {int(row["version"]) for row in client.query(APPLIED_SQL)}
    count, applied, skipped = 1, [], []
    helpers = False
    try:
        for migration, group in groups:
            if migration is None:
                count += run_group(client, group)
                continue
            if migration.version in recorded:
                skipped.append(migration.label)
                continue
            if not helpers:
                count += run_planned(client, _helper_steps(HELPERS_SQL))
                helpers = True
            count += run_planned(client, group)
            client.execute(RECORD_SQL.format(version=migration.version, name=migration.label))
            recorded.add(migration.version)
            applied.append(migration.label)
            LOGGER.info("migration %s applied and recorded", migration.label)
    finally:
        if helpers:
            run_planned(client, _helper_steps(HELPER_CLEANUP_SQL))
    return MigrationRun(count, tuple(applied), tuple(skipped))


def _groups(steps: Sequence[PlannedStatement]) -> list[tuple[MigrationId | None, list[PlannedStatement]]]:
    """Consecutive statements of one file together, with the migration that file is (or None);
    a migration listed after a later one is refused, since versions are applied in order."""
    groups: list[tuple[MigrationId | None, list[PlannedStatement]]] = []
    last_version = 0
    for step in steps:
        if groups and groups[-1][1][-1].source == step.source:
            groups[-1][1].append(step)
            continue
        migration = migration_id(step.source)
        if migration is not None:
            if migration.version <= last_version:
                raise BootstrapError(
                    f"{step.source} comes after migration {last_version:04d}: migrations run in version order"
                )
            last_version = migration.version
        groups.append((migration, [step]))
    return groups


def _helper_steps(text: str) -> list[PlannedStatement]:
    return plan_files([SqlScript("migration helpers", text)])
