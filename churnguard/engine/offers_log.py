"""Writes the offers log (sql/20_offers.sql): each answer given, and later whether the customer stayed.

Values are always bound parameters. Writing an answer is one INSERT, wholly there or not at all,
which commits as it runs and whose own reply carries the new row's id (SqlClient.insert_returning_id:
the Data API's generatedFields, PyMySQL's last-row id): one call, no transaction. A degraded answer
(no sentiment, or no churn score) is written with NULL for what is missing and `degraded` = 1. Every
row names the live model and its cut-off (NULL only when the database has no model recorded). An
outcome is how the call ended (accepted, declined, call ended) and whether the customer stayed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

REASON_MAX_CHARS = 1000
# How a call with an offer ended, as the agent records it (offer_outcomes.outcome, sql/20_offers.sql).
OUTCOME_KINDS: tuple[str, ...] = ("accepted", "declined", "call_ended")

# model_id and model_cutoff are read by the INSERT itself from the registry's live model
# (sql/15_models.sql): the database, not the caller's model bundle, knows which model will_churn is,
# and reading it in the same statement costs no extra round trip.
INSERT_OFFER_SQL = """
INSERT INTO offers_log (
    created_at, area_code, phone, sentiment, confidence, churn_probability, degraded, drivers,
    rules_version, rule_name, reason, experiment, arm, offer, offer_cost_usd, model_id, model_cutoff
) VALUES (
    UTC_TIMESTAMP(6), %(area_code)s, %(phone)s, %(sentiment)s, %(confidence)s, %(churn_probability)s,
    %(degraded)s, %(drivers)s, %(rules_version)s, %(rule_name)s, %(reason)s, %(experiment)s, %(arm)s,
    %(offer)s, %(offer_cost_usd)s,
    (SELECT live.id FROM models AS live WHERE live.live = 1 ORDER BY live.installed_at DESC LIMIT 1),
    (SELECT live.cutoff FROM models AS live WHERE live.live = 1 ORDER BY live.installed_at DESC LIMIT 1)
)
"""

INSERT_OUTCOME_SQL = """
INSERT INTO offer_outcomes (offer_id, retained, outcome, recorded_at)
VALUES (%(id)s, %(retained)s, %(outcome)s, UTC_TIMESTAMP(6))
"""
UPDATE_OUTCOME_SQL = """
UPDATE offer_outcomes SET retained = %(retained)s, outcome = %(outcome)s, recorded_at = UTC_TIMESTAMP(6)
WHERE offer_id = %(id)s
"""
# Retention alone (offers record-outcome --retained): the call's outcome, if one was recorded, stays.
UPDATE_RETAINED_SQL = """
UPDATE offer_outcomes SET retained = %(retained)s, recorded_at = UTC_TIMESTAMP(6) WHERE offer_id = %(id)s
"""


class OffersLogError(UserError):
    """An offers-log operation refers to something that is not there (an unknown offer id)."""


@dataclass(frozen=True)
class OfferRecord:
    area_code: int
    phone: str
    sentiment: str | None
    confidence: float | None
    churn_probability: float | None
    drivers: Sequence[dict[str, Any]]
    rules_version: str
    rule_name: str
    reason: str
    experiment: str | None
    arm: str | None
    offer: str
    offer_cost_usd: float
    # Why the customer calls (churnguard.call_reason.labels); missing: the deploy asks for one and
    # Bedrock gave none, which degrades the answer (None without it missing: call reasons are off).
    call_reason: str | None = None
    call_reason_missing: bool = False

    @property
    def degraded(self) -> bool:
        """Whether the answer was made without the sentiment, the churn score or the call reason."""
        return self.sentiment is None or self.churn_probability is None or self.call_reason_missing


def insert_offer(client: SqlClient, record: OfferRecord) -> int:
    """Append one answer in one call and return its id; outside a transaction it commits as it runs."""
    return client.insert_returning_id(INSERT_OFFER_SQL, offer_params(record))


def offer_params(record: OfferRecord) -> dict[str, Any]:
    """The INSERT's bound parameters for one answer."""
    return {
        "area_code": record.area_code,
        "phone": record.phone,
        "sentiment": record.sentiment,
        "confidence": record.confidence,
        "churn_probability": record.churn_probability,
        "degraded": 1 if record.degraded else 0,
        "drivers": json.dumps(list(record.drivers), sort_keys=True),
        "rules_version": record.rules_version,
        "rule_name": record.rule_name,
        "reason": record.reason[:REASON_MAX_CHARS],
        "experiment": record.experiment,
        "arm": record.arm,
        "offer": record.offer,
        "offer_cost_usd": round(record.offer_cost_usd, 2),
    }


def record_outcome(
    client: SqlClient, offer_id: int, *, retained: bool | None = None, outcome: str | None = None
) -> bool:
    """Record what became of offer `offer_id`; True if it replaced an earlier outcome.

    `outcome` is the call's end as the agent saw it (one of OUTCOME_KINDS); `retained` whether the
    customer stayed. Given an outcome alone, `retained` follows from it (accepted: stayed). Given
    `retained` alone, an earlier outcome's kind is kept (the customer who declined but stayed) and a
    new row has none.
    """
    if outcome is not None and outcome not in OUTCOME_KINDS:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOME_KINDS)}, not {outcome!r}")
    if retained is None and outcome is None:
        raise ValueError("record_outcome needs an outcome, whether the customer was retained, or both")
    if retained is None:
        retained = outcome == "accepted"
    params = {"id": offer_id, "retained": 1 if retained else 0, "outcome": outcome}
    with client.transaction():
        if not client.query("SELECT id FROM offers_log WHERE id = %(id)s", {"id": offer_id}):
            raise OffersLogError(f"no offer with id {offer_id} in the offers log")
        existing = client.query(
            "SELECT retained FROM offer_outcomes WHERE offer_id = %(id)s", {"id": offer_id}
        )
        if not existing:
            client.execute(INSERT_OUTCOME_SQL, params)
        else:
            client.execute(UPDATE_RETAINED_SQL if outcome is None else UPDATE_OUTCOME_SQL, params)
    return bool(existing)
