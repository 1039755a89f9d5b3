"""The offers report's section by model: offers, cost, degraded answers and retention per model id.

Rows written while the registry had no live model have no model_id; they are grouped as model None
("unknown"), never attributed to a model. Retention comes with the same 95% Wilson interval as per arm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from churnguard.sql_client import SqlClient

OFFERS_BY_MODEL_SQL = """
SELECT log.model_id, MIN(log.model_cutoff) AS cutoff_low, MAX(log.model_cutoff) AS cutoff_high,
       COUNT(*) AS offers, SUM(log.offer_cost_usd) AS cost_usd, SUM(log.degraded) AS degraded,
       COUNT(outcome.offer_id) AS outcomes, COALESCE(SUM(outcome.retained), 0) AS retained,
       MIN(log.created_at) AS first_offer, MAX(log.created_at) AS last_offer
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.created_at >= %(since)s
GROUP BY log.model_id
ORDER BY MIN(log.created_at), log.model_id
"""


def offers_by_model(
    client: SqlClient, params: dict[str, Any], interval: Callable[[int, int], tuple[float, float]]
) -> list[dict[str, Any]]:
    """One entry per model that made answers since `params['since']`, oldest first."""
    result = []
    for row in client.query(OFFERS_BY_MODEL_SQL, params):
        outcomes, retained = int(row["outcomes"]), int(row["retained"])
        low, high = interval(retained, outcomes)
        cutoffs = sorted({row["cutoff_low"], row["cutoff_high"]} - {None})
        result.append(
            {
                "model_id": row["model_id"],
                "cutoff": float(cutoffs[0]) if len(cutoffs) == 1 else None,
                "offers": int(row["offers"]),
                "cost_usd": round(float(row["cost_usd"]), 2),
                "degraded": int(row["degraded"]),
                "outcomes": outcomes,
                "retained": retained,
                "retention": round(retained / outcomes, 4) if outcomes else None,
                "retention_95ci": [round(low, 4), round(high, 4)] if outcomes else None,
                "first_offer": str(row["first_offer"]),
                "last_offer": str(row["last_offer"]),
            }
        )
    return result


def format_by_model(entries: list[dict[str, Any]]) -> list[str]:
    """The section's lines for the text report."""
    lines = ["", "By model (the live model when each answer was made)"]
    if not entries:
        return [*lines, "(no offers recorded)"]
    lines.append(
        f"{'model':<17} {'cut-off':>7} {'offers':>7} {'cost USD':>11} {'outcomes':>9} {'retention':>10} "
        f"{'95% interval':>14}"
    )
    for item in entries:
        cutoff = "-" if item["cutoff"] is None else f"{item['cutoff']:.2f}"
        if item["outcomes"]:
            low, high = item["retention_95ci"]
            rate, interval = f"{item['retention']:.1%}", f"{low:.1%}-{high:.1%}"
        else:
            rate, interval = "-", "-"
        lines.append(
            f"{item['model_id'] or 'unknown':<17} {cutoff:>7} {item['offers']:>7} {item['cost_usd']:>11,.2f} "
            f"{item['outcomes']:>9} {rate:>10} {interval:>14}"
        )
    return lines
