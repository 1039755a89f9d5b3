"""`churnguard offers report`: what the engine offered, at what cost, and which offers kept customers.

Reads the offers log and the recorded outcomes (sql/20_offers.sql). Retention is shown by rule, by
offer and by experiment arm, each with a 95% Wilson interval; for an experiment, the difference
between arms with a 95% Newcombe interval (the hybrid score interval built from the two Wilson
intervals), and a plain "not enough outcomes yet" until each arm has MIN_OUTCOMES_PER_ARM outcomes.
Degraded answers (made without the sentiment or without the churn score) are counted per rule and
in total, by what was missing, so a Comprehend or endpoint outage shows up in the numbers. Given
the model and the rules, the report sets the offer cost the training chose its cut-off for beside
what the rules' offers cost, since the two should not silently disagree.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from churnguard.engine.economics import ModelEconomics
from churnguard.engine.offers_log import OUTCOME_KINDS
from churnguard.engine.rules import Rules
from churnguard.errors import UserError
from churnguard.lifecycle.model_report import format_by_model, offers_by_model
from churnguard.sql_client import SqlClient

WILSON_Z_95 = 1.959964
# Below this many recorded outcomes in an arm, a difference between arms is "not enough outcomes
# yet": with 30 outcomes per arm and retention near 50%, the 95% interval of a difference is still
# about +-24 points wide, so only a large effect can show; fewer tell nothing a reader should act on.
MIN_OUTCOMES_PER_ARM = 30
# Outcomes recorded as retention only (`offers record-outcome --retained`).
WITHOUT_KIND = "without_kind"

OFFERS_BY_RULE_SQL = """
SELECT rule_name, arm, offer, COUNT(*) AS offers, SUM(offer_cost_usd) AS cost_usd,
       SUM(degraded) AS degraded
FROM offers_log
WHERE created_at >= %(since)s
GROUP BY rule_name, arm, offer
ORDER BY rule_name, arm, offer
"""

# How many outcomes of each kind (offer_outcomes.outcome); the rest were recorded as retention only.
KINDS_SQL = ",\n       ".join(
    f"COALESCE(SUM(outcome.outcome = '{kind}'), 0) AS {kind}" for kind in OUTCOME_KINDS
)

RETENTION_BY_ARM_SQL = """
SELECT log.experiment, log.arm, log.offer, COUNT(*) AS offers, COUNT(outcome.offer_id) AS outcomes,
       COALESCE(SUM(outcome.retained), 0) AS retained, SUM(log.offer_cost_usd) AS cost_usd,
       {kinds}
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.experiment IS NOT NULL AND log.created_at >= %(since)s
GROUP BY log.experiment, log.arm, log.offer
ORDER BY log.experiment, log.arm, log.offer
""".replace("{kinds}", KINDS_SQL)

RETENTION_SQL = """
SELECT log.{column} AS name, COUNT(*) AS offers, COUNT(outcome.offer_id) AS outcomes,
       COALESCE(SUM(outcome.retained), 0) AS retained, SUM(log.offer_cost_usd) AS cost_usd,
       {kinds}
FROM offers_log AS log
LEFT JOIN offer_outcomes AS outcome ON outcome.offer_id = log.id
WHERE log.created_at >= %(since)s
GROUP BY log.{column}
ORDER BY log.{column}
"""
# Only these two fixed column names and the fixed kinds are ever put into RETENTION_SQL: nothing a
# user typed.
RETENTION_BY_RULE_SQL = RETENTION_SQL.format(column="rule_name", kinds=KINDS_SQL)
RETENTION_BY_OFFER_SQL = RETENTION_SQL.format(column="offer", kinds=KINDS_SQL)
# Why the customers called (migration 0002); NULL: no reason (Bedrock failed, or call reasons off).
RETENTION_BY_REASON_SQL = RETENTION_SQL.format(column="call_reason", kinds=KINDS_SQL)
NO_CALL_REASON = "(none)"

PERIOD_SQL = """
SELECT MIN(created_at) AS first_offer_at, MAX(created_at) AS last_offer_at
FROM offers_log
WHERE created_at >= %(since)s
"""

DEGRADED_SQL = """
SELECT COUNT(*) AS offers, COALESCE(SUM(degraded), 0) AS degraded,
       COALESCE(SUM(degraded = 1 AND sentiment IS NULL), 0) AS without_sentiment,
       COALESCE(SUM(degraded = 1 AND churn_probability IS NULL), 0) AS without_score,
       COALESCE(SUM(degraded = 1 AND call_reason IS NULL), 0) AS without_call_reason
