"""Writes the offers log (sql/20_offers.sql, migration 0001): each answer given, by which agent, and
later whether the customer stayed, who recorded it and every change to it.

Values are always bound parameters. Writing an answer is one INSERT, wholly there or not at all,
which commits as it runs and whose own reply carries the new row's id (SqlClient.insert_returning_id:
the Data API's generatedFields, PyMySQL's last-row id): one call, no transaction. A degraded answer
(no sentiment, or no churn score) is written with NULL for what is missing and `degraded` = 1. Every
row names the live model and its cut-off (NULL only when the database has no model recorded), and
the agent who asked (an identity the caller established: never a name from a request body). An
outcome is how the call ended (accepted, declined, call ended) and whether the customer stayed; an
agent may record or change it only for their own offers within OUTCOME_WINDOW_S, a supervisor for
any, and every write is kept in offer_outcome_changes with what it replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

REASON_MAX_CHARS = 1000
# offers_log.agent and the outcome tables' agent columns (sql/migrations/0001_agents.sql).
AGENT_MAX_CHARS = 640
# An agent records the outcome of their own offer during or just after the call; later corrections
# (retention known weeks on) are a supervisor's, so an outcome cannot be rewritten unnoticed by anyone.
OUTCOME_WINDOW_S = 24 * 3600
# How a call with an offer ended, as the agent records it (offer_outcomes.outcome, sql/20_offers.sql).
OUTCOME_KINDS: tuple[str, ...] = ("accepted", "declined", "call_ended")

# model_id and model_cutoff are read by the INSERT itself from the registry's live model
# (sql/15_models.sql): the database, not the caller's model bundle, knows which model will_churn is,
# and reading it in the same statement costs no extra round trip.
INSERT_OFFER_SQL = """
INSERT INTO offers_log (
    created_at, agent, area_code, phone, sentiment, confidence, call_reason, churn_probability, degraded,
    drivers, rules_version, rule_name, reason, experiment, arm, offer, offer_cost_usd, model_id, model_cutoff
) VALUES (
    UTC_TIMESTAMP(6), %(agent)s, %(area_code)s, %(phone)s, %(sentiment)s, %(confidence)s, %(call_reason)s,
    %(churn_probability)s, %(degraded)s, %(drivers)s, %(rules_version)s, %(rule_name)s, %(reason)s,
    %(experiment)s, %(arm)s,
    %(offer)s, %(offer_cost_usd)s,
    (SELECT live.id FROM models AS live WHERE live.live = 1 ORDER BY live.installed_at DESC LIMIT 1),
    (SELECT live.cutoff FROM models AS live WHERE live.live = 1 ORDER BY live.installed_at DESC LIMIT 1)
)
"""

# The offer's maker and age, and the outcome counted now (if any), for the ownership check.
OFFER_FOR_OUTCOME_SQL = """
SELECT log.agent AS offered_by, TIMESTAMPDIFF(SECOND, log.created_at, UTC_TIMESTAMP(6)) AS age_s,
       outcome.offer_id AS has_outcome, outcome.outcome
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.id = %(id)s
"""
# The change, with what it replaces read in the same statement (InnoDB reads the rows of an
# INSERT ... SELECT under shared locks, so two changes at once cannot both claim the same "from").
INSERT_CHANGE_SQL = """
INSERT INTO offer_outcome_changes (
    offer_id, changed_at, agent, supervisor, from_outcome, from_retained, from_agent, to_outcome, to_retained
)
SELECT log.id, UTC_TIMESTAMP(6), %(agent)s, %(supervisor)s, outcome.outcome, outcome.retained,
       outcome.agent, %(outcome)s, %(retained)s
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.id = %(id)s
"""
# The outcome counted now: one row per offer, the latest write (its history is offer_outcome_changes).
UPSERT_OUTCOME_SQL = """
INSERT INTO offer_outcomes (offer_id, retained, outcome, recorded_at, agent)
VALUES (%(id)s, %(retained)s, %(outcome)s, UTC_TIMESTAMP(6), %(agent)s)
ON DUPLICATE KEY UPDATE retained = %(retained)s, outcome = %(outcome)s, recorded_at = UTC_TIMESTAMP(6),
    agent = %(agent)s
