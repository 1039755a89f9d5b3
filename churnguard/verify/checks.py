"""The checks themselves: each takes the VerifyContext and returns a one-line detail, raises
SkipCheck with a reason, or raises any error (the runner turns it into a failure with a diagnosis).

The test customer's area code and phone may appear in details; no other customer data, no message
text and no secret does.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from churnguard.bootstrap.app_user import APP_USER_HOST, quoted_account
from churnguard.call_reason.labels import LABELS as CALL_REASONS
from churnguard.constants import API_USER_NAME
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.drivers import DriverExplainer
from churnguard.lifecycle.identity import read_identity
from churnguard.lifecycle.registry import live_model, named_by_will_churn
from churnguard.sql_client import Row, SqlClient
from churnguard.sqlgen import call_centre_sql, check_installed_signature, will_churn_call
from churnguard.sqlgen.call_reason import MODEL_FUNCTION, REQUEST_FUNCTION
from churnguard.sqlgen.file_locations import UnsafeLocation, location_literal, template_with_location
from churnguard.sqlgen.functions import quote_identifier
from churnguard.verify import names
from churnguard.verify.grants import (
    UnreadableGrant,
    expected_api_grants,
    grant_differences,
    grants_summary,
    parse_show_grants,
    role_name,
)
from churnguard.verify.target import ExportPlace, Target

# The first example of AWS's Aurora ML page ("Using Amazon Comprehend with your Aurora MySQL DB
# cluster"), which Comprehend scores POSITIVE; no customer's words are ever sent by verify.
SENTENCE = "Thank you for the excellent customer support!"
SENTIMENTS = frozenset({"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"})
# will_churn (endpoint or compiled SQL) against the pure-Python trees of the same model.
AGREEMENT_TOLERANCE = 1e-6
# One of the two customers training.synthetic always generates, so a seeded stack has it.
SEEDED_CUSTOMER = (415, "358-1921")
REQUIRED_TABLES = ("customers", "customer_messages", "offers_log")
# What the scratch load replaces in load_customers.*.sql: REPLACE needs DELETE, which the app user lacks.
TEMPLATE_LOAD_TARGET = "REPLACE INTO TABLE customers"


class SkipCheck(Exception):
    """The check cannot run here; the message says why (shown as the detail of a `skip` line)."""


class VerifyFailure(Exception):
    """A check ran and found something wrong; the message is what it found (no secrets)."""


@dataclass
class VerifyContext:
    """The target, the model verify compares against, and the test customer once found."""

    target: Target
    explainer: DriverExplainer
    model_dir: Path
    requested_customer: tuple[int, str] | None = None
    _customer: Row | None = field(default=None, init=False)

    def customer(self) -> Row:
        """The test customer's row (every customer column), looked up once."""
        if self._customer is None:
            self._customer = _find_customer(self)
        return self._customer

    def test_phone(self) -> str | None:
        """The test customer's phone, the one phone number verify may show, once known."""
        if self._customer is not None:
            phone = self._customer.get("phone")
            return None if phone is None else str(phone)
        return self.requested_customer[1] if self.requested_customer else None

    def test_customer_key(self) -> tuple[int, str]:
        """The test customer's key once found, else the one asked for or the seeded one (a check that
        only reads, like the console's look-up, still runs and may find no such customer)."""
        if self._customer is not None:
            return int(self._customer["area_code"]), str(self._customer["phone"])
        return self.requested_customer or SEEDED_CUSTOMER

    def customer_or_skip(self) -> Row:
        try:
            return self.customer()
        except Exception:  # reported by the will_churn check, which runs first
            raise SkipCheck("needs the test customer, which the will_churn check could not score") from None

    def expected_probability(self, row: Row) -> float:
        spec = self.explainer.spec
        return self.explainer.ensemble.probability(spec.values_for(row))


def who(row: Row) -> str:
    return f"customer {row['area_code']}/{row['phone']}"


def _customer_query(where: str) -> str:
    columns = ", ".join(f"c.{quote_identifier(name)}" for name in COLUMN_NAMES)
    return f"SELECT {columns} FROM customers AS c {where}"


def _find_customer(context: VerifyContext) -> Row:
    app = context.target.app
    key = context.requested_customer or SEEDED_CUSTOMER
    params = {"area_code": key[0], "phone": key[1]}
    rows = app.query(_customer_query("WHERE c.area_code = %(area_code)s AND c.phone = %(phone)s"), params)
    if not rows and context.requested_customer is None:
        rows = app.query(_customer_query("ORDER BY c.area_code, c.phone LIMIT 1"))
    if not rows:
        asked = f"{key[0]}/{key[1]}" if context.requested_customer else "any"
        raise VerifyFailure(f"no customer to test with ({asked}) in the customers table")
    return rows[0]


