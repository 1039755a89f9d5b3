"""The local Comprehend stand-ins: labels on clear cases, confidence range, odd inputs, language."""

import pymysql
import pytest

from churnguard.sentiment import install_sentiment_functions

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
    with pytest.raises(pymysql.err.OperationalError, match="only language code 'en'"):
        sentiment_db.query(LABEL, {"text": "Bonjour", "lang": lang})


def test_installing_twice_is_harmless(sentiment_db):
    install_sentiment_functions(sentiment_db)
    assert sentiment_of(sentiment_db, "How do I dial Morocco?")[0] == "NEUTRAL"
