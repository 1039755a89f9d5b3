"""Preparing a database end to end, the local server's or any a DBA points us at: the schema, the
customers and messages, the model's functions compiled to SQL and the local Comprehend stand-ins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from churnguard.constants import API_USER_NAME
from churnguard.model_folder import ModelFolder

if TYPE_CHECKING:
    import pandas as pd

    from churnguard.sql_client import SqlClient


def install_churnguard(
    client: SqlClient,
    *,
    model_dir: Path,
    customers: pd.DataFrame,
    messages: pd.DataFrame | None = None,
) -> None:
    """Prepare the connected database end to end, idempotently.

    Applies sql/NN_*.sql, replaces the customers (and messages) with the given rows through bound
    parameters, installs the compiled will_churn, the one-hot helpers, the bulk-scoring view and
    procedure and the local stand-ins for the Comprehend functions, then runs the procedure, filling
    customer_scores.
    """
    from churnguard.sqlgen.statements import REFRESH_PROCEDURE

    ModelFolder.read(model_dir)  # a folder that is not a whole, consistent model is refused before any change
    install_data(client, customers, messages)
    install_functions(client, model_dir)
    client.execute(f"CALL {REFRESH_PROCEDURE}()")


def install_data(client: SqlClient, customers: pd.DataFrame, messages: pd.DataFrame | None = None) -> None:
    """The schema (sql/NN_*.sql), then the customers and messages replacing any already there.

    Separate from install_functions because the demo exports and trains on the loaded customers
    before there is a model to install.
    """
    from churnguard.sqlgen import apply_sql_files, static_sql_files
    from churnguard.sqlgen.loading import load_customers, load_messages

    apply_sql_files(client, static_sql_files())
    load_customers(client, customers)
    if messages is not None:
        load_messages(client, messages)


def install_functions(client: SqlClient, model_dir: Path) -> None:
    """The model's functions compiled to SQL (with the bulk-scoring view and procedure) and the local
    Comprehend and Bedrock (call_reason) stand-ins; then the model is recorded as the live one in the
    `models` table."""
    from churnguard.call_reason import install_call_reason_function
    from churnguard.lifecycle.identity import read_identity
    from churnguard.lifecycle.install_sql import record_installed_model
    from churnguard.sentiment import install_sentiment_functions
    from churnguard.sqlgen import apply_sql_files, local_function_files

    read_identity(model_dir)  # a folder without an id (or whose id is not its model's) is refused first
    apply_sql_files(client, local_function_files(model_dir))
    install_sentiment_functions(client)
    install_call_reason_function(client)
    record_installed_model(client, model_dir)


def create_api_user(admin_url: str, app_url: str) -> str:
    """Create (or reset) the API user on the database of `app_url`, with the grants the deployed API
    Lambdas' user gets from the bootstrap (churnguard.bootstrap.app_user), so the same grants are
    exercised on the real server; returns its URL. `admin_url` must be able to create users."""
    import secrets

    from churnguard.bootstrap.app_user import AppUser, api_user_statements
    from churnguard.db import connect, parse_url

    app = parse_url(app_url)
    user = AppUser(API_USER_NAME, secrets.token_urlsafe(18))
    admin = connect(admin_url)
    try:
        for step in api_user_statements(user, str(app.database)):
            admin.execute(step.sql)
    finally:
        admin.close()
    return f"mysql://{user.name}:{user.password}@{app.host}:{app.port}/{app.database}"
