"""What the lifecycle installs with a model, locally and on deploy: the drift snapshot procedure
rendered from the model's reference bins, then the registry statements that make it the live model.

Its own module so that the registry and drift import nothing of each other's beyond drift asking the
registry which model is live.
"""

from __future__ import annotations

from pathlib import Path

from churnguard.lifecycle.drift import SNAPSHOT_PROCEDURE, DriftInputError, snapshot_procedure_statements
from churnguard.lifecycle.identity import ModelIdentity, identity_of, read_identity
from churnguard.lifecycle.registry import registry_statements, sql_file_text
from churnguard.model_folder import ModelFolder
from churnguard.sql_client import SqlClient


def install_statements(model_dir: str | Path, *, comment_will_churn: bool = True) -> list[str]:
    """Everything the lifecycle installs with a model: the drift snapshot procedure rendered from
    its reference bins (when the folder has them: `churnguard drift` names the fix otherwise), then
    the registry statements. The folder's identity is checked first."""
    folder = ModelFolder.read(model_dir)
    identity = identity_of(folder)
    try:
        procedure = snapshot_procedure_statements(folder, identity.model_id)
    except DriftInputError:
        # The model serves without references; only drift needs them, and says so when run. An
        # earlier model's procedure is removed so no snapshot is taken against the wrong bins.
        procedure = [f"DROP PROCEDURE IF EXISTS {SNAPSHOT_PROCEDURE}"]
    return [*procedure, *registry_statements(identity, comment_will_churn=comment_will_churn)]


def registry_sql_text(model_dir: str | Path, *, comment_will_churn: bool = True) -> str:
    """install_statements as one SQL file's text, for the deploy bootstrap."""
    return sql_file_text(install_statements(model_dir, comment_will_churn=comment_will_churn))


def record_installed_model(client: SqlClient, model_dir: str | Path) -> ModelIdentity:
    """Record the model in the connected database as installed and live (local install path)."""
    for statement in install_statements(model_dir):
        client.execute(statement)
    return read_identity(model_dir)
