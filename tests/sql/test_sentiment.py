"""The local Comprehend stand-ins: labels on clear cases, confidence range, odd inputs, language, and
every answer equal to the documented method's, computed in Python."""

import random
import re

import pytest

from churnguard.engine.failures import StatementRefused
from churnguard.sentiment import install_sentiment_functions
from churnguard.sentiment.lexicon import INTENSIFIED_WEIGHT, INTENSIFIERS, NEGATED_WEIGHT, NEGATORS, VALENCE

pytestmark = pytest.mark.mariadb

LABEL = "SELECT aws_comprehend_detect_sentiment(%(text)s, %(lang)s) AS label"
BOTH = (
    "SELECT aws_comprehend_detect_sentiment(%(text)s, 'en') AS label,"
    " aws_comprehend_detect_sentiment_confidence(%(text)s, 'en') AS confidence"
)


@pytest.fixture()
def sentiment_db(sql_client):
    install_sentiment_functions(sql_client)
    return sql_client


def sentiment_of(client, text):
    row = client.query(BOTH, {"text": text})[0]
    return row["label"], row["confidence"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You morons! You charged me extra again!", "NEGATIVE"),
        ("Thank you very much for resolving the issues with my bill!", "POSITIVE"),
        ("How do I dial Morocco?", "NEUTRAL"),
        ("Calls keep dropping and your support doesn't care. I'm thinking of cancelling.", "NEGATIVE"),
        ("The agent was great, she fixed my voicemail in two minutes. Much appreciated.", "POSITIVE"),
        ("Please send me a copy of last month's bill.", "NEUTRAL"),
        ("I love the new phone but the coverage is terrible.", "MIXED"),
        ("The service is not good.", "NEGATIVE"),
        ("Honestly, not bad at all.", "POSITIVE"),
        ("THIS IS THE WORST SERVICE EVER", "NEGATIVE"),
        ("I\u2019m not happy, this is a scam", "NEGATIVE"),
    ],
)
def test_clear_cases(sentiment_db, text, expected):
    label, confidence = sentiment_of(sentiment_db, text)
    assert label == expected
    assert 0.0 < confidence <= 1.0


def test_stronger_wording_is_more_confident(sentiment_db):
    _, mild = sentiment_of(sentiment_db, "The call dropped.")
    _, strong = sentiment_of(sentiment_db, "The call dropped, terrible, useless, I hate this scam.")
    assert strong > mild


@pytest.mark.parametrize(
    "text",
    [
        "It's \"fine\"; really -- isn't it? \\ back\\slash ' quote",
        "Great service 😀👍 thanks!",
        "",
        "   ",
        "x" * 5000,
        ("terrible " * 600)[:5000],
    ],
)
def test_odd_texts_give_a_label(sentiment_db, text):
    label, confidence = sentiment_of(sentiment_db, text)
    assert label in {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert 0.0 < confidence <= 1.0


def test_null_text_gives_null(sentiment_db):
    assert sentiment_of(sentiment_db, None) == (None, None)


@pytest.mark.parametrize("lang", ["fr", "EN-us", None])
def test_other_languages_are_refused_by_name(sentiment_db, lang):
    with pytest.raises(StatementRefused, match="only language code 'en'"):
        sentiment_db.query(LABEL, {"text": "Bonjour", "lang": lang})


def test_installing_twice_is_harmless(sentiment_db):
    install_sentiment_functions(sentiment_db)
    assert sentiment_of(sentiment_db, "How do I dial Morocco?")[0] == "NEUTRAL"


def reference_sentiment(text):
    """The documented method (churnguard.sentiment's docstring) in Python, written from the docs."""
    words = re.sub(r"[^a-z']+", " ", text.replace("\u2019", "'").lower()).split()
    pos = neg = 0.0
    for position, word in enumerate(words):
        if word not in VALENCE:
            continue
        before = words[max(0, position - 2) : position]
        valence = float(VALENCE[word])
        if any(previous in NEGATORS for previous in before):
            valence *= NEGATED_WEIGHT
        if before and before[-1] in INTENSIFIERS:
            valence *= INTENSIFIED_WEIGHT
        pos, neg = pos + max(valence, 0.0), neg + max(-valence, 0.0)
    mixed = 2 * min(pos, neg)
    best = max(0.5, pos, neg, mixed)
    ranked = [(0.5, "NEUTRAL"), (mixed, "MIXED"), (pos, "POSITIVE"), (neg, "NEGATIVE")]  # ties: earliest
    label = next(name for weight, name in ranked if weight == best)
    return label, best / (0.5 + pos + neg + mixed)


def random_messages(count, seed):
    """Messages built from lexicon words, negators, intensifiers, other words and odd separators,
    so negation over one and two words, intensifiers and their combinations all occur often."""
    rng = random.Random(seed)
    others = ["the", "bill", "Morocco", "I'm", "don\u2019t", "NOT", "x" * 70]
    vocabulary = [*VALENCE, *NEGATORS, *INTENSIFIERS, *others]
    separators = [" ", ", ", "! ", "  ", "\n", "-", "?", " 42 ", " \u00e9 ", " 😀 "]
    return [
        "".join(rng.choice(vocabulary) + rng.choice(separators) for _ in range(rng.randint(0, 25)))
        for _ in range(count)
    ]


def test_every_answer_is_the_documented_methods(sentiment_db):
    messages = random_messages(400, seed=1729)
    answers = [sentiment_of(sentiment_db, message) for message in messages]
    expected = [reference_sentiment(message) for message in messages]
    assert {label for label, _ in answers} == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    for message, (label, confidence), (expected_label, expected_confidence) in zip(
        messages, answers, expected, strict=True
    ):
        assert (label, confidence) == (expected_label, pytest.approx(expected_confidence, abs=1e-12)), message


def test_negation_and_intensifiers_reach_the_right_words(sentiment_db):
    # "not" reaches two words on, "very" only the next one; a negated word counts half, reversed.
    assert sentiment_of(sentiment_db, "not very good") == ("NEGATIVE", pytest.approx(1.5 / 2.0))
    assert sentiment_of(sentiment_db, "not the good") == ("NEGATIVE", pytest.approx(1.0 / 1.5))
    assert sentiment_of(sentiment_db, "not the bill good") == ("POSITIVE", pytest.approx(2.0 / 2.5))
    assert sentiment_of(sentiment_db, "very the good") == ("POSITIVE", pytest.approx(2.0 / 2.5))
