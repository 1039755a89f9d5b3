"""The demo's table: drivers by their plain label, correlated usage as one driver, the offer and rule."""

from __future__ import annotations

from pathlib import Path

from churnguard.demo import DemoCall, DemoResult, format_answers


def test_the_table_shows_drivers_by_plain_label_with_single_values():
    answer = {
        "churn_probability": 0.904,
        "sentiment": "NEGATIVE",
        "confidence": 0.933,
        "offer": "credit_25",
        "arm": None,
        "rule": "negative_high_risk",
        "drivers": [
            {
                "feature": "cust_service_calls",
                "label": "customer service calls",
                "contribution": 3.84,
                "columns": {"cust_service_calls": 6},
            },
            {
                "feature": "minutes_and_charges",
                "label": "minutes and charges",
                "contribution": 0.675,
                "columns": {"day_mins": 335.4, "total_charge": 98.2},
            },
            {
                "feature": "int_plan_no",
                "label": "international plan",
                "contribution": -0.29,
                "columns": {"int_plan": "yes"},
            },
            {
                "feature": "acc_length",
                "label": "account age (days)",
                "contribution": 0.01,
                "columns": {"acc_length": 1},
            },
        ],
    }
    result = DemoResult(
        answers=[answer],
        calls=[DemoCall(415, "358-1921", "You morons!", "planted demo customer, high risk")],
        training=None,  # type: ignore[arg-type]  (the table reads only the calls and answers)
        export_path=Path("export.csv"),
        customers=1,
    )
    header, rule, row = format_answers(result).splitlines()
    assert header.startswith("customer") and set(rule) <= {"-", " "}
    assert row.startswith("415 358-1921  planted demo customer, high risk  0.90  NEGATIVE 0.93")
    assert (
        "customer service calls 6 (+3.84), minutes and charges (+0.68), international plan yes (-0.29)" in row
    )
    assert "account age" not in row  # the top three only
    assert row.endswith("credit_25  negative_high_risk")
