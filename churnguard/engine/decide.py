"""Applies the rules to one scored customer: which offer, which rule fired and why, which experiment arm.

Pure and deterministic: the same rules, scores and customer always give the same decision, including
the experiment arm, which is drawn from a hash of the experiment and the customer key (not from a
random generator), so a customer who calls twice stays in one arm and a rerun reproduces every draw.
A degraded answer (no sentiment, or no churn score) is decided by the rules that need only what is
there: `score_only_rules` or `sentiment_only_rules` in the sentiment rules' place, then the customer
rules and `otherwise` as always.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from churnguard.engine.rules import Condition, Experiment, ExperimentArm, Offer, RiskBand, Rules

_OPERATOR_WORDS = {"equals": "=", "at_least": ">=", "above": ">", "below": "<", "at_most": "<="}


@dataclass(frozen=True)
class Decision:
    rule: str
    reason: str
    offer: Offer
    experiment: str | None = None
    arm: str | None = None


def decide(
    rules: Rules,
    *,
    sentiment: str | None,
    confidence: float | None,
    churn_probability: float | None,
    customer: Mapping[str, Any],
) -> Decision:
    """The first applicable rule's decision: sentiment rules, then customer rules, then `otherwise`.

    `customer` is the customer's row (column name to value); it must hold `area_code` and `phone`,
    the key the experiment arm is drawn from, and the columns the customer rules test. A sentiment
    of None (with its confidence) or a churn probability of None is a part the database could not
    give: the matching degraded rules replace the sentiment rules.
    """
    if sentiment is None or confidence is None:
        scores = "sentiment unknown, churn probability " + (
            "unknown" if churn_probability is None else f"{churn_probability:.3f}"
        )
        first = None if churn_probability is None else _score_only(rules, churn_probability)
        return first or _customer_or_otherwise(rules, customer, scores, "score-only")
    if churn_probability is None:
        scores = f"sentiment {sentiment} (confidence {confidence:.3f}), churn probability unknown"
        first = _sentiment_only(rules, sentiment, confidence)
        return first or _customer_or_otherwise(rules, customer, scores, "sentiment-only")
    scores = f"sentiment {sentiment} (confidence {confidence:.3f}), churn probability {churn_probability:.3f}"
    first = _sentiment_rules(rules, sentiment, confidence, churn_probability, customer)
    return first or _customer_or_otherwise(rules, customer, scores, "sentiment")


def _sentiment_rules(
    rules: Rules,
    sentiment: str,
    confidence: float,
    churn_probability: float,
    customer: Mapping[str, Any],
) -> Decision | None:
    for rule in rules.sentiment_rules:
        if sentiment != rule.sentiment or not confidence > rule.confidence_above:
            continue
        band = next(band for band in rule.risk_bands if band.holds(churn_probability))
        reason = (
            f"sentiment {sentiment} with confidence {confidence:.3f} > {rule.confidence_above:g} "
            f"and churn probability {churn_probability:.3f} {_band_words(rule.risk_bands, band)}"
        )
        if band.experiment is None:
            return Decision(rule=band.rule, reason=reason, offer=rules.offers[str(band.offer)])
        arm = assign_arm(band.experiment, area_code=customer["area_code"], phone=customer["phone"])
        return Decision(
            rule=band.rule,
            reason=f"{reason}; randomised experiment {band.experiment.name} assigned arm {arm.name}",
            offer=rules.offers[arm.offer],
            experiment=band.experiment.name,
            arm=arm.name,
        )
    return None


def _score_only(rules: Rules, churn_probability: float) -> Decision | None:
    for rule in rules.score_only_rules:
        if churn_probability > rule.risk_above:
            return Decision(
                rule=rule.rule,
                reason=f"sentiment unknown; churn probability {churn_probability:.3f} > {rule.risk_above:g}",
                offer=rules.offers[rule.offer],
            )
    return None


def _sentiment_only(rules: Rules, sentiment: str, confidence: float) -> Decision | None:
    for rule in rules.sentiment_only_rules:
        if sentiment == rule.sentiment and confidence > rule.confidence_above:
            return Decision(
                rule=rule.rule,
                reason=(
                    f"churn probability unknown; sentiment {sentiment} with confidence "
                    f"{confidence:.3f} > {rule.confidence_above:g}"
                ),
                offer=rules.offers[rule.offer],
            )
    return None


def _customer_or_otherwise(
    rules: Rules, customer: Mapping[str, Any], scores: str, first_kind: str
) -> Decision:
    """The first customer rule that holds, else `otherwise`; the reason says which rules came first."""
    for customer_rule in rules.customer_rules:
        if all(condition.holds(customer) for condition in customer_rule.conditions):
            tests = " and ".join(
                _condition_words(condition, customer) for condition in customer_rule.conditions
            )
            return Decision(
                rule=customer_rule.rule,
                reason=f"{scores}: no {first_kind} rule applies; {tests}",
                offer=rules.offers[customer_rule.offer],
            )
    return Decision(
        rule=rules.otherwise_rule,
        reason=f"{scores}: no {first_kind} or customer rule applies",
        offer=rules.offers[rules.otherwise_offer],
    )


def assign_arm(experiment: Experiment, *, area_code: Any, phone: Any) -> ExperimentArm:
    """The customer's arm: a SHA-256 of (experiment, seed, customer key) mapped onto the arm weights.

    SHA-256 rather than Python's hash(), which changes from process to process.
    """
    key = f"{experiment.name}|{experiment.seed}|{int(area_code)}|{str(phone).strip()}".encode()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2.0**64
    total = sum(arm.weight for arm in experiment.arms)
    point = draw * total
    cumulative = 0.0
    for arm in experiment.arms:
        cumulative += arm.weight
        if point < cumulative:
            return arm
    return experiment.arms[-1]


def _band_words(bands: tuple[RiskBand, ...], band: RiskBand) -> str:
    """The band's range as a sentence fragment: '< 0.5', '<= 0.8 and > 0.4', '> 0.8'."""
    index = bands.index(band)
    lower = ""
    if index > 0:
        previous = bands[index - 1]
        if previous.risk_below is not None:
            lower = f">= {previous.risk_below:g}"
        else:
            lower = f"> {previous.risk_up_to:g}"
    if band.risk_below is not None:
        upper = f"< {band.risk_below:g}"
    elif band.risk_up_to is not None:
        upper = f"<= {band.risk_up_to:g}"
    else:
        return lower or "(any)"
    return f"{upper} and {lower}" if lower else upper


def _condition_words(condition: Condition, customer: Mapping[str, Any]) -> str:
    value = condition.value if isinstance(condition.value, str) else f"{condition.value:g}"
    return f"{condition.column} {customer[condition.column]} {_OPERATOR_WORDS[condition.operator]} {value}"
