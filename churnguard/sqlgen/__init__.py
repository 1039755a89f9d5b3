"""SQL rendered from a trained model folder (read by churnguard.model_folder): what the bootstrap
applies on Aurora and what `churnguard local up` installs on MariaDB.

Deploy order (render_deploy_sql): every sql/NN_*.sql in name order, then the generated objects:
the one-hot helpers; will_churn, either as the SageMaker alias (`inference_mode="endpoint"`) or
compiled from model.json (`inference_mode="in_database"`, and always locally); the bulk-scoring view
and refresh procedure (the model inline when compiled, will_churn in the SELECT list with an
endpoint); the DBA interface (customers_with_churn_probability, customer_churn_probability),
whose names and arguments do not change with the model; and, for a deploy, call_reason (Amazon
Bedrock, or a NULL answer with `-c call_reasons=off`: churnguard.sqlgen.call_reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from churnguard.bootstrap.replaced_parts import part_name
from churnguard.feature_spec import FeatureSpec, FeatureSpecError, check_feature_order
from churnguard.model_folder import ModelFolder
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.call_reason import DEFAULT_CALL_REASON_MODEL, render_call_reason
from churnguard.sqlgen.files import (
    SqlFile,
    apply_sql_files,
    read_template,
    run_template,
    static_sql_files,
)
from churnguard.sqlgen.functions import (
    WILL_CHURN,
    SqlRenderError,
    feature_parameters,
    render_one_hot_helpers,
    render_will_churn_alias,
    render_will_churn_compiled,
    will_churn_call,
)
from churnguard.sqlgen.model_compiler import ModelCompileError, TreeModel, read_model
from churnguard.sqlgen.model_parts import STATEMENT_BUDGET, ModelPart, SplitModel, split_model
from churnguard.sqlgen.statements import (
    call_centre_session_sql,
    call_centre_sql,
    endpoint_scoring_select_sql,
    render_compiled_scoring,
    render_dba_interface,
    render_scoring_objects,
    scoring_select_sql,
    stable_call_centre_session_sql,
)

InferenceMode = Literal["endpoint", "in_database"]
INFERENCE_MODES: tuple[str, ...] = ("endpoint", "in_database")
CALL_REASON_FILE = "94_call_reason.sql"

__all__ = [
    "INFERENCE_MODES",
    "ModelCompileError",
    "SqlFile",
    "SqlRenderError",
    "apply_sql_files",
    "call_centre_session_sql",
    "call_centre_sql",
    "check_installed_signature",
    "installed_signature",
    "load_model",
    "local_function_files",
    "read_template",
    "render_deploy_sql",
    "run_template",
    "scoring_select_sql",
    "stable_call_centre_session_sql",
    "static_sql_files",
    "will_churn_call",
]


def load_model(model_dir: str | Path) -> tuple[FeatureSpec, TreeModel]:
    """The spec from the folder's metadata.json and the trees from its model.json (ModelFolder has
    checked that they list the same features in the same order)."""
    folder = ModelFolder.read(model_dir)
    return folder.feature_spec, read_model(folder.model_json_path)


def _joined(statements: list[str]) -> str:
    return "".join(f"{statement};\n\n" for statement in statements)


def generated_files(spec: FeatureSpec, will_churn: list[str], bulk_scoring: list[str]) -> list[SqlFile]:
    """The model's objects in the order they depend on each other; only will_churn (with its parts)
    and the bulk-scoring objects differ between the inference modes."""
    return [
        SqlFile("90_one_hot_helpers.sql", _joined(render_one_hot_helpers(spec))),
        SqlFile("91_will_churn.sql", _joined(will_churn)),
        SqlFile("92_bulk_scoring.sql", _joined(bulk_scoring)),
        SqlFile("93_dba_interface.sql", _joined(render_dba_interface(spec))),
    ]


def compiled_model_files(spec: FeatureSpec, model: TreeModel) -> list[SqlFile]:
    """The model compiled into SQL, split into parts when it is too long for one statement."""
    split = split_model(model, feature_parameters(spec), budget=expression_budget(spec, model))
    return generated_files(
        spec, render_will_churn_compiled(spec, model, split), render_compiled_scoring(spec, split)
    )


def expression_budget(spec: FeatureSpec, model: TreeModel) -> int:
    """How long the model's expressions may be so that every statement holding one (a part,
    will_churn, a view layer, the bulk-scoring view) stays within STATEMENT_BUDGET: the budget less
    the longest of those statements written around empty expressions."""
    empty_parts = (ModelPart(part_name(model.model_id, 999), ""),)
    around = [
        *render_will_churn_compiled(spec, model, SplitModel(model.model_id, "", ("",), empty_parts)),
        *render_compiled_scoring(spec, SplitModel(model.model_id, "", ("",))),
        *render_compiled_scoring(spec, SplitModel(model.model_id, "", ("",), empty_parts, ("", ""))),
    ]
    return STATEMENT_BUDGET - max(len(statement) for statement in around)


def endpoint_model_files(spec: FeatureSpec, endpoint_name: str) -> list[SqlFile]:
    return generated_files(
        spec,
        render_will_churn_alias(spec, endpoint_name),
        render_scoring_objects(endpoint_scoring_select_sql(spec)),
    )


def render_deploy_sql(
    model_dir: str | Path,
    *,
    inference_mode: InferenceMode,
    endpoint_name: str | None,
    call_reasons: str | None = None,
    call_reason_model: str = DEFAULT_CALL_REASON_MODEL,
) -> list[SqlFile]:
    """Everything the bootstrap applies on Aurora, in order. Comprehend's functions are built into
    Aurora, so the local sentiment stand-ins are not part of it. `call_reasons` ('bedrock' or 'off',
    as `-c call_reasons`; the bootstrap always gives it) adds 94_call_reason.sql; None leaves
    call_reason out, for a database that has the local stand-in instead (MariaDB cannot create
    Aurora's Bedrock alias).
    """
    if inference_mode not in INFERENCE_MODES:
        raise SqlRenderError(f"inference_mode {inference_mode!r} is not one of {', '.join(INFERENCE_MODES)}")
    if inference_mode == "endpoint":
        if not endpoint_name:
            raise SqlRenderError("inference_mode 'endpoint' needs the SageMaker endpoint name")
        generated = endpoint_model_files(ModelFolder.read(model_dir).feature_spec, endpoint_name)
    else:
        generated = compiled_model_files(*load_model(model_dir))
    from churnguard.lifecycle.install_sql import registry_sql_text  # model lifecycle
    from churnguard.lifecycle.registry import COMMENT_FILE, REGISTRY_FILE, comment_sql_text

    on_endpoint = inference_mode == "endpoint"
    registry = [SqlFile(REGISTRY_FILE, registry_sql_text(model_dir, comment_will_churn=not on_endpoint))]
    if on_endpoint:  # applied best effort: AWS documents no COMMENT for the SageMaker alias form
        registry.append(SqlFile(COMMENT_FILE, comment_sql_text(model_dir)))
    if call_reasons is not None:
        generated.append(
            SqlFile(CALL_REASON_FILE, _joined(render_call_reason(call_reasons, call_reason_model)))
        )
    return [*static_sql_files(), *generated, *registry]


def local_function_files(model_dir: str | Path) -> list[SqlFile]:
    """The generated functions for the local stand-in: always the model compiled to SQL."""
    return compiled_model_files(*load_model(model_dir))


def check_installed_signature(client: SqlClient, spec: FeatureSpec) -> None:
    """Fail unless the database's will_churn takes exactly the model's features, in the model's order.

    A will_churn typed for another feature order accepts the call and scores garbage, so `local up`
    runs this after installing, and anyone may run it before trusting the scores. (The bootstrap does
    not: it installs will_churn from the same metadata.json the signature would be checked against.)
    """
    installed = installed_signature(client)
    if not installed:
        raise FeatureSpecError(f"{WILL_CHURN} is not installed in this database, or takes no parameters")
    check_feature_order(spec.names, installed, what=f"installed {WILL_CHURN} signature")


def installed_signature(client: SqlClient) -> list[str]:
    """The parameter names of the database's will_churn, in order; empty when it is not installed."""
    rows = client.query(
        "SELECT PARAMETER_NAME AS name FROM information_schema.PARAMETERS"
        " WHERE SPECIFIC_SCHEMA = DATABASE() AND SPECIFIC_NAME = %(function)s"
        " AND ROUTINE_TYPE = 'FUNCTION' AND ORDINAL_POSITION > 0 ORDER BY ORDINAL_POSITION",
        {"function": WILL_CHURN},
    )
    return [str(row["name"]) for row in rows]