def check_database_awake(context: VerifyContext) -> str:
    return context.target.wake()


def check_bootstrap_sql(context: VerifyContext) -> str:
    app = context.target.app
    placeholders = ", ".join(f"%(t{index})s" for index in range(len(REQUIRED_TABLES)))
    rows = app.query(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES"
        f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({placeholders})",
        {f"t{index}": table for index, table in enumerate(REQUIRED_TABLES)},
    )
    present = {str(row["name"]) for row in rows}
    missing = [table for table in REQUIRED_TABLES if table not in present]
    if missing:
        raise VerifyFailure(f"table {missing[0]} doesn't exist in the churnguard schema")
    spec = context.explainer.spec
    check_installed_signature(app, spec)
    return (
        f"tables present; will_churn takes the model's {len(spec.names)} features in the model's order; "
        + _live_model_detail(app, context.model_dir)
    )


def _live_model_detail(app: SqlClient, model_dir: Path) -> str:
    """The registry's live model must be the one verify was given; say whether will_churn's COMMENT
    names it (on Aurora's SageMaker alias the bootstrap sets it best effort, docs/lifecycle.md)."""
    expected = read_identity(model_dir).model_id
    live = live_model(app)["id"]
    if live != expected:
        raise VerifyFailure(
            f"the registry's live model is {live}, not {expected} of {model_dir}: the database serves "
            "another model than the one verify was given"
        )
    if named_by_will_churn(app) == live:
        return f"live model {live}, named by will_churn's COMMENT"
    return (
        f"live model {live} (will_churn carries no churnguard COMMENT: Aurora refused it on the SageMaker "
        "alias, see the bootstrap's RefusedOptional; the registry's live row is the record)"
    )


# The database the admin is on, and whether a bundled file created call_reason's Bedrock alias: then
# the bootstrap also granted AWS_BEDROCK_ACCESS (churnguard.bootstrap.runner).
GRANT_CONTEXT_SQL = (
    "SELECT DATABASE() AS name, (SELECT COUNT(*) FROM information_schema.ROUTINES"
    " WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = %(alias)s) AS bedrock"
)
# MySQL 8.0's SHOW GRANTS names the roles granted to an account but not which are its default roles;
# they are rows of this grant table (MariaDB shows its one default role as a SET DEFAULT ROLE line).
DEFAULT_ROLES_SQL = (
    "SELECT DEFAULT_ROLE_USER AS role, DEFAULT_ROLE_HOST AS host FROM mysql.default_roles"
    " WHERE USER = %(user)s AND HOST = %(host)s"
)


def check_api_user_grants(context: VerifyContext) -> str:
    """The API user holds what the bootstrap grants it and nothing else, read by the admin."""
    target = context.target
    if target.admin is target.app:
        raise SkipCheck(
            "needs an admin connection (--admin-db-url, or --local): the application user may not read "
            "another account's grants"
        )
    (schema,) = target.admin.query(GRANT_CONTEXT_SQL, {"alias": MODEL_FUNCTION})
    rows = target.admin.query(f"SHOW GRANTS FOR {quoted_account(API_USER_NAME)}")
    try:
        found = parse_show_grants(str(next(iter(row.values()))) for row in rows)
    except UnreadableGrant as error:
        raise VerifyFailure(str(error)) from None
    if target.aurora:
        defaults = target.admin.query(DEFAULT_ROLES_SQL, {"user": API_USER_NAME, "host": APP_USER_HOST})
        roles = {role_name(str(row["role"]), str(row["host"])) for row in defaults}
        found = replace(found, default_roles=found.default_roles | roles)
    expected = expected_api_grants(
        str(schema["name"]), aurora=target.aurora, bedrock=int(schema["bedrock"] or 0) > 0
    )
    problems = grant_differences(found, expected)
    if problems:
        raise VerifyFailure("; ".join(problems))
    return grants_summary(API_USER_NAME, found)


def check_sentiment(context: VerifyContext) -> str:
    rows = context.target.app.query(
        "SELECT aws_comprehend_detect_sentiment(%(text)s, 'en') AS sentiment,"
        " aws_comprehend_detect_sentiment_confidence(%(text)s, 'en') AS confidence",
        {"text": SENTENCE},
    )
    sentiment, confidence = _sentiment_of(rows[0] if rows else {})
    return f"{sentiment} at confidence {confidence:.3f} for verify's fixed sentence"


