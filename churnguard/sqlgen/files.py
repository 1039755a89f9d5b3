"""SQL files: the static ones under sql/ and applying them in order.

Files are applied by the deploy bootstrap's planner and runner (churnguard.bootstrap.apply), so a
file applies the same way locally and on Aurora: split by churnguard.sql_splitter (no DELIMITER is
ever needed), data-destroying statements refused before anything runs, and a failure named by file
and statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from churnguard.bootstrap.apply import plan_files, run_planned
from churnguard.bootstrap.migrations import read_migrations, run_with_migrations
from churnguard.bootstrap.replaced_parts import replaced_part_drops
from churnguard.sql_client import Params, SqlClient
from churnguard.sql_splitter import split_statements

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
TEMPLATE_DIR = SQL_DIR / "templates"
MIGRATIONS_DIR_NAME = "migrations"
ORDERED_FILE_PATTERN = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.sql$")


@dataclass(frozen=True)
class SqlFile:
    """One unit of SQL to apply, named like a file so that errors can say where they come from."""

    name: str
    text: str

    def statements(self) -> list[str]:
        return [statement.text for statement in split_statements(self.text)]


def static_sql_files(sql_dir: Path = SQL_DIR) -> list[SqlFile]:
    """The current schema: release 0.1.0's files, then the numbered migrations after it
    (sql/migrations/, churnguard.bootstrap.migrations), under names whose order is the apply order."""
    migrations = read_migrations(sql_dir / MIGRATIONS_DIR_NAME)
    return [*release_schema_files(sql_dir), *(SqlFile(script.name, script.text) for script in migrations)]


def release_schema_files(sql_dir: Path = SQL_DIR) -> list[SqlFile]:
    """Every sql/NN_*.sql file in name order: the schema as released (tables, the offers log, ...),
    which never changes; what changed since is in the migrations."""
    paths = sorted(path for path in sql_dir.glob("*.sql") if ORDERED_FILE_PATTERN.match(path.name))
    return [SqlFile(path.name, path.read_text(encoding="utf-8")) for path in paths]


def read_template(name: str) -> str:
    """A statement from sql/templates/ (export/load forms), with its `%(name)s` placeholders."""
    path = TEMPLATE_DIR / name
    if not path.exists():
        available = ", ".join(sorted(p.name for p in TEMPLATE_DIR.glob("*.sql")))
        raise FileNotFoundError(f"no SQL template {name!r}; available: {available}")
    return path.read_text(encoding="utf-8")


def apply_sql_files(client: SqlClient, files: Iterable[SqlFile]) -> None:
    """Run every statement of every file in order, after checking them all, a migration only when
    the database has not recorded it yet; a failure raises churnguard.bootstrap.BootstrapError naming
    the file, the statement and its line. When they install will_churn, the parts of a previously
    installed split model are dropped after them."""
    planned = plan_files(files)
    run_with_migrations(client, planned, run_planned)
    run_planned(client, replaced_part_drops(client, planned))


def run_template(client: SqlClient, name: str, params: Params) -> int:
    """Run one template statement with bound parameters (a path or an S3 URI, never pasted in)."""
    (statement,) = split_statements(read_template(name))
    return client.execute(statement.text, params)
