"""The default rules, branch by branch, at and around every threshold in churnguard/rules/default.json."""

from __future__ import annotations

from collections import Counter

import pytest

from churnguard.engine.decide import assign_arm, decide
from churnguard.engine.rules import Experiment, ExperimentArm, ModelCutoff, load_rules

# The default rules refer to the model's cut-off; these tests give it 0.3 (the demo's model chose 0.11).
CUTOFF = ModelCutoff(0.3, "model/metadata.json")
RULES = load_rules(model_cutoff=CUTOFF)


def customer(calls: int = 1, int_plan: str = "no", phone: str = "358-1921") -> dict[str, object]:
    return {"area_code": 415, "phone": phone, "cust_service_calls": calls, "int_plan": int_plan}


# sentiment, confidence, churn probability, customer service calls, int_plan -> rule, offer
# (the model's cut-off is 0.3 here)
CASES = [
    # positive, confident: below the cut-off nothing, from the cut-off a $5 credit
    ("POSITIVE", 0.90, 0.10, 1, "no", "positive_low_risk", "none"),
    ("POSITIVE", 0.51, 0.2999, 7, "no", "positive_low_risk", "none"),
    ("POSITIVE", 0.90, 0.30, 1, "no", "positive_at_risk", "credit_5"),
    ("POSITIVE", 0.90, 0.99, 1, "yes", "positive_at_risk", "credit_5"),
    # negative, confident: below the cut-off nothing, [cut-off, 0.8] experiment, above 0.8 a $25 credit
    ("NEGATIVE", 0.95, 0.00, 1, "no", "negative_low_risk", "none"),
    ("NEGATIVE", 0.95, 0.2999, 6, "no", "negative_low_risk", "none"),
    ("NEGATIVE", 0.95, 0.30, 1, "no", "negative_medium_risk", None),
    ("NEGATIVE", 0.95, 0.80, 1, "no", "negative_medium_risk", None),
    ("NEGATIVE", 0.71, 0.81, 1, "no", "negative_high_risk", "credit_25"),
    ("NEGATIVE", 0.99, 1.00, 9, "no", "negative_high_risk", "credit_25"),
    # confidence not above the threshold: the customer rules decide
    ("POSITIVE", 0.50, 0.90, 4, "no", "frequent_caller_without_intl_plan", "intl_minutes_1000"),
    ("NEGATIVE", 0.70, 0.90, 1, "no", "at_risk_other_sentiment", "credit_5"),
    ("NEGATIVE", 0.70, 0.29, 1, "no", "no_rule_matched", "none"),
    # neutral and mixed: frequent callers (4 or more calls) without an international plan get minutes,
    # anyone else at or above the cut-off a $5 credit
    ("NEUTRAL", 0.99, 0.90, 4, "no", "frequent_caller_without_intl_plan", "intl_minutes_1000"),
    ("MIXED", 0.99, 0.10, 9, "no", "frequent_caller_without_intl_plan", "intl_minutes_1000"),
    ("MIXED", 0.99, 0.96, 1, "no", "at_risk_other_sentiment", "credit_5"),
    ("NEUTRAL", 0.99, 0.30, 3, "no", "at_risk_other_sentiment", "credit_5"),
    ("NEUTRAL", 0.99, 0.2999, 5, "yes", "no_rule_matched", "none"),
    # degraded, no sentiment (Comprehend failed): from the cut-off a $5 credit, then the customer rules
    (None, None, 0.30, 1, "no", "high_risk_sentiment_unknown", "credit_5"),
    (None, None, 0.29, 4, "no", "frequent_caller_without_intl_plan", "intl_minutes_1000"),
    (None, None, 0.10, 1, "no", "no_rule_matched", "none"),
    # degraded, no churn score (the model failed): a confidently negative message gets $5; the customer
    # rule on the churn probability cannot hold without one
    ("NEGATIVE", 0.71, None, 1, "no", "negative_risk_unknown", "credit_5"),
    ("NEGATIVE", 0.70, None, 4, "no", "frequent_caller_without_intl_plan", "intl_minutes_1000"),
    ("POSITIVE", 0.99, None, 1, "no", "no_rule_matched", "none"),
]


@pytest.mark.parametrize(("sentiment", "confidence", "risk", "calls", "int_plan", "rule", "offer"), CASES)
def test_default_rules_pick_the_intended_branch(sentiment, confidence, risk, calls, int_plan, rule, offer):
    decision = decide(
        RULES,
        sentiment=sentiment,
        confidence=confidence,
        churn_probability=risk,
        customer=customer(calls, int_plan),
    )
    assert decision.rule == rule
    if offer is None:
        assert decision.experiment == "credit_15_vs_5"
        assert decision.arm in {"credit_15", "credit_5"}
        assert decision.offer.key == decision.arm
    else:
        assert decision.offer.key == offer
        assert decision.arm is None and decision.experiment is None


