"""`offers report` arithmetic without a database: the difference between arms and its interval, the
verdict in words, the period header and the cost assumptions set beside the rules' offer costs."""

from __future__ import annotations

from datetime import date

import pytest

from churnguard.engine.economics import ModelEconomics
from churnguard.engine.report import (
    MIN_OUTCOMES_PER_ARM,
    arm_differences,
    cost_assumptions,
    format_report,
    newcombe_interval,
    period_words,
)
from churnguard.engine.rules import load_rules

# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17:873-890, Table II, method 10 (score interval, no continuity correction).
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE_II)
def test_the_difference_interval_matches_newcombes_published_values(counts, expected):
    low, high = newcombe_interval(*counts)
    assert (round(low, 4), round(high, 4)) == expected


def arm(name: str, outcomes: int, retained: int) -> dict:
    return {
        "experiment": "credit_15_vs_5",
        "arm": name,
        "outcomes": outcomes,
        "retained": retained,
        "retention": round(retained / outcomes, 4) if outcomes else None,
    }


def test_too_few_outcomes_say_so_plainly_with_the_figures_so_far():
    (few,) = arm_differences([arm("credit_15", 3, 2), arm("credit_5", 1, 1)])
    assert not few["enough_outcomes"]
    assert few["verdict"].startswith(
        f"not enough outcomes yet: credit_15 has 3, credit_5 has 1 of the {MIN_OUTCOMES_PER_ARM} recorded "
        "outcomes each arm needs; so far credit_15 - credit_5 = -33.3 points (95% interval"
    )
    (none,) = arm_differences([arm("credit_15", 3, 2), arm("credit_5", 0, 0)])
    assert none["difference"] is None and none["difference_95ci"] is None
    assert none["verdict"].endswith("credit_5 has 0 of the 30 recorded outcomes each arm needs")


def test_enough_outcomes_give_the_difference_its_interval_and_which_arm_keeps_more():
    (clear,) = arm_differences([arm("credit_15", 70, 56), arm("credit_5", 80, 48)])
    assert clear["enough_outcomes"] and clear["difference"] == pytest.approx(0.2)
    assert clear["difference_95ci"] == [0.0524, 0.3339]
    assert clear["verdict"] == (
        "credit_15 keeps more customers than credit_5: credit_15 - credit_5 = +20.0 points "
        "(95% interval +5.2 to +33.4 points)"
    )
    (unclear,) = arm_differences([arm("credit_15", 40, 20), arm("credit_5", 40, 22)])
    assert unclear["verdict"].startswith("no clear difference yet (the interval includes 0)")
    low, high = unclear["difference_95ci"]
    assert low < 0 < high


def test_the_period_reads_naturally():
    assert period_words(None, None, None) == "no offers recorded yet"
    assert period_words(date(2026, 11, 1), None, None) == "no offers since 2026-11-01"
    assert period_words(None, "2026-11-20 09:00:00", "2026-11-26 17:30:00") == (
        "every offer recorded, from 2026-11-20 to 2026-11-26"
    )
    assert period_words(date(2026, 11, 1), "2026-11-26 09:00:00", "2026-11-26 10:00:00") == (
        "since 2026-11-01: offers on 2026-11-26"
    )


def test_the_trainings_offer_cost_is_shown_beside_the_rules_offer_costs():
    economics = ModelEconomics(cutoff=0.11, offer_usd=50.0, lost_customer_usd=500.0, source="m/metadata.json")
    rules = load_rules(model_cutoff=economics.model_cutoff)
    by_rule = [
        {
            "rule": "negative_high_risk",
            "arm": None,
            "offer": "credit_25",
            "offers": 2,
            "cost_usd": 50.0,
            "degraded": 0,
        },
        {
            "rule": "positive_at_risk",
            "arm": None,
            "offer": "credit_5",
            "offers": 2,
            "cost_usd": 10.0,
            "degraded": 0,
        },
        {
            "rule": "no_rule_matched",
            "arm": None,
            "offer": "none",
            "offers": 5,
            "cost_usd": 0.0,
            "degraded": 0,
        },
    ]
    costs = cost_assumptions(economics, rules, by_rule)
    assert costs["training_offer_usd"] == 50.0 and costs["rules_offer_cost_usd"]["credit_25"] == 25.0
    assert costs["mean_cost_of_paid_offers_usd"] == 15.0  # $60 over the 4 offers that cost anything
    assert costs["agree"] is False
    assert cost_assumptions(None, rules, by_rule) is None
    report = {
        "period": "every offer recorded, on 2026-11-26",
        "total_offers": 9,
        "total_cost_usd": 60.0,
        "degraded": {"offers": 0, "without_sentiment": 0, "without_score": 0},
        "by_rule": by_rule,
        "retention_by_rule": [],
        "retention_by_offer": [],
        "retention_by_arm": [],
        "arm_differences": [],
        "outcome_kinds": {"accepted": 3, "declined": 2, "call_ended": 1, "without_kind": 0},
        "cost_assumptions": costs,
        "by_model": [],
    }
    text = format_report(report)
    assert text.startswith("Offers (every offer recorded, on 2026-11-26): 9, cost $60.00")
    assert "Outcomes recorded: 6 (3 accepted, 2 declined, 1 call ended, 0 retention only)" in text
    assert "cut-off 0.11 was chosen for offers costing $50.00 and lost customers costing $500.00" in text
    assert "pay $5.00 to $30.00 per offer; offers made cost $15.00 on average" in text
    assert "retrain with `churnguard train --offer-usd 15`" in text
