"""One bootstrap run: the database, the SQL files in order, the app and API users, and on Aurora their
roles and the seed.

The database may not exist yet, and the Data API (like a driver) must name an existing database to
use one, so the first statement runs on a connection without a database and everything else on one
opened on it: `open_client(None)` then `open_client(database)`. Aurora-only statements (the AWS_*
roles, LOAD DATA FROM S3) run only when `aurora` is set, which the Lambda handler does; on the local
MariaDB stand-in they are skipped and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from churnguard.bootstrap.app_user import (
    BEDROCK_ALIAS,
    AppUser,
    api_aurora_role_statements,
    api_user_statements,
    app_user_statements,
    aurora_role_statements,
    validate_identifier,
)
from churnguard.bootstrap.apply import (
    BootstrapError,
    PlannedStatement,
    SqlSource,
    plan_files,
    run_files,
    run_planned,
)
from churnguard.bootstrap.migrations import run_with_migrations
from churnguard.bootstrap.replaced_parts import replaced_part_drops
from churnguard.bootstrap.seed import CUSTOMERS_SEED, MESSAGES_SEED, S3Object, SeedTarget, seed_statements
from churnguard.sql_client import SqlClient

OpenClient = Callable[[str | None], SqlClient]

SEED_NOT_REQUESTED = "not requested"
SEED_LOADED = "loaded"
SEED_AURORA_ONLY = "skipped: LOAD DATA FROM S3 exists only on Aurora"
ROLES_GRANTED = "granted"
ROLES_AURORA_ONLY = "skipped: the AWS_* roles exist only on Aurora"


@dataclass(frozen=True)
class BootstrapRequest:
    """What to apply. `sql_files` run in the given order; `seed` is the customers CSV and
    `seed_messages` the messages CSV, if any (loaded in that order: messages refer to customers).
    `app_user` is the DBAs', training's and verify's user; `api_user` the API Lambdas' (app_user.py)."""

    database: str
    sql_files: Sequence[SqlSource]
    app_user: AppUser
    api_user: AppUser
    aurora: bool
    seed: S3Object | None = None
    seed_messages: S3Object | None = None


@dataclass(frozen=True)
class BootstrapReport:
    """What a run did, returned to CloudFormation as the custom resource's attributes."""

    database: str
    files: tuple[str, ...]
    statements: int
    aurora_roles: str
    seed: str
    seed_messages: str
    # Best-effort statements (files ending .optional.sql) the database refused, with its words.
    refused_optional: tuple[str, ...] = ()
    # Numbered migrations (churnguard.bootstrap.migrations) applied by this run, and before it.
    migrations_applied: tuple[str, ...] = ()
    migrations_already_applied: tuple[str, ...] = ()


def run_bootstrap(open_client: OpenClient, request: BootstrapRequest) -> BootstrapReport:
    """Apply `request`; every check that needs no database runs before the first statement."""
    database = request.database
    validate_identifier(database, "database name")
    if request.api_user.name == request.app_user.name:
        raise BootstrapError(
            f"the API secret names the app user {request.app_user.name!r}: the API Lambdas need a user "
            "of their own, with fewer rights"
        )
    file_steps = plan_files(request.sql_files)
    user_steps = [
        *app_user_statements(request.app_user, database),
        *api_user_statements(request.api_user, database),
    ]
    bedrock = any(BEDROCK_ALIAS in step.sql for step in file_steps)
    role_steps = (
        [
            *aurora_role_statements(request.app_user.name, bedrock=bedrock),
            *api_aurora_role_statements(request.api_user.name, bedrock=bedrock),
        ]
        if request.aurora
        else []
    )
    secrets = (request.app_user.password, request.api_user.password)

    create = f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4"
    server = open_client(None)
    try:
        count = run_planned(server, [PlannedStatement("database", 1, None, create, create)])
    finally:
        server.close()

    client = open_client(database)
    try:
        refused: list[str] = []

        def run_file_group(group_client: SqlClient, group: Sequence[PlannedStatement]) -> int:
            succeeded, refusals = run_files(group_client, group)
            refused.extend(refusals)
            return succeeded

        migrations = run_with_migrations(client, file_steps, run_file_group)
        count += migrations.statements
        count += run_planned(client, replaced_part_drops(client, file_steps))
        count += run_planned(client, [*user_steps, *role_steps], secrets=secrets)
        seed_status, loaded = _seed(client, request.seed, CUSTOMERS_SEED, request.aurora)
        count += loaded
        messages_status, loaded = _seed(client, request.seed_messages, MESSAGES_SEED, request.aurora)
        count += loaded
    finally:
        client.close()

    return BootstrapReport(
        database=database,
        files=tuple(source.name for source in request.sql_files),
        statements=count,
        aurora_roles=ROLES_GRANTED if request.aurora else ROLES_AURORA_ONLY,
        seed=seed_status,
        seed_messages=messages_status,
        refused_optional=tuple(refused),
        migrations_applied=migrations.applied,
        migrations_already_applied=migrations.already_applied,
    )


def _seed(client: SqlClient, seed: S3Object | None, target: SeedTarget, aurora: bool) -> tuple[str, int]:
    """Load one seed CSV into its table if requested, on Aurora, and the table is empty: the status
    for the report and the number of statements run."""
    if seed is None:
        return SEED_NOT_REQUESTED, 0
    if not aurora:
        return SEED_AURORA_ONLY, 0
    load = seed_statements(client, seed, target)
    if not load:
        return f"skipped: {target.table} already has rows", 0
    # SET ROLE holds for its session only; the Data API keeps one session for a transaction's statements.
    with client.transaction():
        count = run_planned(client, load)
    return SEED_LOADED, count
