"""Statements built from the FeatureSpec: the call-centre lookup, the set-based (bulk) scoring forms
and the DBA interface whose names and arguments stay the same whatever the model.

The call-centre statement is the same text on Aurora and locally; only what `will_churn` and the
Comprehend functions are behind differs. will_churn's argument list follows the model (it changes
with every retrain), so DBAs get stable objects over it: the view customers_with_churn_probability
and the function customer_churn_probability(area_code, phone), rendered with the model on every
install. Bulk scoring with the model compiled to SQL cannot go through a stored function (MariaDB
runs a 100-tree stored function at about a thousand rows/s), so the view and the materialised
scores table repeat the compiled model inline in the SELECT (in a chain of layer views when the
model is too long for one statement: render_compiled_scoring); with a SageMaker endpoint they call
will_churn in the SELECT list, where Aurora batches the endpoint calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from churnguard.bootstrap.replaced_parts import layer_name
from churnguard.call_reason.labels import FUNCTION as CALL_REASON_FUNCTION
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.feature_spec import FeatureSpec
from churnguard.sqlgen.functions import SqlRenderError, feature_arguments, quote_identifier, will_churn_call
from churnguard.sqlgen.model_compiler import sigmoid_expression
from churnguard.sqlgen.model_parts import SplitModel

SCORES_VIEW = "customer_churn_scores"
SCORES_TABLE = "customer_scores"
REFRESH_PROCEDURE = "refresh_customer_scores"
CUSTOMER_VIEW = "customers_with_churn_probability"
CUSTOMER_FUNCTION = "customer_churn_probability"
# The running margin of the bulk-scoring view's layers when the compiled model is split.
MARGIN_COLUMN = "will_churn_margin"
# The most layers the bulk-scoring view chains (about 950,000 characters of trees). The server opens
# and merges every layer on each read of the view: MariaDB took 0.06 s for 6 layers of a 300-tree
# model, 1.8 s for 45 and 8 s for 177 (any row count); past this the view calls the parts per row.
MAX_VIEW_LAYERS = 16
SENTIMENT_LANGUAGE = "en"
CALL_REASON_COLUMN = "call_reason"
# The engine's statements return the customer's columns as one JSON object in this column.
CUSTOMER_JSON_COLUMN = "customer"
# The collation of customers.phone (sql/10_schema.sql). A session variable or a routine parameter
# has the connection's or the database's character set and collation, which MariaDB and MySQL refuse
# to compare with the column's ("Illegal mix of collations", error 1267); converting to utf8mb4 and
# naming the column's collation fixes it.
KEY_COLLATION = "utf8mb4_unicode_ci"


def call_centre_sql(spec: FeatureSpec) -> str:
    """One customer's columns, churn probability, the sentiment of the message being handled and why
    the customer calls (call_reason).

    Parameters: %(area_code)s, %(phone)s, %(message)s, bound by the client (a quote or a backslash in
    the message is data, never SQL). The engine asks for the same things in separate statements
    (customer_score_sql, message_sql) so that one failing service does not lose the other's part.
    """
    return _customer_select([f"{will_churn_call(spec, 'c')} AS churn_probability", *_MESSAGE_COLUMNS])


def call_centre_session_sql(spec: FeatureSpec) -> str:
    """The call-centre statement for the installed model with `@area_code`, `@phone` and `@message`
    session variables instead of bound parameters, for a DBA to paste after setting them."""
    columns = [f"{will_churn_call(spec, 'c')} AS churn_probability", *_message_columns("@message")]
    return _customer_select(columns, area_code="@area_code", phone=_session_phone())


def stable_call_centre_session_sql() -> str:
    """The call-centre statement over the DBA interface: short, and the same text whatever the model
    (the view's columns are the customer's plus churn_probability)."""
    sentiment = ",\n  ".join(_message_columns("@message"))
    return (
        f"SELECT c.*,\n  {sentiment}\nFROM {CUSTOMER_VIEW} AS c\n"
        f"WHERE c.area_code = @area_code AND c.phone = {_session_phone()}"
    )


def _session_phone() -> str:
    """@phone compared as the column is: converted to utf8mb4 first, because the session's character
    set may be another (the `mariadb` client's default follows the locale: utf8mb3, latin1)."""
    return f"CONVERT(@phone USING utf8mb4) COLLATE {KEY_COLLATION}"


def customer_score_sql(spec: FeatureSpec, extra_columns: Sequence[str] = ()) -> str:
    """One customer's columns, as the JSON object `customer`, and churn probability (will_churn);
    %(area_code)s, %(phone)s. One JSON column instead of twenty-one: a driver describes every result
    column before the row (PyMySQL parses each description in Python, the Data API sends each in
    columnMetadata), which was the largest part of the statement's client time; read the row back
    with `customer_from_row`. `extra_columns` (`expression AS label`, on the same parameters) come
    back in the same row: what a caller needs about the customer costs no Data API call of its own."""
    return _customer_json_select([f"{will_churn_call(spec, 'c')} AS churn_probability", *extra_columns])


def customer_sql(extra_columns: Sequence[str] = ()) -> str:
    """One customer's columns alone, as the JSON object `customer`, for when will_churn fails or no
    score is wanted; %(area_code)s, %(phone)s; `extra_columns` as in customer_score_sql."""
    return _customer_json_select(list(extra_columns))


def customer_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The customer's columns from a row of customer_score_sql or customer_sql, with the row's other
    columns (churn_probability). DECIMAL values come back as Decimal, as the drivers give them for a
    DECIMAL column (PyMySQL, and churnguard.dataapi)."""
    customer = json.loads(row[CUSTOMER_JSON_COLUMN], parse_float=Decimal)
    return {**customer, **{name: value for name, value in row.items() if name != CUSTOMER_JSON_COLUMN}}


def message_sql(*, call_reason: bool = True) -> str:
    """The sentiment and its confidence for %(message)s (Comprehend on Aurora, the local stand-ins),
    and with `call_reason` why the customer calls (Bedrock on Aurora, a stand-in locally): one
    statement, one Data API call. call_reason answers NULL rather than failing when Bedrock does,
    so it cannot take the sentiment down with it."""
    columns = _MESSAGE_COLUMNS if call_reason else _MESSAGE_COLUMNS[:2]
    return "SELECT\n  " + ",\n  ".join(columns)


def _message_columns(message: str) -> tuple[str, str, str]:
    return (
        f"aws_comprehend_detect_sentiment({message}, '{SENTIMENT_LANGUAGE}') AS sentiment",
        f"aws_comprehend_detect_sentiment_confidence({message}, '{SENTIMENT_LANGUAGE}') AS confidence",
        f"{CALL_REASON_FUNCTION}({message}) AS {CALL_REASON_COLUMN}",
    )


_MESSAGE_COLUMNS = _message_columns("%(message)s")


def _customer_columns() -> list[str]:
    return [f"c.{quote_identifier(name)}" for name in COLUMN_NAMES]


def _customer_select(
    extra_columns: list[str],
    *,
    area_code: str = "%(area_code)s",
    phone: str = "%(phone)s",
    customer_columns: list[str] | None = None,
) -> str:
    columns = ",\n  ".join([*(customer_columns or _customer_columns()), *extra_columns])
    return f"SELECT\n  {columns}\nFROM customers AS c\nWHERE c.area_code = {area_code} AND c.phone = {phone}"


def _customer_json_select(extra_columns: list[str]) -> str:
    # Column names are plain identifiers (customer_schema), so they are safe as key literals.
    pairs = ",\n    ".join(f"'{name}', c.{quote_identifier(name)}" for name in COLUMN_NAMES)
    customer = f"JSON_OBJECT(\n    {pairs}\n  ) AS {CUSTOMER_JSON_COLUMN}"
    return _customer_select(extra_columns, customer_columns=[customer])


def render_dba_interface(spec: FeatureSpec) -> list[str]:
    """The objects a DBA's saved queries can rely on across retrains and inference modes.

    - view customers_with_churn_probability: every customer column plus churn_probability. It is
      merged into the query that reads it (ALGORITHM = MERGE), so a filter on the key scores that one
      customer; on Aurora, a query over many rows calls the endpoint from the SELECT list.
    - function customer_churn_probability(area_code, phone): one customer's probability, NULL for an
      unknown key; its phone parameter is compared in the column's collation, so a session variable
      of any utf8mb4 collation works.
    Both run as the invoker (SQL SECURITY INVOKER): the caller's own rights and Aurora ML roles apply,
    not those of the administrator who created them.
    """
    probability = f"{will_churn_call(spec, 'c')} AS churn_probability"
    columns = ",\n  ".join([*_customer_columns(), probability])
    score = (
        f"SELECT {will_churn_call(spec, 'c')} FROM customers AS c"
        f" WHERE c.area_code = in_area_code AND c.phone = in_phone COLLATE {KEY_COLLATION}"
    )
    return [
        f"DROP VIEW IF EXISTS {CUSTOMER_VIEW}",
        f"CREATE ALGORITHM = MERGE SQL SECURITY INVOKER VIEW {CUSTOMER_VIEW} AS\n"
        f"SELECT\n  {columns}\nFROM customers AS c",
        f"DROP FUNCTION IF EXISTS {CUSTOMER_FUNCTION}",
        f"CREATE FUNCTION {CUSTOMER_FUNCTION}(in_area_code INT, in_phone VARCHAR(8) CHARACTER SET utf8mb4)\n"
        f"  RETURNS DOUBLE\n"
        f"  NOT DETERMINISTIC READS SQL DATA SQL SECURITY INVOKER\n"
        f"  COMMENT 'churnguard: churn probability of one customer by key, NULL when unknown'\n"
        f"  RETURN ({score})",
    ]


# Larger than any table: a derived table with a LIMIT is materialised instead of merged into the
# outer query (on MySQL 8 and MariaDB), so each feature is computed once per row, not at every split.
MATERIALISE_LIMIT = 18446744073709551615


def scoring_select_sql(spec: FeatureSpec, margin: Sequence[str]) -> str:
    """Every customer's key and churn probability, set-based, from the compiled model's margin terms
    (churnguard.sqlgen.model_parts: over the bare feature names, the derived table's columns here).

    The features are first computed as DOUBLEs into a materialised derived table: the splits then
    compare doubles, where comparing the DECIMAL columns directly converts them at every split
    (measured about 2-4x slower on MariaDB 10.11).
    """
    return (
        f"SELECT f.area_code, f.phone,\n{sigmoid_expression(margin)} AS churn_probability\n"
        f"FROM {_features_table(spec)} AS f"
    )


def _features_table(spec: FeatureSpec) -> str:
    features = ",\n    ".join(
        f"0e0 + {argument} AS {quote_identifier(name)}"
        for argument, name in zip(feature_arguments(spec, "c", inline=True), spec.names, strict=True)
    )
    return (
        f"(\n  SELECT c.area_code, c.phone,\n    {features}\n"
        f"  FROM customers AS c LIMIT {MATERIALISE_LIMIT}\n)"
    )


def render_compiled_scoring(spec: FeatureSpec, split: SplitModel) -> list[str]:
    """render_scoring_objects for the model compiled into SQL.

    A whole model is inline in the view's SELECT. A split model's view reads a chain of layer views
    (churnguard.bootstrap.replaced_parts.layer_name), each adding one of its tree sums, inline, to a
    running margin column: the server merges the chain into one query over the materialised
    features, several times faster than calling the part functions for every row (docs/sql.md).
    The chain's end is read through a materialised derived table, the shape of the whole model's
    view: MariaDB 10.11 crashes when refresh_customer_scores' ON DUPLICATE KEY UPDATE refers to a
    column of the merged chain. Past MAX_VIEW_LAYERS layers, the view calls the parts instead.
    """
    if not split.tree_sums or len(split.tree_sums) > MAX_VIEW_LAYERS:
        return render_scoring_objects(scoring_select_sql(spec, split.terms))
    if MARGIN_COLUMN in spec.names:
        raise SqlRenderError(f"a feature may not be named {MARGIN_COLUMN}: the scoring view needs the name")
    margin = quote_identifier(MARGIN_COLUMN)
    carried = ", ".join(["f.area_code", "f.phone", *(f"f.{quote_identifier(name)}" for name in spec.names)])
    statements: list[str] = []
    source, running = _features_table(spec), split.base
    for number, tree_sum in enumerate(split.tree_sums, start=1):
        layer = layer_name(split.model_id, number)
        statements += [
            f"DROP VIEW IF EXISTS {layer}",
            f"CREATE SQL SECURITY INVOKER VIEW {layer} AS\n"
            f"SELECT {carried},\n{running} + (\n  {tree_sum}\n) AS {margin}\nFROM {source} AS f",
        ]
        source, running = layer, f"f.{margin}"
    chain_end = f"SELECT f.area_code, f.phone, {running} FROM {source} AS f LIMIT {MATERIALISE_LIMIT}"
    final = (
        f"SELECT f.area_code, f.phone,\n{sigmoid_expression([running])} AS churn_probability\n"
        f"FROM (\n  {chain_end}\n) AS f"
    )
    return [*statements, *render_scoring_objects(final)]


def endpoint_scoring_select_sql(spec: FeatureSpec) -> str:
    """Every customer's key and churn probability through will_churn (the SageMaker alias on Aurora):
    the call in the SELECT list, where Aurora batches machine learning calls."""
    return (
        f"SELECT c.area_code, c.phone,\n  {will_churn_call(spec, 'c')} AS churn_probability\n"
        f"FROM customers AS c"
    )


def render_scoring_objects(scoring_select: str) -> list[str]:
    """The bulk-scoring forms over `scoring_select` (scoring_select_sql with the model compiled in,
    or endpoint_scoring_select_sql): a view computing every customer's probability on read, and a
    procedure refreshing the materialised customer_scores table from it in one set-based statement
    (INSERT ... SELECT). Same names and columns in every inference mode; both run as the invoker.
    """
    return [
        f"DROP VIEW IF EXISTS {SCORES_VIEW}",
        f"CREATE SQL SECURITY INVOKER VIEW {SCORES_VIEW} AS\n{scoring_select}",
        f"DROP PROCEDURE IF EXISTS {REFRESH_PROCEDURE}",
        f"CREATE PROCEDURE {REFRESH_PROCEDURE}()\n"
        f"  MODIFIES SQL DATA SQL SECURITY INVOKER\n"
        f"  COMMENT 'churnguard: rescore every customer into {SCORES_TABLE}'\n"
        f"  INSERT INTO {SCORES_TABLE} (area_code, phone, churn_probability, scored_at)\n"
        f"  SELECT s.area_code, s.phone, s.churn_probability, CURRENT_TIMESTAMP FROM {SCORES_VIEW} AS s\n"
        f"  ON DUPLICATE KEY UPDATE churn_probability = s.churn_probability, scored_at = CURRENT_TIMESTAMP",
    ]