# The call reason verify asks about: a sentence of its own, never a customer's words.
CALL_REASON_SENTENCE = "I want to cancel my contract and move my number to another carrier."
CALL_REASON_SQL = (
    "SELECT call_reason(%(text)s) AS label, (SELECT COUNT(*) FROM information_schema.ROUTINES"
    f" WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = '{MODEL_FUNCTION}') AS bedrock"
)
# call_reason answers NULL when Bedrock fails (so an answer goes on without it); asking the alias
# itself brings Bedrock's own error to verify, where diagnose names its cause and fix.
BEDROCK_REPLY_SQL = f"SELECT {MODEL_FUNCTION}({REQUEST_FUNCTION}(%(text)s)) AS reply"


def check_call_reason(context: VerifyContext) -> str:
    app = context.target.app
    (row,) = app.query(CALL_REASON_SQL, {"text": CALL_REASON_SENTENCE})
    label, on_bedrock = row.get("label"), int(row.get("bedrock") or 0) > 0
    if label is None and not on_bedrock:
        raise SkipCheck("call reasons are off in this deploy (-c call_reasons=off): call_reason answers NULL")
    if label is None:
        reply = app.query(BEDROCK_REPLY_SQL, {"text": CALL_REASON_SENTENCE})[0].get("reply")
        raise VerifyFailure(
            "call_reason answered NULL although Bedrock answered the same request with "
            f"{str(reply)[:120]!r}: the reply is not Amazon Nova's shape (output.message.content[0].text)"
        )
    if label not in CALL_REASONS:
        raise VerifyFailure(f"call_reason answered {label!r}, not one of {', '.join(CALL_REASONS)}")
    where = "Amazon Bedrock" if on_bedrock else "the local stand-in"
    return f"{label} from {where} for verify's fixed sentence"


def _sentiment_of(row: Mapping[str, Any]) -> tuple[str, float]:
    sentiment = str(row.get("sentiment") or "").strip().upper()
    if sentiment not in SENTIMENTS:
        raise VerifyFailure(
            f"aws_comprehend_detect_sentiment answered {row.get('sentiment')!r}, not a sentiment"
        )
    try:
        confidence = float(row["confidence"])
    except (KeyError, TypeError, ValueError):
        confidence = math.nan
    if not 0.0 <= confidence <= 1.0:
        raise VerifyFailure(f"aws_comprehend_detect_sentiment_confidence answered {row.get('confidence')!r}")
    return sentiment, confidence


def _agreement(context: VerifyContext, row: Row, got: Any, source: str) -> str:
    """`got` equals the model's probability for `row` within AGREEMENT_TOLERANCE, or VerifyFailure."""
    if got is None:
        raise VerifyFailure(f"{source} returned NULL for {who(row)}")
    expected = context.expected_probability(row)
    difference = abs(float(got) - expected)
    if not difference <= AGREEMENT_TOLERANCE:
        raise VerifyFailure(
            f"{source} gives {float(got):.9f} for {who(row)}; it disagrees with the model in "
            f"{context.model_dir} ({expected:.9f}) by {difference:.1e} (tolerance {AGREEMENT_TOLERANCE:.0e})"
        )
    return f"{who(row)}: {float(got):.6f}, model {expected:.6f} (differ by {difference:.1e})"


def check_will_churn(context: VerifyContext) -> str:
    row = context.customer()
    spec = context.explainer.spec
    scored = context.target.app.query(
        f"SELECT {will_churn_call(spec, 'c')} AS churn_probability FROM customers AS c"
        " WHERE c.area_code = %(area_code)s AND c.phone = %(phone)s",
        {"area_code": row["area_code"], "phone": row["phone"]},
    )
    return _agreement(context, row, scored[0]["churn_probability"], "will_churn")


def safe_location(location: str) -> str:
    """`location` as a SQL literal, refused unless it holds only characters that cannot end one."""
    try:
        return location_literal(location)
    except UnsafeLocation:
        raise VerifyFailure(
            f"export location {location!r} holds characters verify will not embed in SQL"
        ) from None


def export_sql(place: ExportPlace) -> str:
    """export_customers.<form>.sql with the location embedded: INTO OUTFILE takes no parameter."""
    return _template_statement(f"export_customers.{place.form}.sql", place)


def scratch_load_sql(place: ExportPlace, scratch_table: str) -> str:
    """load_customers.<form>.sql into `scratch_table`, with IGNORE instead of REPLACE."""
    statement = _template_statement(f"load_customers.{place.form}.sql", place)
    if statement.count(TEMPLATE_LOAD_TARGET) != 1:
        raise VerifyFailure(f"load_customers.{place.form}.sql no longer says {TEMPLATE_LOAD_TARGET!r}")
    return statement.replace(TEMPLATE_LOAD_TARGET, f"IGNORE INTO TABLE {quote_identifier(scratch_table)}")


