"""The `models` table (sql/15_models.sql): recording an installed model, listing them, the live one.

Installing a model (churnguard.lifecycle.install_sql, locally and on deploy) records it and makes it
the live one in statements of its own, after will_churn is replaced, and sets will_churn's COMMENT to
name it. The deploy bootstrap applies plain SQL files (no bound parameters), so every value written
into the statements here comes from a checked metadata.json and is refused unless it is made of
characters that need no escaping: hex ids, `sha256:` fingerprints, identifier feature names and
finite numbers.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from churnguard.errors import UserError
from churnguard.lifecycle.identity import ModelIdentity, read_identity
from churnguard.model_folder import MODEL_ID_PATTERN, MODEL_JSON
from churnguard.sql_client import SqlClient

REGISTRY_FILE = "95_model_registry.sql"
# Deployed with the SageMaker endpoint, will_churn's COMMENT is set by a file of its own that the
# bootstrap applies best effort (churnguard.bootstrap.apply.OPTIONAL_SUFFIX): see comment_sql_text.
COMMENT_FILE = "96_will_churn_comment.optional.sql"
WILL_CHURN = "will_churn"
_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_JSON_TEXT = re.compile(r'^[A-Za-z0-9_.,:\[\]{}" +\-]*$')

LIST_SQL = """
SELECT id, trained_at, data_fingerprint, features, cutoff, test_metrics, cv_metrics,
       first_installed_at, installed_at, live
FROM models ORDER BY installed_at DESC, id
"""
LIVE_SQL = "SELECT id, cutoff FROM models WHERE live = 1"
MODELS_TABLE_SQL = (
    "SELECT COUNT(*) AS n FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'models'"
)
WILL_CHURN_COMMENT_SQL = (
    "SELECT ROUTINE_COMMENT AS comment FROM information_schema.ROUTINES"
    " WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'will_churn' AND ROUTINE_TYPE = 'FUNCTION'"
)
COMMENT_PATTERN = re.compile(r"churnguard model ([0-9a-f]{16})")


class RegistryError(UserError):
    """The database's model registry is missing or disagrees with what is installed."""


