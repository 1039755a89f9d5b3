"""Why the customer is calling: the fixed label set that `call_reason(message)` answers with, on
Aurora (Amazon Bedrock) and in the local stand-in alike. Standard library only: the Lambdas import it.

Marketing's rules, the offers log and the report use these names; docs/engine.md says what each
means. A model's answer outside this set is read as OTHER, never passed on.
"""

from __future__ import annotations

FUNCTION = "call_reason"
# "off" when the deploy has no call reasons (-c call_reasons=off, set on the Lambdas by infra/api.py):
# the engine then asks for none.
CALL_REASONS_ENV = "CHURNGUARD_CALL_REASONS"
OTHER = "other"
# What each label covers, in the words the Bedrock prompt uses and docs/engine.md repeats.
LABEL_MEANINGS: dict[str, str] = {
    "billing_dispute": "a charge, fee, refund or amount on the bill the customer disputes or questions",
    "network_quality": "signal, coverage, dropped calls, slow or failing data, an outage at home",
    "cancellation": "the customer wants to cancel, leave, end the contract or move the number elsewhere",
    "international_roaming": "using the phone abroad, roaming, or calling and texting other countries",
    "plan_change": "changing, upgrading, downgrading or adding to the plan, lines or add-ons",
    OTHER: "anything else (devices, account details, stores, thanks)",
}
LABELS: tuple[str, ...] = tuple(LABEL_MEANINGS)
# The longest label: call_reason returns VARCHAR(CALL_REASON_CHARS) on both sides.
CALL_REASON_CHARS = 32


def checked_label(value: object) -> str | None:
    """A label from the database: one of LABELS, or None for NULL or anything else (not ours)."""
    if value is None:
        return None
    label = str(value).strip().lower()
    return label if label in LABELS else None
