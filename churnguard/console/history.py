"""A customer's recent offers, and the outcome an agent records for an offer, over any SqlClient.

The console lists what the customer was offered lately, so an agent sees a second offer within a week
before making it. The agent's one-click outcome (accepted, declined, call ended) goes to the offers
log's outcomes table (sql/20_offers.sql, the table `churnguard offers record-outcome` writes), so it
shows in `churnguard offers report`. The table keeps the kind and, for the retention figures,
whether the customer stayed: an accepted offer counts as retained, a declined one and an ended call
as not, until `offers record-outcome --retained` corrects it.
"""

from __future__ import annotations

from typing import Any

from churnguard.engine.offers_log import OUTCOME_KINDS, record_outcome
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

# Offers older than this are not listed: the console is for repeat offers within a call's context.
RECENT_DAYS = 30
# An offer within this many days is flagged: the same customer should not get two in one week unseen.
REPEAT_WARNING_DAYS = 7
RECENT_LIMIT = 10

RECENT_OFFERS_SQL = f"""
SELECT log.id, LEFT(CAST(log.created_at AS CHAR), 16) AS created_at,
       TIMESTAMPDIFF(SECOND, log.created_at, UTC_TIMESTAMP(6)) AS age_s,
       log.offer, log.rule_name, log.arm, log.offer_cost_usd, log.degraded, outcome.retained,
       outcome.outcome
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.area_code = %(area_code)s AND log.phone = %(phone)s
  AND log.created_at >= UTC_TIMESTAMP(6) - INTERVAL %(days)s DAY
ORDER BY log.created_at DESC, log.id DESC
LIMIT {RECENT_LIMIT}
"""


class InvalidOutcomeError(UserError):
    """The console sent no offer id, or an outcome that is not one of accepted, declined, call_ended."""


def recent_offers(client: SqlClient, *, area_code: int, phone: str) -> list[dict[str, Any]]:
    """The customer's offers of the last RECENT_DAYS days, newest first, each flagged `this_week`."""
    rows = client.query(
        RECENT_OFFERS_SQL,
        {"area_code": area_code, "phone": phone, "days": RECENT_DAYS},
    )
    return [
        {
            "offer_id": int(row["id"]),
            "created_at": str(row["created_at"]),
            "days_ago": int(row["age_s"]) // 86400,
            "this_week": int(row["age_s"]) < REPEAT_WARNING_DAYS * 86400,
            "offer": row["offer"],
            "rule": row["rule_name"],
            "arm": row["arm"],
            "offer_cost_usd": float(row["offer_cost_usd"]),
            "degraded": bool(int(row["degraded"])),
            # The call's outcome (None: not recorded, or retention recorded alone) and whether the
            # customer stayed (None: no outcome yet).
            "outcome": row["outcome"],
            "retained": None if row["retained"] is None else bool(int(row["retained"])),
        }
        for row in rows
    ]


def record_agent_outcome(client: SqlClient, offer_id: Any, outcome: Any) -> dict[str, Any]:
    """Record the agent's outcome for an offer; returns what was stored and whether it replaced one."""
    if isinstance(offer_id, bool) or not isinstance(offer_id, int) or offer_id < 1:
        raise InvalidOutcomeError("offer_id must be a positive offer id from an answer")
    if outcome not in OUTCOME_KINDS:
        raise InvalidOutcomeError(f"outcome must be one of {', '.join(OUTCOME_KINDS)}")
    replaced = record_outcome(client, offer_id, outcome=outcome)
    return {"offer_id": offer_id, "outcome": outcome, "retained": outcome == "accepted", "replaced": replaced}
