"""The console's driver sentences read as English for one of a count too."""

from __future__ import annotations

import pytest

from churnguard.console.wording import driver_sentence


def driver(column: str, value: object, contribution: float = 0.5) -> dict:
    return {
        "feature": column,
        "columns": {column: value},
        "contribution": contribution,
        "effect": "raises churn risk",
        "text": f"{column} {value}: raises churn risk",
    }


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("cust_service_calls", 1, "1 call to customer service"),
        ("cust_service_calls", 6, "6 calls to customer service"),
        ("day_calls", 1, "1 daytime call"),
        ("vmail_msg", 1, "1 voice-mail message"),
        ("acc_length", 1, "account 1 day old"),
        ("acc_length", 120, "account 120 days old"),
        ("day_charge", 1, "$1 daytime charges"),
        ("int_plan", "yes", "international plan: yes"),
    ],
)
def test_a_single_column_driver_is_said_in_plain_words(column, value, words):
    assert driver_sentence(driver(column, value)) == f"{words}: raises churn risk"
