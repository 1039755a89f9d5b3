"""Statements built from the FeatureSpec: the call-centre lookup and the set-based (bulk) scoring forms.

The call-centre statement is the same text on Aurora and locally; only what `will_churn` and the
Comprehend functions are behind differs. Bulk scoring cannot go through a stored function (MariaDB
runs a 100-tree stored function at about a thousand rows/s), so the view and the materialised
scores table repeat the compiled model inline in the SELECT.
"""

from __future__ import annotations

from churnguard.customer_schema import COLUMN_NAMES
from churnguard.feature_spec import FeatureSpec
from churnguard.sqlgen.functions import feature_arguments, quote_identifier, will_churn_call
from churnguard.sqlgen.model_compiler import TreeModel, probability_expression

SCORES_VIEW = "customer_churn_scores"
SCORES_TABLE = "customer_scores"
REFRESH_PROCEDURE = "refresh_customer_scores"
SENTIMENT_LANGUAGE = "en"


def call_centre_sql(spec: FeatureSpec) -> str:
    """One customer's columns, churn probability and the sentiment of the message being handled.

    Parameters: %(area_code)s, %(phone)s, %(message)s, bound by the client (a quote or a backslash in
    the message is data, never SQL). The engine asks for the same things in separate statements
    (customer_score_sql, sentiment_sql) so that one failing service does not lose the other's part.
    """
    return _customer_select([f"{will_churn_call(spec, 'c')} AS churn_probability", *_SENTIMENT_COLUMNS])


def customer_score_sql(spec: FeatureSpec) -> str:
    """One customer's columns and churn probability (will_churn); %(area_code)s, %(phone)s."""
    return _customer_select([f"{will_churn_call(spec, 'c')} AS churn_probability"])


def customer_sql() -> str:
    """One customer's columns alone, for when will_churn fails; %(area_code)s, %(phone)s."""
    return _customer_select([])


def sentiment_sql() -> str:
    """The sentiment and its confidence for %(message)s (Comprehend on Aurora, the local stand-ins)."""
    return "SELECT\n  " + ",\n  ".join(_SENTIMENT_COLUMNS)


_SENTIMENT_COLUMNS = (
    f"aws_comprehend_detect_sentiment(%(message)s, '{SENTIMENT_LANGUAGE}') AS sentiment",
    f"aws_comprehend_detect_sentiment_confidence(%(message)s, '{SENTIMENT_LANGUAGE}') AS confidence",
)


def _customer_select(extra_columns: list[str]) -> str:
    columns = ",\n  ".join([*(f"c.{quote_identifier(name)}" for name in COLUMN_NAMES), *extra_columns])
    return (
        f"SELECT\n  {columns}\nFROM customers AS c\nWHERE c.area_code = %(area_code)s AND c.phone = %(phone)s"
    )


# Larger than any table: a derived table with a LIMIT is materialised instead of merged into the
# outer query (on MySQL 8 and MariaDB), so each feature is computed once per row, not at every split.
MATERIALISE_LIMIT = 18446744073709551615


def scoring_select_sql(spec: FeatureSpec, model: TreeModel) -> str:
    """Every customer's key and churn probability, set-based.

    The features are first computed as DOUBLEs into a materialised derived table: the splits then
    compare doubles, where comparing the DECIMAL columns directly converts them at every split
    (measured about 2-4x slower on MariaDB 10.11).
    """
    features = ",\n    ".join(
        f"0e0 + {argument} AS {quote_identifier(name)}"
        for argument, name in zip(feature_arguments(spec, "c", inline=True), spec.names, strict=True)
    )
    model_sql = probability_expression(model, [f"f.{quote_identifier(name)}" for name in spec.names])
    return (
        f"SELECT f.area_code, f.phone,\n{model_sql} AS churn_probability\n"
        f"FROM (\n  SELECT c.area_code, c.phone,\n    {features}\n"
        f"  FROM customers AS c LIMIT {MATERIALISE_LIMIT}\n) AS f"
    )


def render_scoring_objects(spec: FeatureSpec, model: TreeModel) -> list[str]:
    """The bulk-scoring forms: a view computing every customer's probability on read, and a
    procedure refreshing the materialised customer_scores table from it in one set-based statement.
    """
    return [
        f"DROP VIEW IF EXISTS {SCORES_VIEW}",
        f"CREATE VIEW {SCORES_VIEW} AS\n{scoring_select_sql(spec, model)}",
        f"DROP PROCEDURE IF EXISTS {REFRESH_PROCEDURE}",
        f"CREATE PROCEDURE {REFRESH_PROCEDURE}()\n"
        f"  MODIFIES SQL DATA\n"
        f"  COMMENT 'churnguard: rescore every customer into {SCORES_TABLE}'\n"
        f"  INSERT INTO {SCORES_TABLE} (area_code, phone, churn_probability, scored_at)\n"
        f"  SELECT s.area_code, s.phone, s.churn_probability, CURRENT_TIMESTAMP FROM {SCORES_VIEW} AS s\n"
        f"  ON DUPLICATE KEY UPDATE churn_probability = s.churn_probability, scored_at = CURRENT_TIMESTAMP",
    ]