# call reason, sentiment, confidence, churn probability -> rule, offer (cut-off 0.3)
REASON_CASES = [
    # wanting to cancel: the retention offer from the cut-off, whatever the sentiment
    ("cancellation", "POSITIVE", 0.99, 0.30, "cancellation_at_risk", "retention_offer"),
    ("cancellation", "NEGATIVE", 0.99, 0.95, "cancellation_at_risk", "retention_offer"),
    ("cancellation", None, None, 0.31, "cancellation_at_risk", "retention_offer"),
    # below the cut-off, or with no score, the sentiment rules decide as before
    ("cancellation", "NEGATIVE", 0.99, 0.2999, "negative_low_risk", "none"),
    ("cancellation", "NEGATIVE", 0.99, None, "negative_risk_unknown", "credit_5"),
    # roaming and network problems: their offer at any risk, even with a part missing
    ("international_roaming", "POSITIVE", 0.90, 0.10, "international_caller", "international_pack"),
    ("international_roaming", None, None, None, "international_caller", "international_pack"),
    ("network_quality", "NEGATIVE", 0.95, 0.99, "network_problem", "network_credit_10"),
    # no reason rule for these: the other rules decide
    ("billing_dispute", "NEGATIVE", 0.95, 0.85, "negative_high_risk", "credit_25"),
    ("plan_change", "POSITIVE", 0.90, 0.10, "positive_low_risk", "none"),
    ("other", "NEUTRAL", 0.99, 0.30, "at_risk_other_sentiment", "credit_5"),
    # no reason (Bedrock failed, or call reasons off): as before
    (None, "NEGATIVE", 0.95, 0.85, "negative_high_risk", "credit_25"),
]


@pytest.mark.parametrize(("reason", "sentiment", "confidence", "risk", "rule", "offer"), REASON_CASES)
def test_the_call_reason_rules_come_first(reason, sentiment, confidence, risk, rule, offer):
    decision = decide(
        RULES,
        sentiment=sentiment,
        confidence=confidence,
        churn_probability=risk,
        customer=customer(),
        call_reason=reason,
    )
    assert (decision.rule, decision.offer.key) == (rule, offer)


def test_a_reason_rule_says_the_reason_and_the_cutoff():
    decision = decide(
        RULES,
        sentiment="POSITIVE",
        confidence=0.9,
        churn_probability=0.5,
        customer=customer(),
        call_reason="cancellation",
    )
    assert (
        decision.reason == "call reason cancellation and churn probability 0.500 >= 0.3 (the model's cut-off)"
    )
    assert decision.thresholds_json()[0]["comparison"] == ">="


def test_every_rule_in_the_default_file_is_reachable():
    reached = {
        decide(
            RULES,
            sentiment=sentiment,
            confidence=confidence,
            churn_probability=risk,
            customer=customer(),
            call_reason=reason,
        ).rule
        for reason, sentiment, confidence, risk, _, _ in REASON_CASES
    }
    for sentiment, confidence, risk, calls, int_plan, _, _ in CASES:
        reached.add(
            decide(
                RULES,
                sentiment=sentiment,
                confidence=confidence,
                churn_probability=risk,
                customer=customer(calls, int_plan),
            ).rule
        )
    assert reached == set(RULES.rule_names())


def test_reason_states_the_thresholds_from_the_file():
    decision = decide(
        RULES, sentiment="NEGATIVE", confidence=0.93, churn_probability=0.91, customer=customer()
    )
    assert decision.reason == (
        "sentiment NEGATIVE with confidence 0.930 > 0.7 and churn probability 0.910 > 0.8"
    )
    frequent = decide(
        RULES, sentiment="NEUTRAL", confidence=0.9, churn_probability=0.2, customer=customer(calls=5)
    )
    assert "cust_service_calls 5 >= 4 and int_plan no = no" in frequent.reason
    medium = decide(RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=0.6, customer=customer())
    assert "0.600 <= 0.8 and >= 0.3 (the model's cut-off)" in medium.reason
    assert f"experiment credit_15_vs_5 assigned arm {medium.arm}" in medium.reason


def test_degraded_reasons_say_what_is_unknown_and_which_rules_were_tried():
    no_sentiment = decide(RULES, sentiment=None, confidence=None, churn_probability=0.93, customer=customer())
    assert no_sentiment.reason == "sentiment unknown; churn probability 0.930 >= 0.3 (the model's cut-off)"
    no_score = decide(
        RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=None, customer=customer()
    )
    assert no_score.reason == "churn probability unknown; sentiment NEGATIVE with confidence 0.900 > 0.7"
    frequent = decide(
        RULES, sentiment="POSITIVE", confidence=0.9, churn_probability=None, customer=customer(calls=6)
    )
    assert frequent.reason == (
        "sentiment POSITIVE (confidence 0.900), churn probability unknown: no sentiment-only rule "
        "applies; cust_service_calls 6 >= 4 and int_plan no = no"
    )
    nothing = decide(RULES, sentiment=None, confidence=None, churn_probability=0.2, customer=customer())
    assert nothing.reason == (
        "sentiment unknown, churn probability 0.200: no score-only or customer rule applies "
        "(churn probability 0.200 < 0.3 (the model's cut-off))"
    )
    assert [(item["comparison"], item["value"]) for item in nothing.thresholds_json()] == [("<", 0.3)]


