"""The local stand-in for Aurora's `call_reason(message)` (Amazon Bedrock there), installed as SQL into
the local database with the same name and signature, so the call-centre SQL runs unchanged.

Method (a phrase list, not a model; churnguard.call_reason.phrases, docs/sql.md):
1. lower-case the message, drop apostrophes, turn anything but a-z and 0-9 into spaces;
2. for each label, add up the weights of its phrases found in it (whole words, or a word start for
   a phrase ending in "*"), each phrase once;
3. the label with the highest score, ties going to the first in PRIORITY; no phrase at all: `other`.
A NULL message gives NULL. The phrases are written into the function's body, so it runs no query
(NO SQL), like the sentiment stand-in. How often it agrees with labels written by a person, on
messages it was not built from, is measured in tests/call_reason and reported in docs/sql.md.
"""

from __future__ import annotations

import re

from churnguard.call_reason.labels import CALL_REASON_CHARS, FUNCTION, LABELS, OTHER
from churnguard.call_reason.phrases import PHRASES, PRIORITY
from churnguard.sql_client import SqlClient

_PHRASE = re.compile(r"^[a-z0-9]+( [a-z0-9]+)*\*?$")


def normalise(text: str) -> str:
    """What the function matches phrases in: lower case, no apostrophes, a-z0-9 words between spaces."""
    lowered = text.lower().replace("\u2019", "").replace("'", "")
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", lowered).split()) + " "


def phrase_pattern(phrase: str) -> str:
    """The bytes LOCATE looks for: ' words ' for a whole phrase, ' start' for one ending in '*'."""
    if not _PHRASE.match(phrase):
        raise ValueError(f"call-reason phrase {phrase!r}: only a-z, 0-9, single spaces and a final '*'")
    return f" {phrase[:-1]}" if phrase.endswith("*") else f" {phrase} "


def _score_sql(label: str) -> str:
    terms = [
        f"(LOCATE('{phrase_pattern(phrase)}', t) > 0) * {weight!r}"
        for phrase, weight in PHRASES[label].items()
    ]
    return "\n      + ".join(terms)


def _check_labels() -> None:
    if sorted(PRIORITY) != sorted(label for label in LABELS if label != OTHER) or set(PHRASES) != set(
        PRIORITY
    ):
        raise ValueError("call-reason phrases and PRIORITY must name every label but 'other', once each")


def call_reason_function_sql() -> str:
    """CREATE FUNCTION call_reason(message TEXT) RETURNS VARCHAR(32): the stand-in, sent whole."""
    _check_labels()
    scores = ",\n    ".join(f"s{position} = {_score_sql(label)}" for position, label in enumerate(PRIORITY))
    names = [f"s{position}" for position in range(len(PRIORITY))]
    best = ", ".join(names)
    pick = "\n    ".join(f"WHEN s{position} = best THEN '{label}'" for position, label in enumerate(PRIORITY))
    # Bytes (BINARY) so LOCATE compares bytes instead of collating; after the REGEXP_REPLACE only a-z,
    # 0-9 and spaces are left, with one space at each end.
    return f"""CREATE FUNCTION {FUNCTION}(message TEXT) RETURNS VARCHAR({CALL_REASON_CHARS})
  DETERMINISTIC NO SQL
  COMMENT 'churnguard local stand-in for the Bedrock call_reason: phrase-based'
BEGIN
  DECLARE t MEDIUMBLOB;
  DECLARE {best}, best DOUBLE DEFAULT 0;
  IF message IS NULL THEN
    RETURN NULL;
  END IF;
  SET t = CAST(CONCAT(' ', TRIM(REGEXP_REPLACE(LOWER(REPLACE(REPLACE(message, '\u2019', ''), '''', '')),
    '[^a-z0-9]+', ' ')), ' ') AS BINARY);
  SET {scores};
  SET best = GREATEST({best});
  RETURN CASE
    WHEN best = 0 THEN '{OTHER}'
    {pick}
  END;
END"""


def call_reason_function_statements() -> list[str]:
    """DROP + CREATE of the stand-in; each statement is sent whole (BEGIN..END included)."""
    return [f"DROP FUNCTION IF EXISTS {FUNCTION}", call_reason_function_sql()]


def install_call_reason_function(client: SqlClient) -> None:
    """Create (or refresh) the stand-in; safe to run again."""
    for statement in call_reason_function_statements():
        client.execute(statement)
