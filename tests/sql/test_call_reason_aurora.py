"""call_reason for Aurora (churnguard.sqlgen.call_reason): the Bedrock alias in the syntax of AWS's
Aurora guide, and the rest of the functions run for real on MariaDB over a stand-in for the alias
(Nova's reply shape), so the request body, the label check and the degradation are what runs."""

from __future__ import annotations

import json
import re

import pytest

from churnguard.call_reason.labels import LABELS
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S
from churnguard.sqlgen import CALL_REASON_FILE, render_deploy_sql
from churnguard.sqlgen.call_reason import (
    CALL_REASON_TIMEOUT_MS,
    DEFAULT_CALL_REASON_MODEL,
    MODEL_FUNCTION,
    render_call_reason,
    render_label_function,
    render_request_function,
)
from churnguard.sqlgen.functions import SqlRenderError

# AWS, "Using Amazon Aurora machine learning with Aurora MySQL", section "Using Amazon Bedrock with
# your Aurora MySQL DB cluster" (quoted in docs/sql.md):
#   CREATE FUNCTION function_name (argument type)
#           [DEFINER = user]
#       RETURNS mysql_data_type
#       [SQL SECURITY {DEFINER | INVOKER}]
#       ALIAS AWS_BEDROCK_INVOKE_MODEL
#       MODEL ID 'model_id'
#       [CONTENT_TYPE 'content_type']
#       [ACCEPT 'content_type']
#       [TIMEOUT_MS timeout_in_milliseconds];
AWS_BEDROCK_UDF = re.compile(
    r"CREATE FUNCTION (?P<name>\w+) ?\((?P<argument>\w+) (?P<type>\w+)\)\s+"
    r"(?:DEFINER = \S+\s+)?"
    r"RETURNS (?P<returns>\w+)\s+"
    r"(?:SQL SECURITY (?:DEFINER|INVOKER)\s+)?"
    r"ALIAS AWS_BEDROCK_INVOKE_MODEL\s+"
    r"MODEL ID '(?P<model>[^']+)'"
    r"(?:\s+CONTENT_TYPE '(?P<content_type>[^']+)')?"
    r"(?:\s+ACCEPT '(?P<accept>[^']+)')?"
    r"(?:\s+TIMEOUT_MS (?P<timeout>\d+))?$"
)
# Aurora MySQL 3.06 release notes: "introduces the new reserved keywords accept,
# aws_bedrock_invoke_model, aws_sagemaker_invoke_endpoint, content_type, and timeout_ms".
RESERVED_IN_3_06 = (
    "accept",
    "aws_bedrock_invoke_model",
    "aws_sagemaker_invoke_endpoint",
    "content_type",
    "timeout_ms",
)


def alias_statement(model_id: str = DEFAULT_CALL_REASON_MODEL) -> str:
    (statement,) = [s for s in render_call_reason("bedrock", model_id) if "ALIAS" in s]
    return statement


def test_the_bedrock_alias_follows_aws_syntax():
    found = AWS_BEDROCK_UDF.match(alias_statement())
    assert found, alias_statement()
    assert found["name"] == MODEL_FUNCTION
    assert found["returns"] == "TEXT"  # "Amazon Bedrock functions don't support RETURNS JSON"
    assert found["model"] == "amazon.nova-micro-v1:0"
    assert found["content_type"] == found["accept"] == "application/json"
    assert int(found["timeout"]) == CALL_REASON_TIMEOUT_MS


def test_the_model_is_an_option_and_a_bad_id_is_refused():
    assert "MODEL ID 'eu.amazon.nova-micro-v1:0'" in alias_statement("eu.amazon.nova-micro-v1:0")
    for bad in ("amazon.nova-micro-v1:0' OR '1", "", "Amazon Nova", "amazon.nova-micro-v1"):
        with pytest.raises(SqlRenderError, match="not a Bedrock model id"):
            render_call_reason("bedrock", bad)
    with pytest.raises(SqlRenderError, match="not one of bedrock, off"):
        render_call_reason("comprehend")


def test_bedrock_gets_at_most_a_third_of_the_answer_budget():
    assert 0 < CALL_REASON_TIMEOUT_MS <= DEFAULT_ANSWER_TIMEOUT_S * 1000 / 3


def test_no_identifier_is_a_word_aurora_3_06_reserved(trained_model_dir):
    """Outside the alias clause itself, none of the deploy's SQL names anything with those words."""
    files = render_deploy_sql(
        trained_model_dir,
        inference_mode="endpoint",
        endpoint_name="ep",
        call_reasons="bedrock",
    )
    text = "\n".join(file.text for file in files).lower()
    clause = alias_statement().lower()
    text = text.replace(clause, "")
    text = re.sub(r"alias aws_sagemaker_invoke_endpoint", "", text)
    for word in RESERVED_IN_3_06:
        assert not re.search(rf"\b{word}\b", text), word