"""


class OffersLogError(UserError):
    """An offers-log operation refers to something that is not there (an unknown offer id)."""


class OutcomeNotAllowed(UserError):
    """The acting agent may not record or change this offer's outcome (another agent's offer, one
    made before agents were recorded, or one past OUTCOME_WINDOW_S), and is not a supervisor."""


@dataclass(frozen=True)
class Actor:
    """Who is writing: an agent identity the caller established (the Cognito user's `sub`, the IAM
    principal's ARN, a local agent name), and whether they may correct any agent's outcomes."""

    agent: str
    supervisor: bool = False

    def __post_init__(self) -> None:
        validate_agent(self.agent)


def validate_agent(agent: str) -> str:
    """`agent` if it can be recorded: 1 to AGENT_MAX_CHARS printable characters."""
    if not isinstance(agent, str) or not agent.strip():
        raise UserError("the acting agent's name is empty: give --agent NAME")
    if len(agent) > AGENT_MAX_CHARS:
        raise UserError(f"the acting agent's name is {len(agent)} characters long; at most {AGENT_MAX_CHARS}")
    if not agent.isprintable():
        raise UserError("the acting agent's name holds control characters")
    return agent


@dataclass(frozen=True)
class OfferRecord:
    agent: str
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
        "agent": validate_agent(record.agent),
        "area_code": record.area_code,
        "phone": record.phone,
        "sentiment": record.sentiment,
        "confidence": record.confidence,
        "call_reason": record.call_reason,
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
    client: SqlClient,
    offer_id: int,
    *,
    actor: Actor,
    retained: bool | None = None,
    outcome: str | None = None,
) -> bool:
    """Record what became of offer `offer_id` as `actor`; True if it replaced an earlier outcome.

    `outcome` is the call's end as the agent saw it (one of OUTCOME_KINDS); `retained` whether the
    customer stayed. Given an outcome alone, `retained` follows from it (accepted: stayed). Given
    `retained` alone, an earlier outcome's kind is kept (the customer who declined but stayed) and a
    new row has none. Refused with OutcomeNotAllowed unless `actor` made the offer less than
    OUTCOME_WINDOW_S ago or is a supervisor. The outcome counted is replaced; what it replaced, who
    changed it and when are appended to offer_outcome_changes, in the same transaction.
    """
    if outcome is not None and outcome not in OUTCOME_KINDS:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOME_KINDS)}, not {outcome!r}")
    if retained is None and outcome is None:
        raise ValueError("record_outcome needs an outcome, whether the customer was retained, or both")
    if retained is None:
        retained = outcome == "accepted"
    with client.transaction():
        rows = client.query(OFFER_FOR_OUTCOME_SQL, {"id": offer_id})
        if not rows:
            raise OffersLogError(f"no offer with id {offer_id} in the offers log")
        (row,) = rows
        check_may_change(actor, offer_id, row)
        replaced = row["has_outcome"] is not None
        params = {
            "id": offer_id,
            "retained": 1 if retained else 0,
            "outcome": row["outcome"] if outcome is None and replaced else outcome,
            "agent": actor.agent,
            "supervisor": 1 if actor.supervisor else 0,
        }
        client.execute(INSERT_CHANGE_SQL, params)
        client.execute(UPSERT_OUTCOME_SQL, params)
    return replaced


def check_may_change(actor: Actor, offer_id: int, offer: dict[str, Any]) -> None:
    """Refuse unless `actor` is a supervisor, or made the offer less than OUTCOME_WINDOW_S ago."""
    if actor.supervisor:
        return
    hours = OUTCOME_WINDOW_S // 3600
    if offer["offered_by"] is None:
        raise OutcomeNotAllowed(
            f"offer {offer_id} was made before agents were recorded: only a supervisor may record its outcome"
        )
    if offer["offered_by"] != actor.agent:
        raise OutcomeNotAllowed(
            f"offer {offer_id} was made by another agent: only they (within {hours} hours of the offer) "
            "or a supervisor may record its outcome"
        )
    if int(offer["age_s"]) > OUTCOME_WINDOW_S:
        raise OutcomeNotAllowed(
            f"offer {offer_id} was made more than {hours} hours ago: only a supervisor may record or "
            "change its outcome now"
        )