FROM offers_log
WHERE created_at >= %(since)s
"""

TABLES_SQL = """
SELECT TABLE_NAME AS name FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('offers_log', 'offer_outcomes', 'offer_outcome_changes')
"""

# Outcomes that replaced an earlier one (offer_outcome_changes, migration 0001): the counts above are
# of the latest outcome of each offer; these say who changed what, and when.
CHANGES_SQL = """
SELECT change_.offer_id, LEFT(CAST(change_.changed_at AS CHAR), 19) AS changed_at, change_.agent,
       change_.supervisor, change_.from_outcome, change_.from_retained, change_.from_agent,
       change_.to_outcome, change_.to_retained, log.agent AS offered_by
FROM offer_outcome_changes AS change_
JOIN offers_log AS log ON log.id = change_.offer_id
WHERE change_.from_retained IS NOT NULL AND change_.changed_at >= %(since)s
ORDER BY change_.changed_at, change_.id
"""
# How the report names an agent column holding NULL: the row was written by release 0.1.0.
BEFORE_AGENTS = "before agents were recorded"


def offers_report(
    client: SqlClient,
    *,
    since: date | None = None,
    economics: ModelEconomics | None = None,
    rules: Rules | None = None,
    changes: bool = False,
) -> dict[str, Any]:
    """Offers and cost by rule and arm, retention by rule, offer, call reason and experiment arm, the
    difference between arms, from `since` (UTC) on; with `economics` and `rules`, their offer costs
    side by side. Outcomes count as last recorded; with `changes`, also every outcome that replaced
    another (`changes`: who, when, from what to what).
    """
    present = {row["name"] for row in client.query(TABLES_SQL)}
    if not {"offers_log", "offer_outcomes"} <= present:
        raise UserError(
            "this database has no offers log: apply sql/20_offers.sql (`churnguard local up` and the "
            "deployed bootstrap do)"
        )
    # Without --since every offer counts: a date before any log could hold (not shown to the reader).
    params = {"since": (since or date(1970, 1, 1)).isoformat()}
    period = client.query(PERIOD_SQL, params)[0]
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
    retention = [
        {"experiment": row["experiment"], "arm": row["arm"], "offer": row["offer"], **_retention(row)}
        for row in client.query(RETENTION_BY_ARM_SQL, params)
    ]
    retention_by_rule = [
        {"rule": row["name"], **_retention(row)} for row in client.query(RETENTION_BY_RULE_SQL, params)
    ]
    first, last = _timestamp(period["first_offer_at"]), _timestamp(period["last_offer_at"])
    report: dict[str, Any] = {
        "since": since.isoformat() if since else None,
        "first_offer_at": first,
        "last_offer_at": last,
        "period": period_words(since, first, last),
        "total_offers": sum(item["offers"] for item in by_rule),
        "total_cost_usd": round(sum(item["cost_usd"] for item in by_rule), 2),
        "degraded": {
            "offers": int(totals["degraded"]),
            "without_sentiment": int(totals["without_sentiment"]),
            "without_score": int(totals["without_score"]),
            "without_call_reason": int(totals["without_call_reason"]),
        },
        "by_rule": by_rule,
        "retention_by_arm": retention,
        "retention_by_rule": retention_by_rule,
        "retention_by_offer": [
            {"offer": row["name"], **_retention(row)} for row in client.query(RETENTION_BY_OFFER_SQL, params)
        ],
        "retention_by_reason": [
            {"call_reason": row["name"] or NO_CALL_REASON, **_retention(row)}
            for row in client.query(RETENTION_BY_REASON_SQL, params)
        ],
        "arm_differences": arm_differences(retention),
        # Every offer has one rule, so the rules' counts add up to every outcome of the period.
        "outcome_kinds": {
            kind: sum(item[kind] for item in retention_by_rule) for kind in (*OUTCOME_KINDS, WITHOUT_KIND)
        },
        # Model lifecycle (docs/lifecycle.md): the same offers grouped by the model that scored them.
        "by_model": offers_by_model(client, params, wilson_interval),
    }
    report["cost_assumptions"] = cost_assumptions(economics, rules, report["by_rule"])
    if changes:
        if "offer_outcome_changes" not in present:
            raise UserError(
                "this database has no outcome history yet: apply the schema migrations (`churnguard local "
                "up` and the deployed bootstrap do)"
            )
        report["changes"] = [_change(row) for row in client.query(CHANGES_SQL, params)]
    return report


def _change(row: dict[str, Any]) -> dict[str, Any]:
    """One replaced outcome; agents are None where the row predates their recording."""
    return {
        "offer_id": int(row["offer_id"]),
        "changed_at": str(row["changed_at"]),
        "agent": row["agent"],
        "supervisor": bool(int(row["supervisor"])),
        "offered_by": row["offered_by"],
        "from": {
            "outcome": row["from_outcome"],
            "retained": bool(int(row["from_retained"])),
            "agent": row["from_agent"],
        },
        "to": {"outcome": row["to_outcome"], "retained": bool(int(row["to_retained"]))},
    }


def format_changes(changes: list[dict[str, Any]]) -> list[str]:
    """The replaced outcomes as lines: offer, when, who (and whose offer), from what to what."""
    lines = ["", f"Outcome changes ({len(changes)}; the counts above use each offer's latest outcome)"]
    if not changes:
        return [*lines, "(no outcome was changed)"]
    for change in changes:
        before, after = change["from"], change["to"]
        role = " (supervisor)" if change["supervisor"] else ""
        lines.append(
            f"offer {change['offer_id']} at {change['changed_at']} by {change['agent']}{role}: "
            f"{_outcome_words(before)} -> {_outcome_words(after)}; earlier outcome by "
            f"{before['agent'] or BEFORE_AGENTS}, offer made by {change['offered_by'] or BEFORE_AGENTS}"
        )
    return lines


def _outcome_words(outcome: dict[str, Any]) -> str:
    return f"{outcome['outcome'] or 'retention only'} (retained {'yes' if outcome['retained'] else 'no'})"


def _retention(row: dict[str, Any]) -> dict[str, Any]:
    """Offers, outcomes, retained customers, their share with a 95% Wilson interval, the cost, and
    the outcomes by kind (accepted, declined, call_ended, and `without_kind`: retention only)."""
    outcomes, retained = int(row["outcomes"]), int(row["retained"])
    low, high = wilson_interval(retained, outcomes)
    kinds = {kind: int(row[kind]) for kind in OUTCOME_KINDS}
    return {
        "offers": int(row["offers"]),
        "outcomes": outcomes,
        "retained": retained,
        "retention": round(retained / outcomes, 4) if outcomes else None,
        "retention_95ci": [round(low, 4), round(high, 4)] if outcomes else None,
        "cost_usd": round(float(row["cost_usd"] or 0), 2),
        **kinds,
        WITHOUT_KIND: outcomes - sum(kinds.values()),
    }


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else str(value)


def period_words(since: date | None, first: str | None, last: str | None) -> str:
    """The report's period as a reader says it: 'from 2026-11-20 to 2026-11-26', never 'since 1970'."""
    if first is None or last is None:
        return f"no offers since {since.isoformat()}" if since else "no offers recorded yet"
    span = f"on {first[:10]}" if first[:10] == last[:10] else f"from {first[:10]} to {last[:10]}"
    return f"since {since.isoformat()}: offers {span}" if since else f"every offer recorded, {span}"


