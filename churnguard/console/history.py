"""A customer's recent offers, and the outcome an agent records for an offer, over any SqlClient.

The console lists what the customer was offered lately, so an agent sees a second offer within a week
before making it. The agent's one-click outcome goes to the offers log's existing outcomes table
(sql/20_offers.sql, the table `churnguard offers record-outcome` writes), so it shows in
`churnguard offers report`. That table holds one fact per offer, `retained`: an accepted offer is
recorded as a customer kept, a declined one and a call that ended without an answer as a customer
not kept; `offers record-outcome` corrects it later if the customer stays after all.
"""

from __future__ import annotations

from typing import Any

from churnguard.engine.offers_log import record_outcome
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

# Offers older than this are not listed: the console is for repeat offers within a call's context.
RECENT_DAYS = 30
# An offer within this many days is flagged: the same customer should not get two in one week unseen.
REPEAT_WARNING_DAYS = 7
RECENT_LIMIT = 10
# What the agent clicks -> the outcomes table's `retained`.
OUTCOMES: dict[str, bool] = {"accepted": True, "declined": False, "call_ended": False}

RECENT_OFFERS_SQL = f"""
SELECT log.id, LEFT(CAST(log.created_at AS CHAR), 16) AS created_at,
       TIMESTAMPDIFF(SECOND, log.created_at, UTC_TIMESTAMP(6)) AS age_s,
       log.offer, log.rule_name, log.arm, log.offer_cost_usd, log.degraded, outcome.retained
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
            "outcome": _outcome(row["retained"]),
        }
        for row in rows
    ]


def _outcome(retained: Any) -> str | None:
    if retained is None:
        return None
    return "accepted" if int(retained) else "declined or call ended"


def record_agent_outcome(client: SqlClient, offer_id: Any, outcome: Any) -> dict[str, Any]:
    """Record the agent's outcome for an offer; returns what was stored and whether it replaced one."""
    if isinstance(offer_id, bool) or not isinstance(offer_id, int) or offer_id < 1:
        raise InvalidOutcomeError("offer_id must be a positive offer id from an answer")
    if outcome not in OUTCOMES:
        raise InvalidOutcomeError(f"outcome must be one of {', '.join(OUTCOMES)}")
    replaced = record_outcome(client, offer_id, retained=OUTCOMES[outcome])
    return {"offer_id": offer_id, "outcome": outcome, "retained": OUTCOMES[outcome], "replaced": replaced}
