"""`churnguard offers report`: what the engine offered, at what cost, and which experiment arm kept customers.

Reads the offers log and the recorded outcomes (sql/20_offers.sql). Retention per arm comes with a
95% Wilson interval, so Marketing can see whether a difference between arms is more than noise.
Degraded answers (made without the sentiment or without the churn score) are counted per rule and
in total, by what was missing, so a Comprehend or endpoint outage shows up in the numbers.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from churnguard.errors import UserError
from churnguard.lifecycle.model_report import format_by_model, offers_by_model
from churnguard.sql_client import SqlClient

WILSON_Z_95 = 1.959964

OFFERS_BY_RULE_SQL = """
SELECT rule_name, arm, offer, COUNT(*) AS offers, SUM(offer_cost_usd) AS cost_usd,
       SUM(degraded) AS degraded
FROM offers_log
WHERE created_at >= %(since)s
GROUP BY rule_name, arm, offer
ORDER BY rule_name, arm, offer
"""

RETENTION_BY_ARM_SQL = """
SELECT log.experiment, log.arm, log.offer, COUNT(*) AS offers, COUNT(outcome.offer_id) AS outcomes,
       COALESCE(SUM(outcome.retained), 0) AS retained, SUM(log.offer_cost_usd) AS cost_usd
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.experiment IS NOT NULL AND log.created_at >= %(since)s
GROUP BY log.experiment, log.arm, log.offer
ORDER BY log.experiment, log.arm, log.offer
"""

DEGRADED_SQL = """
SELECT COUNT(*) AS offers, COALESCE(SUM(degraded), 0) AS degraded,
       COALESCE(SUM(degraded = 1 AND sentiment IS NULL), 0) AS without_sentiment,
       COALESCE(SUM(degraded = 1 AND churn_probability IS NULL), 0) AS without_score
FROM offers_log
WHERE created_at >= %(since)s
"""

DEGRADED_COLUMN_SQL = """
SELECT COUNT(*) AS n FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offers_log' AND COLUMN_NAME = 'degraded'
"""

TABLES_SQL = """
SELECT TABLE_NAME AS name FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('offers_log', 'offer_outcomes')
"""


def offers_report(client: SqlClient, *, since: date | None = None) -> dict[str, Any]:
    """Offers and cost by rule and arm, and retention by experiment arm, from `since` (UTC) on."""
    present = {row["name"] for row in client.query(TABLES_SQL)}
    if present != {"offers_log", "offer_outcomes"}:
        raise UserError(
            "this database has no offers log: apply sql/20_offers.sql (`churnguard local up` and the "
            "deployed bootstrap do)"
        )
    if not int(client.query(DEGRADED_COLUMN_SQL)[0]["n"]):
        raise UserError(
            "this offers log predates degraded answers (no column 'degraded'): apply sql/20_offers.sql "
            "again to upgrade it in place (`churnguard local up` and the deployed bootstrap do)"
        )
    params = {"since": (since or date(1970, 1, 1)).isoformat()}
    by_rule = [
        {
            "rule": row["rule_name"],
            "arm": row["arm"],
            "offer": row["offer"],
            "offers": int(row["offers"]),
            "cost_usd": round(float(row["cost_usd"]), 2),
            "degraded": int(row["degraded"]),
        }
        for row in client.query(OFFERS_BY_RULE_SQL, params)
    ]
    totals = client.query(DEGRADED_SQL, params)[0]
    retention = []
    for row in client.query(RETENTION_BY_ARM_SQL, params):
        outcomes, retained = int(row["outcomes"]), int(row["retained"])
        low, high = wilson_interval(retained, outcomes)
        retention.append(
            {
                "experiment": row["experiment"],
                "arm": row["arm"],
                "offer": row["offer"],
                "offers": int(row["offers"]),
                "outcomes": outcomes,
                "retained": retained,
                "retention": round(retained / outcomes, 4) if outcomes else None,
                "retention_95ci": [round(low, 4), round(high, 4)] if outcomes else None,
                "cost_usd": round(float(row["cost_usd"]), 2),
            }
        )
    return {
        "since": params["since"],
        "total_offers": sum(item["offers"] for item in by_rule),
        "total_cost_usd": round(sum(item["cost_usd"] for item in by_rule), 2),
        "degraded": {
            "offers": int(totals["degraded"]),
            "without_sentiment": int(totals["without_sentiment"]),
            "without_score": int(totals["without_score"]),
        },
        "by_rule": by_rule,
        "retention_by_arm": retention,
        # Model lifecycle (docs/lifecycle.md): the same offers grouped by the model that scored them.
        "by_model": offers_by_model(client, params, wilson_interval),
    }


def wilson_interval(successes: int, trials: int, z: float = WILSON_Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion: sensible even for few outcomes or 0% / 100%."""
    if trials == 0:
        return (0.0, 1.0)
    proportion = successes / trials
    denominator = 1 + z * z / trials
    centre = (proportion + z * z / (2 * trials)) / denominator
    spread = (
        z * math.sqrt(proportion * (1 - proportion) / trials + z * z / (4 * trials * trials)) / denominator
    )
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def format_report(report: dict[str, Any]) -> str:
    """The report as aligned text tables for a terminal."""
    degraded = report["degraded"]
    lines = [
        f"Offers since {report['since']}: {report['total_offers']}, cost ${report['total_cost_usd']:,.2f}",
        f"Degraded answers: {degraded['offers']} ({degraded['without_sentiment']} without sentiment, "
        f"{degraded['without_score']} without churn score)",
        "",
        f"{'rule':<36} {'arm':<12} {'offer':<20} {'offers':>7} {'degraded':>9} {'cost USD':>11}",
    ]
    for item in report["by_rule"]:
        lines.append(
            f"{item['rule']:<36} {item['arm'] or '-':<12} {item['offer']:<20} "
            f"{item['offers']:>7} {item['degraded']:>9} {item['cost_usd']:>11,.2f}"
        )
    if not report["by_rule"]:
        lines.append("(no offers recorded)")
    lines += ["", "Retention by experiment arm (outcomes recorded with `churnguard offers record-outcome`)"]
    if not report["retention_by_arm"]:
        lines.append("(no experiment offers recorded)")
        return "\n".join([*lines, *format_by_model(report["by_model"])])
    lines.append(
        f"{'experiment':<20} {'arm':<12} {'offers':>7} {'outcomes':>9} {'retained':>9} "
        f"{'retention':>10} {'95% interval':>16}"
    )
    for item in report["retention_by_arm"]:
        if item["outcomes"]:
            rate = f"{item['retention']:.1%}"
            low, high = item["retention_95ci"]
            interval = f"{low:.1%}-{high:.1%}"
        else:
            rate, interval = "-", "-"
        lines.append(
            f"{item['experiment']:<20} {item['arm']:<12} {item['offers']:>7} {item['outcomes']:>9} "
            f"{item['retained']:>9} {rate:>10} {interval:>16}"
        )
    return "\n".join([*lines, *format_by_model(report["by_model"])])
