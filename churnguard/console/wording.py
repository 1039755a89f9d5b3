"""The engine's answer in the words an agent reads: risk bands and churn drivers without column names.

The engine answers in the model's terms (`cust_service_calls=6`, log-odds); an agent on the phone
needs "6 calls to customer service: raises churn risk". Pure functions over the answer's JSON, so the
local console and the deployed API word answers the same way.
"""

from __future__ import annotations

from typing import Any

# The risk bands follow the default rules' thresholds (churnguard/rules/default.json): above 0.8 the
# rules pay the largest credit, up to 0.4 they pay nothing to an unhappy customer.
HIGH_RISK_ABOVE = 0.8
MEDIUM_RISK_ABOVE = 0.4
# A contribution this large (log-odds) moves the odds by a factor of e or more: worth calling strong.
STRONG_CONTRIBUTION = 1.0

# How each customer column reads in a sentence; `{}` is the customer's value.
COLUMN_WORDS: dict[str, str] = {
    "state": "lives in {}",
    "acc_length": "account {} days old",
    "area_code": "area code {}",
    "int_plan": "international plan: {}",
    "vmail_plan": "voice-mail plan: {}",
    "vmail_msg": "{} voice-mail messages",
    "day_mins": "{} daytime minutes",
    "day_calls": "{} daytime calls",
    "day_charge": "${} daytime charges",
    "eve_mins": "{} evening minutes",
    "eve_calls": "{} evening calls",
    "eve_charge": "${} evening charges",
    "night_mins": "{} night minutes",
    "night_calls": "{} night calls",
    "night_charge": "${} night charges",
    "intl_mins": "{} international minutes",
    "intl_calls": "{} international calls",
    "intl_charge": "${} international charges",
    "cust_service_calls": "{} calls to customer service",
}


def _column_words(name: str, value: Any) -> str:
    """'6 calls to customer service'; for one of a count '1 call to customer service', 'account 1 day old'."""
    template = COLUMN_WORDS.get(name, name + ": {}")
    if str(value) in ("1", "1.0") and "{} " in template and not template.startswith("$"):
        before, after = template.split("{} ", 1)
        words = after.split(" ")
        # The count's noun is the first word after the number that ends in s ('daytime calls').
        plural = next((index for index, word in enumerate(words) if word.endswith("s")), None)
        if plural is not None:
            words[plural] = words[plural][:-1]
            template = before + "{} " + " ".join(words)
    return template.format(value)


def risk_band(probability: float | None) -> str:
    """`high`, `medium` or `low` churn risk, or `unknown` when the answer has no churn score."""
    if probability is None:
        return "unknown"
    if probability > HIGH_RISK_ABOVE:
        return "high"
    return "medium" if probability > MEDIUM_RISK_ABOVE else "low"


def driver_sentence(driver: dict[str, Any]) -> str:
    """One churn driver as a sentence: what the customer's record says, and which way it pushes."""
    columns = driver["columns"]
    if len(columns) == 1:
        facts = [_column_words(name, value) for name, value in columns.items()]
    else:
        # A group of correlated columns (eight minutes and charges) reads as the group's own short words.
        facts = [driver["text"].removesuffix(f": {driver['effect']}")]
    strength = "strongly " if abs(float(driver["contribution"])) >= STRONG_CONTRIBUTION else ""
    direction = "raises" if float(driver["contribution"]) > 0 else "lowers"
    return f"{', '.join(facts) or driver['feature']}: {strength}{direction} churn risk"


def for_agent(answer: dict[str, Any]) -> dict[str, Any]:
    """The engine's answer with the agent's wording added (`risk_band`, `driver_sentences`)."""
    return {
        **answer,
        "risk_band": risk_band(answer["churn_probability"]),
        "driver_sentences": [driver_sentence(driver) for driver in answer["drivers"]],
    }
