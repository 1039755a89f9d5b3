"""Render the model's SQL functions from its FeatureSpec: will_churn and the one-hot helpers.

Everything is derived from the spec, so the signature, the helpers and the call sites cannot drift
apart (the reference typed them by hand). Each function is `DROP FUNCTION IF EXISTS` then
`CREATE FUNCTION ... RETURN <expression>`: valid on MySQL 8.0 / Aurora MySQL 3 and MariaDB 10.11.
"""

from __future__ import annotations

import re

from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.sqlgen.model_compiler import TreeModel, sigmoid_expression
from churnguard.sqlgen.model_parts import SplitModel

WILL_CHURN = "will_churn"
# Values a one-hot feature may test for; they are written into function bodies as literals (DDL
# cannot take bound parameters), so anything that could need escaping is refused instead.
SAFE_LITERAL = re.compile(r"^[A-Za-z0-9 _.\-]{0,64}$")
# SageMaker endpoint names: letters, digits and hyphens, up to 63 characters.
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class SqlRenderError(ValueError):
    """The inputs would render SQL that is unsafe or wrong; the message says which input."""


def quote_identifier(name: str) -> str:
    if not name.isidentifier():
        raise SqlRenderError(f"{name!r} is not a plain identifier")
    return f"`{name}`"


def text_literal(value: str) -> str:
    if not SAFE_LITERAL.match(value):
        raise SqlRenderError(f"value {value!r} may only hold letters, digits, space, '_', '.', '-'")
    return f"'{value}'"


def helper_name(feature: Feature) -> str:
    """The one-hot helper's name: int_plan_no -> IntPlanNo (the reference's naming)."""
    return "".join(part[:1].upper() + part[1:] for part in feature.name.split("_") if part)


def one_hot_test(feature: Feature, value_sql: str) -> str:
    """1 when the column equals the value, compared byte for byte like FeatureSpec does in Python."""
    return f"IF(CAST({value_sql} AS BINARY) = CAST({text_literal(str(feature.value))} AS BINARY), 1, 0)"


def one_hot_features(spec: FeatureSpec) -> list[Feature]:
    return [feature for feature in spec.features if feature.kind == "one_hot"]


def render_one_hot_helpers(spec: FeatureSpec) -> list[str]:
    """DROP + CREATE for one helper per one-hot feature the model uses."""
    statements: list[str] = []
    seen: dict[str, str] = {}
    for feature in one_hot_features(spec):
        # SQL function names ignore case: int_plan_no and intplan_no would both be IntPlanNo.
        clash = seen.setdefault(helper_name(feature).lower(), feature.name)
        if clash != feature.name:
            raise SqlRenderError(f"one-hot features {clash!r} and {feature.name!r} would share a helper name")
        name = quote_identifier(helper_name(feature))
        statements.append(f"DROP FUNCTION IF EXISTS {name}")
        statements.append(
            f"CREATE FUNCTION {name}(v VARCHAR(64)) RETURNS INT\n"
            f"  DETERMINISTIC NO SQL\n"
            f"  COMMENT 'churnguard: 1 when {feature.source} is {feature.value}'\n"
            f"  RETURN {one_hot_test(feature, 'v')}"
        )
    return statements


def will_churn_parameters(spec: FeatureSpec) -> str:
    return ", ".join(f"{quote_identifier(name)} DOUBLE" for name in spec.names)


def render_will_churn_alias(spec: FeatureSpec, endpoint_name: str) -> list[str]:
    """will_churn as Aurora's alias of AWS_SAGEMAKER_INVOKE_ENDPOINT on the deployed endpoint.

    SQL SECURITY INVOKER (AWS's syntax allows it): the caller's own AWS_SAGEMAKER_ACCESS role is the
    one that counts, as for every other churnguard routine, not the admin's who created it
    (docs/bootstrap.md, "Which user needs which Aurora role")."""
    if not ENDPOINT_NAME.match(endpoint_name or ""):
        raise SqlRenderError(f"endpoint name {endpoint_name!r} is not a valid SageMaker endpoint name")
    return [
        f"DROP FUNCTION IF EXISTS {WILL_CHURN}",
        f"CREATE FUNCTION {WILL_CHURN}({will_churn_parameters(spec)})\n"
        f"  RETURNS DOUBLE\n"
        f"  SQL SECURITY INVOKER\n"
        f"  ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME '{endpoint_name}'",
    ]


def feature_parameters(spec: FeatureSpec) -> list[str]:
    """The features as will_churn's body (and the bulk-scoring view) name them: quoted, bare."""
    return [quote_identifier(name) for name in spec.names]


def render_will_churn_compiled(spec: FeatureSpec, model: TreeModel, split: SplitModel) -> list[str]:
    """will_churn with the model compiled into its body (`split`: whole, or calling the part functions
    created first): same name, same signature as the alias."""
    parameters = will_churn_parameters(spec)
    parts = [
        statement
        for part in split.parts
        for statement in (
            f"DROP FUNCTION IF EXISTS {part.name}",
            f"CREATE FUNCTION {part.name}({parameters})\n"
            f"  RETURNS DOUBLE\n"
            f"  DETERMINISTIC NO SQL\n"
            f"  COMMENT 'churnguard: part of will_churn for model {model.model_id}'\n"
            f"  RETURN {part.expression}",
        )
    ]
    return [
        *parts,
        f"DROP FUNCTION IF EXISTS {WILL_CHURN}",
        f"CREATE FUNCTION {WILL_CHURN}({parameters})\n"
        f"  RETURNS DOUBLE\n"
        f"  DETERMINISTIC NO SQL\n"
        f"  COMMENT 'churnguard: xgboost model compiled to SQL, {len(model.trees)} trees'\n"
        f"  RETURN {sigmoid_expression(split.terms)}",
    ]


def feature_argument(feature: Feature, table_alias: str, *, inline: bool) -> str:
    """The SQL computing one feature from a customer row, as FeatureSpec.values_for does.

    Sums start from 0e0 so the additions happen in DOUBLE, in the spec's order, like Python's float
    additions (DECIMAL addition would round differently). One-hot features call their helper, or with
    `inline` repeat its expression (a stored function call per row is what makes bulk scoring slow).
    """
    if feature.kind == "numeric":
        return f"{table_alias}.{quote_identifier(str(feature.source))}"
    if feature.kind == "one_hot":
        column = f"{table_alias}.{quote_identifier(str(feature.source))}"
        return (
            one_hot_test(feature, column) if inline else f"{quote_identifier(helper_name(feature))}({column})"
        )
    columns = " + ".join(f"{table_alias}.{quote_identifier(source)}" for source in feature.sources)
    return f"(0e0 + {columns})"


def feature_arguments(spec: FeatureSpec, table_alias: str, *, inline: bool) -> list[str]:
    return [feature_argument(feature, table_alias, inline=inline) for feature in spec.features]


def will_churn_call(spec: FeatureSpec, table_alias: str = "c") -> str:
    """`will_churn(<feature expressions in model order>)` for a customer row aliased `table_alias`."""
    return f"{WILL_CHURN}({', '.join(feature_arguments(spec, table_alias, inline=False))})"
