"""Applies the deploy-time SQL to a database: schema, functions, app user, Aurora roles, seed data.

Used by the bootstrap Lambda (lambda/db_bootstrap/) over the RDS Data API and by the tests over the
local MariaDB server; pure Python (standard library only), so it ships in the Lambda bundle as is.
"""

from churnguard.bootstrap.app_user import AppUser
from churnguard.bootstrap.apply import BootstrapError, SqlScript, StatementFailed
from churnguard.bootstrap.runner import BootstrapReport, BootstrapRequest, run_bootstrap
from churnguard.bootstrap.seed import parse_seed_uri
from churnguard.bootstrap.sources import read_sql_dir

__all__ = [
    "AppUser",
    "BootstrapError",
    "BootstrapReport",
    "BootstrapRequest",
    "SqlScript",
    "StatementFailed",
    "parse_seed_uri",
    "read_sql_dir",
    "run_bootstrap",
]
