"""call_reason(message) for Aurora: a model on Amazon Bedrock, called from SQL through Aurora machine
learning (docs/sql.md quotes the pages this rests on). Three objects, created by the bootstrap:

- `call_reason_request(message)`: the model's native InvokeModel body (Amazon Nova's messages
  schema), built with JSON_OBJECT so a quote, a backslash or a newline in the message is escaped as
  JSON, never pasted into it; the system prompt lists the labels and asks for one;
- `call_reason_model(request_body)`: Aurora's alias of AWS_BEDROCK_INVOKE_MODEL on the model id
  (`-c call_reason_model`, Amazon Nova Micro by default), with a TIMEOUT_MS inside the answer budget;
- `call_reason(message)`: the label. The reply's text is checked against the label set and anything
  else is read as `other`; when Bedrock fails or times out the function returns NULL instead of
  failing the statement, so the sentiment asked for in the same statement still comes back and the
  answer is made without a reason (degraded), in the same three Data API calls.

With `-c call_reasons=off` only `call_reason` is created, answering NULL, so the call-centre
statement keeps its text. The local stand-in (churnguard.call_reason) has the same name and signature.
"""

from __future__ import annotations

import re

from churnguard.call_reason.labels import CALL_REASON_CHARS, FUNCTION, LABEL_MEANINGS, LABELS, OTHER
from churnguard.engine.deadline import DEFAULT_ANSWER_TIMEOUT_S
from churnguard.sqlgen.functions import SqlRenderError

REQUEST_FUNCTION = "call_reason_request"
MODEL_FUNCTION = "call_reason_model"
DEFAULT_CALL_REASON_MODEL = "amazon.nova-micro-v1:0"
CALL_REASON_MODES: tuple[str, ...] = ("bedrock", "off")
# Bedrock model ids (amazon.nova-micro-v1:0) and inference profile ids (eu.amazon.nova-micro-v1:0):
# written into the function's DDL as a literal, so anything that could need escaping is refused.
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{0,100}:[0-9]{1,3}$")
# An answer's database calls share DEFAULT_ANSWER_TIMEOUT_S (churnguard.engine.deadline); the
# sentiment statement carries Comprehend and Bedrock. Bedrock gets 30% of the budget (1.5 s of 5 s),
# leaving the rest for the customer look-up, Comprehend and the offers-log write when it hangs.
BEDROCK_SHARE_OF_BUDGET = 0.3
CALL_REASON_TIMEOUT_MS = round(DEFAULT_ANSWER_TIMEOUT_S * 1000 * BEDROCK_SHARE_OF_BUDGET)
# The reply is one label: a few tokens. More would only cost output tokens.
MAX_ANSWER_TOKENS = 10
_PROMPT_TEXT = re.compile(r"^[A-Za-z0-9 ,.:;()_/-]+$")


def call_reason_prompt() -> str:
    """The system prompt: what the customer may be calling about, and the one-label answer wanted."""
    labels = "; ".join(f"{label}: {meaning}" for label, meaning in LABEL_MEANINGS.items())
    prompt = (
        "You classify why a customer of a mobile phone company is contacting the call centre. "
        f"The labels are: {labels}. Answer with exactly one label, in lower case, and nothing else."
    )
    if not _PROMPT_TEXT.match(prompt):  # written into the DDL as a literal: nothing to escape
        raise SqlRenderError("the call-reason prompt may hold only letters, digits, spaces and ,.:;()_/-")
    return prompt


def _check_model_id(model_id: str) -> str:
    if not MODEL_ID.match(model_id or ""):
        raise SqlRenderError(
            f"call_reason_model {model_id!r} is not a Bedrock model id such as {DEFAULT_CALL_REASON_MODEL!r}"
        )
    return model_id


