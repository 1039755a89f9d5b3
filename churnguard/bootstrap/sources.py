"""Reads the SQL files the stack bundles for the bootstrap: every `*.sql` in one folder, by name.

infra/ copies churnguard.sqlgen.render_deploy_sql's files there with names whose sorted order is the
apply order (`010_schema.sql`, `020_offers.sql`, ...), so sorting is the whole ordering contract.
"""

from __future__ import annotations

from pathlib import Path

from churnguard.bootstrap.apply import BootstrapError, SqlScript


def read_sql_dir(folder: Path) -> list[SqlScript]:
    """The folder's `.sql` files in name order; an empty or missing folder is an error, not a no-op,
    because a deploy that silently applies nothing would leave the database without its functions."""
    if not folder.is_dir():
        raise BootstrapError(f"SQL folder {folder} does not exist in the bootstrap bundle")
    paths = sorted(path for path in folder.iterdir() if path.suffix == ".sql" and path.is_file())
    if not paths:
        raise BootstrapError(f"SQL folder {folder} has no .sql files")
    return [SqlScript(path.name, path.read_text(encoding="utf-8")) for path in paths]