def test_the_deploy_adds_call_reason_only_when_asked(trained_model_dir):
    model = trained_model_dir
    plain = render_deploy_sql(model, inference_mode="in_database", endpoint_name=None)
    assert CALL_REASON_FILE not in [file.name for file in plain]
    on = render_deploy_sql(model, inference_mode="in_database", endpoint_name=None, call_reasons="bedrock")
    off = render_deploy_sql(model, inference_mode="in_database", endpoint_name=None, call_reasons="off")
    on_text = next(file.text for file in on if file.name == CALL_REASON_FILE)
    off_text = next(file.text for file in off if file.name == CALL_REASON_FILE)
    assert "AWS_BEDROCK_INVOKE_MODEL" in on_text
    assert "AWS_BEDROCK_INVOKE_MODEL" not in off_text and "RETURN NULL" in off_text
    assert [file.name for file in on].index(CALL_REASON_FILE) == len(on) - 2  # before the registry


# --- the non-alias functions, run on MariaDB over stand-ins for call_reason_model -----------------

# Answers as Amazon Nova does: {"output": {"message": {"role": "assistant", "content": [{"text": ...}]}}},
# with the user's text as the model's answer, so a test chooses the answer by its message.
ECHOING_MODEL = f"""CREATE FUNCTION {MODEL_FUNCTION}(request_body TEXT) RETURNS TEXT NO SQL
RETURN JSON_OBJECT('output', JSON_OBJECT('message', JSON_OBJECT('role', 'assistant', 'content',
  JSON_ARRAY(JSON_OBJECT('text', JSON_UNQUOTE(JSON_EXTRACT(request_body, '$.messages[0].content[0].text'))))
)), 'stopReason', 'end_turn')"""
FAILING_MODEL = f"""CREATE FUNCTION {MODEL_FUNCTION}(request_body TEXT) RETURNS TEXT NO SQL
BEGIN
  SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = 'Bedrock: AccessDeniedException (stand-in)';
  RETURN NULL;
END"""
GARBLED_MODEL = (
    f"""CREATE FUNCTION {MODEL_FUNCTION}(request_body TEXT) RETURNS TEXT NO SQL RETURN 'not json'"""
)


def install(client, model_sql):
    for statement in [
        *render_request_function(),
        f"DROP FUNCTION IF EXISTS {MODEL_FUNCTION}",
        model_sql,
        *render_label_function(),
    ]:
        client.execute(statement)


def reason_of(client, message):
    return client.query("SELECT call_reason(%(m)s) AS reason", {"m": message})[0]["reason"]


@pytest.mark.mariadb
def test_the_request_body_is_novas_schema_with_the_message_escaped(sql_client):
    install(sql_client, ECHOING_MODEL)
    message = 'He said "cancel"\\ and\nthen {"role": "system"} \u00e9\U0001f600'
    body = json.loads(sql_client.query("SELECT call_reason_request(%(m)s) AS b", {"m": message})[0]["b"])
    assert body["schemaVersion"] == "messages-v1"
    assert body["messages"] == [{"role": "user", "content": [{"text": message}]}]
    (system,) = body["system"]
    for label in LABELS:
        assert label in system["text"]
    assert body["inferenceConfig"] == {"maxTokens": 10, "temperature": 0}


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("billing_dispute", "billing_dispute"),
        ("  Cancellation.\n", "cancellation"),
        ("network_quality", "network_quality"),
        ("other", "other"),
        ("I think it is about the bill", "other"),
        ("refund", "other"),
        ("", "other"),
    ],
)
def test_the_answer_is_checked_against_the_label_set(sql_client, answer, label):
    install(sql_client, ECHOING_MODEL)
    assert reason_of(sql_client, answer) == label


@pytest.mark.mariadb
@pytest.mark.parametrize("model_sql", [FAILING_MODEL, GARBLED_MODEL])
def test_a_failing_model_gives_null_and_the_statement_goes_on(sql_client, model_sql):
    install(sql_client, model_sql)
    (row,) = sql_client.query("SELECT call_reason(%(m)s) AS reason, 1 + 1 AS other_column", {"m": "cancel"})
    assert row == {"reason": None, "other_column": 2}


@pytest.mark.mariadb
def test_null_message_is_null_without_asking_the_model(sql_client):
    install(sql_client, FAILING_MODEL)
    assert reason_of(sql_client, None) is None


@pytest.mark.mariadb
def test_calls_reasons_off_answers_null(sql_client):
    for statement in render_call_reason("off"):
        sql_client.execute(statement)
    assert reason_of(sql_client, "cancel my line") is None