def _template_statement(name: str, place: ExportPlace) -> str:
    safe_location(place.location)
    try:
        return template_with_location(name, place.placeholder, place.location)
    except UnsafeLocation as error:
        raise VerifyFailure(str(error)) from None


def _round_trip_sql(scratch_table: str) -> str:
    scratch = quote_identifier(scratch_table)
    same = " AND ".join(f"s.{quote_identifier(name)} <=> c.{quote_identifier(name)}" for name in COLUMN_NAMES)
    return (
        "SELECT (SELECT COUNT(*) FROM customers) AS exported,"
        f" (SELECT COUNT(*) FROM {scratch}) AS loaded,"
        f" (SELECT COUNT(*) FROM customers AS c JOIN {scratch} AS s ON {same}) AS identical"
    )


def check_export_load(context: VerifyContext) -> str:
    target = context.target
    scratch_table = f"verify_scratch_{secrets.token_hex(4)}"
    target.admin.execute(f"CREATE TABLE {quote_identifier(scratch_table)} LIKE customers")
    try:
        with target.export_place() as place:
            target.file_client.execute(export_sql(place))
            target.file_client.execute(scratch_load_sql(place, scratch_table))
            counts = target.app.query(_round_trip_sql(scratch_table))[0]
    finally:
        target.admin.execute(f"DROP TABLE IF EXISTS {quote_identifier(scratch_table)}")
    exported, loaded, identical = (int(counts[key]) for key in ("exported", "loaded", "identical"))
    if not exported == loaded == identical:
        raise VerifyFailure(
            f"exported {exported} customers, loaded {loaded} back, {identical} identical to the originals"
        )
    return f"{exported} customers exported to {place.location} and loaded back identical; scratch removed"


def check_call_centre(context: VerifyContext) -> str:
    row = context.customer_or_skip()
    rows = context.target.app.query(
        call_centre_sql(context.explainer.spec),
        {"area_code": row["area_code"], "phone": row["phone"], "message": SENTENCE},
    )
    if len(rows) != 1:
        raise VerifyFailure(f"the call-centre statement returned {len(rows)} rows for {who(row)}, not 1")
    sentiment, _ = _sentiment_of(rows[0])
    agreement = _agreement(context, row, rows[0]["churn_probability"], "the call-centre statement")
    return f"{agreement}; sentiment {sentiment}"


def check_recommend_api(context: VerifyContext) -> str:
    row = context.customer_or_skip()
    answer = context.target.recommend(int(row["area_code"]), str(row["phone"]), SENTENCE)
    offer_id = answer.get("offer_id")
    if offer_id is not None:  # the API records every answer: verify's own call is not a real one
        context.target.admin.execute(
            "DELETE FROM offers_log WHERE id = %(id)s AND area_code = %(area_code)s AND phone = %(phone)s",
            {"id": int(offer_id), "area_code": row["area_code"], "phone": row["phone"]},
        )
    agreement = _agreement(context, row, answer.get("churn_probability"), "the API")
    return f"{agreement}; offer {answer.get('offer')!r} (rule {answer.get('rule')!r}); its log row removed"


def check_console(context: VerifyContext) -> str:
    return context.target.console(context.test_customer_key())


Check = Callable[[VerifyContext], str]
CHECKS: tuple[tuple[str, Check], ...] = (
    (names.DATABASE_AWAKE, check_database_awake),
    (names.BOOTSTRAP_SQL, check_bootstrap_sql),
    (names.API_USER_GRANTS, check_api_user_grants),
    (names.SENTIMENT, check_sentiment),
    (names.CALL_REASON, check_call_reason),
    (names.WILL_CHURN, check_will_churn),
    (names.S3_EXPORT_LOAD, check_export_load),
    (names.CALL_CENTRE, check_call_centre),
    (names.RECOMMEND_API, check_recommend_api),
    (names.CONSOLE, check_console),
)
# What each check needs to have worked before it: when one of these failed, a later failure that no
# rule recognises is that failure's consequence, and is reported as such (with its cause and fix).
PREREQUISITES: Mapping[str, tuple[str, ...]] = {
    names.API_USER_GRANTS: (names.BOOTSTRAP_SQL,),
    names.CALL_REASON: (names.BOOTSTRAP_SQL,),
    names.WILL_CHURN: (names.BOOTSTRAP_SQL,),
    names.S3_EXPORT_LOAD: (names.BOOTSTRAP_SQL,),
    names.CALL_CENTRE: (names.BOOTSTRAP_SQL, names.SENTIMENT, names.WILL_CHURN),
    names.RECOMMEND_API: (names.BOOTSTRAP_SQL, names.SENTIMENT, names.WILL_CHURN),
    names.CONSOLE: (names.RECOMMEND_API,),
}