def test_a_degraded_answer_never_enters_an_experiment():
    """Arms must compare like with like: a medium-risk angry customer without a score is no draw."""
    for risk in (0.35, 0.6, 0.75):
        decision = decide(RULES, sentiment=None, confidence=None, churn_probability=risk, customer=customer())
        assert decision.experiment is None and decision.arm is None
    decision = decide(
        RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=None, customer=customer()
    )
    assert decision.experiment is None and decision.arm is None


def test_experiment_arm_is_the_same_for_a_customer_on_every_call():
    arms = {
        decide(RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=risk, customer=customer()).arm
        for risk in (0.35, 0.6, 0.75)
    }
    assert len(arms) == 1


def phones(count: int) -> list[str]:
    return [f"{300 + index // 10000:03d}-{index % 10000:04d}" for index in range(count)]


def test_arms_split_customers_by_their_weights():
    even = Experiment("even", 7, (ExperimentArm("a", "x", 1), ExperimentArm("b", "y", 1)))
    skewed = Experiment("skewed", 7, (ExperimentArm("a", "x", 3), ExperimentArm("b", "y", 1)))
    even_counts = Counter(assign_arm(even, area_code=415, phone=phone).name for phone in phones(4000))
    skewed_counts = Counter(assign_arm(skewed, area_code=415, phone=phone).name for phone in phones(4000))
    assert 1850 <= even_counts["a"] <= 2150
    assert 2850 <= skewed_counts["a"] <= 3150


def test_the_seed_reshuffles_assignments_but_each_seed_is_reproducible():
    first = Experiment("e", 1, (ExperimentArm("a", "x", 1), ExperimentArm("b", "y", 1)))
    second = Experiment("e", 2, first.arms)
    with_first = [assign_arm(first, area_code=408, phone=phone).name for phone in phones(200)]
    again = [assign_arm(first, area_code=408, phone=phone).name for phone in phones(200)]
    with_second = [assign_arm(second, area_code=408, phone=phone).name for phone in phones(200)]
    assert with_first == again
    changed = sum(a != b for a, b in zip(with_first, with_second, strict=True))
    assert 60 <= changed <= 140


def test_the_answer_says_which_threshold_applied_and_where_it_came_from():
    at_risk = decide(RULES, sentiment="MIXED", confidence=0.8, churn_probability=0.96, customer=customer())
    assert at_risk.offer.key == "credit_5"
    assert at_risk.reason.endswith("churn probability 0.960 >= 0.3 (the model's cut-off)")
    assert at_risk.thresholds_json() == [
        {"comparison": ">=", "value": 0.3, "source": "the model's cut-off, from model/metadata.json"}
    ]
    medium = decide(RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=0.6, customer=customer())
    assert medium.thresholds_json() == [
        {"comparison": "<=", "value": 0.8, "source": "rules file churnguard/rules/default.json"},
        {"comparison": ">=", "value": 0.3, "source": "the model's cut-off, from model/metadata.json"},
    ]
    below = decide(RULES, sentiment="NEGATIVE", confidence=0.9, churn_probability=0.2, customer=customer())
    assert below.thresholds_json() == [
        {"comparison": "<", "value": 0.3, "source": "the model's cut-off, from model/metadata.json"}
    ]


@pytest.mark.parametrize("cutoff", [0.05, 0.11, 0.5])
def test_the_shipped_rules_offer_from_the_models_cut_off_on_whatever_the_sentiment(cutoff):
    """The training's rule: an offer at or above the cut-off, none below it from the sentiment rules."""
    rules = load_rules(model_cutoff=ModelCutoff(cutoff, "m/metadata.json"))
    for sentiment in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", None):
        confidence = None if sentiment is None else 0.95
        at = decide(
            rules, sentiment=sentiment, confidence=confidence, churn_probability=cutoff, customer=customer()
        )
        below = decide(
            rules,
            sentiment=sentiment,
            confidence=confidence,
            churn_probability=cutoff - 0.001,
            customer=customer(),
        )
        assert at.offer.cost_usd >= 5, (sentiment, at.rule)
        assert below.offer.key == "none", (sentiment, below.rule)


def test_a_cut_off_above_a_fixed_band_empties_that_band_instead_of_failing():
    """A retrained model may choose a cut-off above 0.8: the experiment band then never applies."""
    rules = load_rules(model_cutoff=ModelCutoff(0.85, "m/metadata.json"))
    middle = decide(rules, sentiment="NEGATIVE", confidence=0.9, churn_probability=0.82, customer=customer())
    assert middle.rule == "negative_low_risk" and middle.offer.key == "none"
    high = decide(rules, sentiment="NEGATIVE", confidence=0.9, churn_probability=0.86, customer=customer())
    assert high.rule == "negative_high_risk"
    assert high.reason.endswith("churn probability 0.860 >= 0.85 (the model's cut-off)")
