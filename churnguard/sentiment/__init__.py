"""Local stand-ins for Aurora's Comprehend functions, installed as SQL into the local database.

`aws_comprehend_detect_sentiment(text, lang)` returns POSITIVE, NEGATIVE, NEUTRAL or MIXED and
`aws_comprehend_detect_sentiment_confidence(text, lang)` the confidence (0..1) of that label, as on
Aurora, so the call-centre SQL runs unchanged. Method (a lexicon, not a model; see docs/sql.md):
1. lower-case the text, keep letters and apostrophes, split into words;
2. look each word up in sentiment_lexicon (valence -4..+4, churnguard.sentiment.lexicon); a negator
   among the two words before flips and halves it, an intensifier just before raises it by half;
3. pos = sum of positive valences, neg = sum of |negative valences|, mixed = 2 * min(pos, neg),
   neutral = 0.5; the label is the largest of the four (ties go to NEUTRAL, then MIXED) and the
   confidence is its share of their total.
Only English ('en') is supported: any other language code raises an error naming it (Comprehend
itself rejects unsupported languages too). A NULL text gives NULL.
"""

from __future__ import annotations

from churnguard.sentiment.lexicon import INTENSIFIED_WEIGHT, INTENSIFIERS, NEGATED_WEIGHT, NEGATORS, VALENCE
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.loading import insert_rows, insert_sql

LABEL_FUNCTION = "aws_comprehend_detect_sentiment"
CONFIDENCE_FUNCTION = "aws_comprehend_detect_sentiment_confidence"
LEXICON_TABLE = "sentiment_lexicon"
SUPPORTED_LANGUAGE = "en"
NEUTRAL_WEIGHT = 0.5
MAX_WORD_LENGTH = 64

LEXICON_TABLE_SQL = f"""CREATE TABLE IF NOT EXISTS {LEXICON_TABLE} (
  word    VARCHAR({MAX_WORD_LENGTH}) NOT NULL,
  kind    VARCHAR(12) NOT NULL,
  valence DOUBLE NOT NULL,
  PRIMARY KEY (word, kind)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"""

# Words as a JSON array: everything but letters and apostrophes becomes a separator, so the array
# text never holds a quote or backslash of the input; typographic apostrophes count as apostrophes.
_WORDS_JSON = (
    "CONCAT('[\"', REPLACE(TRIM(REGEXP_REPLACE(LOWER(REPLACE(input_text, '\u2019', '''')), "
    "'[^a-z'']+', ' ')), ' ', '\",\"'), '\"]')"
)

_WEIGHTS_SQL = f"""SELECT COALESCE(SUM(GREATEST(v, 0)), 0) AS pos, COALESCE(SUM(GREATEST(-v, 0)), 0) AS neg
    FROM (
      SELECT w.valence
        * CASE WHEN n1.word IS NOT NULL OR n2.word IS NOT NULL THEN {NEGATED_WEIGHT!r} ELSE 1 END
        * CASE WHEN i1.word IS NOT NULL THEN {INTENSIFIED_WEIGHT!r} ELSE 1 END AS v
      FROM (
        SELECT t.word, LAG(t.word, 1) OVER (ORDER BY t.position) AS prev1,
               LAG(t.word, 2) OVER (ORDER BY t.position) AS prev2
        FROM JSON_TABLE({_WORDS_JSON}, '$[*]' COLUMNS (
          position FOR ORDINALITY,
          word VARCHAR({MAX_WORD_LENGTH}) CHARACTER SET utf8mb4 PATH '$'
        )) AS t
      ) AS tokens
      JOIN {LEXICON_TABLE} AS w ON w.word = tokens.word COLLATE utf8mb4_bin AND w.kind = 'valence'
      LEFT JOIN {LEXICON_TABLE} AS n1 ON n1.word = tokens.prev1 COLLATE utf8mb4_bin AND n1.kind = 'negator'
      LEFT JOIN {LEXICON_TABLE} AS n2 ON n2.word = tokens.prev2 COLLATE utf8mb4_bin AND n2.kind = 'negator'
      LEFT JOIN {LEXICON_TABLE} AS i1
        ON i1.word = tokens.prev1 COLLATE utf8mb4_bin AND i1.kind = 'intensifier'
    ) AS scored"""

# The four weights and the winning one, from the pos/neg row above.
_SCORES_SQL = f"""SELECT pos, neg, 2 * LEAST(pos, neg) AS mixed,
      GREATEST({NEUTRAL_WEIGHT!r}, pos, neg, 2 * LEAST(pos, neg)) AS best
    FROM ({_WEIGHTS_SQL}) AS weights"""

_LABEL_SQL = f"""CASE
      WHEN best = {NEUTRAL_WEIGHT!r} THEN 'NEUTRAL'
      WHEN best = mixed THEN 'MIXED'
      WHEN best = pos THEN 'POSITIVE'
      ELSE 'NEGATIVE' END"""

_CONFIDENCE_SQL = f"best / ({NEUTRAL_WEIGHT!r} + pos + neg + mixed)"


def _language_guard(function: str) -> str:
    message = f"{function} (local stand-in): only language code ''{SUPPORTED_LANGUAGE}'' is supported"
    return (
        f"IF language_code IS NULL OR language_code <> '{SUPPORTED_LANGUAGE}' THEN\n"
        f"    SIGNAL SQLSTATE '22023' SET MESSAGE_TEXT = '{message}';\n"
        f"  END IF;"
    )


def _function_sql(name: str, returns: str, value_sql: str) -> str:
    # BEGIN..END is sent as one statement through the client (no DELIMITER): the language check
    # needs SIGNAL, which a bare RETURN expression cannot do.
    return (
        f"CREATE FUNCTION {name}(input_text TEXT, language_code VARCHAR(8)) RETURNS {returns}\n"
        f"  DETERMINISTIC READS SQL DATA\n"
        f"  COMMENT 'churnguard local stand-in for the Aurora built-in: lexicon-based'\n"
        f"BEGIN\n"
        f"  {_language_guard(name)}\n"
        f"  IF input_text IS NULL THEN\n"
        f"    RETURN NULL;\n"
        f"  END IF;\n"
        f"  RETURN (SELECT {value_sql} FROM ({_SCORES_SQL}) AS scores);\n"
        f"END"
    )


def sentiment_function_statements() -> list[str]:
    """DROP + CREATE for both functions; each statement is sent whole (BEGIN..END included)."""
    return [
        f"DROP FUNCTION IF EXISTS {LABEL_FUNCTION}",
        _function_sql(LABEL_FUNCTION, "VARCHAR(8)", _LABEL_SQL),
        f"DROP FUNCTION IF EXISTS {CONFIDENCE_FUNCTION}",
        _function_sql(CONFIDENCE_FUNCTION, "DOUBLE", _CONFIDENCE_SQL),
    ]


def lexicon_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"word": word, "kind": "valence", "valence": float(valence)} for word, valence in VALENCE.items()
    ]
    rows += [{"word": word, "kind": "negator", "valence": 0.0} for word in NEGATORS]
    rows += [{"word": word, "kind": "intensifier", "valence": 0.0} for word in INTENSIFIERS]
    return rows


def install_sentiment_functions(client: SqlClient) -> None:
    """Create (or refresh) the lexicon table and both functions; safe to run again."""
    client.execute(LEXICON_TABLE_SQL)
    with client.transaction():
        client.execute(f"DELETE FROM {LEXICON_TABLE}")
        insert_rows(client, insert_sql(LEXICON_TABLE, ("word", "kind", "valence")), lexicon_rows())
    for statement in sentiment_function_statements():
        client.execute(statement)
