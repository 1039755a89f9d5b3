"""The local call_reason stand-in on MariaDB: every answer is a label, clear cases, odd inputs, and its
agreement with the labelled messages (tuning and held-out parts) at the figures docs/sql.md reports."""

import pytest

from churnguard.call_reason import install_call_reason_function, normalise, phrase_pattern
from churnguard.call_reason.fidelity import fidelity
from churnguard.call_reason.labels import CALL_REASON_CHARS, LABELS
from tests.call_reason.labelled import HELD_OUT, TUNING, labelled

pytestmark = pytest.mark.mariadb

REASON = "SELECT call_reason(%(message)s) AS reason"
# The figures docs/sql.md reports (held-out: measured once, after the phrases were final).
TUNING_AGREEMENT = 1.0
HELD_OUT_AGREEMENT = 81 / 90


@pytest.fixture()
def reason_db(sql_client):
    install_call_reason_function(sql_client)
    return sql_client


def reason_of(client, message):
    return client.query(REASON, {"message": message})[0]["reason"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("You charged me twice", "billing_dispute"),
        ("no signal at home for a week", "network_quality"),
        ("Cancel my line", "cancellation"),
        ("How do I dial Morocco?", "international_roaming"),
        ("I want to upgrade to unlimited data", "plan_change"),
        ("What are your opening hours?", "other"),
        ("I\u2019ve been CANCELLING for weeks!!!", "cancellation"),
        ("", "other"),
        ("\u00e9\u00e8\u00ea \u4f60\u597d \U0001f600", "other"),
    ],
)
def test_clear_and_odd_cases(reason_db, message, expected):
    assert reason_of(reason_db, message) == expected


def test_null_message_is_null(reason_db):
    assert reason_of(reason_db, None) is None


def test_a_long_message_is_answered(reason_db):
    message = "blah " * 13_000 + "please cancel my contract"
    assert reason_of(reason_db, message) == "cancellation"


def test_a_quote_or_backslash_in_a_message_is_data(reason_db):
    assert reason_of(reason_db, "it's \\' OR 1=1; -- cancel") == "cancellation"


def test_a_tie_goes_to_the_first_in_priority(reason_db):
    # 'cancel*' (4) and 'abroad' (4): cancellation comes first.
    assert reason_of(reason_db, "cancel it, I live abroad now") == "cancellation"


def test_every_label_fits_the_declared_width():
    assert max(len(label) for label in LABELS) <= CALL_REASON_CHARS


def test_phrases_are_matched_as_the_function_normalises():
    assert normalise("Don\u2019t  RENEW, it's over!") == " dont renew its over "
    assert phrase_pattern("cancel*") == " cancel"
    assert phrase_pattern("no signal") == " no signal "
    with pytest.raises(ValueError, match="only a-z"):
        phrase_pattern("don't")


def measured(client, path):
    return fidelity((label, reason_of(client, message)) for label, message in labelled(path))


def test_agreement_on_the_tuning_messages(reason_db):
    result = measured(reason_db, TUNING)
    print(f"\ntuning: {result.agreed}/{result.total}\n{result.table()}")
    assert result.total == 150
    assert result.agreement == pytest.approx(TUNING_AGREEMENT, abs=1e-9)


def test_agreement_on_the_held_out_messages(reason_db):
    result = measured(reason_db, HELD_OUT)
    print(f"\nheld out: {result.agreed}/{result.total}\n{result.table()}")
    assert result.total == 90
    assert result.agreement == pytest.approx(HELD_OUT_AGREEMENT, abs=1e-9)