def trained_at(identity: ModelIdentity) -> str | None:
    """When the model was trained: metadata's `trained_at` if present, else model.json's modification
    time (metadata.json holds no clock so that reruns are byte-identical; the file's time is when the
    training run wrote it). UTC, to the second."""
    if identity.trained_at:
        return str(identity.trained_at).replace("T", " ")[:19]
    model_path = identity.folder / MODEL_JSON
    if not model_path.exists():
        return None
    return datetime.fromtimestamp(model_path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise RegistryError(f"metadata value {value!r} is not a finite number")
    return number


def _number(value: Any) -> str:
    """A finite number as a DOUBLE literal."""
    number = _finite(value)
    return repr(number) + ("" if "e" in repr(number) else "e0")


def _checked(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise RegistryError(f"{what} {value!r} holds characters the registry does not write: retrain")
    return value


def _text(value: str, pattern: re.Pattern[str], what: str) -> str:
    return f"'{_checked(value, pattern, what)}'"


def _json_text(value: Any, what: str) -> str:
    return _text(json.dumps(value, sort_keys=True, separators=(",", ":")), _JSON_TEXT, what)


def _metrics(metrics: dict[str, Any]) -> dict[str, float | int | None]:
    return {key: (None if value is None else round(float(value), 6)) for key, value in metrics.items()}


def will_churn_comment_statement(identity: ModelIdentity) -> str:
    """`ALTER FUNCTION will_churn COMMENT 'churnguard model <id>, cut-off <c>'`: what a DBA reads in
    `SHOW CREATE FUNCTION will_churn` or information_schema.ROUTINES, and what `live_model` checks."""
    model_id = _checked(identity.model_id, MODEL_ID_PATTERN, "model id")
    cutoff = _finite(identity.cutoff)
    return f"ALTER FUNCTION {WILL_CHURN} COMMENT 'churnguard model {model_id}, cut-off {cutoff:g}'"


def registry_statements(identity: ModelIdentity, *, comment_will_churn: bool = True) -> list[str]:
    """Record the model (kept as first recorded if already there), make it the only live one, and,
    when `comment_will_churn`, name it in will_churn's COMMENT. Applied after will_churn is replaced.

    The COMMENT is part of the registry only where will_churn is the model compiled into SQL (locally
    and with inference_mode=in_database). AWS documents the SageMaker alias form of CREATE FUNCTION
    without a COMMENT clause and says nothing of ALTER FUNCTION on it, so there the same statement is
    a file of its own (`comment_sql_text`) that the bootstrap applies best effort: a refusal is
    reported, not a failed deploy, and the registry's live row remains the record (docs/lifecycle.md).
    """
    model_id = _text(identity.model_id, MODEL_ID_PATTERN, "model id")
    for name in identity.features:
        _text(name, _NAME, "feature name")
    when = trained_at(identity)
    values = ", ".join(
        [
            model_id,
            "NULL" if when is None else _text(when, _TIMESTAMP, "trained-at time"),
            "NULL"
            if identity.data_fingerprint is None
            else _text(identity.data_fingerprint, _FINGERPRINT, "data fingerprint"),
            _json_text(identity.features, "feature list"),
            _number(identity.cutoff),
            _json_text(_metrics(identity.test_metrics), "test metrics"),
            _json_text(_metrics(identity.cv_metrics), "cross-validated metrics"),
        ]
    )
    return [
        "INSERT INTO models (id, trained_at, data_fingerprint, features, cutoff, test_metrics, cv_metrics,"
        " first_installed_at, installed_at, live)\n"
        f"  VALUES ({values}, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 0)\n"
        "  ON DUPLICATE KEY UPDATE id = id",
        # installed_at first: MySQL and MariaDB assign left to right, so `live` is still the old value.
        f"UPDATE models SET installed_at = IF(id = {model_id} AND live = 0, UTC_TIMESTAMP(6), installed_at),"
        f" live = IF(id = {model_id}, 1, 0)",
        *([will_churn_comment_statement(identity)] if comment_will_churn else []),
    ]


def comment_sql_text(model_dir: str | Path) -> str:
    """The COMMENT statement alone, as the text of COMMENT_FILE (the endpoint deploy's best effort)."""
    return sql_file_text([will_churn_comment_statement(read_identity(model_dir))])


def sql_file_text(statements: list[str]) -> str:
    """Statements as the text of one SQL file the bootstrap applies (churnguard.sql_splitter splits it)."""
    return "".join(f"{statement};\n\n" for statement in statements)


def _require_table(client: SqlClient) -> None:
    if not int(client.query(MODELS_TABLE_SQL)[0]["n"]):
        raise RegistryError(
            "this database has no models table: apply sql/15_models.sql by reinstalling the model "
            "(`churnguard local up --model DIR` or a deploy)"
        )


def list_models(client: SqlClient) -> list[dict[str, Any]]:
    """Every model the database has recorded, most recently made live first."""
    _require_table(client)
    return [
        {
            "id": row["id"],
            "live": bool(row["live"]),
            "trained_at": _iso(row["trained_at"]),
            "data_fingerprint": row["data_fingerprint"],
            "features": json.loads(row["features"]),
            "cutoff": float(row["cutoff"]),
            "test_metrics": json.loads(row["test_metrics"]),
            "cv_metrics": json.loads(row["cv_metrics"]),
            "first_installed_at": _iso(row["first_installed_at"]),
            "installed_at": _iso(row["installed_at"]),
        }
        for row in client.query(LIST_SQL)
    ]


def live_model(client: SqlClient) -> dict[str, Any]:
    """The live model's id and cut-off, checked against will_churn's COMMENT.

    Raises RegistryError naming the fix when the database has no live model recorded, or when
    will_churn names a model the registry never recorded (installed by hand or by an older version).
    """
    _require_table(client)
    rows = client.query(LIVE_SQL)
    named = named_by_will_churn(client)
    if not rows:
        what = f"will_churn names model {named}, but " if named else ""
        raise RegistryError(
            f"{what}this database has no live model recorded: reinstall the model folder you serve "
            "(`churnguard local up --model DIR`, or deploy it) so the registry records it"
        )
    if len(rows) > 1:
        raise RegistryError(
            f"{len(rows)} models are marked live: reinstall the model you serve to repair the registry"
        )
    live = {"id": rows[0]["id"], "cutoff": float(rows[0]["cutoff"])}
    # A will_churn without our COMMENT is the deployed SageMaker alias (see registry_statements):
    # the registry's live row is then the only record, and is trusted.
    if named is not None and named != live["id"]:
        raise RegistryError(
            f"will_churn names {named} but the registry's live model is {live['id']}: the "
            "function was replaced outside churnguard; reinstall the model folder you serve"
        )
    return live


def named_by_will_churn(client: SqlClient) -> str | None:
    """The model id will_churn's COMMENT names, or None when it carries no churnguard COMMENT (the
    SageMaker alias on an Aurora that refused the best-effort ALTER FUNCTION)."""
    comments = client.query(WILL_CHURN_COMMENT_SQL)
    named = COMMENT_PATTERN.search(str(comments[0]["comment"] or "")) if comments else None
    return named.group(1) if named else None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
