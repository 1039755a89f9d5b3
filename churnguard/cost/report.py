"""Adds the per-resource lines into the idle-cost report and renders it as text or one JSON object."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.cost.estimators import FREE, PRICED, UNPRICED, CostLine, estimate_template
from churnguard.cost.per_call import PerCallLine, per_call_lines
from churnguard.cost.prices import PriceTable
from churnguard.cost.templates import StackTemplate


@dataclass(frozen=True)
class CostReport:
    templates: list[Path]
    lines: list[CostLine]
    prices: PriceTable
    per_call: tuple[PerCallLine, ...] = ()

    @property
    def idle_usd_per_hour(self) -> float:
        return sum(line.usd_per_hour or 0.0 for line in self.lines)

    @property
    def monthly_usd(self) -> float:
        return self.idle_usd_per_hour * self.prices.hours_per_month

    @property
    def priced(self) -> list[CostLine]:
        return [line for line in self.lines if line.status == PRICED]

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if line.status == UNPRICED]

    @property
    def free_counts(self) -> list[tuple[str, int, str]]:
        """(type, how many, reason) for the resource types the table marks free when idle."""
        free = [line for line in self.lines if line.status == FREE]
        counts = Counter(line.resource_type for line in free)
        reasons = {line.resource_type: line.how for line in free}
        return [
            (resource_type, counts[resource_type], reasons[resource_type]) for resource_type in sorted(counts)
        ]


def build_report(templates: list[StackTemplate], prices: PriceTable) -> CostReport:
    lines = [line for template in templates for line in estimate_template(template, prices)]
    return CostReport(
        [template.path for template in templates], lines, prices, tuple(per_call_lines(templates, prices))
    )


def render_text(report: CostReport) -> str:
    hours = report.prices.hours_per_month
    out = [
        f"Estimated idle cost of {len(report.templates)} template(s) "
        f"({report.prices.region} on-demand prices from churnguard/data/prices.json)",
        "",
        f"{'$/hour':>9} {'$/month':>9}  resource",
    ]
    for line in sorted(report.priced, key=lambda line: (-(line.usd_per_hour or 0.0), line.logical_id)):
        usd = line.usd_per_hour or 0.0
        out.append(f"{usd:9.4f} {usd * hours:9.2f}  {line.stack}/{line.logical_id} ({line.resource_type})")
        out.append(f"{'':21}{line.how}")
    for resource_type, count, reason in report.free_counts:
        out.append(f"{0:9.4f} {0:9.2f}  {count} x {resource_type}: {reason}")
    reference = report.prices.reference_usd_per_hour
    share = report.idle_usd_per_hour / reference * 100 if reference else 0.0
    out += [
        "",
        f"Total idle: ${report.idle_usd_per_hour:.4f}/hour = ${report.monthly_usd:.2f}/month ({hours:g} h)",
        f"Reference deployment: ${reference:.2f}/hour = ${reference * hours:.2f}/month; "
        f"this stack idles at {share:.1f}% of it.",
    ]
    if report.per_call:
        out += ["", "Per answer, not while idle (NOT included in the total):"]
        for line in report.per_call:
            price = "no price" if line.usd_per_call is None else f"${line.usd_per_call:.7f} per call"
            out.append(f"  {line.stack}: {line.what}, {line.model}: {price}")
            out.append(f"    {line.how}")
    if report.unpriced:
        out += ["", "No price for these resources (NOT included in the total):"]
        out += [
            f"  {line.stack}/{line.logical_id} ({line.resource_type}): {line.how}" for line in report.unpriced
        ]
    return "\n".join(out)


def to_json(report: CostReport) -> dict[str, Any]:
    hours = report.prices.hours_per_month
    return {
        "idle_usd_per_hour": round(report.idle_usd_per_hour, 6),
        "monthly_usd": round(report.monthly_usd, 4),
        "reference_usd_per_hour": report.prices.reference_usd_per_hour,
        "region": report.prices.region,
        "hours_per_month": hours,
        "templates": [str(path) for path in report.templates],
        "lines": [
            {
                "stack": line.stack,
                "logical_id": line.logical_id,
                "type": line.resource_type,
                "usd_per_hour": round(line.usd_per_hour or 0.0, 6),
                "monthly_usd": round((line.usd_per_hour or 0.0) * hours, 4),
                "how": line.how,
            }
            for line in report.priced
        ],
        "free": [
            {"type": resource_type, "count": count, "reason": reason}
            for resource_type, count, reason in report.free_counts
        ],
        "per_call": [
            {
                "stack": line.stack,
                "what": line.what,
                "model": line.model,
                "usd_per_call": None if line.usd_per_call is None else round(line.usd_per_call, 9),
                "how": line.how,
            }
            for line in report.per_call
        ],
        "unpriced": [
            {
                "stack": line.stack,
                "logical_id": line.logical_id,
                "type": line.resource_type,
                "reason": line.how,
            }
            for line in report.unpriced
        ],
    }


def render_json(report: CostReport) -> str:
    return json.dumps(to_json(report), sort_keys=True)
