"""`churnguard cost`: the estimated idle cost of the synthesized stack, line by line per resource."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from churnguard.cost.prices import load_price_table
from churnguard.cost.report import build_report, render_json, render_text
from churnguard.cost.templates import read_templates
from churnguard.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="estimate the idle cost per hour and per month of the synthesized stack",
        description="Reads the templates `make synth` wrote and prices every resource while idle "
        "from churnguard/data/prices.json; resource types without a price are listed, not ignored.",
    )
    parser.add_argument("--templates", type=Path, default=Path("cdk.out"), help="cloud assembly folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the last line)")
    parser.add_argument("--prices", type=Path, default=None, help="another price table (JSON, same form)")
    parser.add_argument(
        "--max-usd-per-hour",
        type=float,
        default=None,
        help="exit 1 when the estimate exceeds this budget (for CI)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.max_usd_per_hour is not None and args.max_usd_per_hour < 0:
        raise UserError(f"--max-usd-per-hour must be >= 0, got {args.max_usd_per_hour}")
    report = build_report(read_templates(args.templates), load_price_table(args.prices))
    print(render_json(report) if args.json else render_text(report))
    if args.max_usd_per_hour is not None and report.idle_usd_per_hour > args.max_usd_per_hour:
        print(
            f"idle cost ${report.idle_usd_per_hour:.4f}/hour exceeds the budget "
            f"${args.max_usd_per_hour:.4f}/hour",
            file=sys.stderr,
        )
        return 1
    return 0