def render_call_reason(mode: str, model_id: str = DEFAULT_CALL_REASON_MODEL) -> list[str]:
    """The Aurora statements for `-c call_reasons=<mode>`: the Bedrock functions, or a NULL answer."""
    if mode not in CALL_REASON_MODES:
        raise SqlRenderError(f"call_reasons {mode!r} is not one of {', '.join(CALL_REASON_MODES)}")
    if mode == "off":
        return [
            f"DROP FUNCTION IF EXISTS {MODEL_FUNCTION}",
            f"DROP FUNCTION IF EXISTS {REQUEST_FUNCTION}",
            f"DROP FUNCTION IF EXISTS {FUNCTION}",
            f"CREATE FUNCTION {FUNCTION}(message TEXT) RETURNS VARCHAR({CALL_REASON_CHARS})\n"
            f"  DETERMINISTIC NO SQL SQL SECURITY INVOKER\n"
            f"  COMMENT 'churnguard: call reasons are off in this deploy (-c call_reasons=off)'\n"
            f"  RETURN NULL",
        ]
    return [
        *render_request_function(),
        *render_model_function(model_id),
        *render_label_function(),
    ]


def render_request_function() -> list[str]:
    """call_reason_request(message): Nova's InvokeModel body; JSON_OBJECT escapes the message."""
    return [
        f"DROP FUNCTION IF EXISTS {REQUEST_FUNCTION}",
        f"CREATE FUNCTION {REQUEST_FUNCTION}(message TEXT) RETURNS TEXT\n"
        f"  DETERMINISTIC NO SQL SQL SECURITY INVOKER\n"
        f"  COMMENT 'churnguard: the Bedrock request body call_reason sends'\n"
        f"  RETURN JSON_OBJECT(\n"
        f"    'schemaVersion', 'messages-v1',\n"
        f"    'system', JSON_ARRAY(JSON_OBJECT('text', '{call_reason_prompt()}')),\n"
        f"    'messages', JSON_ARRAY(JSON_OBJECT(\n"
        f"      'role', 'user', 'content', JSON_ARRAY(JSON_OBJECT('text', message)))),\n"
        f"    'inferenceConfig', JSON_OBJECT('maxTokens', {MAX_ANSWER_TOKENS}, 'temperature', 0)\n"
        f"  )",
    ]


def render_model_function(model_id: str) -> list[str]:
    """call_reason_model(request_body): the Bedrock alias, in the syntax of AWS's Aurora guide."""
    return [
        f"DROP FUNCTION IF EXISTS {MODEL_FUNCTION}",
        f"CREATE FUNCTION {MODEL_FUNCTION}(request_body TEXT)\n"
        f"  RETURNS TEXT\n"
        f"  SQL SECURITY INVOKER\n"
        f"  ALIAS AWS_BEDROCK_INVOKE_MODEL\n"
        f"  MODEL ID '{_check_model_id(model_id)}'\n"
        f"  CONTENT_TYPE 'application/json'\n"
        f"  ACCEPT 'application/json'\n"
        f"  TIMEOUT_MS {CALL_REASON_TIMEOUT_MS}",
    ]


def render_label_function() -> list[str]:
    """call_reason(message): the model's answer read as a label; NULL when Bedrock fails."""
    labels = ", ".join(f"'{label}'" for label in LABELS)
    return [
        f"DROP FUNCTION IF EXISTS {FUNCTION}",
        f"CREATE FUNCTION {FUNCTION}(message TEXT) RETURNS VARCHAR({CALL_REASON_CHARS})\n"
        f"  NOT DETERMINISTIC CONTAINS SQL SQL SECURITY INVOKER\n"
        f"  COMMENT 'churnguard: why the customer calls, asked of a model on Amazon Bedrock'\n"
        f"BEGIN\n"
        f"  DECLARE answer TEXT;\n"
        f"  -- Bedrock refused, failed or timed out: no reason, and the statement goes on.\n"
        f"  DECLARE EXIT HANDLER FOR SQLEXCEPTION RETURN NULL;\n"
        f"  IF message IS NULL THEN\n"
        f"    RETURN NULL;\n"
        f"  END IF;\n"
        f"  SET answer = REGEXP_REPLACE(LOWER(JSON_UNQUOTE(JSON_EXTRACT(\n"
        f"    {MODEL_FUNCTION}({REQUEST_FUNCTION}(message)),\n"
        f"    '$.output.message.content[0].text'))), '[^a-z_]', '');\n"
        f"  RETURN IF(answer IN ({labels}), answer, '{OTHER}');\n"
        f"END",
    ]