def newcombe_interval(
    retained_a: int, outcomes_a: int, retained_b: int, outcomes_b: int, z: float = WILSON_Z_95
) -> tuple[float, float]:
    """95% interval of p_a - p_b: Newcombe's hybrid score interval (method 10, Stat Med 1998;17:873-890).

    Built from each proportion's Wilson interval, so it stays inside [-1, 1] and behaves with few
    outcomes or rates of 0% and 100%, where the textbook normal interval does not.
    """
    p_a, p_b = retained_a / outcomes_a, retained_b / outcomes_b
    low_a, high_a = wilson_interval(retained_a, outcomes_a, z)
    low_b, high_b = wilson_interval(retained_b, outcomes_b, z)
    difference = p_a - p_b
    return (
        difference - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2),
        difference + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2),
    )


def arm_differences(retention_by_arm: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per experiment, each arm against the experiment's first arm: the difference in retention with
    its 95% interval, and a verdict in words ("not enough outcomes yet" until each arm has enough)."""
    differences = []
    experiments = dict.fromkeys(item["experiment"] for item in retention_by_arm)
    for experiment in experiments:
        arms = [item for item in retention_by_arm if item["experiment"] == experiment]
        baseline = arms[0]
        for arm in arms[1:]:
            differences.append(_difference(experiment, arm, baseline))
    return differences


def _difference(experiment: str, arm: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    short = [item for item in (baseline, arm) if item["outcomes"] < MIN_OUTCOMES_PER_ARM]
    names = f"{baseline['arm']} - {arm['arm']}"
    item: dict[str, Any] = {
        "experiment": experiment,
        "arm": baseline["arm"],
        "versus": arm["arm"],
        "outcomes": [baseline["outcomes"], arm["outcomes"]],
        "difference": None,
        "difference_95ci": None,
        "enough_outcomes": not short,
        "min_outcomes_per_arm": MIN_OUTCOMES_PER_ARM,
    }
    if baseline["outcomes"] and arm["outcomes"]:
        low, high = newcombe_interval(
            baseline["retained"], baseline["outcomes"], arm["retained"], arm["outcomes"]
        )
        difference = baseline["retention"] - arm["retention"]
        item["difference"] = round(difference, 4)
        item["difference_95ci"] = [round(low, 4), round(high, 4)]
        figures = (
            f"{names} = {_points(difference)} (95% interval {100 * low:+.1f} to {100 * high:+.1f} points)"
        )
    else:
        figures = ""
    if short:
        counts = ", ".join(f"{entry['arm']} has {entry['outcomes']}" for entry in short)
        item["verdict"] = (
            f"not enough outcomes yet: {counts} of the {MIN_OUTCOMES_PER_ARM} recorded outcomes "
            "each arm needs" + (f"; so far {figures}" if figures else "")
        )
    elif item["difference_95ci"][0] > 0 or item["difference_95ci"][1] < 0:
        better, worse = (baseline, arm) if item["difference"] > 0 else (arm, baseline)
        item["verdict"] = f"{better['arm']} keeps more customers than {worse['arm']}: {figures}"
    else:
        item["verdict"] = f"no clear difference yet (the interval includes 0): {figures}"
    return item


def _points(share: float) -> str:
    return f"{share * 100:+.1f} points"


def cost_assumptions(
    economics: ModelEconomics | None, rules: Rules | None, by_rule: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The training's cost per offer beside the rules' offer costs and what the offers made cost.

    The cut-off in force was chosen for the training's offer cost: when the rules pay much less (or
    more) per offer, the cut-off that minimises the real cost is lower (or higher), so the report
    shows both and says how to align them, rather than letting them disagree unseen.
    """
    if economics is None or rules is None:
        return None
    paid = [item for item in by_rule if item["cost_usd"] > 0]
    offers_paid = sum(item["offers"] for item in paid)
    mean_paid = round(sum(item["cost_usd"] for item in paid) / offers_paid, 2) if offers_paid else None
    rule_costs = {key: offer.cost_usd for key, offer in rules.offers.items()}
    paying = sorted({cost for cost in rule_costs.values() if cost > 0})
    agree = economics.offer_usd is not None and all(cost == economics.offer_usd for cost in paying)
    return {
        "training_offer_usd": economics.offer_usd,
        "training_lost_customer_usd": economics.lost_customer_usd,
        "model_cutoff": economics.cutoff,
        "model_metadata": economics.source,
        "rules_source": rules.source,
        "rules_version": rules.version,
        "rules_offer_cost_usd": rule_costs,
        "mean_cost_of_paid_offers_usd": mean_paid,
        "agree": agree,
    }


def _cost_words(costs: dict[str, Any]) -> list[str]:
    paying = sorted({cost for cost in costs["rules_offer_cost_usd"].values() if cost > 0})
    rules_range = f"${paying[0]:,.2f} to ${paying[-1]:,.2f}" if paying else "nothing"
    training = costs["training_offer_usd"]
    lines = [
        f"Cost assumptions: the model's cut-off {costs['model_cutoff']:g} was chosen for offers costing "
        + (f"${training:,.2f}" if training is not None else "an unrecorded amount")
        + (
            f" and lost customers costing ${costs['training_lost_customer_usd']:,.2f}"
            if costs["training_lost_customer_usd"] is not None
            else ""
        )
        + f" ({costs['model_metadata']})",
        f"  the rules ({costs['rules_source']}, version {costs['rules_version']}) pay {rules_range} per offer"
        + (
            f"; offers made cost ${costs['mean_cost_of_paid_offers_usd']:,.2f} on average"
            if costs["mean_cost_of_paid_offers_usd"] is not None
            else ""
        ),
    ]
    if not costs["agree"]:
        typical = costs["mean_cost_of_paid_offers_usd"] or (paying[len(paying) // 2] if paying else 0)
        lines.append(
            "  they differ: the cost-optimal cut-off depends on the offer cost; to align them, retrain with "
            f"`churnguard train --offer-usd {typical:g}` or price the rules' offers as the training did"
        )
    return lines


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
        f"Offers ({report['period']}): {report['total_offers']}, cost ${report['total_cost_usd']:,.2f}",
        f"Degraded answers: {degraded['offers']} ({degraded['without_sentiment']} without sentiment, "
        f"{degraded['without_score']} without churn score, "
        f"{degraded.get('without_call_reason', 0)} without call reason)",
    ]
    kinds = report["outcome_kinds"]
    lines.append(
        f"Outcomes recorded: {sum(kinds.values())} ({kinds['accepted']} accepted, {kinds['declined']} "
        f"declined, {kinds['call_ended']} call ended, {kinds[WITHOUT_KIND]} retention only)"
    )
    if report.get("cost_assumptions"):
        lines += _cost_words(report["cost_assumptions"])
    lines += ["", f"{'rule':<36} {'arm':<12} {'offer':<20} {'offers':>7} {'degraded':>9} {'cost USD':>11}"]
    for item in report["by_rule"]:
        lines.append(
            f"{item['rule']:<36} {item['arm'] or '-':<12} {item['offer']:<20} "
            f"{item['offers']:>7} {item['degraded']:>9} {item['cost_usd']:>11,.2f}"
        )
    if not report["by_rule"]:
        lines.append("(no offers recorded)")
        return _joined(lines, report)
    lines += [
        "",
        "Retention (outcomes from the agent console or `churnguard offers record-outcome`; acc/dec/end: "
        "accepted, declined, call ended)",
    ]
    lines += _retention_table("rule", [(item["rule"], item) for item in report["retention_by_rule"]])
    lines += [""]
    lines += _retention_table("offer", [(item["offer"], item) for item in report["retention_by_offer"]])
    if report.get("retention_by_reason"):
        lines += [""]
        lines += _retention_table(
            "call reason", [(item["call_reason"], item) for item in report["retention_by_reason"]]
        )
    lines += ["", "Experiments"]
    if not report["retention_by_arm"]:
        lines.append("(no experiment offers recorded)")
        return _joined(lines, report)
    lines += _retention_table(
        "experiment / arm",
        [(f"{item['experiment']} / {item['arm']}", item) for item in report["retention_by_arm"]],
    )
    lines += [f"{item['experiment']}: {item['verdict']}" for item in report["arm_differences"]]
    return _joined(lines, report)


def _joined(lines: list[str], report: dict[str, Any]) -> str:
    """The report's lines, then its offers by model and, when asked for, the outcome changes."""
    changes = format_changes(report["changes"]) if "changes" in report else []
    return "\n".join([*lines, *format_by_model(report["by_model"]), *changes])


def _retention_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = [
        f"{title:<36} {'offers':>7} {'outcomes':>9} {'acc/dec/end':>12} {'retained':>9} {'retention':>10} "
        f"{'95% interval':>16}"
    ]
    for name, item in rows:
        if item["outcomes"]:
            low, high = item["retention_95ci"]
            rate, interval = f"{item['retention']:.1%}", f"{low:.1%}-{high:.1%}"
        else:
            rate, interval = "-", "no outcomes yet"
        kinds = "/".join(str(item[kind]) for kind in OUTCOME_KINDS)
        lines.append(
            f"{name:<36} {item['offers']:>7} {item['outcomes']:>9} {kinds:>12} {item['retained']:>9} "
            f"{rate:>10} {interval:>16}"
        )
    return lines
