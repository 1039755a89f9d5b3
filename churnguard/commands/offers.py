"""`churnguard offers report|record-outcome`: what the engine offered, and whether the customers stayed."""

from __future__ import annotations

import argparse
import json
from datetime import date

from churnguard.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "offers",
        help="report on the offers log, or record what became of a customer",
        description="The offers log holds every answer `churnguard recommend` and the API gave.",
    )
    actions = parser.add_subparsers(dest="offers_action", metavar="ACTION", required=True)

    report = actions.add_parser(
        "report",
        help="offers and cost by rule and arm; retention by experiment arm",
        description="Offers and their cost by rule and experiment arm, and, where outcomes are recorded, "
        "the share of customers retained per arm with a 95% Wilson interval.",
    )
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report.add_argument(
        "--since", type=_date, default=None, help="only offers from this UTC date (YYYY-MM-DD)"
    )
    report.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    report.set_defaults(func=run_report)

    outcome = actions.add_parser(
        "record-outcome",
        help="record whether the customer behind an offer stayed",
        description="Records (or corrects) the outcome of one offer, by the offer_id `recommend` printed.",
    )
    outcome.add_argument("--offer-id", type=int, required=True, help="the offer's id in the offers log")
    outcome.add_argument("--retained", choices=("yes", "no"), required=True, help="did the customer stay?")
    outcome.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    outcome.set_defaults(func=run_record_outcome)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


def run_report(args: argparse.Namespace) -> int:
    from churnguard.db import connect, resolve_url
    from churnguard.engine.database_errors import database_errors
    from churnguard.engine.report import format_report, offers_report

    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("offers report"):
            report = offers_report(client, since=args.since)
    finally:
        client.close()
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def run_record_outcome(args: argparse.Namespace) -> int:
    from churnguard.db import connect, resolve_url
    from churnguard.engine.database_errors import database_errors
    from churnguard.engine.offers_log import record_outcome

    if args.offer_id < 1:
        raise UserError(f"--offer-id must be a positive offer id (got {args.offer_id})")
    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("offers record-outcome"):
            replaced = record_outcome(client, args.offer_id, retained=args.retained == "yes")
    finally:
        client.close()
    verb = "replaced the earlier outcome of" if replaced else "recorded the outcome of"
    print(f"{verb} offer {args.offer_id}: retained={args.retained}")
    return 0
