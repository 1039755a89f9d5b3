"""Local stand-ins for Aurora's Comprehend functions, installed as SQL into the local database.

`aws_comprehend_detect_sentiment(text, lang)` returns POSITIVE, NEGATIVE, NEUTRAL or MIXED and
`aws_comprehend_detect_sentiment_confidence(text, lang)` the confidence (0..1) of that label, as on
Aurora, so the call-centre SQL runs unchanged. Method (a lexicon, not a model; see docs/sql.md):
1. lower-case the text, keep letters and apostrophes, split into words;
2. look each word up in the lexicon (valence -4..+4, churnguard.sentiment.lexicon); a negator
   among the two words before flips and halves it, an intensifier just before raises it by half;
3. pos = sum of positive valences, neg = sum of |negative valences|, mixed = 2 * min(pos, neg),
   neutral = 0.5; the label is the largest of the four (ties go to NEUTRAL, then MIXED) and the
   confidence is its share of their total.
Only English ('en') is supported: any other language code raises an error naming it (Comprehend
itself rejects unsupported languages too). A NULL text gives NULL.

Each function walks the words once in a loop of plain expressions, with the lexicon written into
its body as space-delimited text (` word=valence `), so it runs no query: an answer's sentiment
statement costs the server about a quarter of what the earlier set-based form (JSON_TABLE, LAG,
four joins on a lexicon table) did, for the same labels and confidences (docs/experiments/engine-load.md,
"First round"). Each function works out its own answer, as two separate calls to Comprehend would:
the call-centre statement asks for the label and the confidence of the same text, so the words are
walked twice. Nothing here runs on Aurora, where the functions are built in.
"""

from __future__ import annotations

from churnguard.sentiment.lexicon import INTENSIFIED_WEIGHT, INTENSIFIERS, NEGATED_WEIGHT, NEGATORS, VALENCE
from churnguard.sql_client import SqlClient

LABEL_FUNCTION = "aws_comprehend_detect_sentiment"
CONFIDENCE_FUNCTION = "aws_comprehend_detect_sentiment_confidence"
SUPPORTED_LANGUAGE = "en"
NEUTRAL_WEIGHT = 0.5


_LABEL_SQL = f"""CASE
    WHEN best = {NEUTRAL_WEIGHT!r} THEN 'NEUTRAL'
    WHEN best = mixed THEN 'MIXED'
    WHEN best = pos THEN 'POSITIVE'
    ELSE 'NEGATIVE' END"""

_CONFIDENCE_SQL = f"best / ({NEUTRAL_WEIGHT!r} + pos + neg + mixed)"


def _binary_literal(text: str) -> str:
    # Lexicon words are lower-case letters and apostrophes (checked in lexicon_text): doubling the
    # apostrophe is the whole escaping. Binary, so LOCATE compares bytes instead of collating.
    return "_binary'" + text.replace("'", "''") + "'"


def lexicon_text() -> tuple[str, str, str]:
    """The valences (` word=valence ... `), the negators and the intensifiers (` word ... `) as the
    functions search them: each entry between spaces, so LOCATE finds whole words only."""
    words = [*VALENCE, *NEGATORS, *INTENSIFIERS]
    odd = [word for word in words if not word or word.strip("abcdefghijklmnopqrstuvwxyz'")]
    if odd:
        raise ValueError(f"lexicon words may hold only a-z and apostrophes: {odd}")
    valences = " " + " ".join(f"{word}={float(valence)!r}" for word, valence in VALENCE.items()) + " "
    return valences, " " + " ".join(NEGATORS) + " ", " " + " ".join(INTENSIFIERS) + " "


def _listed(word: str, words: str) -> str:
    return f"LOCATE(CONCAT(' ', {word}, ' '), {words}) > 0"


def _function_sql(name: str, returns: str, answer: str) -> str:
    valences, negators, intensifiers = (_binary_literal(text) for text in lexicon_text())
    message = f"{name} (local stand-in): only language code ''{SUPPORTED_LANGUAGE}'' is supported"
    # BEGIN..END is sent as one statement through the client (no DELIMITER). Words are bytes
    # (MEDIUMBLOB: a TEXT argument of 65,535 bytes plus the closing space fits) so the loop's
    # LOCATE and SUBSTRING work on bytes; after the REGEXP_REPLACE only a-z, ' and spaces are left.
    return f"""CREATE FUNCTION {name}(input_text TEXT, language_code VARCHAR(8)) RETURNS {returns}
  DETERMINISTIC NO SQL
  COMMENT 'churnguard local stand-in for the Aurora built-in: lexicon-based'
BEGIN
  DECLARE words, word, prev1, prev2 MEDIUMBLOB DEFAULT '';
  DECLARE here, gap, found INT DEFAULT 1;
  DECLARE pos, neg, valence, mixed, best DOUBLE DEFAULT 0;
  IF language_code IS NULL OR language_code <> '{SUPPORTED_LANGUAGE}' THEN
    SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = '{message}';
  END IF;
  IF input_text IS NULL THEN
    RETURN NULL;
  END IF;
  SET words = CAST(CONCAT(TRIM(REGEXP_REPLACE(LOWER(REPLACE(input_text, '\u2019', '''')),
    '[^a-z'']+', ' ')), ' ') AS BINARY);
  WHILE here <= LENGTH(words) DO
    -- One SET per word (its assignments run in order): each stored-program instruction has a
    -- fixed cost of its own, larger than these expressions'.
    SET prev2 = prev1, prev1 = word, gap = LOCATE(' ', words, here),
      word = SUBSTRING(words, here, gap - here), here = gap + 1,
      found = LOCATE(CONCAT(' ', word, '='), {valences});
    IF found > 0 THEN
      SET valence = SUBSTRING_INDEX(SUBSTRING({valences}, found + LENGTH(word) + 2), ' ', 1)
          * IF({_listed("prev1", negators)} OR {_listed("prev2", negators)}, {NEGATED_WEIGHT!r}, 1)
          * IF({_listed("prev1", intensifiers)}, {INTENSIFIED_WEIGHT!r}, 1),
        pos = pos + GREATEST(valence, 0), neg = neg + GREATEST(-valence, 0);
    END IF;
  END WHILE;
  SET mixed = 2 * LEAST(pos, neg), best = GREATEST({NEUTRAL_WEIGHT!r}, pos, neg, mixed);
  RETURN {answer};
END"""


def sentiment_function_statements() -> list[str]:
    """DROP + CREATE for both functions; each statement is sent whole (BEGIN..END included)."""
    return [
        f"DROP FUNCTION IF EXISTS {LABEL_FUNCTION}",
        _function_sql(LABEL_FUNCTION, "VARCHAR(8)", _LABEL_SQL),
        f"DROP FUNCTION IF EXISTS {CONFIDENCE_FUNCTION}",
        _function_sql(CONFIDENCE_FUNCTION, "DOUBLE", _CONFIDENCE_SQL),
    ]


def install_sentiment_functions(client: SqlClient) -> None:
    """Create (or refresh) both functions; safe to run again."""
    for statement in sentiment_function_statements():
        client.execute(statement)
