"""Applies the rules to one scored customer: which offer, which rule fired and why, which experiment arm.

Pure and deterministic: the same rules, scores and customer always give the same decision, including
the experiment arm, which is drawn from a hash of the experiment and the customer key (not from a
random generator), so a customer who calls twice stays in one arm and a rerun reproduces every draw.
The call reason's rules (`reason_rules`) are tried first; without a reason they are skipped. A
degraded answer (no sentiment, or no churn score) is decided by the rules that need only what is
there: `score_only_rules` or `sentiment_only_rules` in the sentiment rules' place, then the customer
rules and `otherwise` as always.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from churnguard.engine.rules import (
    CHURN_PROBABILITY,
    Condition,
    Experiment,
    ExperimentArm,
    Offer,
    RiskBand,
    Rules,
    Threshold,
)

_OPERATOR_WORDS = {"equals": "=", "at_least": ">=", "above": ">", "below": "<", "at_most": "<="}
# What failing each test means, e.g. not "at least 0.11" is "< 0.11".
_NEGATED = {"at_least": "<", "above": "<=", "below": ">=", "at_most": ">"}


@dataclass(frozen=True)
class Decision:
    rule: str
    reason: str
    offer: Offer
    experiment: str | None = None
    arm: str | None = None
    # The churn-probability thresholds the rule compared the score with: (comparison, threshold).
    thresholds: tuple[tuple[str, Threshold], ...] = ()

    def thresholds_json(self) -> list[dict[str, object]]:
        """Which thresholds applied, with their value and origin (the model's cut-off or the rules file)."""
        return [threshold.to_json(comparison) for comparison, threshold in self.thresholds]


def decide(
    rules: Rules,
    *,
    sentiment: str | None,
    confidence: float | None,
    churn_probability: float | None,
    customer: Mapping[str, Any],
    call_reason: str | None = None,
) -> Decision:
    """The first applicable rule's decision: reason rules, sentiment rules, then customer rules, then
    `otherwise`.

    `customer` is the customer's row (column name to value); it must hold `area_code` and `phone`,
    the key the experiment arm is drawn from, and the columns the customer rules test. A sentiment
    of None (with its confidence) or a churn probability of None is a part the database could not
    give: the matching degraded rules replace the sentiment rules. A call reason of None (Bedrock
    failed, or call reasons are off) skips the reason rules.
    """
    if call_reason is not None:
        by_reason = _reason_rules(rules, call_reason, {**customer, CHURN_PROBABILITY: churn_probability})
        if by_reason is not None:
            return by_reason
    if sentiment is None or confidence is None:
        scores = "sentiment unknown, churn probability " + (
            "unknown" if churn_probability is None else f"{churn_probability:.3f}"
        )
        first = None if churn_probability is None else _score_only(rules, churn_probability)
        return first or _customer_or_otherwise(
            rules, {**customer, CHURN_PROBABILITY: churn_probability}, scores, "score-only"
        )
    if churn_probability is None:
        scores = f"sentiment {sentiment} (confidence {confidence:.3f}), churn probability unknown"
        first = _sentiment_only(rules, sentiment, confidence)
        return first or _customer_or_otherwise(
            rules, {**customer, CHURN_PROBABILITY: None}, scores, "sentiment-only"
        )
    scores = f"sentiment {sentiment} (confidence {confidence:.3f}), churn probability {churn_probability:.3f}"
    first = _sentiment_rules(rules, sentiment, confidence, churn_probability, customer)
    return first or _customer_or_otherwise(
        rules, {**customer, CHURN_PROBABILITY: churn_probability}, scores, "sentiment"
    )


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
        bounds = _band_bounds(rule.risk_bands, band)
        reason = (
            f"sentiment {sentiment} with confidence {confidence:.3f} > {rule.confidence_above:g} "
            f"and churn probability {churn_probability:.3f} "
            + (
                " and ".join(f"{comparison} {threshold.words()}" for comparison, threshold in bounds)
                or "(any)"
            )
        )
        if band.experiment is None:
            return Decision(
                rule=band.rule, reason=reason, offer=rules.offers[str(band.offer)], thresholds=bounds
            )
        arm = assign_arm(band.experiment, area_code=customer["area_code"], phone=customer["phone"])
        return Decision(
            rule=band.rule,
            reason=f"{reason}; randomised experiment {band.experiment.name} assigned arm {arm.name}",
            offer=rules.offers[arm.offer],
            experiment=band.experiment.name,
            arm=arm.name,
            thresholds=bounds,
        )
    return None


def _reason_rules(rules: Rules, call_reason: str, customer: Mapping[str, Any]) -> Decision | None:
    for rule in rules.reason_rules:
        if rule.call_reason != call_reason or not all(c.holds(customer) for c in rule.conditions):
            continue
        tests = " and ".join(_condition_words(condition, customer) for condition in rule.conditions)
        return Decision(
            rule=rule.rule,
            reason=f"call reason {call_reason}" + (f" and {tests}" if tests else ""),
            offer=rules.offers[rule.offer],
            thresholds=tuple(
                (_OPERATOR_WORDS[condition.operator], condition.value)
                for condition in rule.conditions
                if isinstance(condition.value, Threshold)
            ),
        )
    return None


def _score_only(rules: Rules, churn_probability: float) -> Decision | None:
    for rule in rules.score_only_rules:
        if rule.holds(churn_probability):
            return Decision(
                rule=rule.rule,
                reason=(
                    f"sentiment unknown; churn probability {churn_probability:.3f} {rule.comparison} "
                    f"{rule.threshold.words()}"
                ),
                offer=rules.offers[rule.offer],
                thresholds=((rule.comparison, rule.threshold),),
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
                thresholds=tuple(
                    (_OPERATOR_WORDS[condition.operator], condition.value)
                    for condition in customer_rule.conditions
                    if isinstance(condition.value, Threshold)
                ),
            )
    # The churn-probability tests that kept the customer rules from applying: the thresholds that
    # decided "no offer" (e.g. below the model's cut-off), stated like the ones that decide an offer.
    missed = tuple(
        dict.fromkeys(
            (_NEGATED[condition.operator], condition.value)
            for customer_rule in rules.customer_rules
            for condition in customer_rule.conditions
            if isinstance(condition.value, Threshold)
            and customer.get(condition.column) is not None
            and not condition.holds(customer)
        )
    )
    below = "; ".join(
        f"churn probability {customer[CHURN_PROBABILITY]:.3f} {comparison} {threshold.words()}"
        for comparison, threshold in missed
    )
    return Decision(
        rule=rules.otherwise_rule,
        reason=f"{scores}: no {first_kind} or customer rule applies" + (f" ({below})" if below else ""),
        offer=rules.offers[rules.otherwise_offer],
        thresholds=missed,
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


def _band_bounds(bands: tuple[RiskBand, ...], band: RiskBand) -> tuple[tuple[str, Threshold], ...]:
    """The band's range as (comparison, threshold) pairs, upper bound first: ('<=', 0.8), ('>', 0.4).

    The lower bound is the highest bound of the bands before it (a band the model's cut-off left empty
    is skipped over), so '>= 0.85 (the model's cut-off)' rather than a bound that never decided.
    """
    earlier = [bound for bound in (other.upper for other in bands[: bands.index(band)]) if bound is not None]
    pairs = [band.upper] if band.upper is not None else []
    if earlier:
        comparison, threshold = max(earlier, key=lambda bound: (bound[1].value, bound[0] == "<="))
        pairs.append((">=" if comparison == "<" else ">", threshold))
    return tuple(pairs)


def _condition_words(condition: Condition, customer: Mapping[str, Any]) -> str:
    if isinstance(condition.value, Threshold):
        value = condition.value.words()
        actual = f"{customer[condition.column]:.3f}"
    else:
        value = condition.value if isinstance(condition.value, str) else f"{condition.value:g}"
        actual = customer[condition.column]
    name = condition.column.replace("_", " ") if condition.column == CHURN_PROBABILITY else condition.column
    return f"{name} {actual} {_OPERATOR_WORDS[condition.operator]} {value}"
