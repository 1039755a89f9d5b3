"""Loading the rules file: the default loads, and each kind of mistake is refused naming rule and field."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from churnguard.engine.rules import ModelCutoff, RulesError, load_rules, parse_rules

# The default rules refer to the model's cut-off: every load here gives one, as the engine does.
CUTOFF = ModelCutoff(0.3, "model/metadata.json")
DEFAULT = json.loads(resources.files("churnguard.rules").joinpath("default.json").read_text(encoding="utf-8"))


def test_default_rules_load_with_their_version_and_thresholds():
    rules = load_rules(model_cutoff=CUTOFF)
    assert rules.version == DEFAULT["version"]
    positive, negative = rules.sentiment_rules
    assert (positive.sentiment, positive.confidence_above) == ("POSITIVE", 0.5)
    assert (negative.sentiment, negative.confidence_above) == ("NEGATIVE", 0.7)
    assert [band.rule for band in negative.risk_bands] == [
        "negative_low_risk",
        "negative_medium_risk",
        "negative_high_risk",
    ]
    frequent, at_risk = rules.customer_rules
    assert [(c.column, c.operator, c.value) for c in frequent.conditions] == [
        ("cust_service_calls", "at_least", 4.0),
        ("int_plan", "equals", "no"),
    ]
    ((condition),) = at_risk.conditions
    assert (condition.column, condition.operator, condition.value.value) == (
        "churn_probability",
        "at_least",
        0.3,
    )
    assert condition.value.from_model and condition.value.source == "model/metadata.json"
    # Every sentiment rule's first band ends at the model's cut-off.
    for rule in rules.sentiment_rules:
        assert rule.risk_bands[0].risk_below.from_model and rule.risk_bands[0].risk_below.value == 0.3
    assert rules.model_cutoff == CUTOFF


def test_the_default_degraded_rules_load():
    rules = load_rules(model_cutoff=CUTOFF)
    (score_only,) = rules.score_only_rules
    assert (score_only.rule, score_only.threshold.value, score_only.comparison, score_only.offer) == (
        "high_risk_sentiment_unknown",
        0.3,
        ">=",
        "credit_5",
    )
    (sentiment_only,) = rules.sentiment_only_rules
    assert (sentiment_only.sentiment, sentiment_only.confidence_above, sentiment_only.offer) == (
        "NEGATIVE",
        0.7,
        "credit_5",
    )


def test_the_default_reason_rules_load():
    rules = load_rules(model_cutoff=CUTOFF)
    cancel, roaming, network = rules.reason_rules
    assert (cancel.call_reason, cancel.offer) == ("cancellation", "retention_offer")
    ((condition),) = cancel.conditions
    assert (condition.column, condition.operator, condition.value.value) == (
        "churn_probability",
        "at_least",
        0.3,
    )
    assert (roaming.call_reason, roaming.offer, roaming.conditions) == (
        "international_roaming",
        "international_pack",
        (),
    )
    assert (network.call_reason, network.offer, network.conditions) == (
        "network_quality",
        "network_credit_10",
        (),
    )


def test_files_without_degraded_rules_still_load():
    rules = parse_rules(
        mutated(lambda d: [d.pop("score_only_rules"), d.pop("sentiment_only_rules")]), model_cutoff=CUTOFF
    )
    assert rules.score_only_rules == () and rules.sentiment_only_rules == ()


def test_the_service_call_threshold_is_stated_once_in_the_default_file():
    text = resources.files("churnguard.rules").joinpath("default.json").read_text(encoding="utf-8")
    assert text.count('"at_least": 4') == 1
    assert text.count("cust_service_calls") == 1


def test_rules_that_use_the_models_cut_off_need_a_model():
    with pytest.raises(RulesError) as raised:
        load_rules()
    assert "reason_rules[0] (cancellation_at_risk) when[0]" in str(raised.value)
    assert "'at_least' is 'model_cutoff', but no model cut-off was given" in str(raised.value)
    # A file with numbers only needs no model.
    fixed = mutated(
        lambda d: [
            negative_bands(d)[0].update(risk_below=0.4),
            d["sentiment_rules"][0]["risk_bands"][0].update(risk_below=0.5),
            d["score_only_rules"][0].update(risk_at_least=0.8),
            d["customer_rules"].pop(),
            d["reason_rules"][0]["when"][0].update(at_least=0.6),
        ]
    )
    rules = parse_rules(fixed)
    assert rules.model_cutoff is None and not negative_bands_of(rules)[0].risk_below.from_model


def negative_bands_of(rules):
    return rules.sentiment_rules[1].risk_bands


def mutated(change):
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


def negative_bands(data):
    return data["sentiment_rules"][1]["risk_bands"]


# A mistake in the file -> words the error must contain (where, and what).
MISTAKES = [
    ("unknown top-level key", lambda d: d.update(colour="red"), ["top level", "unknown field 'colour'"]),
    ("no version", lambda d: d.pop("version"), ["top level", "missing field 'version'"]),
    ("empty version", lambda d: d.update(version=" "), ["field 'version'"]),
    (
        "unknown key in a band",
        lambda d: negative_bands(d)[2].update(offr="credit_25"),
        ["risk_bands[2]", "unknown field 'offr'"],
    ),
    (
        "band with both bounds",
        lambda d: negative_bands(d)[0].update(risk_up_to=0.3),
        ["negative_low_risk", "'risk_below' and 'risk_up_to' overlap"],
    ),
    (
        "middle band without a bound",
        lambda d: negative_bands(d)[1].pop("risk_up_to"),
        ["negative_medium_risk", "missing field 'risk_below' or 'risk_up_to'"],
    ),
    (
        "overlapping bands",
        lambda d: [negative_bands(d)[0].update(risk_below=0.5), negative_bands(d)[1].update(risk_up_to=0.3)],
        ["negative_medium_risk", "'risk_up_to' is 0.3", "increase"],
    ),
    (
        "bounded last band",
        lambda d: negative_bands(d)[2].update(risk_up_to=0.95),
        ["negative_high_risk", "last band must have no upper bound"],
    ),
    (
        "threshold as text",
        lambda d: negative_bands(d)[0].update(risk_below="0.4"),
        ["negative_low_risk", "'risk_below' must be a number or 'model_cutoff'", '"0.4"'],
    ),
    (
        "misspelt model cut-off",
        lambda d: negative_bands(d)[0].update(risk_below="model_cut_off"),
        ["negative_low_risk", "'risk_below' must be a number or 'model_cutoff'", '"model_cut_off"'],
    ),
    (
        "churn probability tested for equality",
        lambda d: (
            d["customer_rules"][1]["when"][0].update({"equals": 0.5, "at_least": None})
            or d["customer_rules"][1]["when"][0].pop("at_least")
        ),
        ["at_risk_other_sentiment", "when[0] (churn_probability)", "not 'equals'"],
    ),
    (
        "churn probability above 1",
        lambda d: d["customer_rules"][1]["when"][0].update(at_least=1.5),
        ["at_risk_other_sentiment", "'at_least' is 1.5, outside 0.0..1.0"],
    ),
    (
        "threshold out of range",
        lambda d: negative_bands(d)[0].update(risk_below=4),
        ["negative_low_risk", "'risk_below' is 4, outside 0.0..1.0"],
    ),
    (
        "confidence as boolean",
        lambda d: d["sentiment_rules"][0].update(confidence_above=True),
        ["sentiment_rules[0] (POSITIVE)", "'confidence_above' must be a number"],
    ),
    (
        "unknown sentiment",
        lambda d: d["sentiment_rules"][0].update(sentiment="HAPPY"),
        ["sentiment_rules[0]", "'sentiment' must be one of"],
    ),
    (
        "same sentiment twice",
        lambda d: d["sentiment_rules"][1].update(sentiment="POSITIVE"),
        ["sentiment_rules[1] (POSITIVE)", "overlaps"],
    ),
    (
        "offer and experiment in one band",
        lambda d: negative_bands(d)[1].update(offer="credit_5"),
        ["negative_medium_risk", "exactly one of the fields 'offer' and 'experiment'"],
    ),
    (
        "unknown offer",
        lambda d: negative_bands(d)[2].update(offer="credit_250"),
        ["negative_high_risk", "'credit_250' is not one of the offers"],
    ),
    (
        "duplicate rule name",
        lambda d: negative_bands(d)[2].update(rule="negative_low_risk"),
        ["risk_bands[2]", "'negative_low_risk' is used twice"],
    ),
    (
        "negative cost",
        lambda d: d["offers"]["credit_5"].update(cost_usd=-5),
        ["offers.credit_5", "'cost_usd' is -5"],
    ),
    (
        "single-arm experiment",
        lambda d: negative_bands(d)[1]["experiment"]["arms"].pop(),
        ["credit_15_vs_5", "at least two arms"],
    ),
    (
        "zero weight",
        lambda d: negative_bands(d)[1]["experiment"]["arms"][0].update(weight=0),
        ["arms[0]", "'weight' must be above 0"],
    ),
    (
        "seed as float",
        lambda d: negative_bands(d)[1]["experiment"].update(seed=1.5),
        ["credit_15_vs_5", "'seed' must be an integer"],
    ),
    (
        "condition with two operators",
        lambda d: d["customer_rules"][0]["when"][0].update(above=3),
        ["frequent_caller_without_intl_plan", "when[0] (cust_service_calls)", "exactly one of"],
    ),
    (
        "condition on an unknown column",
        lambda d: d["customer_rules"][0]["when"][0].update(column="calls"),
        ["frequent_caller_without_intl_plan", "when[0]", "'calls' is not a customer column"],
    ),
    (
        "threshold of calls as text",
        lambda d: d["customer_rules"][0]["when"][0].update(at_least="4"),
        ["frequent_caller_without_intl_plan", "'at_least' must be a number"],
    ),
    (
        "number compared with a text column",
        lambda d: d["customer_rules"][0]["when"][1].update(equals=0),
        ["when[1] (int_plan)", "'int_plan' holds text: test it with 'equals' and a string"],
    ),
    (
        "text column tested with a range",
        lambda d: d["customer_rules"][0]["when"].__setitem__(1, {"column": "int_plan", "at_least": 1}),
        ["when[1] (int_plan)", "holds text", "not 'at_least' 1"],
    ),
    (
        "condition on the label",
        lambda d: d["customer_rules"][0]["when"][0].update(column="churn"),
        ["when[0]", "'churn' is the label"],
    ),
    ("no otherwise", lambda d: d.pop("otherwise"), ["missing field 'otherwise'"]),
    (
        "rule name with a space",
        lambda d: negative_bands(d)[0].update(rule="negative low"),
        ["risk_bands[0]", "field 'rule' must be letters, digits and _", "'negative low'"],
    ),
    (
        "experiment name too long",
        lambda d: negative_bands(d)[1]["experiment"].update(name="x" * 65),
        ["negative_medium_risk) experiment", "field 'name' must be letters, digits and _ (<= 64)"],
    ),
    (
        "arm name not text",
        lambda d: negative_bands(d)[1]["experiment"]["arms"][1].update(arm=2),
        ["(credit_15_vs_5) arms[1]", "field 'arm' must be letters, digits and _", "found 2"],
    ),
    (
        "offer name with a dash",
        lambda d: d["offers"].update({"credit-5": d["offers"]["credit_5"]}),
        ["offers.credit-5", "an offer name must be letters, digits and _"],
    ),
    # the degraded rules (an answer without sentiment, or without a churn score)
    (
        "score-only threshold as text",
        lambda d: d["score_only_rules"][0].update(risk_at_least="0.8"),
        ["score_only_rules[0] (high_risk_sentiment_unknown)", "field 'risk_at_least' must be a number"],
    ),
    (
        "score-only threshold of 1",
        lambda d: (
            d["score_only_rules"][0].pop("risk_at_least") and d["score_only_rules"][0].update(risk_above=1)
        ),
        ["score_only_rules[0]", "field 'risk_above' is 1: no churn probability is above it"],
    ),
    (
        "score-only rule with two thresholds",
        lambda d: d["score_only_rules"][0].update(risk_above=0.5),
        ["score_only_rules[0]", "exactly one of the fields 'risk_above' and 'risk_at_least'"],
    ),
    (
        "score-only rule with risk bands",
        lambda d: d["score_only_rules"][0].update(risk_bands=[]),
        ["score_only_rules[0]", "unknown field 'risk_bands'"],
    ),
    (
        "sentiment-only rule for an unknown sentiment",
        lambda d: d["sentiment_only_rules"][0].update(sentiment="FURIOUS"),
        ["sentiment_only_rules[0] (negative_risk_unknown)", "field 'sentiment' must be one of"],
    ),
    (
        "sentiment-only rule without its threshold",
        lambda d: d["sentiment_only_rules"][0].pop("confidence_above"),
        ["sentiment_only_rules[0]", "missing field 'confidence_above'"],
    ),
    (
        "sentiment-only rule with an unknown offer",
        lambda d: d["sentiment_only_rules"][0].update(offer="credit_50"),
        [
            "sentiment_only_rules[0] (negative_risk_unknown) (NEGATIVE)",
            "'credit_50' is not one of the offers",
        ],
    ),
    (
        "degraded rule named like a full one",
        lambda d: d["score_only_rules"][0].update(rule="negative_high_risk"),
        ["score_only_rules[0]", "the name 'negative_high_risk' is used twice"],
    ),
    (
        "degraded rules not a list",
        lambda d: d.update(score_only_rules={"rule": "x"}),
        ["top level", "field 'score_only_rules' must be a list"],
    ),
    # the call-reason rules
    (
        "reason rule for a reason not in the label set",
        lambda d: d["reason_rules"][0].update(call_reason="complaint"),
        ["reason_rules[0] (cancellation_at_risk)", "field 'call_reason' must be one of billing_dispute"],
    ),
    (
        "reason rule with an empty condition list",
        lambda d: d["reason_rules"][0].update(when=[]),
        ["reason_rules[0] (cancellation_at_risk)", "field 'when' must be a non-empty list"],
    ),
    (
        "reason rule on the label column",
        lambda d: d["reason_rules"][1].update(when=[{"column": "churn", "equals": 1}]),
        ["reason_rules[1] (international_caller) when[0]", "'churn' is the label"],
    ),
    (
        "reason rule without an offer",
        lambda d: d["reason_rules"][2].pop("offer"),
        ["reason_rules[2]", "missing field 'offer'"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistakes_are_refused_naming_rule_and_field(change, expected):
    with pytest.raises(RulesError) as raised:
        parse_rules(mutated(change), source="marketing.json", model_cutoff=CUTOFF)
    message = str(raised.value)
    assert message.startswith("rules file marketing.json: ")
    for words in expected:
        assert words in message


def test_file_problems_name_the_file_and_position(tmp_path):
    with pytest.raises(RulesError, match="no such file"):
        load_rules(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "1",\n "offers": }', encoding="utf-8")
    with pytest.raises(RulesError, match=r"broken.json: not valid JSON at line 2 column"):
        load_rules(broken)


def test_a_changed_file_changes_the_decision(tmp_path):
    data = mutated(lambda d: d["customer_rules"][0]["when"][0].update(at_least=6))
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    rules = load_rules(path, model_cutoff=CUTOFF)
    assert rules.source == str(path)
    assert rules.customer_rules[0].conditions[0].value == 6.0
