"""A customer's recent offers, and the outcome an agent records for an offer, over any SqlClient.

The console lists what the customer was offered lately, so an agent sees a second offer within a week
before making it. The agent's one-click outcome (accepted, declined, call ended) goes to the offers
log's outcomes table (sql/20_offers.sql, the table `churnguard offers record-outcome` writes), so it
shows in `churnguard offers report`. The table keeps the kind and, for the retention figures,
whether the customer stayed: an accepted offer counts as retained, a declined one and an ended call
as not, until `offers record-outcome --retained` corrects it.
"""

from __future__ import annotations

import json
from typing import Any

from churnguard.engine.offers_log import OUTCOME_KINDS, Actor, record_outcome
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

# Offers older than this are not listed: the console is for repeat offers within a call's context.
RECENT_DAYS = 30
# An offer within this many days is flagged: the same customer should not get two in one week unseen.
REPEAT_WARNING_DAYS = 7
RECENT_LIMIT = 10

# The customer's offers of the last RECENT_DAYS days as one JSON array: an expression on the key's
# parameters that the console adds to the answer's first statement (Engine.look_up), so listing them
# costs no Data API call of its own. The key is compared as bound: offers_log's phone has the
# server's default collation, customers' another, and comparing the two columns is refused (error
# 1267). Every offer of the window comes back (a correlated derived table with a LIMIT is refused by
# MariaDB, and JSON_ARRAYAGG takes no ORDER BY on MySQL); Python orders them and keeps RECENT_LIMIT.
RECENT_OFFERS_COLUMN = f"""(
  SELECT JSON_ARRAYAGG(JSON_OBJECT(
    'id', log.id, 'created_at', LEFT(CAST(log.created_at AS CHAR), 16),
    'age_us', TIMESTAMPDIFF(MICROSECOND, log.created_at, UTC_TIMESTAMP(6)),
    'offer', log.offer, 'rule_name', log.rule_name, 'arm', log.arm,
    'offer_cost_usd', log.offer_cost_usd, 'degraded', log.degraded,
    'retained', outcome.retained, 'outcome', outcome.outcome
  ))
  FROM offers_log AS log
  LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
  WHERE log.area_code = %(area_code)s AND log.phone = %(phone)s
    AND log.created_at >= UTC_TIMESTAMP(6) - INTERVAL {RECENT_DAYS} DAY
)"""
_DAY_US = 86_400_000_000


class InvalidOutcomeError(UserError):
    """The console sent no offer id, or an outcome that is not one of accepted, declined, call_ended."""


def recent_offers(listed: str | None) -> list[dict[str, Any]]:
    """The RECENT_LIMIT newest of the offers RECENT_OFFERS_COLUMN listed (its JSON text, or None for
    none), newest first, each flagged `this_week`."""
    offers = sorted(json.loads(listed) if listed else [], key=lambda offer: (offer["age_us"], -offer["id"]))
    return [
        {
            "offer_id": int(offer["id"]),
            "created_at": str(offer["created_at"]),
            "days_ago": int(offer["age_us"]) // _DAY_US,
            "this_week": int(offer["age_us"]) < REPEAT_WARNING_DAYS * _DAY_US,
            "offer": offer["offer"],
            "rule": offer["rule_name"],
            "arm": offer["arm"],
            "offer_cost_usd": float(offer["offer_cost_usd"]),
            "degraded": bool(int(offer["degraded"])),
            # The call's outcome (None: not recorded, or retention recorded alone) and whether the
            # customer stayed (None: no outcome yet).
            "outcome": offer["outcome"],
            "retained": None if offer["retained"] is None else bool(int(offer["retained"])),
        }
        for offer in offers[:RECENT_LIMIT]
    ]


def record_agent_outcome(client: SqlClient, offer_id: Any, outcome: Any, *, actor: Actor) -> dict[str, Any]:
    """Record `actor`'s outcome for an offer (theirs, or any for a supervisor); returns what was
    stored and whether it replaced one."""
    if isinstance(offer_id, bool) or not isinstance(offer_id, int) or offer_id < 1:
        raise InvalidOutcomeError("offer_id must be a positive offer id from an answer")
    if outcome not in OUTCOME_KINDS:
        raise InvalidOutcomeError(f"outcome must be one of {', '.join(OUTCOME_KINDS)}")
    replaced = record_outcome(client, offer_id, actor=actor, outcome=outcome)
    return {"offer_id": offer_id, "outcome": outcome, "retained": outcome == "accepted", "replaced": replaced}
