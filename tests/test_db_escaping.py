"""churnguard.db binds text parameters with PyMySQL's own escaping: every value must come back from
the server exactly as it was sent (quotes, backslashes, NUL bytes, SQL, emoji, the answer's drivers
JSON), in backslash mode and in NO_BACKSLASH_ESCAPES mode.
"""

from __future__ import annotations

import json
import random

import pytest

SPECIAL = ["\\", "\0", "\n", "\r", "\032", '"', "'"]
NASTY = [
    "",
    "plain",
    "\\' OR 1=1 -- ",
    "'; DROP TABLE customers; --",
    "\\\\'\\\"",
    "a\0b\0",
    "%s %(message)s {0}",
    "Great service 😀👍 thanks! \u2019 \u00e9",
    "\\",
    "'",
    json.dumps([{"text": 'He said "no", \\ then left', "value": 6.0}], sort_keys=True),
    "".join(SPECIAL) * 3,
]


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = [*SPECIAL, "a", "Z", " ", "%", "😀", "\u00e9", "\t", "\\0", "\\Z"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]


@pytest.mark.parametrize(
    "no_backslash_escapes", [False, True], ids=["backslash escapes", "NO_BACKSLASH_ESCAPES"]
)
def test_every_text_comes_back_from_the_server_as_it_was_sent(sql_client, no_backslash_escapes):
    if no_backslash_escapes:
        sql_client.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
    for text in [*NASTY, *random_texts(300, seed=11)]:
        (row,) = sql_client.query("SELECT %(text)s AS text, 1 AS still_one_statement", {"text": text})
        assert row == {"text": text, "still_one_statement": 1}, repr(text)
